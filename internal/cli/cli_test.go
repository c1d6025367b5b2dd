package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

const rec1 = `{"uuid":"u1","published":"2026-03-02T09:00:00Z","eventType":"user.session.start","actor":{"alternateId":"Dana@Example.com","type":"User"},"client":{"ipAddress":"198.51.100.7"},"authenticationContext":{"externalSessionId":"102abc"},"outcome":{"result":"SUCCESS"}}`
const rec2 = `{"uuid":"u2","published":"2026-03-02T09:05:00Z","eventType":"system.api_token.create","actor":{"alternateId":"eli@example.com","type":"User"},"outcome":{"result":"SUCCESS"}}`
const recBad = `{"uuid":"u3","published":"redacted","eventType":"user.session.start"}`

func TestVersion(t *testing.T) {
	r := run(t, "", "version")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "vigil ") {
		t.Fatalf("version: %+v", r)
	}
	r = run(t, "", "version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Go == "" || v.Version == "" {
		t.Fatalf("version --json: %v %+v", err, r)
	}
}

func TestIngestListQuarantine(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "v.db")
	file := filepath.Join(dir, "okta.ndjson")
	if err := os.WriteFile(file, []byte(rec1+"\n"+recBad+"\n"+rec2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "ingest", "--db", db, "--json", file)
	if r.code != ExitOK {
		t.Fatalf("ingest: %+v", r)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("summary is not one JSON object: %v\n%s", err, r.stdout)
	}
	for k, want := range map[string]float64{"read": 3, "stored": 2, "duplicates": 0, "quarantined": 1} {
		if sum[k] != want {
			t.Errorf("summary %s = %v, want %v", k, sum[k], want)
		}
	}
	if bs, ok := sum["by_source"].(map[string]any); !ok || bs["okta"] == nil {
		t.Errorf("by_source = %v", sum["by_source"])
	}

	// Again, from standard input: nothing new.
	r = run(t, rec1+"\n"+rec2+"\n", "ingest", "--db", db, "--json", "-")
	if r.code != ExitOK || !strings.Contains(r.stdout, `"stored":0,"duplicates":2`) {
		t.Fatalf("re-ingest: %+v", r)
	}

	r = run(t, "", "events", "list", "--db", db, "--json")
	if r.code != ExitOK {
		t.Fatalf("events list: %+v", r)
	}
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, sc.Text())
		}
		evs = append(evs, e)
	}
	if len(evs) != 2 || evs[0]["vendor_id"] != "u1" || evs[1]["category"] != "credential" || evs[0]["raw"] != nil {
		t.Fatalf("events: %v", evs)
	}
	if actor := evs[0]["actor"].(map[string]any); actor["id"] != "dana@example.com" {
		t.Errorf("actor = %v", actor)
	}

	// Filters and --raw.
	r = run(t, "", "events", "list", "--db", db, "--json", "--raw", "--session", "102abc", "--identity", "DANA@example.com")
	if r.code != ExitOK || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, `"raw":{"uuid":"u1"`) {
		t.Fatalf("filtered list: %+v", r)
	}
	r = run(t, "", "events", "list", "--db", db, "--category", "credential", "--since", "2026-03-02T09:01:00Z")
	if r.code != ExitOK || !strings.Contains(r.stdout, "system.api_token.create") || strings.Contains(r.stdout, "user.session.start") {
		t.Fatalf("text list: %+v", r)
	}

	r = run(t, "", "quarantine", "list", "--db", db, "--json")
	var q map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &q); err != nil || q["line"] != float64(2) || q["origin"] != file ||
		!strings.Contains(q["reason"].(string), "published") {
		t.Fatalf("quarantine: %v %+v", err, r)
	}
	r = run(t, "", "quarantine", "list", "--db", db)
	if !strings.Contains(r.stdout, "okta.ndjson") || !strings.Contains(r.stdout, "not a timestamp") {
		t.Fatalf("quarantine text: %+v", r)
	}
}

func TestExitCodes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "v.db")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"ingest without paths", []string{"ingest", "--db", db}, ExitUsage, "requires at least 1 arg"},
		{"unknown flag", []string{"ingest", "--db", db, "--nope", "x"}, ExitUsage, "unknown flag"},
		{"unknown source", []string{"ingest", "--db", db, "--source", "splunk", "-"}, ExitUsage, "unknown source"},
		{"bad since", []string{"events", "list", "--db", db, "--since", "last tuesday"}, ExitUsage, "--since"},
		{"bad category", []string{"events", "list", "--db", db, "--category", "nope"}, ExitUsage, "unknown category"},
		{"missing file", []string{"ingest", "--db", db, "/no/such/file.ndjson"}, ExitError, "/no/such/file.ndjson"},
		{"bad log level", []string{"version", "--log-level", "loud"}, ExitUsage, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.msg)
			}
		})
	}
}

// Every command has --help.
func TestHelpEverywhere(t *testing.T) {
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		r := run(t, "", append(path, "--help")...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v --help: %+v", path, r)
		}
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(newRoot(&env{}), nil)
}

func TestDrawProgress(t *testing.T) {
	var b bytes.Buffer
	drawProgress(&b, 50, 200, 1000, 2*time.Second)
	if got, want := b.String(), "\r\033[K[=======                       ]  25%  1000 records  500/s"; got != want {
		t.Errorf("progress = %q, want %q", got, want)
	}
	b.Reset()
	drawProgress(&b, 50, 0, 10, time.Second) // standard input: size unknown
	if got, want := b.String(), "\r\033[K10 records, 10/s"; got != want {
		t.Errorf("progress = %q, want %q", got, want)
	}
}
