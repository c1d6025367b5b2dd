package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/sim"
)

// TestDemoHeadless runs the whole demo as a user would (a simulated
// organization, the service over HTTP, the vendors' stand-ins) and holds
// its summary to the simulation's truth file: every attack detected, every
// hijacked session revoked at Okta and Entra, every leaked machine
// credential cut off at AWS, takeovers recommended for suspension, no
// action failed, look-alikes left alone.
func TestDemoHeadless(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates an organization and replays it through the service")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var out bytes.Buffer
	errb := &lockedBuffer{}
	code := Run(context.Background(), []string{"demo", "--headless", "--json", "--people", "60", "--service-accounts", "8", "--days", "10",
		"--speed", "200000", "--listen", "127.0.0.1:0", "--dir", dir}, strings.NewReader(""), &out, errb)
	if code != ExitOK {
		t.Fatalf("vigil demo exited %d:\n%s", code, errb.String())
	}
	var sum demoSummary
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&sum); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Errorf("stdout holds more than the summary")
	}
	truth := readTruth(t, filepath.Join(dir, sim.PathTruth))
	byID := map[string]sim.Truth{}
	for _, tr := range truth {
		byID[tr.ID] = tr
	}

	// Everything the replay posted was stored, from every source.
	if sum.Records.History == 0 || sum.Records.Replay == 0 || sum.Events < int64(sum.Records.History+sum.Records.Replay) {
		t.Errorf("records %+v, events %d", sum.Records, sum.Events)
	}
	for _, src := range []string{"okta", "entra", "cloudtrail"} {
		if sum.EventsBySource[src] == 0 {
			t.Errorf("no %s events stored: %v", src, sum.EventsBySource)
		}
	}

	// Every attack is detected, with one exception the truth file explains:
	// activity.volume_spike compares an hour with the identity's busy
	// hours and calls nothing a spike with fewer than three of them in
	// its history. With 60 people and 10 days the simulator can give the
	// secret-harvest story an engineer who never read data before
	// (details.baseline_days 0: seed 1 does), and batch `vigil detect`
	// misses it the same way; at the demo's defaults it has a baseline.
	if sum.Attacks.Total != len(truth)-countKind(truth, sim.KindLookalike) || sum.Attacks.Total == 0 {
		t.Errorf("%d attacks in the summary, %d in the truth file", sum.Attacks.Total, len(truth)-countKind(truth, sim.KindLookalike))
	}
	missed := 0
	for _, e := range sum.Attacks.Entries {
		if e.Detected {
			continue
		}
		missed++
		if tr := byID[e.ID]; tr.Rule != sim.RuleVolumeSpike || tr.Details["baseline_days"] != 0.0 {
			t.Errorf("attack %s (%s on %s) not detected", e.ID, e.Rule, e.Identity)
		}
	}
	if sum.Attacks.Detected != sum.Attacks.Total-missed {
		t.Errorf("detected %d of %d with %d missed", sum.Attacks.Detected, sum.Attacks.Total, missed)
	}
	if sum.Lookalikes.Total == 0 || sum.Lookalikes.Quiet != sum.Lookalikes.Total {
		t.Errorf("look-alikes quiet: %d of %d: %+v", sum.Lookalikes.Quiet, sum.Lookalikes.Total, sum.Lookalikes.Entries)
	}

	// The response, attack by attack, through the stand-ins.
	victims := 0
	for _, e := range sum.Attacks.Entries {
		var want []string
		switch e.Rule {
		case sim.RuleSessionHijack:
			victims++
			want = []string{"okta.clear_sessions:done", "entra.clear_sessions:done"}
		case sim.RuleRecoveryTakeover, sim.RuleMFAFatigue:
			want = []string{"okta.suspend_user:skipped"}
		case sim.RuleNHIOrigin:
			want = []string{"aws.deactivate_key:done"}
			if strings.HasPrefix(e.Identity, "role/") {
				want = []string{"aws.revoke_role_sessions:done"}
			}
		}
		for _, w := range want {
			if !slices.Contains(e.Actions, w) {
				t.Errorf("%s (%s on %s): actions %v, want %s", e.ID, e.Rule, e.Identity, e.Actions, w)
			}
		}
	}
	if victims == 0 || sum.IncidentsByRule[sim.RuleSessionHijack] < victims {
		t.Errorf("%d hijack victims, %d session.hijack incidents", victims, sum.IncidentsByRule[sim.RuleSessionHijack])
	}
	if got := sum.Actions["okta.clear_sessions"][respond.StateDone]; got < victims {
		t.Errorf("okta.clear_sessions done %d times for %d victims", got, victims)
	}
	for k, states := range sum.Actions {
		for st, n := range states {
			if st != respond.StateDone && st != respond.StateSkipped {
				t.Errorf("%d %s actions %s", n, k, st)
			}
		}
	}
	if sum.DetectionLatency.Count == 0 || sum.ResponseLatency.Count == 0 {
		t.Errorf("latencies: detection %+v, response %+v", sum.DetectionLatency, sum.ResponseLatency)
	}

	// The directory given is kept, and the admin token printed opens the
	// database the service used.
	if sum.Dir != dir {
		t.Errorf("dir %q, want %q", sum.Dir, dir)
	}
	if !strings.Contains(errb.String(), "admin token vgl_") {
		t.Errorf("no admin token on stderr:\n%s", errb.String())
	}
	if r := run(t, "", "token", "list", "--db", filepath.Join(dir, "vigil.db")); r.code != 0 || !strings.Contains(r.stdout, "demo-admin") {
		t.Errorf("token list: %+v", r)
	}
	t.Logf("%d records (%d history in %.1f s, %d replayed in %.1f s); %d of %d attacks detected; actions %v",
		sum.Records.History+sum.Records.Replay, sum.Records.History, sum.HistorySeconds, sum.Records.Replay, sum.ReplaySeconds,
		sum.Attacks.Detected, sum.Attacks.Total, sum.Actions)
}

