package cli

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/detect"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/sim"
)

// TestDetectSimulatedOrganization is the detection engine's acceptance
// test, end to end through the commands: simulate three weeks of an
// organization with injected attacks and benign look-alikes, run vigil
// detect on the logs, and hold every detector to the truth file — each
// attack alerts (at its least severity), each look-alike stays quiet (or at
// most low) — and keep alerts outside the truth windows few.
func TestDetectSimulatedOrganization(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates three weeks of an organization")
	}
	for _, seed := range []string{"2", "3"} {
		t.Run("seed "+seed, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "org")
			if r := run(t, "", "simulate", "--out", dir, "--seed", seed, "--people", "80", "--service-accounts", "12", "--days", "21",
				"--cloudtrail-format", "ndjson"); r.code != ExitOK {
				t.Fatalf("simulate: %+v", r)
			}
			r := run(t, "", "detect", "--json", filepath.Join(dir, "logs"))
			if r.code != ExitFindings {
				t.Fatalf("detect: exit %d: %s", r.code, r.stderr)
			}
			var alerts []event.Alert
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var a event.Alert
				if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
					t.Fatal(err)
				}
				alerts = append(alerts, a)
			}
			truth := readTruth(t, filepath.Join(dir, "truth.jsonl"))
			covered := map[string]map[string]bool{}
			explained := map[string]bool{}
			for _, tr := range truth {
				var hits []event.Alert
				for _, a := range alerts {
					if a.Rule == tr.Rule && a.Identity == tr.Identity && !a.Time.Before(tr.Start) && !a.Time.After(tr.End) {
						hits = append(hits, a)
						explained[a.ID] = true
					}
				}
				top := event.Severity("")
				for _, a := range hits {
					top = top.Max(a.Severity)
				}
				switch tr.Expect {
				case sim.ExpectAlert:
					if len(hits) == 0 {
						t.Errorf("%s: %s did not fire on %s (%s)", tr.ID, tr.Rule, tr.Identity, tr.Summary)
					} else if tr.MinSeverity != "" && top.Rank() < event.Severity(tr.MinSeverity).Rank() {
						t.Errorf("%s: %s fired at %s, want at least %s", tr.ID, tr.Rule, top, tr.MinSeverity)
					}
				case sim.ExpectNoAlert:
					if len(hits) > 0 {
						t.Errorf("%s: %s fired on a look-alike (%s): %s", tr.ID, tr.Rule, tr.Why, hits[0].Summary)
					}
				case sim.ExpectAtMostLow:
					if top.Rank() > event.SeverityLow.Rank() {
						t.Errorf("%s: %s fired at %s on a look-alike (%s)", tr.ID, tr.Rule, top, tr.Why)
					}
				default:
					t.Fatalf("%s: unknown expectation %q", tr.ID, tr.Expect)
				}
				if covered[tr.Rule] == nil {
					covered[tr.Rule] = map[string]bool{}
				}
				covered[tr.Rule][tr.Kind] = true
			}
			for _, rule := range detect.Rules {
				if !covered[rule][sim.KindAttack] || !covered[rule][sim.KindLookalike] {
					t.Errorf("the simulation has no attack or no look-alike for %s", rule)
				}
			}
			// Alerts nobody planned: routine credential creation is noted
			// at low severity; anything else is a false positive.
			var noise []string
			for _, a := range alerts {
				if !explained[a.ID] && a.Severity.Rank() > event.SeverityLow.Rank() {
					noise = append(noise, a.Rule+" "+a.Identity)
				}
			}
			t.Logf("%d alerts; %d of medium or higher outside the truth windows: %v", len(alerts), len(noise), noise)
			if len(noise) > 25 {
				t.Errorf("%d alerts of medium or higher outside the truth windows", len(noise))
			}
		})
	}
}
