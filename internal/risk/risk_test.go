package risk

import (
	"math"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestRaise(t *testing.T) {
	c := DefaultConfig
	var s Score
	if got := c.Raise(&s, t0, event.SeverityCritical, 1); got != 80 {
		t.Errorf("one critical alert: %v, want 80", got)
	}
	// Alerts combine below 100 and never pass it.
	for range 50 {
		if got := c.Raise(&s, t0, event.SeverityHigh, 1); got > 100 {
			t.Fatalf("risk %v > 100", got)
		}
	}
	if v := c.Value(s, t0); v < 99 {
		t.Errorf("after many alerts: %v", v)
	}
	// Confidence weighs: a half-sure medium alert adds half as much.
	var a, b Score
	full, half := c.Raise(&a, t0, event.SeverityMedium, 1), c.Raise(&b, t0, event.SeverityMedium, 0.5)
	if full != 25 || half != 12.5 {
		t.Errorf("medium at full and half confidence: %v, %v", full, half)
	}
}

func TestDecay(t *testing.T) {
	c := DefaultConfig
	var s Score
	c.Raise(&s, t0, event.SeverityCritical, 1)
	for _, tt := range []struct {
		after time.Duration
		want  float64
	}{{0, 80}, {24 * time.Hour, 40}, {48 * time.Hour, 20}} {
		if got := c.Value(s, t0.Add(tt.after)); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("after %v: %v, want %v", tt.after, got, tt.want)
		}
	}
	// An alert on a decayed score starts from what is left.
	if got := c.Raise(&s, t0.Add(24*time.Hour), event.SeverityMedium, 1); math.Abs(got-55) > 0.1 {
		t.Errorf("medium a day after a critical: %v, want 55", got)
	}
}

func TestLevel(t *testing.T) {
	for score, want := range map[float64]event.Severity{0: "low", 24.9: "low", 25: "medium", 50: "high", 74: "high", 75: "critical", 100: "critical"} {
		if got := Level(score); got != want {
			t.Errorf("Level(%v) = %s, want %s", score, got, want)
		}
	}
}

func TestIncidents(t *testing.T) {
	g := NewIncidents(DefaultConfig)
	add := func(id, who, rule string, sev event.Severity, at time.Duration) *event.Alert {
		a := &event.Alert{ID: id, Identity: who, Rule: rule, Severity: sev, Time: t0.Add(at), Summary: rule + " " + id}
		g.Add(a)
		return a
	}
	a1 := add("1", "dana", "mfa.fatigue", event.SeverityMedium, 0)
	a2 := add("2", "dana", "session.hijack", event.SeverityCritical, time.Hour)
	b1 := add("3", "eli", "mfa.fatigue", event.SeverityLow, time.Hour)
	a3 := add("4", "dana", "credential.api_token_created", event.SeverityLow, 6*time.Hour) // 5 h after the last: same
	a4 := add("5", "dana", "mfa.fatigue", event.SeverityLow, 13*time.Hour)                 // 7 h after: new
	if a1.Incident != a2.Incident || a2.Incident != a3.Incident || a3.Incident == a4.Incident || b1.Incident == a1.Incident {
		t.Fatalf("incidents: %s %s %s %s %s", a1.Incident, a2.Incident, a3.Incident, a4.Incident, b1.Incident)
	}
	all := g.All()
	if len(all) != 3 {
		t.Fatalf("%d incidents", len(all))
	}
	first := all[0]
	if first.Severity != event.SeverityCritical || first.Summary != "session.hijack 2" || len(first.Alerts) != 3 || len(first.Rules) != 3 ||
		!first.Updated.Equal(t0.Add(6*time.Hour)) {
		t.Errorf("first incident %+v", first)
	}
	// Three different rules make an incident at least high.
	g2 := NewIncidents(DefaultConfig)
	var last *event.Incident
	for i, r := range []string{"a", "b", "c"} {
		last = g2.Add(&event.Alert{ID: r, Identity: "x", Rule: r, Severity: event.SeverityLow, Time: t0.Add(time.Duration(i) * time.Minute)})
	}
	if last.Severity != event.SeverityHigh {
		t.Errorf("three low alerts of three rules: %s", last.Severity)
	}
}

func TestPrune(t *testing.T) {
	g := NewIncidents(DefaultConfig)
	old := &event.Alert{ID: "1", Identity: "a", Rule: "r", Severity: "low", Time: t0}
	recent := &event.Alert{ID: "2", Identity: "b", Rule: "r", Severity: "low", Time: t0.Add(5 * time.Hour)}
	g.Add(old)
	g.Add(recent)
	if n := g.Prune(t0.Add(8 * time.Hour)); n != 1 || len(g.All()) != 1 || g.Get(old.Incident) != nil || g.Get(recent.Incident) == nil {
		t.Fatalf("pruned %d, left %d", n, len(g.All()))
	}
	// The pruned identity's next alert opens a new incident.
	again := &event.Alert{ID: "3", Identity: "a", Rule: "r", Severity: "low", Time: t0.Add(9 * time.Hour)}
	g.Add(again)
	if again.Incident == old.Incident {
		t.Error("reused a pruned incident")
	}
}

func TestLowerUndoesRaise(t *testing.T) {
	c := DefaultConfig
	var s Score
	c.Raise(&s, t0, event.SeverityMedium, 1)
	before := c.Value(s, t0)
	c.Raise(&s, t0, event.SeverityCritical, 0.9)
	if got := c.Lower(&s, t0, event.SeverityCritical, 0.9); math.Abs(got-before) > 0.1 {
		t.Errorf("after taking the critical alert back: %.1f, want %.1f", got, before)
	}
	if got := c.Lower(&s, t0, event.SeverityCritical, 1); got != 0 {
		t.Errorf("taking back more than is left: %.1f, want 0", got)
	}
}
