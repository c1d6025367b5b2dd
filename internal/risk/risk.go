// Package risk turns alerts into an identity's risk score, which rises with
// every alert (weighted by severity and confidence) and decays over time,
// and groups an identity's alerts that are close in time into incidents.
// Time is an input: everything runs on event time.
package risk

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// Config tunes scoring and grouping.
type Config struct {
	// HalfLife is how long it takes an identity's risk to halve without
	// new alerts.
	HalfLife time.Duration
	// Window is the longest quiet gap between two alerts of one incident.
	Window time.Duration
}

// DefaultConfig halves risk daily and groups alerts less than 6 hours
// apart.
var DefaultConfig = Config{HalfLife: 24 * time.Hour, Window: 6 * time.Hour}

// weight is how much of the remaining headroom an alert of a severity takes,
// at full confidence: one critical alert alone is a high risk; several
// medium ones add up to it.
func weight(s event.Severity) float64 {
	switch s {
	case event.SeverityCritical:
		return 0.8
	case event.SeverityHigh:
		return 0.5
	case event.SeverityMedium:
		return 0.25
	case event.SeverityLow:
		return 0.08
	}
	return 0
}

// Score is an identity's accumulated risk as of a time.
type Score struct {
	R  float64 // 0–1
	At int64   // Unix nanoseconds
}

// Value returns the score (0–100) at t, decayed since it was last raised.
func (c Config) Value(s Score, t time.Time) float64 {
	return 100 * c.decayed(s, t)
}

func (c Config) decayed(s Score, t time.Time) float64 {
	if s.R == 0 || c.HalfLife <= 0 {
		return s.R
	}
	dt := t.UnixNano() - s.At
	if dt <= 0 {
		return s.R
	}
	return s.R * math.Exp2(-float64(dt)/float64(c.HalfLife))
}

// Raise adds an alert to s at t and returns the new score (0–100). Alerts
// combine like independent evidence: each takes its weight's share of what
// is left below 100, so the score never exceeds 100 and many small alerts
// cannot outweigh what they are.
func (c Config) Raise(s *Score, t time.Time, sev event.Severity, confidence float64) float64 {
	confidence = min(max(confidence, 0), 1)
	r := c.decayed(*s, t)
	r = 1 - (1-r)*(1-weight(sev)*confidence)
	*s = Score{R: r, At: max(t.UnixNano(), s.At)}
	return math.Round(1000*r) / 10
}

// Level names a score for people: low below 25, medium below 50, high
// below 75, critical from 75.
func Level(score float64) event.Severity {
	switch {
	case score >= 75:
		return event.SeverityCritical
	case score >= 50:
		return event.SeverityHigh
	case score >= 25:
		return event.SeverityMedium
	}
	return event.SeverityLow
}

// Incidents groups alerts into incidents per identity.
type Incidents struct {
	c    Config
	open map[string]*event.Incident // by identity
	byID map[string]*event.Incident
	all  []*event.Incident
}

// NewIncidents returns an empty grouper.
func NewIncidents(c Config) *Incidents {
	return &Incidents{c: c, open: make(map[string]*event.Incident), byID: make(map[string]*event.Incident)}
}

// Add files a (so far unfiled) alert into its identity's open incident, or
// opens one when the last alert was longer than the window ago. It sets
// a.Incident and returns the incident.
func (g *Incidents) Add(a *event.Alert) *event.Incident {
	inc := g.open[a.Identity]
	if inc == nil || a.Time.Sub(inc.Updated) > g.c.Window {
		sum := sha256.Sum256([]byte(a.Identity + "\x00" + a.ID))
		inc = &event.Incident{
			ID: "inc-" + hex.EncodeToString(sum[:8]), Identity: a.Identity,
			Opened: a.Time, Updated: a.Time, Severity: a.Severity,
		}
		g.open[a.Identity] = inc
		g.byID[inc.ID] = inc
		g.all = append(g.all, inc)
	}
	a.Incident = inc.ID
	if a.Time.After(inc.Updated) {
		inc.Updated = a.Time
	}
	if a.Severity.Rank() > inc.Severity.Rank() || inc.Summary == "" {
		inc.Summary = a.Summary
	}
	inc.Severity = inc.Severity.Max(a.Severity)
	inc.Risk = max(inc.Risk, a.Risk)
	if !slices.Contains(inc.Rules, a.Rule) {
		inc.Rules = append(inc.Rules, a.Rule)
	}
	inc.Alerts = append(inc.Alerts, *a)
	// An attack that trips several independent detectors is worse than
	// any one of them says.
	if len(inc.Rules) >= 3 && inc.Severity.Rank() < event.SeverityHigh.Rank() {
		inc.Severity = event.SeverityHigh
	}
	return inc
}

// Get returns the incident with id, or nil.
func (g *Incidents) Get(id string) *event.Incident { return g.byID[id] }

// Prune forgets incidents that can no longer grow (quiet for longer than
// the window at now): a long-running service keeps them in its store, not
// in memory. It returns how many it forgot.
func (g *Incidents) Prune(now time.Time) int {
	keep := g.all[:0]
	n := 0
	for _, inc := range g.all {
		if now.Sub(inc.Updated) > g.c.Window {
			delete(g.byID, inc.ID)
			if g.open[inc.Identity] == inc {
				delete(g.open, inc.Identity)
			}
			n++
			continue
		}
		keep = append(keep, inc)
	}
	clear(g.all[len(keep):])
	g.all = keep
	return n
}

// All returns every incident in the order they were opened.
func (g *Incidents) All() []*event.Incident { return g.all }

// Lower takes back an alert of sev at confidence from s at t, as when people
// find it was a false positive, and returns the new score (0–100). It is
// Raise's inverse for an alert raised at t; for an older alert it takes
// back at most what is left, never going below 0.
func (c Config) Lower(s *Score, t time.Time, sev event.Severity, confidence float64) float64 {
	confidence = min(max(confidence, 0), 1)
	r := c.decayed(*s, t)
	if k := 1 - weight(sev)*confidence; k > 0 {
		r = max(0, 1-(1-r)/k)
	} else {
		r = 0
	}
	*s = Score{R: r, At: max(t.UnixNano(), s.At)}
	return math.Round(1000*r) / 10
}
