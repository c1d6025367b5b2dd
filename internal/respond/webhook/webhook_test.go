package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/webhook"
	"github.com/vigil-zt/vigil/internal/vendortest"
	hookfake "github.com/vigil-zt/vigil/internal/vendortest/webhook"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func notify() respond.Action {
	return respond.Action{
		ID: "act-notify-1", Connector: "slack", Kind: respond.KindNotify,
		Identity: "ada@example.com", Target: "#soc",
		Params: map[string]string{
			webhook.ParamMessage:         "Sessions of ada@example.com cleared in Okta <@channel> & co",
			webhook.ParamIncidentSummary: "session hijack from a new country",
			"severity":                   "critical",
		},
		Incident: "inc-42", DecidedBy: "playbook:stolen-session", Mode: respond.ModeEnforce,
		Created: now.Add(-time.Second),
	}
}

func connector(t *testing.T, cfg webhook.Config) *webhook.Connector {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	c, err := webhook.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJSONSigned(t *testing.T) {
	srv := hookfake.New(t, hookfake.WithSecret("shared-s3cret"), hookfake.WithClock(func() time.Time { return now }))
	c := connector(t, webhook.Config{URL: srv.URL(), Secret: "shared-s3cret", Version: "1.2.3"})
	res, err := c.Do(context.Background(), notify())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res, "notified: Vigil: Sessions of ada@example.com cleared") {
		t.Errorf("result %q", res)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].Signed || msgs[0].IdempotencyKey != "act-notify-1" {
		t.Fatalf("messages %+v", msgs)
	}
	d := msgs[0].Document
	a, _ := d["action"].(map[string]any)
	inc, _ := d["incident"].(map[string]any)
	params, _ := a["params"].(map[string]any)
	for _, check := range []struct {
		got, want any
	}{
		{d["type"], "vigil.notify"},
		{d["id"], "act-notify-1"},
		{d["sent_at"], "2026-03-01T12:00:00Z"},
		{a["kind"], "notify"},
		{a["identity"], "ada@example.com"},
		{a["message"], "Sessions of ada@example.com cleared in Okta <@channel> & co"},
		{a["decided_by"], "playbook:stolen-session"},
		{params["severity"], "critical"},
		{inc["id"], "inc-42"},
		{inc["summary"], "session hijack from a new country"},
		{msgs[0].Text, "Vigil: Sessions of ada@example.com cleared in Okta <@channel> & co — identity ada@example.com, incident inc-42 (session hijack from a new country), decided by playbook:stolen-session"},
	} {
		if check.got != check.want {
			t.Errorf("got %v, want %v", check.got, check.want)
		}
	}
	if _, ok := params[webhook.ParamMessage]; ok {
		t.Error("message repeated in params")
	}
	r := srv.Requests()[0]
	if r.Header.Get("User-Agent") != "vigil/1.2.3" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	if n := srv.Deliveries(vendortest.KindNotify, "#soc"); n != 1 {
		t.Errorf("deliveries %d", n)
	}
	// A retry of the same action reaches the receiver but is no new delivery.
	if _, err := c.Do(context.Background(), notify()); err != nil {
		t.Fatal(err)
	}
	if n, raw := srv.Deliveries(vendortest.KindNotify, "#soc"), len(srv.Messages()); n != 1 || raw != 2 {
		t.Errorf("deliveries %d of %d messages, want 1 of 2", n, raw)
	}
}

