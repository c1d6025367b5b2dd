package okta_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/okta"
)

// answer is a transport that returns one fixed response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

// FuzzAnswers feeds the connector arbitrary answers: it must not panic,
// must classify every non-2xx as an error, and must never echo the token.
func FuzzAnswers(f *testing.F) {
	f.Add(uint16(404), []byte(`{"errorCode":"E0000007","errorSummary":"Not found"}`), "", "", "")
	f.Add(uint16(429), []byte(`{}`), "5", "1772366405", "Sun, 01 Mar 2026 12:00:00 GMT")
	f.Add(uint16(400), []byte(`{"errorCauses":[{"errorSummary":"x"}]}`), "soon", "-9", "garbage")
	f.Add(uint16(503), []byte("\xff\xfe<html>"), "99999999999999999999", "", "")
	f.Add(uint16(204), []byte{}, "", "", "")
	f.Fuzz(func(t *testing.T, status uint16, body []byte, retryAfter, reset, date string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": retryAfter, "X-Rate-Limit-Reset": reset, "Date": date} {
			if v != "" {
				h.Set(k, v)
			}
		}
		c, err := okta.New(okta.Config{OrgURL: "https://example.okta.com", APIToken: "FUZZ-TOKEN"}, &http.Client{Transport: answer{int(status), h, body}})
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{respond.KindClearSessions, respond.KindSuspendUser, respond.KindResetFactors} {
			res, err := c.Do(context.Background(), respond.Action{ID: "a", Kind: kind, Target: "00u1"})
			if status >= 200 && status < 300 && err != nil {
				t.Fatalf("%s: status %d gave %v", kind, status, err)
			}
			if (status < 200 || status >= 300) && err == nil && !strings.Contains(res, "already suspended") {
				t.Fatalf("%s: status %d succeeded", kind, status)
			}
			if err != nil && strings.Contains(err.Error(), "FUZZ-TOKEN") {
				t.Fatalf("error echoes the token: %v", err)
			}
			if after, ok := respond.IsRetryable(err); ok && (after < 0 || after > 3600e9) {
				t.Fatalf("wait %s out of bounds", after)
			}
		}
	})
}
