package webhook_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/webhook"
)

type answer struct {
	status int
	body   []byte
}

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: http.Header{"Retry-After": {string(a.body)}}, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

func FuzzNotify(f *testing.F) {
	f.Add(uint16(200), []byte("ok"), "msg <@here> & more", "ada")
	f.Add(uint16(404), []byte("no_service"), "", "")
	f.Add(uint16(429), []byte("12"), "\xff\x00", "\n")
	f.Fuzz(func(t *testing.T, status uint16, body []byte, msg, identity string) {
		if status < 100 || status > 999 {
			return
		}
		for _, format := range []string{webhook.FormatJSON, webhook.FormatSlack} {
			c, err := webhook.New(webhook.Config{URL: "https://hooks.example.com/services/FUZZ-HOOK", Format: format, Secret: "s"}, &http.Client{Transport: answer{int(status), body}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Do(context.Background(), respond.Action{ID: "a", Kind: respond.KindNotify, Identity: identity, Params: map[string]string{webhook.ParamMessage: msg}})
			if (status < 200 || status >= 300) == (err == nil) {
				t.Fatalf("status %d: err %v", status, err)
			}
			if err != nil && strings.Contains(err.Error(), "FUZZ-HOOK") {
				t.Fatalf("error leaks the url: %v", err)
			}
		}
	})
}
