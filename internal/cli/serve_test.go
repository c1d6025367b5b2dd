package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/sim"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

// service is a running `vigil serve` in this process.
type service struct {
	url    string
	db     string
	stderr *lockedBuffer
	stop   func() int
}

func startService(t *testing.T, db, configYAML string) *service {
	t.Helper()
	return startServiceOn(t, db, "127.0.0.1:0", configYAML)
}

func startServiceOn(t *testing.T, db, listen, configYAML string) *service {
	t.Helper()
	cfg := filepath.Join(filepath.Dir(db), "vigil.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errb := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--db", db, "--config", cfg, "--listen", listen}, strings.NewReader(""), io.Discard, errb)
	}()
	deadline := time.Now().Add(30 * time.Second) // guards a hang; asserts no speed
	for {
		if m := servingRE.FindStringSubmatch(errb.String()); m != nil {
			s := &service{url: m[1], db: db, stderr: errb}
			var once sync.Once
			code := 0
			s.stop = func() int { once.Do(func() { cancel(); code = <-done }); return code }
			t.Cleanup(func() { s.stop() })
			return s
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("vigil serve exited %d: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("vigil serve did not start: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newToken(t *testing.T, db, name, role string) string {
	t.Helper()
	r := run(t, "", "token", "create", "--db", db, "--name", name, "--role", role)
	if r.code != 0 {
		t.Fatalf("token create: %+v", r)
	}
	return strings.TrimSpace(r.stdout)
}

func (s *service) call(t *testing.T, method, path, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestServeKillsHijackedSessions is the service's acceptance test: a
// simulated organization's logs (with a session replay and its benign
// look-alikes) are streamed into a running `vigil serve` over HTTP, in
// event-time order; the service must revoke the victims' sessions on the
// fake Okta exactly once each, and never touch the look-alikes.
func TestServeKillsHijackedSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a service over a simulated organization")
	}
	dir := t.TempDir()
	logs, directory, truth := simulatedOrg(t, dir, 5, 14)
	okta, ids := oktaWithPeople(t, directory, 3) // login → Okta id

	db := filepath.Join(dir, "vigil.db")
	ingestTok := newToken(t, db, "pipeline", "ingest")
	viewer := newToken(t, db, "analyst", "viewer")
	svc := startService(t, db, "connectors:\n"+oktaConnector(t, okta.URL())+`playbooks:
  - name: kill-hijacked-sessions
    rules: [session.hijack]
    min_severity: high
    kinds: [human, admin]
    actions: [okta.clear_sessions]
    mode: enforce
guardrails:
  breaker: {max: 50, window: 10m}
`)

	posted := streamLogs(t, svc, ingestTok, logs)

	victims, lookalikes := map[string]bool{}, map[string]bool{}
	for _, tr := range truth {
		if tr.Rule != sim.RuleSessionHijack {
			continue
		}
		if tr.Kind == sim.KindAttack {
			victims[tr.Identity] = true
		} else {
			lookalikes[tr.Identity] = true
		}
	}
	if len(victims) == 0 || len(lookalikes) == 0 {
		t.Fatalf("the simulation has %d hijack victims and %d look-alikes", len(victims), len(lookalikes))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for v := range victims {
		if err := okta.WaitDeliveries(ctx, vendortest.KindClearSessions, ids[v], 1); err != nil {
			t.Fatalf("no session revocation for the victim %s (%s): %v\n%s", v, ids[v], err, svc.stderr.String())
		}
	}
	// Let any stray action through before counting.
	svc.stop()
	for v := range victims {
		if got := okta.Deliveries(vendortest.KindClearSessions, ids[v]); got != 1 {
			t.Errorf("victim %s: %d revocations, want exactly 1", v, got)
		}
		if u, _ := okta.User(ids[v]); u.Sessions != 0 {
			t.Errorf("victim %s still holds %d sessions", v, u.Sessions)
		}
	}
	for l := range lookalikes {
		if got := okta.Count(vendortest.KindClearSessions, ids[l]); got != 0 {
			t.Errorf("look-alike %s: %d revocation requests, want none", l, got)
		}
	}
	if total := okta.Deliveries(vendortest.KindClearSessions, ""); total != len(victims) {
		t.Errorf("%d revocations in all, want %d (one per victim)", total, len(victims))
	}
	t.Logf("posted %d records; %d victims revoked once each; %d look-alikes untouched", posted, len(victims), len(lookalikes))

	// The service kept what it did: restart it and read it back.
	svc = startService(t, db, "connectors:\n"+oktaConnector(t, okta.URL()))
	for v := range victims {
		code, body := svc.call(t, "GET", "/v1/actions?identity="+v, viewer, nil)
		if code != 200 || !strings.Contains(string(body), `"state":"done"`) || !strings.Contains(string(body), `"decided_by":"playbook:kill-hijacked-sessions"`) {
			t.Errorf("actions of %s: %d %s", v, code, body)
		}
		code, body = svc.call(t, "GET", "/v1/incidents?identity="+v, viewer, nil)
		if code != 200 || !strings.Contains(string(body), "session.hijack") {
			t.Errorf("incidents of %s: %d %s", v, code, body)
		}
		// The engine's baselines came back from the store: the identity is
		// known, with the devices it learned, without replaying any log.
		code, body = svc.call(t, "GET", "/v1/identities/"+v, viewer, nil)
		if code != 200 || !strings.Contains(string(body), `"learned":true`) || !strings.Contains(string(body), `"devices":[`) {
			t.Errorf("identity %s after a restart: %d %.300s", v, code, body)
		}
	}
	if code, body := svc.call(t, "GET", "/metrics", viewer, nil); code != 200 || !strings.Contains(string(body), `vigil_outbox_depth`) {
		t.Errorf("metrics: %d", code)
	}
	if r := run(t, "", "audit", "verify", "--db", db); r.code != 0 || !strings.Contains(r.stdout, "intact") {
		t.Errorf("audit verify: %+v", r)
	}
}

// streamLogs posts a directory of logs to a service in event-time order,
// in batches of 500 records, as vendors would push them, and returns how
// many records it posted.
func streamLogs(t *testing.T, svc *service, token, dir string) int {
	t.Helper()
	inputs, _, err := ingest.Resolve([]string{dir}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var batch bytes.Buffer
	n, posted := 0, 0
	flush := func() {
		if n == 0 {
			return
		}
		code, body := svc.call(t, "POST", "/v1/ingest/auto", token, bytes.NewReader(batch.Bytes()))
		if code != 200 {
			t.Fatalf("ingest: %d %s", code, body)
		}
		posted += n
		batch.Reset()
		n = 0
	}
	var lastRaw []byte
	_, err = ingest.Stream(context.Background(), inputs, ingest.StreamOptions{}, func(ev *event.Event) error {
		if bytes.Equal(ev.Raw, lastRaw) { // one record, several events
			return nil
		}
		lastRaw = ev.Raw
		batch.Write(ev.Raw)
		batch.WriteByte('\n')
		if n++; n == 500 {
			flush()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	flush()
	return posted
}

// simulatedOrg simulates an organization of 60 people and 8 machine
// identities over days (CloudTrail as NDJSON) into dir/org, and returns
// the directory of its logs, its people and machines, and its truth file.
func simulatedOrg(t *testing.T, dir string, seed, days int) (string, sim.Directory, []sim.Truth) {
	t.Helper()
	org := filepath.Join(dir, "org")
	if r := run(t, "", "simulate", "--out", org, "--seed", fmt.Sprint(seed), "--people", "60", "--service-accounts", "8",
		"--days", fmt.Sprint(days), "--cloudtrail-format", "ndjson"); r.code != 0 {
		t.Fatalf("simulate: %+v", r)
	}
	var d sim.Directory
	b, err := os.ReadFile(filepath.Join(org, "org.json"))
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(org, "logs"), d, readTruth(t, filepath.Join(org, sim.PathTruth))
}

func readTruth(t *testing.T, path string) []sim.Truth {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	truth, err := sim.ReadTruth(f)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

// oktaWithPeople starts a fake Okta holding every person of d with
// sessions each, and returns it with each login's Okta id.
func oktaWithPeople(t *testing.T, d sim.Directory, sessions int) (*oktaadmin.Server, map[string]string) {
	okta := oktaadmin.New(t)
	ids := map[string]string{}
	for _, p := range d.People {
		okta.AddUser(oktaadmin.User{ID: p.OktaID, Login: p.Login, Sessions: sessions})
		ids[p.Login] = p.OktaID
	}
	return okta, ids
}

// oktaConnector is the YAML list entry of a connector named okta to url,
// with its token in the environment as a deployment would have it.
func oktaConnector(t *testing.T, url string) string {
	t.Setenv("VIGIL_TEST_OKTA_TOKEN", oktaadmin.DefaultAPIToken)
	return fmt.Sprintf("  - name: okta\n    type: okta\n    url: %s\n    token: {env: VIGIL_TEST_OKTA_TOKEN}\n", url)
}
