package sigma

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/source/sourcetest"
)

// corpusDir is the shared SigmaHQ corpus (skips the test when absent).
func corpusDir(t testing.TB) string {
	t.Helper()
	return sourcetest.CorpusFile(t, "sigma")
}

// TestCorpusCompiles loads the SigmaHQ rules and requires at least 95% of
// them to compile, listing those that do not.
func TestCorpusCompiles(t *testing.T) {
	dir := corpusDir(t)
	set, problems := LoadDir(dir)
	total := len(set.Rules()) + len(problems)
	for _, p := range problems {
		t.Logf("unsupported: %v", p)
	}
	pct := 100 * float64(len(set.Rules())) / float64(total)
	t.Logf("%d of %d rules compile (%.1f%%)", len(set.Rules()), total, pct)
	if total < 150 {
		t.Errorf("only %d rules found", total)
	}
	if pct < 95 {
		t.Errorf("%.1f%% of the corpus compiles, want at least 95%%", pct)
	}
}

// TestCorpusOkta runs the SigmaHQ Okta rules over simulated traffic with
// attacks mixed in: each attack is flagged by the rule meant for it, and
// by no other.
func TestCorpusOkta(t *testing.T) {
	set, problems := LoadDir(filepath.Join(corpusDir(t), "identity", "okta"))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	m := set.NewMatcher()
	evs := oktaStream(t, 20000)
	got := map[string][]string{}
	others := map[string]int{}
	for i := range evs {
		for _, x := range m.Match(&evs[i]) {
			if strings.HasPrefix(evs[i].VendorID, "a0000000-") {
				got[evs[i].VendorID] = append(got[evs[i].VendorID], x.Rule.Title)
			} else {
				others[x.Rule.Title]++
			}
		}
	}
	// The simulator's own traffic may include look-alikes of attacks
	// (helpdesk resets); count, do not judge.
	t.Logf("matches in simulated traffic: %v", others)
	want := map[string][]string{
		"a0000000-0000-4000-8000-000000000001": {"Okta Admin Role Assigned to an User or Group"},
		"a0000000-0000-4000-8000-000000000002": {"Okta API Token Created"},
		"a0000000-0000-4000-8000-000000000003": {"Okta User Session Start Via An Anonymising Proxy Service"},
		"a0000000-0000-4000-8000-000000000004": {"Okta New Admin Console Behaviours"},
		"a0000000-0000-4000-8000-000000000005": {"Potential Okta Password in AlternateID Field"},
		"a0000000-0000-4000-8000-000000000006": {"Okta MFA Reset or Deactivated"},
		"a0000000-0000-4000-8000-000000000007": {"Okta User Account Locked Out"},
		"a0000000-0000-4000-8000-000000000008": {"Okta Security Threat Detected"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
}
