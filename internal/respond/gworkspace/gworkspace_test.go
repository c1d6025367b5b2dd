package gworkspace_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/gworkspace"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/googleadmin"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, opts ...googleadmin.Option) (*googleadmin.Server, *gworkspace.Connector, *clock) {
	t.Helper()
	clk := &clock{now: time.Now()}
	srv := googleadmin.New(t, append([]googleadmin.Option{googleadmin.WithClock(clk.Now)}, opts...)...)
	srv.AddUser(googleadmin.User{PrimaryEmail: "ada@example.com", Aliases: []string{"ada.l@example.com"}})
	c, err := gworkspace.New(config(srv, clk), nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, clk
}

func config(srv *googleadmin.Server, clk *clock) gworkspace.Config {
	return gworkspace.Config{
		ServiceAccountKey: srv.ServiceAccountKey(),
		Subject:           googleadmin.DefaultAdmin,
		BaseURL:           srv.URL(),
		Version:           "1.2.3",
		Now:               clk.Now,
	}
}

func action(kind, target string) respond.Action {
	return respond.Action{ID: "act-" + kind + "-" + target, Connector: "google", Kind: kind, Target: target}
}

func TestSignOut(t *testing.T) {
	srv, c, _ := setup(t)
	ctx := context.Background()
	res, err := c.Do(ctx, action(respond.KindSignOut, "ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if res != "signed ada@example.com out of all web and device sessions" {
		t.Errorf("result %q", res)
	}
	if _, err := c.Do(ctx, action(respond.KindClearSessions, "ada.l@example.com")); err != nil {
		t.Fatalf("clear_sessions alias: %v", err)
	}
	if u, _ := srv.User("ada@example.com"); u.SignOuts != 2 {
		t.Errorf("sign-outs %d, want 2", u.SignOuts)
	}
	var api []vendortest.Request
	for _, r := range srv.Requests() {
		if r.Kind != vendortest.KindToken {
			api = append(api, r)
		}
	}
	if len(api) != 2 || api[0].Method != "POST" || api[0].Path != "/admin/directory/v1/users/ada@example.com/signOut" {
		t.Fatalf("requests %+v", api)
	}
	if api[0].IdempotencyKey != "act-sign_out-ada@example.com" || api[0].Header.Get("User-Agent") != "vigil/1.2.3" {
		t.Errorf("headers %v key %q", api[0].Header, api[0].IdempotencyKey)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 1 {
		t.Errorf("%d token requests for two calls, want 1", n)
	}
	if n := srv.Deliveries(vendortest.KindSignOut, "ada@example.com"); n != 2 {
		t.Errorf("deliveries %d, want 2 (two actions)", n)
	}
}

func TestTokenCachingAndRefresh(t *testing.T) {
	srv, c, clk := setup(t, googleadmin.WithTokenLifetime(time.Hour))
	ctx := context.Background()
	a := action(respond.KindSignOut, "ada@example.com")
	for _, step := range []struct {
		advance time.Duration
		tokens  int
	}{
		{0, 1},
		{50 * time.Minute, 1}, // still fresh
		{6 * time.Minute, 2},  // inside the five-minute margin: refreshed
	} {
		clk.Add(step.advance)
		if _, err := c.Do(ctx, a); err != nil {
			t.Fatal(err)
		}
		if n := srv.Count(vendortest.KindToken, ""); n != step.tokens {
			t.Fatalf("after %s: %d token requests, want %d", step.advance, n, step.tokens)
		}
	}
	srv.RevokeTokens()
	if _, err := c.Do(ctx, a); err != nil {
		t.Fatalf("after revoked token: %v", err)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 3 {
		t.Errorf("%d token requests, want 3 (refreshed on 401)", n)
	}
	if n := srv.Deliveries(vendortest.KindSignOut, "ada@example.com"); n != 1 {
		t.Errorf("deliveries %d, want 1 (same action id)", n)
	}
	srv.FailNext(2, http.StatusUnauthorized, 0)
	_, err := c.Do(ctx, a)
	if _, retry := respond.IsRetryable(err); err == nil || retry || !strings.Contains(err.Error(), "authentication failed (401 authError") {
		t.Fatalf("two 401s: %v, want permanent authentication failure", err)
	}
}

func TestAssertionChecked(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv, _, clk := setup(t)
	// A key file whose private key the fake does not know.
	stranger := googleadmin.New(t, googleadmin.WithKey(other))
	var key map[string]string
	_ = json.Unmarshal(stranger.ServiceAccountKey(), &key)
	key["token_uri"] = srv.TokenURL()
	strangeKey, _ := json.Marshal(key)

	noScope := googleadmin.New(t, googleadmin.WithClock(clk.Now), googleadmin.WithDelegatedScopes(googleadmin.ScopeUser+".readonly"))

	for _, tc := range []struct {
		name string
		cfg  func() gworkspace.Config
		want string
	}{
		{"unknown admin", func() gworkspace.Config {
			c := config(srv, clk)
			c.Subject = "intern@example.com"
			return c
		}, "token request refused (400 invalid_grant: Invalid email or User ID)"},
		{"wrong key", func() gworkspace.Config {
			c := config(srv, clk)
			c.ServiceAccountKey = strangeKey
			return c
		}, "token request refused (400 invalid_grant: Invalid JWT Signature.)"},
		{"scope not delegated", func() gworkspace.Config { return config(noScope, clk) }, "token request refused (401 unauthorized_client"},
		{"assertion from a skewed clock", func() gworkspace.Config {
			c := config(srv, clk)
			c.Now = func() time.Time { return clk.Now().Add(-2 * time.Hour) }
			return c
		}, "short-lived token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := gworkspace.New(tc.cfg(), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Do(context.Background(), action(respond.KindSignOut, "ada@example.com"))
			if _, retry := respond.IsRetryable(err); err == nil || retry {
				t.Fatalf("%v, want permanent", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `sign out "ada@example.com"`) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error %q leaks key or assertion", err)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		inject    func(*googleadmin.Server)
		target    string
		retry     bool
		after     time.Duration
		wantInErr string
	}{
		{"unknown user", nil, "nobody@example.com", false, 0, `sign out "nobody@example.com": user not found (404 notFound: Resource Not Found: userKey)`},
		{"rate limited", func(s *googleadmin.Server) { s.FailNext(1, 429, 4*time.Second) }, "ada@example.com", true, 4 * time.Second, "rate limited (429 rateLimitExceeded"},
		{"unavailable", func(s *googleadmin.Server) { s.FailNext(1, 503, 0) }, "ada@example.com", true, 0, "server error (503 backendError"},
		{"token endpoint down", func(s *googleadmin.Server) { s.FailTokenNext(1, 500, 2*time.Second) }, "ada@example.com", true, 2 * time.Second, "token endpoint unavailable (500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, _ := setup(t)
			if tc.inject != nil {
				tc.inject(srv)
			}
			_, err := c.Do(context.Background(), action(respond.KindSignOut, tc.target))
			if err == nil {
				t.Fatal("no error")
			}
			after, retry := respond.IsRetryable(err)
			if retry != tc.retry || after != tc.after {
				t.Errorf("%v: retry %v after %s, want %v after %s", err, retry, after, tc.retry, tc.after)
			}
			if !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("error %q lacks %q", err, tc.wantInErr)
			}
			if tc.retry {
				if _, err := c.Do(context.Background(), action(respond.KindSignOut, tc.target)); err != nil {
					t.Fatalf("retry: %v", err)
				}
				want := 2 // the failed sign-out and the retry
				if strings.HasPrefix(tc.name, "token") {
					want = 1 // the failure was the token's: one sign-out request
				}
				if d, n := srv.Deliveries(vendortest.KindSignOut, tc.target), srv.Count(vendortest.KindSignOut, tc.target); d != 1 || n != want {
					t.Errorf("deliveries %d of %d sign-out requests, want 1 of %d", d, n, want)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	srv := googleadmin.New(t)
	good := srv.ServiceAccountKey()
	var m map[string]string
	_ = json.Unmarshal(good, &m)
	with := func(k, v string) []byte {
		cp := map[string]string{}
		for a, b := range m {
			cp[a] = b
		}
		cp[k] = v
		b, _ := json.Marshal(cp)
		return b
	}
	for name, cfg := range map[string]gworkspace.Config{
		"not json":       {ServiceAccountKey: []byte("-----BEGIN PRIVATE KEY-----\nMIIE"), Subject: "a@b"},
		"wrong type":     {ServiceAccountKey: with("type", "authorized_user"), Subject: "a@b"},
		"no subject":     {ServiceAccountKey: good},
		"garbled key":    {ServiceAccountKey: with("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), Subject: "a@b"},
		"http token uri": {ServiceAccountKey: with("token_uri", "http://oauth2.example.com/token"), Subject: "a@b"},
		"bad base url":   {ServiceAccountKey: good, Subject: "a@b", BaseURL: "admin.googleapis.com"},
	} {
		if _, err := gworkspace.New(cfg, nil); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: error %q quotes the key", name, err)
		}
	}
}
