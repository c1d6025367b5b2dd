package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/store/sqlite"
	"github.com/vigil-zt/vigil/internal/vendortest/graphlog"
	"github.com/vigil-zt/vigil/internal/vendortest/oktalog"
)

// waitEvents waits until the store holds want events (and checks it does
// not hold more).
func waitEvents(t *testing.T, db string, want int64, svc *service) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(60 * time.Second) // guards a hang; asserts no speed
	var n int64
	for time.Now().Before(deadline) {
		if n, err = st.CountEvents(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n >= want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n != want {
		t.Fatalf("the store holds %d events, want %d\n%s", n, want, svc.stderr.String())
	}
}

// TestServePollers runs the Okta System Log and Graph pollers inside the
// service against the vendors' fakes: every record lands once; after a
// restart the pollers continue from their stored cursors (nothing twice,
// nothing skipped); a poller whose token is refused is reported in health
// and does not stop the others.
func TestServePollers(t *testing.T) {
	dir := t.TempDir()
	okta := oktalog.New(t)
	graph := graphlog.New(t)
	t0 := time.Now().Add(-100 * time.Minute).Truncate(time.Second) // every record in the past, within since
	addOkta := func(from, n int) {
		evs := make([]json.RawMessage, 0, n)
		for i := from; i < from+n; i++ {
			evs = append(evs, oktalog.Event(fmt.Sprintf("okta-%05d", i), t0.Add(time.Duration(i)*time.Second), "user.session.start", fmt.Sprintf("user%d@example.com", i%40)))
		}
		if err := okta.Add(evs...); err != nil {
			t.Fatal(err)
		}
	}
	// Graph records come with times close to when they are added (Graph
	// publishes minutes late at most; older arrivals are out of its
	// contract, and the poller's overlap does not reach back to them).
	addGraph := func(from, n int, base time.Time) {
		for i := from; i < from+n; i++ {
			at := base.Add(time.Duration(i-from) * 100 * time.Millisecond)
			if err := graph.Add(graphlog.SignIns, graphlog.SignIn(fmt.Sprintf("si-%05d", i), at, fmt.Sprintf("user%d@example.com", i%40))); err != nil {
				t.Fatal(err)
			}
			if i%5 == 0 {
				if err := graph.Add(graphlog.DirectoryAudits, graphlog.DirectoryAudit(fmt.Sprintf("da-%05d", i), at, "Update user", fmt.Sprintf("user%d@example.com", i%40))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	addOkta(0, 2500) // several pages of 1000
	addGraph(0, 300, t0)
	t.Setenv("VIGIL_TEST_OKTA_LOGS", oktalog.DefaultAPIToken)
	t.Setenv("VIGIL_TEST_OKTA_BAD", "00revoked-token")
	t.Setenv("VIGIL_TEST_GRAPH", graphlog.DefaultClientSecret)
	cfg := fmt.Sprintf(`
sources:
  okta_poll:
    - name: prod
      url: %s
      token: {env: VIGIL_TEST_OKTA_LOGS}
      since: 2h
      interval: 100ms
    - name: revoked
      url: %s
      token: {env: VIGIL_TEST_OKTA_BAD}
      interval: 100ms
  graph_poll:
    - name: contoso
      tenant: %s
      client_id: %s
      client_secret: {env: VIGIL_TEST_GRAPH}
      login_url: %s
      graph_url: %s
      since: 2h
      interval: 200ms
`, okta.URL(), okta.URL(), graphlog.DefaultTenant, graphlog.DefaultClientID, graph.URL(), graph.URL())
	db := filepath.Join(dir, "vigil.db")
	viewer := newToken(t, db, "analyst", "viewer")
	svc := startService(t, db, cfg)
	waitEvents(t, db, 2500+300+60, svc)

	// The refused token is reported; the service and the other pollers run on.
	code, body := svc.call(t, "GET", "/v1/health", "", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"poller okta:revoked":"failing since`) ||
		!strings.Contains(string(body), `"poller okta:prod":"ok"`) || strings.Contains(string(body), "00revoked") {
		t.Errorf("health: %d %s", code, body)
	}
	code, body = svc.call(t, "GET", "/metrics", viewer, nil)
	if code != 200 || !strings.Contains(string(body), `vigil_poll_records_fetched_total{poller="okta:prod"} 2500`) ||
		!strings.Contains(string(body), `vigil_poll_errors_total{kind="auth",poller="okta:revoked"}`) {
		t.Errorf("poller metrics: %d\n%s", code, grepLines(string(body), "vigil_poll_"))
	}
	if svc.stop() != 0 {
		t.Fatalf("serve: %s", svc.stderr.String())
	}

	// New records while the service was down; the restart resumes.
	addOkta(2500, 700)
	addGraph(300, 100, time.Now().Add(-time.Minute))
	svc = startService(t, db, cfg)
	waitEvents(t, db, 3200+400+80, svc)
	time.Sleep(500 * time.Millisecond) // a few more polls: nothing more may arrive
	waitEvents(t, db, 3200+400+80, svc)
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range []string{"okta:prod", "graph:contoso:signIns", "graph:contoso:directoryAudits"} {
		if c, err := st.Cursor(context.Background(), name); err != nil || c == "" {
			t.Errorf("cursor %s: %q %v", name, c, err)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
