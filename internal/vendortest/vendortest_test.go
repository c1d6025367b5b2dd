package vendortest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/vendortest"
)

func TestKindsMatchRespond(t *testing.T) {
	for fake, real := range map[string]string{
		vendortest.KindClearSessions:    respond.KindClearSessions,
		vendortest.KindSuspendUser:      respond.KindSuspendUser,
		vendortest.KindResetFactors:     respond.KindResetFactors,
		vendortest.KindSignOut:          respond.KindSignOut,
		vendortest.KindDeactivateKey:    respond.KindDeactivateKey,
		vendortest.KindRevokeRoleTokens: respond.KindRevokeRoleTokens,
		vendortest.KindNotify:           respond.KindNotify,
	} {
		if fake != real {
			t.Errorf("vendortest kind %q, respond kind %q", fake, real)
		}
	}
}

// recorded plays one request through a Recorder the way a fake does.
func recorded(rec *vendortest.Recorder, key, kind string, status int) {
	r, _ := http.NewRequest(http.MethodPost, "http://fake/x", nil)
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	c := rec.Begin(nil, r)
	c.Route(kind, "u1")
	c.Finish(status)
}

func TestEffectiveDeliveries(t *testing.T) {
	rec := vendortest.NewRecorder(nil)
	recorded(rec, "k1", vendortest.KindClearSessions, 503) // failed: not applied
	recorded(rec, "k1", vendortest.KindClearSessions, 204) // applied
	recorded(rec, "k1", vendortest.KindClearSessions, 204) // retry of an applied key
	recorded(rec, "k2", vendortest.KindClearSessions, 204) // another action
	recorded(rec, "", vendortest.KindClearSessions, 204)   // no key: every one counts
	recorded(rec, "k3", vendortest.KindToken, 200)         // tokens are no delivery
	if got := rec.Count(vendortest.KindClearSessions, "u1"); got != 5 {
		t.Errorf("count %d, want 5", got)
	}
	if got := rec.Deliveries(vendortest.KindClearSessions, "u1"); got != 3 {
		t.Errorf("deliveries %d, want 3", got)
	}
	if got := rec.Deliveries(vendortest.KindClearSessions, "u2"); got != 0 {
		t.Errorf("deliveries to u2 %d, want 0", got)
	}
}

func TestWaitDeliveries(t *testing.T) {
	rec := vendortest.NewRecorder(nil)
	done := make(chan error, 1)
	go func() { done <- rec.WaitDeliveries(context.Background(), vendortest.KindSignOut, "u1", 2) }()
	recorded(rec, "a", vendortest.KindSignOut, 204)
	recorded(rec, "b", vendortest.KindSignOut, 204)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := rec.WaitDeliveries(ctx, vendortest.KindSignOut, "u1", 3); err == nil {
		t.Error("wait for a third delivery returned without one")
	}
}

func TestInjectedFailuresInOrder(t *testing.T) {
	rec := vendortest.NewRecorder(nil)
	rec.FailNext(2, 429, time.Second)
	rec.FailTokenNext(1, 500, 0)
	r, _ := http.NewRequest(http.MethodGet, "http://fake/", nil)
	c := rec.Begin(nil, r)
	for i, want := range []bool{true, true, false} {
		if _, ok := c.Injected(vendortest.ScopeAPI); ok != want {
			t.Errorf("api call %d injected %v, want %v", i, ok, want)
		}
	}
	if f, ok := c.Injected(vendortest.ScopeToken); !ok || f.Status != 500 {
		t.Errorf("token failure %+v %v", f, ok)
	}
	if got := vendortest.RetryAfterSeconds(1500 * time.Millisecond); got != 2 {
		t.Errorf("RetryAfterSeconds(1.5s) = %d, want 2", got)
	}
}

func TestInMemory(t *testing.T) {
	c := &http.Client{Transport: vendortest.InMemory(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.RequestURI+" "+r.RemoteAddr)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, r.Method+" "+string(b))
	}))}
	resp, err := c.Post("https://fake.invalid/a/b?c=d", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || string(b) != "POST hello" || resp.Header.Get("X-Seen") != "/a/b?c=d 192.0.2.1:40000" {
		t.Errorf("got %d %q %q", resp.StatusCode, b, resp.Header.Get("X-Seen"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://fake.invalid/", nil)
	if _, err := c.Do(req); err == nil {
		t.Error("a cancelled request got an answer")
	}
}
