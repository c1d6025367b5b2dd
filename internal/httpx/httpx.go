// Package httpx holds the HTTP plumbing Vigil's outbound clients (the
// response connectors, the log pollers) share:
// checking a vendor's base URL, a client that answers redirects instead of
// following them, transport errors without the URL, bounded reading of
// answers, Retry-After, and keeping targets and vendor text safe to put in
// messages. What a vendor's API means by an answer stays in its client.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrPlainHTTP refuses an http:// URL to anything but a loopback address.
var ErrPlainHTTP = errors.New("plain http only for loopback addresses")

// ParseBase checks raw, a vendor's base URL, and returns it without a
// trailing slash: https, or http only to a loopback address (tests,
// demos), with no credentials, query or fragment. Its errors never quote
// the URL.
func ParseBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a url")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return "", errors.New("want scheme://host with no credentials, query or fragment")
	}
	if err := CheckScheme(u); err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// CheckScheme accepts https, and http to a loopback address only
// (ErrPlainHTTP otherwise).
func CheckScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if Loopback(u.Hostname()) {
			return nil
		}
		return ErrPlainHTTP
	}
	return fmt.Errorf("unsupported scheme %q", u.Scheme)
}

// Loopback reports whether host is localhost or a loopback address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NoRedirects copies client (a default client when nil) so redirects come
// back as answers: a token, secret or signed body goes where it was
// configured to go, never to where a redirect points.
func NoRedirects(client *http.Client) *http.Client {
	if client == nil {
		client = &http.Client{}
	}
	cp := *client
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// TransportError drops the URL net/http puts in its errors: it may hold a
// secret (a webhook URL is one) and messages must not.
func TransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// MaxBody bounds what a connector reads of an answer.
const MaxBody = 1 << 20

// ReadBody reads r up to MaxBody.
func ReadBody(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxBody))
}

// Send makes one call bounded by timeout: it builds the request, lets
// prepare set its headers and returns what Do returns.
func Send(ctx context.Context, client *http.Client, timeout time.Duration, method, target string, body io.Reader, prepare func(*http.Request)) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, nil, nil, err
	}
	prepare(req)
	return Do(client, req)
}

// Do sends req and returns the answer's status, headers and body (read up
// to MaxBody). err, which never holds the URL, is a transport failure or
// a body that could not be read of an answer below 300; a failed answer
// comes back with what could be read of its body.
func Do(client *http.Client, req *http.Request) (int, http.Header, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, TransportError(err)
	}
	defer resp.Body.Close()
	b, err := ReadBody(resp.Body)
	if err != nil && resp.StatusCode < 300 {
		return 0, nil, nil, fmt.Errorf("reading response: %w", TransportError(err))
	}
	return resp.StatusCode, resp.Header, b, nil
}

// MaxWait caps what a vendor may ask a connector to wait: an hour is
// already longer than any documented limit window, and a bogus header must
// not park an action for days.
const MaxWait = time.Hour

// RetryAfter reads Retry-After as seconds or an HTTP date (against now),
// between 0 and MaxWait; 0 when absent or unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(min(max(s, 0), int(MaxWait/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxWait)
	}
	return 0
}

// CheckTarget refuses an action target that is empty, longer than 512
// bytes or holds a control character, before it reaches a URL.
func CheckTarget(t string) error {
	if t == "" {
		return errors.New("empty target")
	}
	if len(t) > 512 {
		return errors.New("target longer than 512 bytes")
	}
	for _, r := range t {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("target %q holds a control character", t)
		}
	}
	return nil
}

// Clean keeps vendor text printable and at most n bytes (plus "…"):
// control characters become spaces.
func Clean(s string, n int) string {
	return Truncate(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s)), n)
}

// Truncate cuts s to at most n bytes on a UTF-8 boundary, marking the cut
// with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// Failure says what a failed answer to an action on a user means, for an
// error message: "rejected" (400), "authentication failed" (401),
// "permission denied" (403), "user not found" (404), "rate limited"
// (429), "server error" (5xx), "failed" otherwise. A connector words its
// vendor's exceptions itself.
func Failure(status int) string {
	switch {
	case status >= 500:
		return "server error"
	case status == http.StatusBadRequest:
		return "rejected"
	case status == http.StatusUnauthorized:
		return "authentication failed"
	case status == http.StatusForbidden:
		return "permission denied"
	case status == http.StatusNotFound:
		return "user not found"
	case status == http.StatusTooManyRequests:
		return "rate limited"
	}
	return "failed"
}

// Detail renders a failed answer as "status code: message", leaving out
// what the vendor did not say; code and message are Clean already.
func Detail(status int, code, message string) string {
	detail := strconv.Itoa(status)
	if code != "" {
		detail += " " + code
	}
	if message != "" {
		detail += ": " + message
	}
	return detail
}
