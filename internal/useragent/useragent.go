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

func osFamily(ua string) string {
	switch {
	case strings.Contains(ua, "Windows") || strings.Contains(ua, "windows") || strings.Contains(ua, "Win64"):
		return "Windows"
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iOS"):
		return "iOS"
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Mac OS") || strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Darwin") || strings.Contains(ua, "darwin") || strings.Contains(ua, "macOS"):
		return "macOS"
	case strings.Contains(ua, "Linux") || strings.Contains(ua, "linux") || strings.Contains(ua, "X11") || strings.Contains(ua, "Ubuntu"):
		return "Linux"
	}
	return ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
