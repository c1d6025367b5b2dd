package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/event"
)

func examples(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDetectExamples(t *testing.T) {
	r := run(t, "", "detect", "--json", examples(t))
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want %d (findings): %s", r.code, ExitFindings, r.stderr)
	}
	var alerts []event.Alert
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a event.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("not an alert: %v: %s", err, sc.Text())
		}
		if a.Time.IsZero() || a.Rule == "" || a.Severity.Rank() == 0 || a.Identity == "" || a.Summary == "" ||
			len(a.Evidence.Events) == 0 || a.Incident == "" || a.Risk <= 0 {
			t.Errorf("incomplete alert: %s", sc.Text())
		}
		alerts = append(alerts, a)
	}
	fired := map[string]bool{}
	for _, a := range alerts {
		fired[a.Rule+" "+a.Identity] = true
	}
	// The sample holds an access key made for another user and
	// AdministratorAccess attached from a Tor exit, and the sample person
	// signing in from Amsterdam half an hour after Austin, then granting
	// Global Administrator.
	for _, want := range []string{
		"credential.access_key_created deploy-bot", "privilege.admin_grant deploy-bot",
		"session.impossible_travel amara.alvarez@example.com", "privilege.admin_grant amara.alvarez@example.com",
	} {
		if !fired[want] {
			t.Errorf("%s did not fire on the examples (%v)", want, fired)
		}
	}
	if !strings.Contains(r.stderr, "3 quarantined") {
		t.Errorf("stderr does not report quarantined records: %s", r.stderr)
	}
	// Deterministic: the same input gives the same output.
	if again := run(t, "", "detect", "--json", examples(t)); again.stdout != r.stdout {
		t.Error("second run printed different alerts")
	}
}

func TestDetectOutputs(t *testing.T) {
	r := run(t, "", "detect", "--incidents", examples(t))
	if r.code != ExitFindings || !strings.Contains(r.stdout, "inc-") || !strings.Contains(r.stdout, "amara.alvarez@example.com") {
		t.Fatalf("--incidents: %+v", r)
	}
	r = run(t, "", "detect", "--incidents", "--json", examples(t))
	var inc event.Incident
	if err := json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &inc); err != nil || len(inc.Alerts) == 0 {
		t.Fatalf("--incidents --json: %v %s", err, r.stdout)
	}
	r = run(t, "", "detect", "--stats", examples(t))
	if !strings.Contains(r.stdout, "DAY") || !strings.Contains(r.stdout, "2026-03-02  privilege.admin_grant") {
		t.Fatalf("--stats: %s", r.stdout)
	}
	r = run(t, "", "detect", "--stats", "--incidents", examples(t))
	if r.code != ExitUsage {
		t.Errorf("--stats --incidents: exit %d", r.code)
	}
}

func TestDetectNoFindings(t *testing.T) {
	r := run(t, rec1+"\n", "detect", "-")
	if r.code != ExitOK || r.stdout != "" {
		t.Fatalf("one benign event: %+v", r)
	}
}

func TestDetectConfigAndState(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte("detect:\n  disabled: [privilege.admin_grant, session.impossible_travel, credential.access_key_created]\n"), 0o600)
	r := run(t, "", "detect", "--config", cfg, "--json", examples(t))
	if r.code != ExitOK || r.stdout != "" {
		t.Fatalf("every firing rule disabled: %+v", r)
	}
	os.WriteFile(cfg, []byte("detect:\n  disabled: [no.such.rule]\n"), 0o600)
	if r := run(t, "", "detect", "--config", cfg, examples(t)); r.code != ExitUsage || !strings.Contains(r.stderr, "no.such.rule") {
		t.Errorf("unknown rule: %+v", r)
	}
	os.WriteFile(cfg, []byte("detect:\n  mfa_fatige: {}\n"), 0o600)
	if r := run(t, "", "detect", "--config", cfg, examples(t)); r.code != ExitUsage || !strings.Contains(r.stderr, "vigil.yaml:2") {
		t.Errorf("unknown key: %+v", r)
	}
	state := filepath.Join(dir, "state.bin")
	if r := run(t, "", "detect", "--state", state, examples(t)); r.code != ExitFindings {
		t.Fatalf("with state: %+v", r)
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Size() == 0 || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	// Restored, the same events are old news to the baselines but are still
	// judged: the run works and the state is rewritten.
	if r := run(t, "", "detect", "--state", state, examples(t)); r.code != ExitFindings {
		t.Fatalf("restored: %+v", r)
	}
	os.WriteFile(state, []byte("garbage"), 0o600)
	if r := run(t, "", "detect", "--state", state, examples(t)); r.code != ExitError || !strings.Contains(r.stderr, "state.bin") {
		t.Errorf("corrupt state: %+v", r)
	}
}
