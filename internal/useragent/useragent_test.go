package useragent

import "testing"

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
