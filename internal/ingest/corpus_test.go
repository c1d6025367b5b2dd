package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/store"
)

// TestCorpus ingests the shared validation corpus (real-format records from
// a peer's test suite: Okta, CloudTrail, Workspace, Azure Activity, Entra
// audit) and checks that every record is stored, counted as a duplicate, or
// quarantined for a reason that shows it is not a genuine event of a
// supported type. It skips when the corpus is absent.
func TestCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "itdr", "events")
	if env := os.Getenv("VIGIL_CORPUS"); env != "" {
		dir = filepath.Join(env, "itdr", "events")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("validation corpus not present: %v", err)
	}
	inputs, _, err := Resolve([]string{dir}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	sum, err := Run(context.Background(), st, inputs, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, in := range inputs {
		b, err := os.ReadFile(in.Name)
		if err != nil {
			t.Fatal(err)
		}
		lines += strings.Count(strings.TrimSpace(string(b)), "\n") + 1
	}
	if sum.Read != lines || sum.Read != sum.Stored+sum.Duplicates+sum.Quarantined {
		t.Fatalf("read %d of %d records; stored %d + duplicates %d + quarantined %d", sum.Read, lines, sum.Stored, sum.Duplicates, sum.Quarantined)
	}
	t.Logf("corpus: %d records: stored %d, duplicates %d, quarantined %d", sum.Read, sum.Stored, sum.Duplicates, sum.Quarantined)
	for _, k := range sum.SortedSources() {
		c := sum.BySource[k]
		t.Logf("  %-15s read %d, stored %d, duplicates %d, quarantined %d", k, c.Read, c.Stored, c.Duplicates, c.Quarantined)
	}

	// A quarantined record must lack its timestamp or be no event at all.
	allowed := regexp.MustCompile(`^(\w+: )?(missing required field \S+|\S+: not a timestamp: .*|unrecognized record: .*)$`)
	timeKeys := []string{"published", "eventtime", "time", "createddatetime", "activitydatetime", "p_event_time"}
	reasons := map[string]int{}
	err = st.Quarantined(context.Background(), store.QuarantineQuery{}, func(r store.QuarantineRow) error {
		if !allowed.MatchString(r.Reason) {
			t.Errorf("%s:%d quarantined for %q: a genuine record must decode", filepath.Base(r.Origin), r.Line, r.Reason)
		}
		if strings.HasPrefix(r.Reason, "unrecognized") {
			var m map[string]any
			if err := json.Unmarshal(r.Raw, &m); err == nil {
				for k := range m {
					if contains(timeKeys, strings.ToLower(k)) {
						t.Errorf("%s:%d has a timestamp (%s) but no decoder recognized it", filepath.Base(r.Origin), r.Line, k)
					}
				}
			}
		}
		reason := regexp.MustCompile(`"[^"]*"|keys .*`).ReplaceAllString(r.Reason, "…")
		reasons[reason]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  quarantined %3d × %s", reasons[k], k)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
