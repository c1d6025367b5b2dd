package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/sim"
)

// simulate runs 'vigil simulate' through a root of its own (root.go
// registers commands; this test does not depend on it).
func simulate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb}
	root := &cobra.Command{Use: "vigil", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newSimulateCmd(e))
	root.SetArgs(append([]string{"simulate"}, args...))
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestSimulateJSONAndIngest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	out, err := simulate(t, "--out", dir, "--people", "60", "--service-accounts", "8", "--days", "3", "--seed", "4", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res simulateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if res.Events == 0 || res.BySource[sim.SourceCloudTrail] == 0 || res.BySource[sim.SourceEntra] == 0 ||
		res.Attacks == 0 || res.Lookalikes == 0 || res.CloudTrailFiles == 0 || res.Dir != dir {
		t.Fatalf("summary: %+v", res)
	}
	for _, f := range []string{sim.PathOkta, sim.PathEntra, sim.PathTruth, sim.PathOrg} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// Everything written is ingestible: nothing quarantined.
	r := run(t, "", "ingest", "--db", filepath.Join(t.TempDir(), "v.db"), "--json", filepath.Join(dir, "logs"))
	if r.code != ExitOK {
		t.Fatalf("ingest: %+v", r)
	}
	var sum struct {
		Read, Stored, Quarantined int
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Read != res.Events || sum.Stored != res.Events || sum.Quarantined != 0 {
		t.Errorf("ingest read %d, stored %d, quarantined %d of %d events", sum.Read, sum.Stored, sum.Quarantined, res.Events)
	}

	// A second run into the same directory is refused.
	if _, err := simulate(t, "--out", dir, "--people", "60", "--service-accounts", "8", "--days", "3"); !isUsage(err) {
		t.Errorf("second run: %v, want a usage error", err)
	}
}

func TestSimulateText(t *testing.T) {
	dir := t.TempDir()
	out, err := simulate(t, "--out", dir, "--people", "20", "--service-accounts", "2", "--events", "3000",
		"--no-attacks", "--cloudtrail-format", "ndjson", "--start", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"simulated 20 people and 2 service accounts", "from 2026-03-02", "events/s",
		"injected 0 attacks", sim.PathCTNDJSON, "next: vigil ingest"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, sim.PathCTNDJSON)); err != nil {
		t.Error(err)
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

func TestSimulateUsage(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"no out":       {},
		"bad start":    {"--out", dir, "--start", "March"},
		"bad format":   {"--out", dir, "--cloudtrail-format", "csv"},
		"few people":   {"--out", dir, "--people", "10"},
		"bad flag":     {"--out", dir, "--peeple", "10"},
		"neg events":   {"--out", dir, "--events", "-1"},
		"stray arg":    {"--out", dir, "extra"},
		"days too big": {"--out", dir, "--days", "99999"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := simulate(t, args...)
			if err == nil || !isUsage(err) && !isCobraUsage(err) {
				t.Errorf("%v: %v, want a usage error", args, err)
			}
		})
	}
}
