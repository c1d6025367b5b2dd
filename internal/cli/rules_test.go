package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runRules runs `vigil rules ARGS...`.
func runRules(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, "", append([]string{"rules"}, args...)...)
}

const goodRule = `title: Okta API token created
id: 11111111-0000-4000-8000-000000000001
logsource:
    product: okta
    service: okta
detection:
    selection:
        eventType: system.api_token.create
    condition: selection
level: high
`

const goodTests = `match:
  - {"uuid": "t1", "published": "2026-03-02T10:00:00Z", "eventType": "system.api_token.create"}
no_match:
  - {"uuid": "t2", "published": "2026-03-02T10:00:00Z", "eventType": "system.api_token.revoke"}
`

const badRule = `title: Windows rule
id: 11111111-0000-4000-8000-000000000002
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesCheck(t *testing.T) {
	dir := writeFiles(t, map[string]string{"token.yml": goodRule, "token.tests.yml": goodTests})
	r := runRules(t, "check", dir)
	if r.code != ExitOK || !strings.Contains(r.stdout, "ok  ") || !strings.Contains(r.stdout, "sigma.11111111-0000-4000-8000-000000000001") {
		t.Fatalf("check: %+v", r)
	}
	if !strings.Contains(r.stderr, "1 rules: 1 compiled, 0 unsupported") {
		t.Errorf("summary: %q", r.stderr)
	}

	dir = writeFiles(t, map[string]string{"token.yml": goodRule, "windows.yml": badRule})
	r = runRules(t, "check", dir)
	if r.code != ExitFindings || !strings.Contains(r.stdout, "UNSUPPORTED") || !strings.Contains(r.stdout, "windows.yml:1") {
		t.Fatalf("check with an unsupported rule: %+v", r)
	}

	r = runRules(t, "check", "--json", dir)
	if r.code != ExitFindings {
		t.Fatalf("check --json: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", r.stdout)
	}
	statuses := map[string]string{}
	for _, l := range lines {
		var v struct{ File, Status, Reason string }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		statuses[v.File] = v.Status
		if v.Status == "unsupported" && !strings.Contains(v.Reason, "windows") {
			t.Errorf("reason: %q", v.Reason)
		}
	}
	if statuses["token.yml"] != "compiled" || statuses["windows.yml"] != "unsupported" {
		t.Errorf("statuses: %v", statuses)
	}

	// One file.
	r = runRules(t, "check", filepath.Join(dir, "token.yml"))
	if r.code != ExitOK || strings.Contains(r.stdout, "windows") {
		t.Fatalf("check FILE: %+v", r)
	}
}

func TestRulesTest(t *testing.T) {
	dir := writeFiles(t, map[string]string{"token.yml": goodRule, "token.tests.yml": goodTests})
	r := runRules(t, "test", dir)
	if r.code != ExitOK || strings.Count(r.stdout, "PASS ") != 2 || !strings.Contains(r.stderr, "2 passed, 0 failed") {
		t.Fatalf("test: %+v", r)
	}

	failing := strings.Replace(goodTests, "system.api_token.revoke", "system.api_token.create", 1)
	dir = writeFiles(t, map[string]string{"token.yml": goodRule, "token.tests.yml": failing})
	r = runRules(t, "test", dir)
	if r.code != ExitFindings || !strings.Contains(r.stdout, "FAIL token.tests.yml:4 sigma.11111111-0000-4000-8000-000000000001 no_match[0]: the rule matched") {
		t.Fatalf("failing test: %+v", r)
	}
	r = runRules(t, "test", "--json", filepath.Join(dir, "token.yml"))
	if r.code != ExitFindings {
		t.Fatalf("test --json FILE: %+v", r)
	}
	var v struct {
		Case string
		Pass bool
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &v); err != nil || v.Case != "no_match[0]" || v.Pass {
		t.Fatalf("last JSON line: %v %+v", err, v)
	}

	// A test file that names a missing rule fails; a directory without
	// tests passes with a note.
	dir = writeFiles(t, map[string]string{"token.yml": goodRule, "other.tests.yml": "rule: nowhere\nmatch:\n  - {\"a\": 1}\n"})
	r = runRules(t, "test", dir)
	if r.code != ExitFindings || !strings.Contains(r.stdout, `rule "nowhere" is not loaded`) {
		t.Fatalf("missing rule: %+v", r)
	}
	dir = writeFiles(t, map[string]string{"token.yml": goodRule})
	r = runRules(t, "test", dir)
	if r.code != ExitOK || !strings.Contains(r.stderr, "no rule tests found") {
		t.Fatalf("no tests: %+v", r)
	}
}

func TestRulesErrors(t *testing.T) {
	if r := runRules(t, "check"); r.code != ExitUsage {
		t.Errorf("no argument: %+v", r)
	}
	if r := runRules(t, "test", filepath.Join(t.TempDir(), "missing")); r.code != ExitError {
		t.Errorf("missing path: %+v", r)
	}
}
