package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

// TestServeGuardrails: a break-glass account is never acted on
// automatically, and when automatic actions exceed the breaker's limit the
// rest are blocked, an alert says so and health reports it — a misfiring
// rule must not lock out the company.
func TestServeGuardrails(t *testing.T) {
	dir := t.TempDir()
	okta := oktaadmin.New(t)
	users := []string{"breakglass@example.com", "first@example.com", "second@example.com", "third@example.com"}
	for i, u := range users {
		okta.AddUser(oktaadmin.User{ID: fmt.Sprintf("00uguard%d", i), Login: u, Sessions: 1})
	}
	db := filepath.Join(dir, "vigil.db")
	ingestTok := newToken(t, db, "pipeline", "ingest")
	viewer := newToken(t, db, "analyst", "viewer")
	svc := startService(t, db, "connectors:\n"+oktaConnector(t, okta.URL())+`playbooks:
  - name: stolen-session
    rules: [session.hijack]
    actions: [okta.clear_sessions]
    mode: enforce
guardrails:
  protected: [breakglass@example.com]
  breaker: {max: 1, window: 1h}
`)

	now := time.Now()
	for i, u := range users {
		sess := fmt.Sprintf("102guard%d", i)
		for _, rec := range [][]byte{
			oktaRecord(u, sess, "dt-home-"+u, "198.51.100.7", 3243, "Chrome", now.Add(-time.Minute)),
			oktaRecord(u, sess, "dt-attacker", "45.155.205.233", 49505, "python-requests", now),
		} {
			if code, b := svc.call(t, "POST", "/v1/ingest/okta", ingestTok, bytes.NewReader(rec)); code != 200 {
				t.Fatalf("ingest: %d %s", code, b)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := okta.WaitDeliveries(ctx, vendortest.KindClearSessions, "00uguard1", 1); err != nil {
		t.Fatalf("the first victim was not revoked: %v", err)
	}
	if code, body := svc.call(t, "GET", "/v1/health", "", nil); code != 503 || !strings.Contains(string(body), `"responder":"circuit breaker open"`) {
		t.Errorf("health with the breaker open: %d %s", code, body)
	}
	svc.stop()
	for i, u := range users {
		want := 0
		if i == 1 {
			want = 1
		}
		if got := okta.Count(vendortest.KindClearSessions, fmt.Sprintf("00uguard%d", i)); got != want {
			t.Errorf("%s: %d revocation requests, want %d", u, got, want)
		}
	}

	svc = startService(t, db, "guardrails:\n  breaker: {max: 1, window: 1h}\n")
	check := func(path, want string) {
		t.Helper()
		code, body := svc.call(t, "GET", path, viewer, nil)
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, want %s in\n%s", path, code, want, body)
		}
	}
	check("/v1/actions?identity=breakglass@example.com", `"last_error":"protected identity: never acted on automatically"`)
	check("/v1/actions?identity=second@example.com", `"state":"blocked"`)
	check("/v1/actions?identity=third@example.com", `circuit breaker open`)
	check("/v1/alerts?rule=respond.circuit_breaker", `"severity":"high"`)
}
