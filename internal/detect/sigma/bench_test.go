package sigma

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/sim"
)

// oktaStream returns n simulated Okta events plus the matching events of
// oktaAttacks, spread through the stream.
func oktaStream(t testing.TB, n int) []event.Event {
	t.Helper()
	var buf bytes.Buffer
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if err := sim.NewOrg(1, 300).WriteOkta(&buf, start, n); err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, buf.Bytes())
	attacks := decodeLines(t, []byte(oktaAttacks))
	step := len(evs) / (len(attacks) + 1)
	out := make([]event.Event, 0, len(evs)+len(attacks))
	for i, e := range evs {
		out = append(out, e)
		if k := i / max(step, 1); i%max(step, 1) == 0 && k < len(attacks) {
			out = append(out, attacks[k])
		}
	}
	return out
}

// BenchmarkMatchOkta matches a simulated Okta stream against the 21
// SigmaHQ Okta rules.
func BenchmarkMatchOkta(b *testing.B) {
	set, _ := LoadDir(corpusDir(b) + "/identity/okta")
	if n := len(set.Rules()); n < 21 {
		b.Fatalf("%d Okta rules loaded, want 21", n)
	}
	evs := oktaStream(b, 100_000)
	m := set.NewMatcher()
	matched := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		matched += len(m.Match(&evs[i%len(evs)]))
	}
	b.StopTimer()
	el := b.Elapsed().Seconds()
	if el > 0 {
		b.ReportMetric(float64(b.N)/el, "events/s")
	}
	_ = matched
}