// TestDemoInteractive: the console's address and an admin token are the
// only output; the token works against the service, which keeps serving
// after the replay until interrupted, and then exits 0.
func TestDemoInteractive(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates an organization and replays it through the service")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"demo", "--people", "60", "--service-accounts", "8", "--days", "7", "--speed", "500000",
			"--listen", "127.0.0.1:0"}, strings.NewReader(""), out, errb)
	}()
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(errb.String(), "until interrupted"); { // guards a hang
		select {
		case code := <-done:
			t.Fatalf("vigil demo exited %d before being interrupted:\n%s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replay did not end:\n%s", errb.String())
		}
	}
	m := regexp.MustCompile(`^Vigil console: (http://127\.0\.0\.1:\d+/)\nAdmin token: +(vgl_\S+)\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("stdout is not the console's address and token:\n%q", out.String())
	}
	svc := &service{url: strings.TrimSuffix(m[1], "/")}
	code, body := svc.call(t, "GET", "/v1/overview", m[2], nil)
	if code != 200 || !strings.Contains(string(body), `"detection_latency"`) {
		t.Errorf("overview with the printed token: %d %s", code, body)
	}
	var o struct {
		AsOf time.Time `json:"as_of"`
	}
	json.Unmarshal(body, &o)
	// After the replay, risk is judged at the end of the logs (plus the
	// seconds since), not now: the logs' days end at the last UTC
	// midnight at least 12 hours ago, their last records under 4 hours
	// after it.
	if now := time.Now(); o.AsOf.Before(now.Add(-40*time.Hour)) || o.AsOf.After(now.Add(-8*time.Hour)) {
		t.Errorf("as_of %s, want the end of the logs, 8 to 40 hours before now", o.AsOf)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after an interrupt:\n%s", code, errb.String())
	}
}

func countKind(truth []sim.Truth, kind string) int {
	n := 0
	for _, tr := range truth {
		if tr.Kind == kind {
			n++
		}
	}
	return n
}

// TestDemoFlags: bad flags are usage errors naming the flag, found before
// any work; a busy --listen address fails at once and says so.
func TestDemoFlags(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"zero speed", []string{"--speed", "0"}, "--speed"},
		{"negative speed", []string{"--speed", "-3"}, "--speed"},
		{"infinite speed", []string{"--speed", "+Inf"}, "--speed"},
		{"too few people", []string{"--people", "10"}, "--people"},
		{"too few machines", []string{"--service-accounts", "2"}, "--service-accounts"},
		{"too few days", []string{"--days", "2"}, "--days"},
		{"listen without port", []string{"--listen", "localhost"}, "--listen"},
		{"listen bad port", []string{"--listen", "127.0.0.1:http0"}, "--listen"},
		{"json without headless", []string{"--json"}, "--json"},
		{"not a number", []string{"--people", "many"}, "--people"},
		{"unknown flag", []string{"--tenants", "3"}, "--tenants"},
		{"db", []string{"--db", "/tmp/elsewhere.db"}, "--db"},
		{"dir not empty", []string{"--headless", "--listen", "127.0.0.1:0", "--dir", full}, "--dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", append([]string{"demo"}, tc.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q in:\n%s", r.code, ExitUsage, tc.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
		})
	}

	t.Run("busy port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		r := run(t, "", "demo", "--headless", "--listen", ln.Addr().String())
		if r.code != ExitError || !strings.Contains(r.stderr, "--listen "+ln.Addr().String()) || !strings.Contains(r.stderr, "in use") {
			t.Errorf("exit %d, want %d naming --listen and the address in use:\n%s", r.code, ExitError, r.stderr)
		}
		if strings.Contains(r.stderr, "simulating") {
			t.Errorf("the demo did work before finding the port busy:\n%s", r.stderr)
		}
	})
}

// TestReplayClock: the simulated clock follows the replay cursor but never
// passes the last record the service acknowledged, then runs at 1×.
func TestReplayClock(t *testing.T) {
	wall := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	start := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	c := newReplayClock(start, func() time.Time { return wall })
	at := func(want time.Time, what string) {
		t.Helper()
		if got := c.Now(); !got.Equal(want) {
			t.Errorf("%s: clock %s, want %s", what, got, want)
		}
	}
	at(start, "before anything is posted")
	hist := start.AddDate(0, 0, 20).Add(-time.Minute)
	c.acknowledged(hist)
	c.acknowledged(hist.Add(-time.Hour)) // an older batch acknowledged late moves nothing back
	at(hist, "history loaded")

	t0 := start.AddDate(0, 0, 20)
	c.start(t0, 3600)
	at(hist, "replay started, nothing newer posted")
	wall = wall.Add(10 * time.Second)
	if got, want := c.cursor(), t0.Add(10*time.Hour); !got.Equal(want) {
		t.Errorf("cursor %s, want %s", got, want)
	}
	c.acknowledged(t0.Add(3 * time.Hour))
	at(t0.Add(3*time.Hour), "cursor ahead of the records")
	c.acknowledged(t0.Add(12 * time.Hour)) // posted ahead of the cursor: the cursor wins
	at(t0.Add(10*time.Hour), "records ahead of the cursor")

	c.finish()
	end := t0.Add(10 * time.Hour)
	at(end, "just finished")
	wall = wall.Add(time.Minute)
	at(end.Add(time.Minute), "a wall minute later")
	c.acknowledged(end.Add(time.Hour))
	at(end.Add(time.Minute), "after the end, acknowledgements do not move it")
}
