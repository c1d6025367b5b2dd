package entra_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/entra"
)

// answers serves a good token (unless fuzzToken) and the fuzzed answer.
type answers struct {
	fuzzToken bool
	status    int
	header    http.Header
	body      []byte
}

func (a answers) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") && !a.fuzzToken {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"access_token":"tok","expires_in":3599}`))}, nil
	}
	return &http.Response{StatusCode: a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

func FuzzAnswers(f *testing.F) {
	f.Add(false, uint16(404), []byte(`{"error":{"code":"Request_ResourceNotFound","message":"x"}}`), "")
	f.Add(false, uint16(429), []byte(`{}`), "Sun, 01 Mar 2026 12:00:00 GMT")
	f.Add(true, uint16(401), []byte(`{"error":"invalid_client","error_codes":[7000215]}`), "")
	f.Add(true, uint16(200), []byte(`{"access_token":"a b","expires_in":"12"}`), "")
	f.Add(true, uint16(200), []byte(`{"access_token":"ok","expires_in":-5}`), "")
	f.Fuzz(func(t *testing.T, fuzzToken bool, status uint16, body []byte, retryAfter string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		c, err := entra.New(entra.Config{TenantID: "t", ClientID: "c", ClientSecret: "FUZZ-SECRET"}, &http.Client{Transport: answers{fuzzToken, int(status), h, body}})
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{respond.KindClearSessions, respond.KindSuspendUser} {
			_, err := c.Do(context.Background(), respond.Action{ID: "a", Kind: kind, Target: "ada@contoso.com"})
			if !fuzzToken && (status < 200 || status >= 300) && err == nil {
				t.Fatalf("status %d succeeded", status)
			}
			if err != nil && (strings.Contains(err.Error(), "FUZZ-SECRET") || strings.Contains(err.Error(), "tok\"")) {
				t.Fatalf("error echoes a secret: %v", err)
			}
		}
	})
}
