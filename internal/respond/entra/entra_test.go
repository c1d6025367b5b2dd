package entra_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/entra"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/graphadmin"
)

// clock is a connector clock the test moves by hand.
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

func setup(t *testing.T, opts ...graphadmin.Option) (*graphadmin.Server, *entra.Connector, *clock) {
	t.Helper()
	srv := graphadmin.New(t, opts...)
	srv.AddUser(graphadmin.User{ID: "11111111-2222-3333-4444-555555555555", UserPrincipalName: "ada@contoso.com"})
	clk := &clock{now: time.Now()}
	c, err := entra.New(connectorConfig(srv, clk), nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, clk
}

func connectorConfig(srv *graphadmin.Server, clk *clock) entra.Config {
	return entra.Config{
		TenantID:     graphadmin.DefaultTenant,
		ClientID:     graphadmin.DefaultClientID,
		ClientSecret: graphadmin.DefaultClientSecret,
		Authority:    srv.URL(),
		GraphURL:     srv.URL(),
		Version:      "1.2.3",
		Now:          clk.Now,
	}
}

func action(kind, target string) respond.Action {
	return respond.Action{ID: "act-" + kind + "-" + target, Connector: "entra", Kind: kind, Target: target}
}

func TestActions(t *testing.T) {
	srv, c, _ := setup(t)
	ctx := context.Background()
	res, err := c.Do(ctx, action(respond.KindClearSessions, "ada@contoso.com"))
	if err != nil {
		t.Fatal(err)
	}
	if res != "revoked sign-in sessions and refresh tokens of ada@contoso.com" {
		t.Errorf("result %q", res)
	}
	if u, _ := srv.User("ada@contoso.com"); u.SignInSessionsValidFrom.IsZero() {
		t.Error("sessions not revoked")
	}
	if _, err := c.Do(ctx, action(respond.KindSuspendUser, "11111111-2222-3333-4444-555555555555")); err != nil {
		t.Fatal(err)
	}
	if u, _ := srv.User("ada@contoso.com"); !u.Disabled {
		t.Error("account still enabled")
	}
	var api []vendortest.Request
	for _, r := range srv.Requests() {
		if r.Kind != vendortest.KindToken {
			api = append(api, r)
		}
	}
	if len(api) != 2 {
		t.Fatalf("%d graph requests, want 2", len(api))
	}
	for i, want := range []struct{ method, path, key string }{
		{"POST", "/v1.0/users/ada@contoso.com/revokeSignInSessions", "act-clear_sessions-ada@contoso.com"},
		{"PATCH", "/v1.0/users/11111111-2222-3333-4444-555555555555", "act-suspend_user-11111111-2222-3333-4444-555555555555"},
	} {
		r := api[i]
		if r.Method != want.method || r.Path != want.path || r.IdempotencyKey != want.key {
			t.Errorf("request %d: %s %s key %q", i, r.Method, r.Path, r.IdempotencyKey)
		}
		if r.Header.Get("User-Agent") != "vigil/1.2.3" || r.Header.Get("Authorization") != "Bearer [redacted]" {
			t.Errorf("request %d headers %v", i, r.Header)
		}
	}
	if string(api[1].Body) != `{"accountEnabled":false}` {
		t.Errorf("patch body %s", api[1].Body)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 1 {
		t.Errorf("%d token requests for two calls, want 1 (cached)", n)
	}
	if n := srv.Deliveries(vendortest.KindClearSessions, "ada@contoso.com"); n != 1 {
		t.Errorf("deliveries %d", n)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	srv, c, clk := setup(t, graphadmin.WithTokenLifetime(time.Hour))
	ctx := context.Background()
	a := action(respond.KindClearSessions, "ada@contoso.com")
	if _, err := c.Do(ctx, a); err != nil {
		t.Fatal(err)
	}
	clk.Add(50 * time.Minute) // inside the hour, before the 5-minute margin
	if _, err := c.Do(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	clk.Add(6 * time.Minute) // within five minutes of expiry
	if _, err := c.Do(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 2 {
		t.Errorf("%d token requests, want 2 (refreshed)", n)
	}
	if n := srv.Deliveries(vendortest.KindClearSessions, "ada@contoso.com"); n != 1 {
		t.Errorf("deliveries %d, want 1 (same action id)", n)
	}
}

func TestTokenRefreshedOnceOn401(t *testing.T) {
	srv, c, _ := setup(t)
	ctx := context.Background()
	if _, err := c.Do(ctx, action(respond.KindClearSessions, "ada@contoso.com")); err != nil {
		t.Fatal(err)
	}
	srv.RevokeTokens()
	if _, err := c.Do(ctx, action(respond.KindSuspendUser, "ada@contoso.com")); err != nil {
		t.Fatalf("after revoked token: %v", err)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	// Refused twice: the second 401 is final.
	srv.FailNext(2, http.StatusUnauthorized, 0)
	_, err := c.Do(ctx, action(respond.KindClearSessions, "ada@contoso.com"))
	if _, retry := respond.IsRetryable(err); err == nil || retry {
		t.Fatalf("%v, want permanent", err)
	}
	if !strings.Contains(err.Error(), "authentication failed (401 InvalidAuthenticationToken") {
		t.Errorf("message %q", err)
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 3 {
		t.Errorf("%d token requests, want 3", n)
	}
}

func TestPermanentFailures(t *testing.T) {
	srv, _, clk := setup(t)
	lowPriv := graphadmin.New(t, graphadmin.WithClient(graphadmin.DefaultTenant, "app-2", "secret-2", "User.Read.All"))
	lowPriv.AddUser(graphadmin.User{UserPrincipalName: "ada@contoso.com"})

	badSecret := connectorConfig(srv, clk)
	badSecret.ClientSecret = "wrong-SECRET-value"
	badTenant := connectorConfig(srv, clk)
	badTenant.TenantID = "contoso.onmicrosoft.com"
	noPerm := connectorConfig(lowPriv, clk)
	noPerm.ClientID, noPerm.ClientSecret = "app-2", "secret-2"

	for _, tc := range []struct {
		name string
		cfg  entra.Config
		a    respond.Action
		want []string
	}{
		{"bad secret", badSecret, action(respond.KindClearSessions, "ada@contoso.com"), []string{`"ada@contoso.com"`, "token request refused (401 invalid_client AADSTS7000215)"}},
		{"app not in tenant", badTenant, action(respond.KindClearSessions, "ada@contoso.com"), []string{"400 unauthorized_client AADSTS700016"}},
		{"unknown user", connectorConfig(srv, clk), action(respond.KindSuspendUser, "bob@contoso.com"), []string{`disable "bob@contoso.com"`, "user not found (404 Request_ResourceNotFound"}},
		{"missing permission", noPerm, action(respond.KindClearSessions, "ada@contoso.com"), []string{"permission denied (403 Authorization_RequestDenied"}},
		{"unsupported", connectorConfig(srv, clk), action(respond.KindResetFactors, "ada@contoso.com"), []string{"not supported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := entra.New(tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Do(context.Background(), tc.a)
			if err == nil {
				t.Fatal("no error")
			}
			if _, retry := respond.IsRetryable(err); retry {
				t.Errorf("%v is retryable", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), graphadmin.DefaultClientSecret) {
				t.Errorf("error %q echoes a secret", err)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		token  bool
		status int
		after  time.Duration
	}{
		{"throttled", false, http.StatusTooManyRequests, 7 * time.Second},
		{"unavailable", false, http.StatusServiceUnavailable, 30 * time.Second},
		{"server error", false, http.StatusInternalServerError, 0},
		{"token endpoint unavailable", true, http.StatusServiceUnavailable, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, _ := setup(t)
			if tc.token {
				srv.FailTokenNext(1, tc.status, tc.after)
			} else {
				srv.FailNext(1, tc.status, tc.after)
			}
			a := action(respond.KindClearSessions, "ada@contoso.com")
			_, err := c.Do(context.Background(), a)
			after, retry := respond.IsRetryable(err)
			if !retry || after != tc.after {
				t.Fatalf("%v: retry %v after %s, want after %s", err, retry, after, tc.after)
			}
			if _, err := c.Do(context.Background(), a); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := srv.Deliveries(vendortest.KindClearSessions, "ada@contoso.com"); n != 1 {
				t.Errorf("deliveries %d, want 1", n)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	good := entra.Config{TenantID: "t", ClientID: "c", ClientSecret: "s3cr3t-VALUE"}
	for _, mod := range []func(*entra.Config){
		func(c *entra.Config) { c.TenantID = "" },
		func(c *entra.Config) { c.ClientSecret = "" },
		func(c *entra.Config) { c.TenantID = "../x" },
		func(c *entra.Config) { c.Authority = "http://login.example.com" },
		func(c *entra.Config) { c.GraphURL = "https://graph.example.com?x=1" },
	} {
		cfg := good
		mod(&cfg)
		if _, err := entra.New(cfg, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q echoes the secret", err)
		}
	}
	if _, err := entra.New(good, nil); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	srv, c, _ := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			a := action(respond.KindClearSessions, "ada@contoso.com")
			a.ID += string(rune('a' + i))
			_, err := c.Do(context.Background(), a)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count(vendortest.KindToken, ""); n != 1 {
		t.Errorf("%d token requests for 16 concurrent calls, want 1", n)
	}
	if n := srv.Deliveries(vendortest.KindClearSessions, "ada@contoso.com"); n != 16 {
		t.Errorf("deliveries %d, want 16", n)
	}
}
