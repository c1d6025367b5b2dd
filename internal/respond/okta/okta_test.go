package okta_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/okta"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T, opts ...oktaadmin.Option) (*oktaadmin.Server, *okta.Connector) {
	t.Helper()
	srv := oktaadmin.New(t, append([]oktaadmin.Option{oktaadmin.WithClock(func() time.Time { return epoch })}, opts...)...)
	srv.AddUser(oktaadmin.User{ID: "00uada", Login: "ada@example.com", Sessions: 3, OAuthTokens: 2, Factors: 2})
	srv.AddUser(oktaadmin.User{ID: "00ugone", Login: "gone@example.com", Status: "DEPROVISIONED"})
	c, err := okta.New(okta.Config{OrgURL: srv.URL(), APIToken: oktaadmin.DefaultAPIToken, Version: "1.2.3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func action(kind, target string) respond.Action {
	return respond.Action{ID: "act-" + kind + "-" + target, Connector: "okta", Kind: kind, Target: target, Mode: respond.ModeEnforce}
}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		kind, target string
		check        func(oktaadmin.User) bool
		result       string
	}{
		{respond.KindClearSessions, "00uada", func(u oktaadmin.User) bool { return u.Sessions == 0 && u.OAuthTokens == 0 }, "cleared sessions and oauth tokens of 00uada"},
		{respond.KindClearSessions, "ada@example.com", func(u oktaadmin.User) bool { return u.Sessions == 0 && u.OAuthTokens == 0 }, "cleared sessions and oauth tokens of ada@example.com"},
		{respond.KindSuspendUser, "ada@example.com", func(u oktaadmin.User) bool { return u.Status == "SUSPENDED" }, "suspended ada@example.com"},
		{respond.KindResetFactors, "00uada", func(u oktaadmin.User) bool { return u.Factors == 0 }, "reset factors of 00uada"},
	} {
		t.Run(tc.kind+"/"+tc.target, func(t *testing.T) {
			srv, c := setup(t)
			a := action(tc.kind, tc.target)
			res, err := c.Do(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			if res != tc.result {
				t.Errorf("result %q, want %q", res, tc.result)
			}
			u, _ := srv.User("00uada")
			if !tc.check(u) {
				t.Errorf("user after %s: %+v", tc.kind, u)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].IdempotencyKey != a.ID {
				t.Errorf("Idempotency-Key %q, want %q", reqs[0].IdempotencyKey, a.ID)
			}
			if got := srv.Deliveries(tc.kind, tc.target); got != 1 {
				t.Errorf("deliveries %d, want 1", got)
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	srv, c := setup(t)
	if _, err := c.Do(context.Background(), action(respond.KindClearSessions, "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Method != http.MethodDelete || r.Path != "/api/v1/users/ada@example.com/sessions" || r.Query != "oauthTokens=true" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.Query)
	}
	for k, want := range map[string]string{
		"User-Agent":    "vigil/1.2.3",
		"Accept":        "application/json",
		"Authorization": "SSWS [redacted]",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

func TestRetryIsNotASecondDelivery(t *testing.T) {
	srv, c := setup(t)
	a := action(respond.KindClearSessions, "00uada")
	for range 2 {
		if _, err := c.Do(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count(vendortest.KindClearSessions, "00uada"); n != 2 {
		t.Errorf("raw requests %d, want 2", n)
	}
	if n := srv.Deliveries(vendortest.KindClearSessions, "ada@example.com"); n != 1 {
		t.Errorf("effective deliveries %d, want 1", n)
	}
}

func TestSuspendAlreadySuspended(t *testing.T) {
	srv, c := setup(t)
	a := action(respond.KindSuspendUser, "00uada")
	if _, err := c.Do(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	// The outbox crashed before recording success: it sends again.
	res, err := c.Do(context.Background(), a)
	if err != nil {
		t.Fatalf("second suspend: %v", err)
	}
	if !strings.Contains(res, "already suspended") {
		t.Errorf("result %q", res)
	}
	if n := srv.Deliveries(vendortest.KindSuspendUser, "00uada"); n != 1 {
		t.Errorf("deliveries %d, want 1", n)
	}
	// A deprovisioned user cannot be suspended: permanent.
	_, err = c.Do(context.Background(), action(respond.KindSuspendUser, "gone@example.com"))
	if _, retry := respond.IsRetryable(err); err == nil || retry {
		t.Fatalf("suspend deprovisioned: %v, want permanent", err)
	}
	if !strings.Contains(err.Error(), `"gone@example.com"`) || !strings.Contains(err.Error(), "400 E0000001") {
		t.Errorf("message %q", err)
	}
}

func TestPermanentFailures(t *testing.T) {
	srv, _ := setup(t)
	wrong, err := okta.New(okta.Config{OrgURL: srv.URL(), APIToken: "00wrong-secret-token"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	right, err := okta.New(okta.Config{OrgURL: srv.URL(), APIToken: oktaadmin.DefaultAPIToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *okta.Connector
		a    respond.Action
		want []string
	}{
		{"bad token", wrong, action(respond.KindClearSessions, "00uada"), []string{"authentication failed", "401 E0000011", `"00uada"`}},
		{"unknown user", right, action(respond.KindClearSessions, "nobody@example.com"), []string{"user not found", "404 E0000007", `"nobody@example.com"`}},
		{"unsupported", right, action(respond.KindSignOut, "00uada"), []string{"not supported"}},
		{"empty target", right, action(respond.KindClearSessions, ""), []string{"empty target"}},
		{"control character", right, action(respond.KindClearSessions, "ada\n@example.com"), []string{"control character"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Do(context.Background(), tc.a)
			if err == nil {
				t.Fatal("no error")
			}
			if _, retry := respond.IsRetryable(err); retry {
				t.Errorf("%v is retryable, want permanent", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), oktaadmin.DefaultAPIToken) {
				t.Errorf("error %q echoes a token", err)
			}
		})
	}
	if n := srv.Deliveries(vendortest.KindClearSessions, ""); n != 0 {
		t.Errorf("deliveries %d after failures", n)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		after     time.Duration
		wantAfter time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, 3 * time.Second, 3 * time.Second},
		{"rate limited, sub-second reset rounds up", http.StatusTooManyRequests, 200 * time.Millisecond, time.Second},
		{"server error", http.StatusInternalServerError, 0, 0},
		{"unavailable with retry-after", http.StatusServiceUnavailable, 7 * time.Second, 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := setup(t)
			srv.FailNext(1, tc.status, tc.after)
			a := action(respond.KindClearSessions, "00uada")
			_, err := c.Do(context.Background(), a)
			after, retry := respond.IsRetryable(err)
			if !retry {
				t.Fatalf("%v, want retryable", err)
			}
			if after != tc.wantAfter {
				t.Errorf("after %s, want %s", after, tc.wantAfter)
			}
			if n := srv.Deliveries(vendortest.KindClearSessions, "00uada"); n != 0 {
				t.Errorf("failed call counted as delivery")
			}
			if _, err := c.Do(context.Background(), a); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := srv.Deliveries(vendortest.KindClearSessions, "00uada"); n != 1 {
				t.Errorf("deliveries %d, want 1", n)
			}
			if n := srv.Count(vendortest.KindClearSessions, "ada@example.com"); n != 2 {
				t.Errorf("raw requests %d, want 2 (the failed one and the retry)", n)
			}
		})
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	srv, _ := setup(t)
	c, err := okta.New(okta.Config{OrgURL: srv.URL(), APIToken: oktaadmin.DefaultAPIToken, Timeout: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetDelay(time.Minute)
	_, err = c.Do(context.Background(), action(respond.KindClearSessions, "00uada"))
	if _, retry := respond.IsRetryable(err); !retry {
		t.Fatalf("%v, want retryable", err)
	}
	if strings.Contains(err.Error(), srv.URL()) {
		t.Errorf("error %q holds the url", err)
	}
}

func TestBearerToken(t *testing.T) {
	srv, _ := setup(t, oktaadmin.WithBearerToken("manage-tok", "okta.users.manage"), oktaadmin.WithBearerToken("read-tok", "okta.users.read"))
	token := "manage-tok"
	c, err := okta.New(okta.Config{OrgURL: srv.URL(), AccessToken: func(context.Context) (string, error) { return token, nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), action(respond.KindClearSessions, "00uada")); err != nil {
		t.Fatal(err)
	}
	token = "read-tok"
	_, err = c.Do(context.Background(), action(respond.KindResetFactors, "00uada"))
	if _, retry := respond.IsRetryable(err); err == nil || retry || !strings.Contains(err.Error(), "permission denied (403 E0000006") {
		t.Fatalf("read-only token: %v, want permanent 403", err)
	}
	c2, _ := okta.New(okta.Config{OrgURL: srv.URL(), AccessToken: func(context.Context) (string, error) { return "", errors.New("vault down") }}, nil)
	if _, err := c2.Do(context.Background(), action(respond.KindClearSessions, "00uada")); err == nil {
		t.Fatal("token source failure ignored")
	} else if _, retry := respond.IsRetryable(err); !retry {
		t.Errorf("token source failure %v, want retryable", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []okta.Config{
		{APIToken: "tok-SECRET"},
		{OrgURL: "http://example.okta.com", APIToken: "tok-SECRET"},
		{OrgURL: "ftp://example.okta.com", APIToken: "tok-SECRET"},
		{OrgURL: "https://user:pw@example.okta.com", APIToken: "tok-SECRET"},
		{OrgURL: "https://example.okta.com"},
		{OrgURL: "https://example.okta.com", APIToken: "tok-SECRET", AccessToken: func(context.Context) (string, error) { return "", nil }},
		{OrgURL: "https://example.okta.com", APIToken: "tok-SECRET\r\nX-Evil: 1"},
	} {
		if _, err := okta.New(cfg, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if cfg.APIToken != "" && strings.Contains(err.Error(), cfg.APIToken) {
			t.Errorf("error %q echoes the token", err)
		}
	}
}
