package sigma

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// step is one event of a stream: at minute min, an Okta event of type typ
// by user from ip.
type step struct {
	min      float64
	typ      string
	user, ip string
}

func streamEvents(steps []step) []event.Event {
	var out []event.Event
	for i, s := range steps {
		raw := fmt.Sprintf(`{"uuid":"e%d","eventType":%q,"actor":{"alternateId":%q},"client":{"ipAddress":%q}}`, i, s.typ, s.user, s.ip)
		e := oktaEvent(raw)
		e.Time = t0.Add(time.Duration(s.min * float64(time.Minute)))
		out = append(out, e)
	}
	return out
}

// hitsOf runs steps through a matcher and correlator (flushing at the
// end) and describes each hit: rule title, minute, group values, count,
// event seqs.
func hitsOf(t *testing.T, s *Set, steps []step) []string {
	t.Helper()
	m, c := s.NewMatcher(), s.NewCorrelator()
	var out []string
	add := func(hs []Hit) {
		for _, h := range hs {
			var seqs []int64
			for _, r := range h.Events {
				seqs = append(seqs, r.Seq)
			}
			var g []string
			for _, f := range h.Group {
				g = append(g, f.Value)
			}
			out = append(out, fmt.Sprintf("%s @%g %v n=%d %v", h.Rule.Title, h.Time.Sub(t0).Minutes(), g, h.Count, seqs))
		}
	}
	evs := streamEvents(steps)
	for i := range evs {
		add(c.Observe(&evs[i], int64(i), m.Match(&evs[i])))
	}
	add(c.Flush())
	return out
}

const baseRules = `title: A
name: a
logsource: {product: okta, service: okta}
detection:
    sel: {eventType: a}
    condition: sel
---
title: B
name: b
logsource: {product: okta, service: okta}
detection:
    sel: {eventType: b}
    condition: sel
---
title: C
name: c
logsource: {product: okta, service: okta}
detection:
    sel: {eventType: c}
    condition: sel
`

func corrSet(t *testing.T, corr string) *Set {
	t.Helper()
	return mustSet(t, map[string]string{"base.yml": baseRules, "corr.yml": corr})
}

func TestEventCount(t *testing.T) {
	s := corrSet(t, `title: three A
correlation:
    type: event_count
    rules: [a]
    group-by: [actor.alternateId]
    timespan: 5m
    condition: {gte: 3}
`)
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"three within the window", []step{{0, "a", "dana", ""}, {2, "a", "dana", ""}, {4, "a", "dana", ""}},
			[]string{"three A @4 [dana] n=3 [0 1 2]"}},
		{"window is inclusive", []step{{0, "a", "dana", ""}, {2, "a", "dana", ""}, {5, "a", "dana", ""}},
			[]string{"three A @5 [dana] n=3 [0 1 2]"}},
		{"out of the window", []step{{0, "a", "dana", ""}, {3, "a", "dana", ""}, {5.5, "a", "dana", ""}}, nil},
		{"sliding", []step{{0, "a", "dana", ""}, {3, "a", "dana", ""}, {5.5, "a", "dana", ""}, {6, "a", "dana", ""}},
			[]string{"three A @6 [dana] n=3 [1 2 3]"}},
		{"per group", []step{{0, "a", "dana", ""}, {1, "a", "sam", ""}, {2, "a", "dana", ""}, {3, "a", "sam", ""}}, nil},
		{"other rules do not count", []step{{0, "a", "dana", ""}, {1, "b", "dana", ""}, {2, "a", "dana", ""}}, nil},
		{"starts afresh after a hit", []step{{0, "a", "dana", ""}, {1, "a", "dana", ""}, {2, "a", "dana", ""}, {3, "a", "dana", ""}, {4, "a", "dana", ""}},
			[]string{"three A @2 [dana] n=3 [0 1 2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hitsOf(t, s, tt.steps)); diff != "" {
				t.Errorf("hits (-want +got):\n%s", diff)
			}
		})
	}
	if r := s.Rule("a"); r.Standalone {
		t.Error("a rule referred to by a correlation (generate: false) alerts on its own")
	}
	if r := s.Rule("c"); !r.Standalone {
		t.Error("an unreferenced rule does not alert on its own")
	}
}

