// Package useragent reduces raw user-agent strings to a browser or tool
// family and an operating-system family. Detectors compare families, not raw
// strings: a browser update changes the string but not the family, while a
// stolen cookie replayed from a script changes the family.
package useragent

import "strings"

// Families is the result of Parse.
type Families struct {
	// Browser is the browser or client tool family: "Chrome", "Firefox",
	// "Safari", "Edge", "aws-cli", "aws-sdk-go", "boto3", "curl", … For
	// an unknown tool it is the first product token ("MyAgent"), so two
	// unknown tools still differ.
	Browser string
	// OS is "Windows", "macOS", "iOS", "Android", "Linux", "ChromeOS", or ""
	// when the string does not say.
	OS string
}

// tools are matched against the first product token, case-insensitively,
// longest prefix first.
var tools = []struct{ prefix, family string }{
	{"aws-sdk-go-v2", "aws-sdk-go-v2"},
	{"aws-sdk-go", "aws-sdk-go"},
	{"aws-sdk-java", "aws-sdk-java"},
	{"aws-sdk-js", "aws-sdk-js"},
	{"aws-sdk-nodejs", "aws-sdk-js"},
	{"aws-sdk-dotnet", "aws-sdk-dotnet"},
	{"aws-sdk-ruby", "aws-sdk-ruby"},
	{"aws-sdk-php", "aws-sdk-php"},
	{"aws-sdk-rust", "aws-sdk-rust"},
	{"aws-cli", "aws-cli"},
	{"aws-internal", "aws-internal"},
	{"aws internal", "aws-internal"},
	{"boto3", "boto3"},
	{"botocore", "boto3"},
	{"console.amazonaws.com", "aws-console"},
	{"signin.amazonaws.com", "aws-console"},
	{"s3console", "aws-console"},
	{"terraform", "terraform"},
	{"hashicorp", "terraform"},
	{"python-requests", "python-requests"},
	{"python-urllib", "python-urllib"},
	{"curl", "curl"},
	{"wget", "wget"},
	{"go-http-client", "go-http-client"},
	{"okhttp", "okhttp"},
	{"postmanruntime", "postman"},
	{"axios", "axios"},
	{"node-fetch", "node-fetch"},
	{"apache-httpclient", "apache-httpclient"},
	{"java", "java"},
	{"powershell", "powershell"},
	{"windowspowershell", "powershell"},
	{"azurepowershell", "azure-powershell"},
	{"azure-cli", "azure-cli"},
	{"okta verify", "okta-verify"},
	{"oktaverify", "okta-verify"},
	{"okta-integrations", "okta-integrations"},
	{"google-api-", "google-api-client"},
	{"gcloud", "gcloud"},
	{"msal", "msal"},
	{"microsoft office", "microsoft-office"},
}

// Cache remembers the families of the user agents a stream repeats, so
// that each distinct string is parsed once. It holds at most 4096 entries
// and starts over when full. The zero value is ready to use; not safe for
// concurrent use: each decoder owns one.
type Cache struct {
	m map[string]Families
}

const cacheMaxEntries = 4096

// Parse returns Parse(ua), from the cache when ua was seen before.
func (c *Cache) Parse(ua string) Families {
	if ua == "" {
		return Families{}
	}
	if f, ok := c.m[ua]; ok {
		return f
	}
	if c.m == nil {
		c.m = make(map[string]Families)
	} else if len(c.m) >= cacheMaxEntries {
		clear(c.m)
	}
	f := Parse(ua)
	c.m[ua] = f
	return f
}

// Parse returns the families of a raw user-agent string.
func Parse(ua string) Families {
	ua = strings.TrimSpace(ua)
	ua = strings.TrimPrefix(ua, "[") // CloudTrail wraps console agents in brackets
	if ua == "" {
		return Families{}
	}
	return Families{Browser: browser(ua), OS: osFamily(ua)}
}

func browser(ua string) string {
	if hasPrefixFold(ua, "mozilla/") || hasPrefixFold(ua, "opera/") {
		switch {
		case strings.Contains(ua, "Edg/") || strings.Contains(ua, "Edge/") || strings.Contains(ua, "EdgA/") || strings.Contains(ua, "EdgiOS/"):
			return "Edge"
		case strings.Contains(ua, "OPR/") || strings.Contains(ua, "Opera"):
			return "Opera"
		case strings.Contains(ua, "SamsungBrowser/"):
			return "Samsung Internet"
		case strings.Contains(ua, "Firefox/") || strings.Contains(ua, "FxiOS/"):
			return "Firefox"
		case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "CriOS/") || strings.Contains(ua, "Chromium/"):
			return "Chrome"
		case strings.Contains(ua, "Safari/") || strings.Contains(ua, "AppleWebKit/"):
			return "Safari"
		case strings.Contains(ua, "MSIE ") || strings.Contains(ua, "Trident/"):
			return "IE"
		}
		return "Other"
	}
	for _, t := range tools {
		if hasPrefixFold(ua, t.prefix) {
			return t.family
		}
	}
	// An unknown tool: its first product token, bounded.
	tok := ua
	if i := strings.IndexAny(tok, "/ ;("); i > 0 {
		tok = tok[:i]
	}
	if len(tok) > 40 {
		tok = tok[:40]
	}
	return tok
}

// osFamily matches operating-system names without regard to case: the
// AWS SDKs and CLI v2 write them lower-case ("os/macos#14.5",
// "os/windows#10", "os/linux#6.5"). The short names "iOS" and "CrOS" count
// only as whole words, or "axios" and "Microsoft" would name systems.
func osFamily(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "windows") || strings.Contains(l, "win64"):
		return "Windows"
	case strings.Contains(l, "iphone") || strings.Contains(l, "ipad") || hasWord(l, "ios"):
		return "iOS"
	case strings.Contains(l, "android"):
		return "Android"
	case hasWord(l, "cros"):
		return "ChromeOS"
	case strings.Contains(l, "mac os") || strings.Contains(l, "mac_os") || strings.Contains(l, "macintosh") ||
		strings.Contains(l, "darwin") || strings.Contains(l, "macos"):
		return "macOS"
	case strings.Contains(l, "linux") || strings.Contains(l, "x11") || strings.Contains(l, "ubuntu"):
		return "Linux"
	}
	return ""
}

// hasWord reports whether s holds word with no letter on either side.
func hasWord(s, word string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !isLetter(s[j-1])) && (end == len(s) || !isLetter(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
