package useragent

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, ua string
		want     Families
	}{
		{"chrome mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/105.0.0.0 Safari/537.36", Families{"Chrome", "macOS"}},
		{"chrome linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.135 Safari/537.36", Families{"Chrome", "Linux"}},
		{"edge windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", Families{"Edge", "Windows"}},
		{"firefox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", Families{"Firefox", "Windows"}},
		{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", Families{"Safari", "iOS"}},
		{"chrome android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Families{"Chrome", "Android"}},
		{"aws cli", "aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/s3.ls", Families{"aws-cli", "Linux"}},
		{"aws sdk go", "aws-sdk-go/1.44.0 (go1.19; linux; amd64)", Families{"aws-sdk-go", "Linux"}},
		{"aws sdk go v2", "aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21 md/GOOS#linux", Families{"aws-sdk-go-v2", "Linux"}},
		{"boto3", "Boto3/1.26.0 Python/3.10.8 Darwin/22.1.0 Botocore/1.29.0", Families{"boto3", "macOS"}},
		{"aws sdk go v2 macos", "aws-sdk-go-v2/1.30.3 ua/2.0 os/macos#14.5 lang/go#1.22.5 md/GOOS#darwin md/GOARCH#arm64 api/sts#1.30.3", Families{"aws-sdk-go-v2", "macOS"}},
		{"aws cli v2 macos", "aws-cli/2.15.59 md/awscrt#0.19.19 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.11.11 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#sts.get-caller-identity", Families{"aws-cli", "macOS"}},
		{"aws cli v2 windows", "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.ls", Families{"aws-cli", "Windows"}},
		{"boto3 linux", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.6", Families{"boto3", "Linux"}},
		{"aws sdk java mac", "aws-sdk-java/1.12.488 Mac_OS_X/13.4 OpenJDK_64-Bit_Server_VM/17.0.7+7 java/17.0.7", Families{"aws-sdk-java", "macOS"}},
		{"upper-case os", "AcmeSync/3.1 (LINUX; x86_64)", Families{"AcmeSync", "Linux"}},
		{"okta verify ios", "Okta Verify/9.12.0 (iOS 17.2; iPhone15,2)", Families{"okta-verify", "iOS"}},
		{"chrome os", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Families{"Chrome", "ChromeOS"}},
		{"ios is a word", "axios/1.6.7", Families{"axios", ""}},
		{"cros is a word", "Microsoft Azure Graph Client Library 1.0", Families{"Microsoft", ""}},
		{"bios is not ios", "FirmwareAgent/2 (BIOS 1.4)", Families{"FirmwareAgent", ""}},
		{"console", "console.amazonaws.com", Families{"aws-console", ""}},
		{"bracketed console", "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]", Families{"aws-console", ""}},
		{"curl", "curl/8.4.0", Families{"curl", ""}},
		{"unknown tool", "AcmeSync/3.1 (build 7)", Families{"AcmeSync", ""}},
		{"empty", "   ", Families{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.ua); got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.ua, got, tt.want)
			}
		})
	}
}

func TestCache(t *testing.T) {
	var c Cache
	for _, ua := range []string{"", "curl/8.4.0", "aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0", "curl/8.4.0"} {
		if got, want := c.Parse(ua), Parse(ua); got != want {
			t.Errorf("Cache.Parse(%q) = %+v, want %+v", ua, got, want)
		}
	}
	for i := range 3 * cacheMaxEntries {
		ua := fmt.Sprintf("Tool%d/1.0 (Windows)", i)
		if got := c.Parse(ua); got != (Families{fmt.Sprintf("Tool%d", i), "Windows"}) {
			t.Fatalf("Cache.Parse(%q) = %+v", ua, got)
		}
		if len(c.m) > cacheMaxEntries {
			t.Fatalf("cache holds %d entries, more than %d", len(c.m), cacheMaxEntries)
		}
	}
	ua := "curl/8.4.0"
	c.Parse(ua)
	if allocs := testing.AllocsPerRun(100, func() { c.Parse(ua) }); allocs != 0 {
		t.Errorf("a cached Parse allocates %v times", allocs)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64) Chrome/84.0")
	f.Add("aws-cli/2.13.5 Python/3.11.4")
	f.Add("[")
	f.Fuzz(func(t *testing.T, ua string) {
		got := Parse(ua)
		if len(got.Browser) > 40 && got.Browser != "Samsung Internet" {
			t.Fatalf("browser family too long: %q", got.Browser)
		}
	})
}
