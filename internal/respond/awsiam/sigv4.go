package awsiam

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credentials are an AWS access key pair, with the session token when
// they are temporary (from STS).
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateForm  = "20060102T150405Z"
)

// unsignedHeaders are left out of the signature: proxies and transports
// may change or add them.
var unsignedHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"content-length":    true,
	"expect":            true,
	"connection":        true,
	"accept-encoding":   true,
	"transfer-encoding": true,
	"x-amzn-trace-id":   true,
}

// signV4 signs req with Signature Version 4: it sets X-Amz-Date (and
// X-Amz-Security-Token for temporary credentials) and Authorization.
// payload is the body req will send. Host and every header already set,
// except unsignedHeaders, are signed.
func signV4(req *http.Request, payload []byte, creds Credentials, region, service string, now time.Time) {
	amzDate := now.UTC().Format(amzDateForm)
	req.Header.Set("X-Amz-Date", amzDate)
	if creds.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	sum := sha256.Sum256(payload)
	payloadHash := hex.EncodeToString(sum[:])
	if v := req.Header.Get("X-Amz-Content-Sha256"); v != "" {
		payloadHash = v
	}
	creq, signed := canonicalRequest(req, service, payloadHash)
	scope := amzDate[:8] + "/" + region + "/" + service + "/aws4_request"
	sts := stringToSign(amzDate, scope, creq)
	sig := hex.EncodeToString(hmacSHA256(signingKey(creds.SecretAccessKey, amzDate[:8], region, service), sts))
	req.Header.Set("Authorization", sigAlgorithm+" Credential="+creds.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// canonicalRequest returns the canonical form of req and the list of
// signed headers.
func canonicalRequest(req *http.Request, service, payloadHash string) (string, string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	headers := map[string][]string{"host": {host}}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if unsignedHeaders[lk] || lk == "host" {
			continue
		}
		headers[lk] = append(headers[lk], vs...)
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, k := range names {
		vals := make([]string, len(headers[k]))
		for i, v := range headers[k] {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		ch.WriteString(k + ":" + strings.Join(vals, ",") + "\n")
	}
	signed := strings.Join(names, ";")
	return strings.Join([]string{
		req.Method,
		canonicalPath(req.URL, service),
		canonicalQuery(req.URL.RawQuery),
		ch.String(),
		signed,
		payloadHash,
	}, "\n"), signed
}

// canonicalPath URI-encodes each path segment; every service but S3
// encodes the already-encoded path once more.
func canonicalPath(u *url.URL, service string) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
		s = uriEncode(s)
		if service != "s3" {
			s = uriEncode(s)
		}
		segs[i] = s
	}
	return strings.Join(segs, "/")
}

// canonicalQuery sorts the parameters by encoded name, then value.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if d, err := url.QueryUnescape(k); err == nil {
			k = d
		}
		if d, err := url.QueryUnescape(v); err == nil {
			v = d
		}
		pairs = append(pairs, kv{uriEncode(k), uriEncode(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte but RFC 3986's unreserved ones.
func uriEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the key for one day, region and service.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
