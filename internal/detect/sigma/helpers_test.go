package sigma

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
)

// decodeLines decodes NDJSON vendor records into events, failing the test
// on records that do not decode.
func decodeLines(t testing.TB, data []byte) []event.Event {
	t.Helper()
	set, err := source.NewSet("")
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		for _, r := range set.Decode(nil, bytes.Clone(line)) {
			if r.Err != nil {
				t.Fatalf("decode %.80s: %v", line, r.Err)
			}
			out = append(out, r.Events...)
		}
	}
	return out
}

// decodeOne decodes one record.
func decodeOne(t testing.TB, raw string) []event.Event {
	t.Helper()
	return decodeLines(t, []byte(raw))
}

// mustSet compiles rule files given as name → YAML, failing on problems.
func mustSet(t testing.TB, files map[string]string) *Set {
	t.Helper()
	var rules []*Rule
	for name, src := range files {
		rs, ps := ParseFile(name, []byte(src))
		for _, p := range ps {
			t.Fatalf("%v", p)
		}
		rules = append(rules, rs...)
	}
	s, ps := NewSet(rules)
	for _, p := range ps {
		t.Fatalf("%v", p)
	}
	return s
}

// matchIDs returns the ids of the rules e matches.
func matchIDs(m *Matcher, e *event.Event) []string {
	var ids []string
	for _, x := range m.Match(e) {
		ids = append(ids, x.Rule.ID)
	}
	return ids
}
