package sigma

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/source/sourcetest"
)

// itdrCase is one labelled record of the shared ITDR corpus.
type itdrCase struct {
	RuleID   string          `json:"rule_id"`
	TestName string          `json:"test_name"`
	Expected bool            `json:"expected_alert"`
	Log      json.RawMessage `json:"log"`
}

// itdrEvents decodes the records of one panther file. Records without a
// time get one (the peer's tests leave it out); records that still do not
// decode are skipped.
func itdrEvents(t testing.TB, file string) ([]itdrCase, [][]event.Event) {
	t.Helper()
	dec, err := source.NewSet("")
	if err != nil {
		t.Fatal(err)
	}
	var cases []itdrCase
	var evs [][]event.Event
	for _, line := range sourcetest.Lines(t, sourcetest.CorpusFile(t, filepath.Join("itdr", "panther", file))) {
		var c itdrCase
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if json.Unmarshal(c.Log, &rec) != nil {
			continue
		}
		if _, ok := rec["p_event_time"]; !ok {
			rec["p_event_time"] = "2026-03-02T10:00:00Z"
		}
		raw, _ := json.Marshal(rec)
		var out []event.Event
		for _, r := range dec.Decode(nil, raw) {
			out = append(out, r.Events...)
		}
		cases = append(cases, c)
		evs = append(evs, out)
	}
	return cases, evs
}

// TestITDRCorpus checks SigmaHQ rules against the peer's labelled records
// for the same behaviour: every record the peer flags must be flagged by
// the Sigma rule, and where both rules mean the same, every record it
// clears must be cleared.
func TestITDRCorpus(t *testing.T) {
	set, _ := LoadDir(corpusDir(t))
	type pair struct {
		title     string
		negatives bool // the rules agree on what is benign
	}
	pairs := map[string]map[string]pair{
		"okta_systemlog_rule_tests.jsonl": {
			"Okta.APIKeyCreated":                          {"Okta API Token Created", true},
			"Okta.APIKeyRevoked":                          {"Okta API Token Revoked", true},
			"Okta.AdminRoleAssigned":                      {"Okta Admin Role Assigned to an User or Group", false},
			"Okta.Phishing.Attempt.Blocked.FastPass":      {"Okta FastPass Phishing Detection", true},
			"Okta.User.MFA.Reset.All":                     {"Okta MFA Reset or Deactivated", true},
			"Okta.User.Reported.Suspicious.Activity":      {"Okta Suspicious Activity Reported by End-user", true},
			"Okta.New.Behavior.Accessing.Admin.Console":   {"Okta New Admin Console Behaviours", false},
			"Okta.ThreatInsight.Security.Threat.Detected": {"Okta Security Threat Detected", false},
		},
		"gsuite_activityevent_rule_tests.jsonl": {
			"GSuite.GovernmentBackedAttack": {"Google Workspace Government Attack Warning", true},
			// GSuite.ExternalMailForwarding is left out: the peer also
			// flags the user_accounts application, which the Sigma rule's
			// logsource (google_workspace.login) does not cover.
			"GSuite.SuspiciousLogins": {"Suspicious Login Activity Classified By Google", true},
		},
		"aws_cloudtrail_rule_tests.jsonl": {
			"AWS.Console.LoginWithoutMFA":      {"AWS Successful Console Login Without MFA", false},
			"AWS.Console.GetSigninToken.Abuse": {"AWS Console GetSigninToken Potential Abuse", false},
		},
	}
	titles := map[string]bool{}
	for _, r := range set.Rules() {
		titles[r.Title] = true
	}
	m := set.NewMatcher()
	for file, rules := range pairs {
		cases, evs := itdrEvents(t, file)
		seen := map[string]int{}
		for i, c := range cases {
			p, ok := rules[c.RuleID]
			if !ok {
				continue
			}
			if !titles[p.title] {
				t.Fatalf("no corpus rule titled %q", p.title)
			}
			if len(evs[i]) == 0 {
				t.Errorf("%s %q: record does not decode", c.RuleID, c.TestName)
				continue
			}
			seen[c.RuleID]++
			hit := false
			for j := range evs[i] {
				for _, x := range m.Match(&evs[i][j]) {
					hit = hit || x.Rule.Title == p.title
				}
			}
			switch {
			case c.Expected && !hit:
				t.Errorf("%s %q: %q did not match", c.RuleID, c.TestName, p.title)
			case !c.Expected && hit && p.negatives:
				t.Errorf("%s %q: %q matched a benign record", c.RuleID, c.TestName, p.title)
			case !c.Expected && hit:
				t.Logf("%s %q: %q matches what the peer clears (the rules differ)", c.RuleID, c.TestName, p.title)
			}
		}
		for id := range rules {
			if seen[id] == 0 {
				t.Errorf("%s: no records for %s", file, id)
			}
		}
	}
}

// TestIndexDropsNothing matches every record at hand (the decoders' test
// data, the ITDR corpus, simulated traffic) against the SigmaHQ corpus
// twice, once with the rule index and raw pre-filter and once evaluating
// every rule of the log, and requires the same matches.
func TestIndexDropsNothing(t *testing.T) {
	corpus, _ := parseTree(os.DirFS(corpusDir(t)))
	own, _ := parseTree(os.DirFS("testdata/rules"))
	set, problems := NewSet(append(corpus, own...))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var all []event.Event
	files, _ := filepath.Glob(filepath.Join("..", "..", "source", "*", "testdata", "*.json"))
	dec, _ := source.NewSet("")
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad_") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range dec.Decode(nil, data) {
			all = append(all, r.Events...)
		}
	}
	for _, f := range []string{"okta_systemlog_rule_tests.jsonl", "gsuite_activityevent_rule_tests.jsonl",
		"aws_cloudtrail_rule_tests.jsonl", "azure_audit_rule_tests.jsonl", "azure_monitoractivity_rule_tests.jsonl"} {
		_, evs := itdrEvents(t, f)
		for _, e := range evs {
			all = append(all, e...)
		}
	}
	all = append(all, oktaStream(t, 3000)...)
	if len(all) < 500 {
		t.Fatalf("only %d events", len(all))
	}
	fast, slow := set.NewMatcher(), set.NewMatcher()
	slow.exhaustive = true
	matched := 0
	for i := range all {
		a, b := matchIDs(fast, &all[i]), matchIDs(slow, &all[i])
		if !slices.Equal(a, b) {
			t.Errorf("%s %s %s: indexed %v, exhaustive %v", all[i].Source, all[i].VendorType, all[i].VendorID, a, b)
		}
		matched += len(b)
	}
	t.Logf("%d events, %d matches", len(all), matched)
	if matched == 0 {
		t.Error("nothing matched")
	}
	_ = cmp.Diff
}
