package awsiam

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Published worked examples of Signature Version 4. The credentials are
// AWS's documentation examples, not real ones.
func TestSignV4Vectors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		url     string
		headers map[string]string
		body    string
		secret  string
		region  string
		service string
		date    time.Time
		// canonicalHash, when known, is the hash of the canonical request
		// that the example's string to sign carries.
		canonicalHash string
		want          string // the Authorization header
	}{
		{
			// AWS General Reference, "Signed Signature Version 4 Requests
			// Examples": IAM ListUsers as a form POST.
			name:    "iam list users post",
			method:  "POST",
			url:     "https://iam.amazonaws.com/",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
			body:    "Action=ListUsers&Version=2010-05-08",
			secret:  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
			region:  "us-east-1", service: "iam",
			date: time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC),
			want: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c",
		},
		{
			// Amazon S3 API Reference, "Signature Calculations for the
			// Authorization Header", example GET Object.
			name:   "s3 get object",
			method: "GET",
			url:    "https://examplebucket.s3.amazonaws.com/test.txt",
			headers: map[string]string{
				"Range":                "bytes=0-9",
				"X-Amz-Content-Sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			},
			secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			region: "us-east-1", service: "s3",
			date:          time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC),
			canonicalHash: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
			want:          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			// Signature Version 4 test suite, get-vanilla.
			name:   "get-vanilla",
			method: "GET",
			url:    "https://example.amazonaws.com/",
			secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
			region: "us-east-1", service: "service",
			date: time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
			want: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			signV4(req, []byte(tc.body), Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: tc.secret}, tc.region, tc.service, tc.date)
			if tc.canonicalHash != "" {
				creq, _ := canonicalRequest(req, tc.service, req.Header.Get("X-Amz-Content-Sha256"))
				sts := stringToSign(tc.date.Format(amzDateForm), "", creq)
				if got := sts[strings.LastIndexByte(sts, '\n')+1:]; got != tc.canonicalHash {
					t.Errorf("canonical request hash %s, want %s\n%s", got, tc.canonicalHash, creq)
				}
			}
			if got := req.Header.Get("Authorization"); got != tc.want {
				t.Errorf("Authorization\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The signing-key derivation example of the AWS General Reference.
func TestSigningKeyExample(t *testing.T) {
	got := hex.EncodeToString(signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"))
	if want := "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"; got != want {
		t.Errorf("signing key %s, want %s", got, want)
	}
}

func TestSessionTokenIsSigned(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://iam.amazonaws.com/", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "vigil/dev")
	signV4(req, nil, Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s", SessionToken: "tok"}, "us-east-1", "iam", time.Unix(0, 0))
	if req.Header.Get("X-Amz-Security-Token") != "tok" {
		t.Fatal("no security token header")
	}
	if !strings.Contains(req.Header.Get("Authorization"), "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,") {
		t.Errorf("Authorization %s", req.Header.Get("Authorization"))
	}
}

func TestCanonicalQueryAndPath(t *testing.T) {
	if got, want := canonicalQuery("b=2&a=z&a=b%20c&c"), "a=b%20c&a=z&b=2&c="; got != want {
		t.Errorf("query %q, want %q", got, want)
	}
	req, _ := http.NewRequest("GET", "https://x.amazonaws.com/a%20b/c", nil)
	if got, want := canonicalPath(req.URL, "service"), "/a%2520b/c"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if got, want := canonicalPath(req.URL, "s3"), "/a%20b/c"; got != want {
		t.Errorf("s3 path %q, want %q", got, want)
	}
}
