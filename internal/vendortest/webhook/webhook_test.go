package webhook_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/webhook"
)

func TestSlackAnswers(t *testing.T) {
	srv := webhook.New(nil, webhook.WithSlack())
	defer srv.Close()
	for _, tc := range []struct {
		body, want string
		status     int
	}{
		{`{"text":"hello"}`, "ok", 200},
		{`{"text":""}`, "no_text", 400},
		{`not json`, "invalid_payload", 400},
	} {
		req, _ := http.NewRequest("POST", srv.URL(), strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.want {
			t.Errorf("%s: %d %q, want %d %q", tc.body, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	if n := srv.Deliveries(vendortest.KindNotify, ""); n != 1 {
		t.Errorf("deliveries %d, want 1", n)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].Text != "hello" {
		t.Errorf("messages %+v", m)
	}
}