func TestSlack(t *testing.T) {
	srv := hookfake.New(t, hookfake.WithSlack())
	c := connector(t, webhook.Config{URL: srv.URL(), Format: webhook.FormatSlack})
	a := notify()
	a.Mode = respond.ModeRecommend
	a.Params[webhook.ParamMessage] = "Recommend clearing\nsessions of <ada>"
	if _, err := c.Do(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	want := "Vigil [recommend]: Recommend clearing sessions of &lt;ada&gt; — identity ada@example.com, incident inc-42 (session hijack from a new country), decided by playbook:stolen-session"
	if msgs[0].Text != want {
		t.Errorf("text\n got %q\nwant %q", msgs[0].Text, want)
	}
	if string(msgs[0].Body) != `{"text":"`+strings.ReplaceAll(want, "&", `\u0026`)+`"}` {
		t.Errorf("body %s", msgs[0].Body)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fake   []hookfake.Option
		inject func(*hookfake.Server)
		cfg    func(url string) webhook.Config
		retry  bool
		after  time.Duration
		want   string
	}{
		{"wrong secret", []hookfake.Option{hookfake.WithSecret("right"), hookfake.WithClock(func() time.Time { return now })},
			nil, func(u string) webhook.Config { return webhook.Config{URL: u, Secret: "wrong"} }, false, 0, "receiver answered 401 invalid_signature"},
		{"stale timestamp", []hookfake.Option{hookfake.WithSecret("right"), hookfake.WithClock(func() time.Time { return now.Add(time.Hour) })},
			nil, func(u string) webhook.Config { return webhook.Config{URL: u, Secret: "right"} }, false, 0, "401 invalid_signature"},
		{"unsigned", []hookfake.Option{hookfake.WithSecret("right")},
			nil, func(u string) webhook.Config { return webhook.Config{URL: u} }, false, 0, "401 invalid_signature"},
		{"no such hook", nil, nil, func(u string) webhook.Config { return webhook.Config{URL: u + "x"} }, false, 0, "receiver answered 404 no_service"},
		{"rate limited", nil, func(s *hookfake.Server) { s.FailNext(1, 429, 9*time.Second) },
			func(u string) webhook.Config { return webhook.Config{URL: u} }, true, 9 * time.Second, "receiver answered 429 rate_limited"},
		{"server error", nil, func(s *hookfake.Server) { s.FailNext(1, 502, 0) },
			func(u string) webhook.Config { return webhook.Config{URL: u} }, true, 0, "receiver answered 502 internal_error"},
		{"slow receiver", nil, func(s *hookfake.Server) { s.SetDelay(time.Minute) },
			func(u string) webhook.Config { return webhook.Config{URL: u, Timeout: 20 * time.Millisecond} }, true, 0, "deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hookfake.New(t, tc.fake...)
			if tc.inject != nil {
				tc.inject(srv)
			}
			c := connector(t, tc.cfg(srv.URL()))
			_, err := c.Do(context.Background(), notify())
			if err == nil {
				t.Fatal("no error")
			}
			after, retry := respond.IsRetryable(err)
			if retry != tc.retry || after != tc.after {
				t.Errorf("%v: retry %v after %s, want %v after %s", err, retry, after, tc.retry, tc.after)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "fakehooktoken") || strings.Contains(err.Error(), "right") {
				t.Errorf("error %q leaks the url or secret", err)
			}
			if n := srv.Deliveries(vendortest.KindNotify, ""); n != 0 {
				t.Errorf("failed post counted as delivery")
			}
		})
	}
}

// A receiver written here, with the exported Verify, accepts what the
// connector signs and refuses tampering.
func TestReceiverVerifies(t *testing.T) {
	secret := []byte("receiver-secret")
	var verdicts []error
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Tamper") != "" {
			body = append(body, ' ')
		}
		err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), r.Header.Get(webhook.TimestampHeader), body, now, 5*time.Minute)
		verdicts = append(verdicts, err)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(recv.Close)
	c := connector(t, webhook.Config{URL: recv.URL, Secret: string(secret)})
	if _, err := c.Do(context.Background(), notify()); err != nil {
		t.Fatal(err)
	}
	tampering := connector(t, webhook.Config{URL: recv.URL, Secret: string(secret), Headers: map[string]string{"X-Tamper": "1"}})
	if _, err := tampering.Do(context.Background(), notify()); err == nil {
		t.Fatal("tampered body accepted")
	}
	if len(verdicts) != 2 || verdicts[0] != nil || !errors.Is(verdicts[1], webhook.ErrBadSignature) {
		t.Errorf("verdicts %v", verdicts)
	}
	sig := webhook.Sign(secret, "1772366400", []byte(`{}`))
	if err := webhook.Verify(secret, sig, "1772366400", []byte(`{}`), time.Unix(1772366400, 0).Add(10*time.Minute), 5*time.Minute); !errors.Is(err, webhook.ErrStale) {
		t.Errorf("old timestamp: %v", err)
	}
}

func TestUnsupportedAndNew(t *testing.T) {
	c := connector(t, webhook.Config{URL: "https://hooks.example.com/T/B/tok"})
	if _, err := c.Do(context.Background(), respond.Action{Kind: respond.KindClearSessions}); !errors.Is(err, respond.ErrUnsupported) {
		t.Errorf("clear_sessions: %v", err)
	}
	for _, cfg := range []webhook.Config{
		{},
		{URL: "http://hooks.example.com/T/B/secret-token"},
		{URL: "hooks.example.com/T/B/secret-token"},
		{URL: "https://user:pw@hooks.example.com/secret-token"},
		{URL: "https://hooks.example.com/secret-token", Format: "xml"},
		{URL: "https://hooks.example.com/secret-token", Headers: map[string]string{"X-Vigil-Signature": "forged"}},
		{URL: "https://hooks.example.com/secret-token", Headers: map[string]string{"X-A": "b\r\nX-Evil: 1"}},
	} {
		if _, err := webhook.New(cfg, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), "secret-token") {
			t.Errorf("error %q quotes the url", err)
		}
	}
}