func TestEventCountUpperBound(t *testing.T) {
	s := corrSet(t, `title: few A
correlation:
    type: event_count
    rules: [a]
    group-by: [actor.alternateId]
    timespan: 10m
    condition: {gte: 2, lte: 3}
`)
	got := hitsOf(t, s, []step{
		{0, "a", "dana", ""}, {1, "a", "dana", ""}, // dana: 2 in [0,10]: hit when the window closes
		{2, "a", "sam", ""}, {3, "a", "sam", ""}, {4, "a", "sam", ""}, {5, "a", "sam", ""}, // sam: 4, too many
		{11, "a", "lee", ""}, // closes dana's window; lee's one event never qualifies
		{30, "c", "x", ""},   // closes the rest
	})
	want := []string{"few A @10 [dana] n=2 [0 1]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
	// At the end of the stream, Flush judges open windows.
	got = hitsOf(t, s, []step{{0, "a", "dana", ""}, {1, "a", "dana", ""}})
	if diff := cmp.Diff([]string{"few A @10 [dana] n=2 [0 1]"}, got); diff != "" {
		t.Errorf("flush (-want +got):\n%s", diff)
	}
}

func TestValueCount(t *testing.T) {
	s := corrSet(t, `title: many addresses
correlation:
    type: value_count
    rules: [a, b]
    group-by: [actor.alternateId]
    timespan: 10m
    condition:
        field: client.ipAddress
        gte: 3
`)
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"three distinct", []step{{0, "a", "dana", "1.1.1.1"}, {1, "b", "dana", "2.2.2.2"}, {2, "a", "dana", "1.1.1.1"}, {3, "a", "dana", "3.3.3.3"}},
			[]string{"many addresses @3 [dana] n=3 [0 1 2 3]"}},
		{"repeats do not count", []step{{0, "a", "dana", "1.1.1.1"}, {1, "a", "dana", "1.1.1.1"}, {2, "a", "dana", "2.2.2.2"}}, nil},
		{"old values expire", []step{{0, "a", "dana", "1.1.1.1"}, {5, "a", "dana", "2.2.2.2"}, {11, "a", "dana", "3.3.3.3"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hitsOf(t, s, tt.steps)); diff != "" {
				t.Errorf("hits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTemporal(t *testing.T) {
	s := corrSet(t, `title: A and B
correlation:
    type: temporal
    rules: [a, b]
    group-by: [actor.alternateId]
    timespan: 10m
`)
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"any order", []step{{0, "b", "dana", ""}, {9, "a", "dana", ""}}, []string{"A and B @9 [dana] n=2 [0 1]"}},
		{"too far apart", []step{{0, "a", "dana", ""}, {10.5, "b", "dana", ""}}, nil},
		{"different users", []step{{0, "a", "dana", ""}, {1, "b", "sam", ""}}, nil},
		{"latest of each", []step{{0, "a", "dana", ""}, {5, "a", "dana", ""}, {12, "b", "dana", ""}}, []string{"A and B @12 [dana] n=2 [1 2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hitsOf(t, s, tt.steps)); diff != "" {
				t.Errorf("hits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTemporalCondition(t *testing.T) {
	s := corrSet(t, `title: A with B or C
correlation:
    type: temporal
    rules: [a, b, c]
    group-by: [actor.alternateId]
    timespan: 10m
    condition: a and (b or c)
`)
	if diff := cmp.Diff([]string{"A with B or C @2 [dana] n=2 [0 1]"}, hitsOf(t, s, []step{{0, "c", "dana", ""}, {2, "a", "dana", ""}})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := hitsOf(t, s, []step{{0, "c", "dana", ""}, {2, "b", "dana", ""}}); got != nil {
		t.Errorf("hit without a: %v", got)
	}
}

func TestTemporalOrdered(t *testing.T) {
	s := corrSet(t, `title: A then B then C
correlation:
    type: temporal_ordered
    rules: [a, b, c]
    group-by: [actor.alternateId]
    timespan: 10m
`)
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"in order", []step{{0, "a", "dana", ""}, {1, "b", "dana", ""}, {2, "c", "dana", ""}}, []string{"A then B then C @2 [dana] n=3 [0 1 2]"}},
		{"wrong order", []step{{0, "b", "dana", ""}, {1, "a", "dana", ""}, {2, "c", "dana", ""}}, nil},
		{"last step too late", []step{{0, "a", "dana", ""}, {1, "b", "dana", ""}, {10.5, "c", "dana", ""}}, nil},
		{"a later start fits", []step{{0, "a", "dana", ""}, {4, "a", "dana", ""}, {5, "b", "dana", ""}, {13, "c", "dana", ""}}, []string{"A then B then C @13 [dana] n=3 [1 2 3]"}},
		{"noise between", []step{{0, "a", "dana", ""}, {1, "c", "dana", ""}, {2, "b", "dana", ""}, {3, "a", "dana", ""}, {4, "c", "dana", ""}}, []string{"A then B then C @4 [dana] n=3 [0 2 4]"}},
		{"other user breaks nothing", []step{{0, "a", "dana", ""}, {1, "b", "sam", ""}, {2, "c", "dana", ""}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hitsOf(t, s, tt.steps)); diff != "" {
				t.Errorf("hits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAliases(t *testing.T) {
	s := corrSet(t, `title: A by user, B by address
correlation:
    type: temporal
    rules: [a, b]
    group-by: [who]
    timespan: 10m
    aliases:
        who:
            a: actor.alternateId
            b: client.ipAddress
`)
	got := hitsOf(t, s, []step{{0, "a", "dana", "x"}, {1, "b", "sam", "dana"}})
	if diff := cmp.Diff([]string{"A by user, B by address @1 [dana] n=2 [0 1]"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenerate(t *testing.T) {
	s := corrSet(t, `title: with generate
correlation:
    type: event_count
    rules: [a]
    timespan: 5m
    condition: {gte: 2}
generate: true
---
title: without
correlation:
    type: event_count
    rules: [b]
    timespan: 5m
    condition: {gte: 2}
`)
	if !s.Rule("a").Standalone || s.Rule("b").Standalone {
		t.Errorf("standalone: a %v (want true), b %v (want false)", s.Rule("a").Standalone, s.Rule("b").Standalone)
	}
	// Without group-by, every event of the rule is one group.
	got := hitsOf(t, s, []step{{0, "a", "dana", ""}, {1, "a", "sam", ""}})
	if diff := cmp.Diff([]string{"with generate @1 [] n=2 [0 1]"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCorrelatorDeterministic(t *testing.T) {
	s := corrSet(t, `title: few
correlation:
    type: event_count
    rules: [a]
    group-by: [actor.alternateId]
    timespan: 10m
    condition: {lte: 3}
`)
	var steps []step
	for i := 0; i < 200; i++ {
		steps = append(steps, step{float64(i) / 3, "a", fmt.Sprintf("u%d", i%13), ""})
	}
	first := hitsOf(t, s, steps)
	for range 5 {
		if diff := cmp.Diff(first, hitsOf(t, s, steps)); diff != "" {
			t.Fatalf("run differs:\n%s", diff)
		}
	}
	if len(first) == 0 {
		t.Error("no hits")
	}
}
