package gworkspace_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/gworkspace"
	"github.com/vigil-zt/vigil/internal/vendortest/googleadmin"
)

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
	srv := googleadmin.New(f)
	key := srv.ServiceAccountKey()
	f.Add(false, uint16(404), []byte(`{"error":{"code":404,"errors":[{"reason":"notFound"}]}}`), "")
	f.Add(false, uint16(403), []byte(`{"error":{"errors":[{"reason":"userRateLimitExceeded"}]}}`), "3")
	f.Add(true, uint16(400), []byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`), "")
	f.Add(true, uint16(200), []byte(`{"access_token":"","expires_in":99999999999}`), "")
	f.Fuzz(func(t *testing.T, fuzzToken bool, status uint16, body []byte, retryAfter string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		c, err := gworkspace.New(gworkspace.Config{ServiceAccountKey: key, Subject: "admin@example.com"}, &http.Client{Transport: answers{fuzzToken, int(status), h, body}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Do(context.Background(), respond.Action{ID: "a", Kind: respond.KindSignOut, Target: "ada@example.com"})
		if !fuzzToken && (status < 200 || status >= 300) && err == nil {
			t.Fatalf("status %d succeeded", status)
		}
		if err != nil && (strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "tok\"")) {
			t.Fatalf("error leaks a secret: %v", err)
		}
	})
}
