package sigma

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// Stage runs a Set as one stage of the detection engine: a Matcher and a
// Correlator that turn the matches of rules that alert on their own, and
// correlation hits, into alerts (without risk or incident, which the
// engine adds). It has the engine's RuleMatcher method set. Feed it every
// event, in event-time order, from one goroutine; call Flush at the end of
// a stream.
type Stage struct {
	m    *Matcher
	c    *Correlator
	seq  int64
	refs map[int64]event.EventRef // events correlations may cite, by seq
	keep time.Duration            // how long refs are kept: the longest timespan
	last time.Time
	out  []event.Alert
}

// NewStage returns a Stage for the set.
func NewStage(s *Set) *Stage {
	st := &Stage{m: s.NewMatcher(), c: s.NewCorrelator(), refs: make(map[int64]event.EventRef)}
	for _, r := range s.corrs {
		if w := r.Correlation.Window; w > st.keep {
			st.keep = w
		}
	}
	return st
}

// Severity maps a Sigma level to an alert severity; informational rules
// alert as low.
func (l Level) Severity() event.Severity {
	switch l {
	case LevelCritical:
		return event.SeverityCritical
	case LevelHigh:
		return event.SeverityHigh
	case LevelMedium:
		return event.SeverityMedium
	}
	return event.SeverityLow
}

// confidence weighs an alert in the identity's risk: rule authors set the
// level by how sure a match is.
func (l Level) confidence() float64 {
	switch l {
	case LevelCritical:
		return 0.9
	case LevelHigh:
		return 0.8
	case LevelMedium:
		return 0.6
	case LevelLow:
		return 0.4
	}
	return 0.2
}

// Match returns the alerts e completes. The slice is reused by the next
// call.
func (st *Stage) Match(e *event.Event) []event.Alert {
	st.out = st.out[:0]
	seq := st.seq
	st.seq++
	ms := st.m.Match(e)
	for _, m := range ms {
		if len(m.Rule.feeds) > 0 {
			st.refs[seq] = event.Ref(e)
		}
		if m.Rule.Standalone {
			st.out = append(st.out, st.matchAlert(e, seq, m))
		}
	}
	var hits []Hit
	if len(ms) > 0 {
		hits = st.c.Observe(e, seq, ms)
	} else {
		hits = st.c.Advance(e.Time)
	}
	for _, h := range hits {
		if h.Rule.Standalone {
			st.out = append(st.out, st.hitAlert(e, h))
		}
	}
	st.prune(e.Time)
	return st.out
}

// Flush judges the correlation windows still open at the end of a stream.
func (st *Stage) Flush() []event.Alert {
	st.out = st.out[:0]
	for _, h := range st.c.Flush() {
		if h.Rule.Standalone {
			st.out = append(st.out, st.hitAlert(nil, h))
		}
	}
	return st.out
}

func (st *Stage) matchAlert(e *event.Event, seq int64, m Match) event.Alert {
	r := m.Rule
	id := e.VendorID
	if id == "" {
		id = "#" + strconv.FormatInt(seq, 10)
	}
	who := e.Actor.ID
	if who == "" {
		who = "an unknown actor"
	}
	return event.Alert{
		ID:           r.AlertID + ":" + id,
		Time:         e.Time,
		Rule:         r.AlertID,
		Title:        r.Title,
		Severity:     r.Level.Severity(),
		Confidence:   r.Level.confidence(),
		Identity:     e.Actor.ID,
		IdentityKind: e.Actor.Kind,
		Session:      e.Session.Key(),
		SourceIP:     e.Network.IP,
		Summary:      fmt.Sprintf("Sigma rule %q matched %s %s by %s.", r.Title, e.Source, e.VendorType, who),
		Evidence:     event.Evidence{Events: []event.EventRef{event.Ref(e)}},
		Tags:         r.Tags,
	}
}

// hitAlert makes the alert of a correlation hit; e is the event that
// completed it (nil when a window closed at Flush). The identity is the
// actor of the hit's last event.
func (st *Stage) hitAlert(e *event.Event, h Hit) event.Alert {
	r := h.Rule
	a := event.Alert{
		Time:       h.Time,
		Rule:       r.AlertID,
		Title:      r.Title,
		Severity:   r.Level.Severity(),
		Confidence: r.Level.confidence(),
		Tags:       r.Tags,
	}
	for _, ref := range h.Events {
		er, ok := st.refs[ref.Seq]
		if !ok {
			er = event.EventRef{Time: ref.Time, VendorID: ref.VendorID}
		}
		a.Evidence.Events = append(a.Evidence.Events, er)
	}
	if n := len(a.Evidence.Events); n > 0 {
		last := a.Evidence.Events[n-1]
		a.Identity, a.Session, a.SourceIP = last.Actor, last.Session, last.IP
	}
	if e != nil && a.Identity == "" {
		a.Identity, a.IdentityKind = e.Actor.ID, e.Actor.Kind
	}
	var group []string
	for _, g := range h.Group {
		group = append(group, g.Name+"="+g.Value)
	}
	key := strings.Join(group, ",")
	a.ID = fmt.Sprintf("%s:%s:%d", r.AlertID, key, h.Time.UnixNano())
	what := map[CorrelationType]string{EventCount: "events", ValueCount: "distinct values", Temporal: "rules", TemporalOrdered: "rules in order"}[r.Correlation.Type]
	a.Summary = fmt.Sprintf("Sigma correlation %q: %d %s within %s", r.Title, h.Count, what, r.Correlation.Window)
	if key != "" {
		a.Summary += " for " + key
	}
	a.Summary += "."
	return a
}

// prune forgets event references older than any window, now and then.
func (st *Stage) prune(t time.Time) {
	if len(st.refs) == 0 || t.Sub(st.last) < st.keep || st.keep == 0 {
		return
	}
	st.last = t
	for k, r := range st.refs {
		if t.Sub(r.Time) > 2*st.keep {
			delete(st.refs, k)
		}
	}
}
