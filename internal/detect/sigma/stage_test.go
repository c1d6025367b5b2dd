package sigma

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
)

func TestStage(t *testing.T) {
	s := corrSet(t, `title: three A
id: 22222222-0000-4000-8000-000000000001
level: high
tags: [attack.credential-access]
correlation:
    type: event_count
    rules: [a]
    group-by: [actor.alternateId]
    timespan: 5m
    condition: {gte: 3}
`)
	st := NewStage(s)
	type alert struct {
		Rule, Identity string
		Severity       event.Severity
		Events         int
	}
	var got []alert
	evs := streamEvents([]step{{0, "a", "dana", ""}, {1, "c", "sam", ""}, {2, "a", "dana", ""}, {3, "a", "dana", ""}})
	for i := range evs {
		evs[i].Actor.ID = [...]string{"dana", "sam", "dana", "dana"}[i]
		for _, a := range st.Match(&evs[i]) {
			got = append(got, alert{a.Rule, a.Identity, a.Severity, len(a.Evidence.Events)})
			if a.Summary == "" || a.ID == "" || a.Time.IsZero() {
				t.Errorf("incomplete alert %+v", a)
			}
		}
	}
	st.Flush()
	want := []alert{
		{"sigma.base#2", "sam", event.SeverityMedium, 1}, // C alerts on its own; A only feeds the correlation
		{"sigma.22222222-0000-4000-8000-000000000001", "dana", event.SeverityHigh, 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// TestConcurrentMatchers shares one Set between goroutines, each with its
// own Matcher and Correlator (run with -race).
func TestConcurrentMatchers(t *testing.T) {
	s := corrSet(t, `title: A then B
correlation:
    type: temporal_ordered
    rules: [a, b]
    group-by: [actor.alternateId]
    timespan: 10m
`)
	evs := streamEvents([]step{{0, "a", "dana", ""}, {1, "b", "dana", ""}, {2, "c", "sam", ""}})
	done := make(chan int)
	for range 4 {
		go func() {
			m, c := s.NewMatcher(), s.NewCorrelator()
			n := 0
			for i := range evs {
				n += len(c.Observe(&evs[i], int64(i), m.Match(&evs[i])))
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != 1 {
			t.Errorf("%d hits, want 1", n)
		}
	}
}
