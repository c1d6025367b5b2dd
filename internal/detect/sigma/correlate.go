package sigma

import (
	"slices"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// Correlation rules are evaluated on event time, one group (the values of
// the group-by fields) at a time:
//
//   - event_count and value_count with only lower bounds (gt, gte) use a
//     sliding window: they fire at the event that brings the count in the
//     last timespan (inclusive) to the bound, and the group starts afresh.
//   - with an upper bound (lt, lte, eq, or a range) a count can only be
//     judged when its window is over: the first event of a group opens a
//     window of timespan; once event time passes its end (or at Flush) the
//     count is checked, and the hit is dated at the window's end.
//   - temporal fires at the event that completes the set of rules (or the
//     condition over them) within timespan; temporal_ordered when the rules
//     have occurred in the order listed, first to last within timespan.
//
// Events are expected in event-time order (the engine sorts them); a late
// event is still counted at its own time.

// MaxHitEvents bounds the events a hit lists (the most recent are kept).
const MaxHitEvents = 100

// Ref identifies an event a correlation rests on.
type Ref struct {
	// Seq is the caller's sequence number for the event (its index in the
	// stream).
	Seq      int64     `json:"seq"`
	VendorID string    `json:"vendor_id,omitempty"`
	Time     time.Time `json:"time"`
}

// Hit is a correlation rule that fired.
type Hit struct {
	Rule *Rule
	// Time is the event time of the event that completed the correlation,
	// or the end of the window for conditions judged when it closes.
	Time  time.Time
	Group []FieldValue
	// Count is the number of events (event_count), distinct values
	// (value_count) or rules seen (temporal, temporal_ordered).
	Count int64
	// Events are the events the hit rests on, oldest first.
	Events []Ref
}

// Correlator evaluates a Set's correlation rules over a stream of matches.
// It is deterministic: the same events in the same order give the same
// hits. Not safe for concurrent use.
type Correlator struct {
	states map[*Rule]*corrState
	order  []*corrState // the set's correlations, inner first
	wm     time.Time    // the latest event time seen
	out    []Hit
	seen   int
}

type corrState struct {
	r      *Rule
	c      *Correlation
	groups map[string]*group
	open   []*group // tumbling windows in opening order
	cond   *cond    // temporal condition over rule positions
}

type entry struct {
	t    time.Time
	val  string
	refs []Ref
}

type group struct {
	key  string
	vals []FieldValue
	last time.Time // latest activity, for expiry

	entries []entry        // sliding windows
	counts  map[string]int // value_count: events per value in the window

	open  bool // a tumbling window
	start time.Time
	n     int64
	refs  []Ref

	seen   []entry // temporal: per rule position, ok when refs != nil
	prefix []entry // temporal_ordered: per position, the best partial sequence
}

// NewCorrelator returns a Correlator for the set's correlation rules.
func (s *Set) NewCorrelator() *Correlator {
	c := &Correlator{states: make(map[*Rule]*corrState)}
	for _, r := range s.corrs {
		st := &corrState{r: r, c: r.Correlation, groups: make(map[string]*group)}
		if r.Correlation.expr != nil {
			names := make([]string, len(r.Correlation.refs))
			copy(names, r.Correlation.Rules)
			st.cond, _ = r.Correlation.expr.resolve(names, 0)
		}
		c.states[r] = st
		c.order = append(c.order, st)
	}
	return c
}

// Observe feeds the matches of one event and returns the correlations it
// completes, and those whose windows closed before it. The slice is reused
// by the next call. seq is the caller's number for the event.
func (c *Correlator) Observe(e *event.Event, seq int64, matches []Match) []Hit {
	c.out = c.out[:0]
	if len(c.order) == 0 {
		return nil
	}
	t := e.Time
	if t.After(c.wm) {
		c.advance(t)
	}
	ref := []Ref{{Seq: seq, VendorID: e.VendorID, Time: t}}
	for _, m := range matches {
		for _, f := range m.Rule.feeds {
			c.feed(c.states[f], m.Rule, t, ref, m.Fields)
		}
	}
	if c.seen++; c.seen >= 4096 {
		c.seen = 0
		c.expire()
	}
	return c.out
}

// Advance tells the correlator that event time has reached t, closing the
// windows that end before it. The engine may call it on events no rule
// matched; Observe does it itself.
func (c *Correlator) Advance(t time.Time) []Hit {
	c.out = c.out[:0]
	if t.After(c.wm) {
		c.advance(t)
	}
	return c.out
}

// Flush closes every open window, judging its count, at the end of a
// stream.
func (c *Correlator) Flush() []Hit {
	c.out = c.out[:0]
	for _, st := range c.order {
		for len(st.open) > 0 {
			c.close(st, st.open[0])
		}
	}
	return c.out
}

func (c *Correlator) advance(t time.Time) {
	c.wm = t
	for _, st := range c.order {
		for len(st.open) > 0 && t.Sub(st.open[0].start) > st.c.Window {
			c.close(st, st.open[0])
		}
	}
}

// close judges a tumbling window's count.
func (c *Correlator) close(st *corrState, g *group) {
	st.open = slices.DeleteFunc(st.open, func(x *group) bool { return x == g })
	count := g.n
	if st.c.Type == ValueCount {
		count = int64(len(g.counts))
	}
	if st.c.Bounds.Holds(count) {
		c.emit(st, g, g.start.Add(st.c.Window), count, g.refs)
	}
	delete(st.groups, g.key)
}

// expire drops groups with nothing left in their window.
func (c *Correlator) expire() {
	for _, st := range c.order {
		for k, g := range st.groups {
			if !g.open && c.wm.Sub(g.last) > st.c.Window {
				delete(st.groups, k)
			}
		}
	}
}

// groupOf returns the group an event of src belongs to.
func (st *corrState) groupOf(src *Rule, fields []FieldValue) *group {
	cc := st.c
	var key string
	var vals []FieldValue
	if len(cc.GroupBy) > 0 {
		vals = make([]FieldValue, len(cc.GroupBy))
		var b strings.Builder
		for i, gname := range cc.GroupBy {
			v := lookup(fields, cc.fieldFor(gname, src))
			vals[i] = FieldValue{Name: gname, Value: v}
			if i > 0 {
				b.WriteByte(0x1f)
			}
			b.WriteString(v)
		}
		key = b.String()
	}
	g := st.groups[key]
	if g == nil {
		g = &group{key: key, vals: vals}
		st.groups[key] = g
	}
	return g
}

// feed adds one event (or one inner correlation hit) of rule src.
func (c *Correlator) feed(st *corrState, src *Rule, t time.Time, refs []Ref, fields []FieldValue) {
	cc := st.c
	g := st.groupOf(src, fields)
	if t.After(g.last) {
		g.last = t
	}
	switch cc.Type {
	case EventCount, ValueCount:
		val := ""
		if cc.Type == ValueCount {
			if val = lookup(fields, cc.fieldFor(cc.Field, src)); val == "" {
				return // no value to count
			}
		}
		if cc.Bounds.upper() {
			if !g.open {
				g.open, g.start, g.n, g.refs = true, t, 0, nil
				st.open = append(st.open, g)
			}
			g.n++
			if cc.Type == ValueCount {
				if g.counts == nil {
					g.counts = make(map[string]int)
				}
				g.counts[val]++
			}
			g.refs = appendRefs(g.refs, refs)
			return
		}
		g.entries = append(g.entries, entry{t: t, val: val, refs: refs})
		if cc.Type == ValueCount {
			if g.counts == nil {
				g.counts = make(map[string]int)
			}
			g.counts[val]++
		}
		// Drop what fell out of the window, and for event_count what can
		// no longer matter (only the last minimum() events can fire).
		drop := 0
		for drop < len(g.entries) && t.Sub(g.entries[drop].t) > cc.Window {
			drop++
		}
		if cc.Type == EventCount {
			if over := len(g.entries) - drop - int(min(cc.Bounds.minimum(), 1<<20)); over > 0 {
				drop += over
			}
		}
		for _, x := range g.entries[:drop] {
			if cc.Type == ValueCount {
				if g.counts[x.val]--; g.counts[x.val] <= 0 {
					delete(g.counts, x.val)
				}
			}
		}
		g.entries = slices.Delete(g.entries, 0, drop)
		count := int64(len(g.entries))
		if cc.Type == ValueCount {
			count = int64(len(g.counts))
		}
		if cc.Bounds.Holds(count) {
			var all []Ref
			for _, x := range g.entries {
				all = appendRefs(all, x.refs)
			}
			c.emit(st, g, t, count, all)
			g.entries, g.counts = nil, nil
		}
	case Temporal:
		if g.seen == nil {
			g.seen = make([]entry, len(cc.refs))
		}
		for i, r := range cc.refs {
			if r == src {
				g.seen[i] = entry{t: t, refs: refs}
			}
		}
		n := int64(0)
		for i := range g.seen {
			if g.seen[i].refs != nil && t.Sub(g.seen[i].t) > cc.Window {
				g.seen[i] = entry{}
			}
			if g.seen[i].refs != nil {
				n++
			}
		}
		var done bool
		switch {
		case st.cond != nil:
			done = st.cond.eval(func(i int) bool { return g.seen[i].refs != nil })
		case !cc.Bounds.IsZero():
			done = cc.Bounds.Holds(n)
		default:
			done = n == int64(len(cc.refs))
		}
		if done {
			var all []Ref
			for _, x := range g.seen {
				all = appendRefs(all, x.refs)
			}
			sortRefs(all)
			c.emit(st, g, t, n, all)
			g.seen = nil
		}
	case TemporalOrdered:
		if g.prefix == nil {
			g.prefix = make([]entry, len(cc.refs))
		}
		// prefix[i] is the partial sequence through rule i whose first
		// event is latest (the likeliest to complete in time); entry.t is
		// that first event's time. Later positions first, so that one event
		// fills one position.
		for i := len(cc.refs) - 1; i >= 0; i-- {
			if cc.refs[i] != src {
				continue
			}
			var cand entry
			if i == 0 {
				cand = entry{t: t, refs: refs}
			} else {
				p := g.prefix[i-1]
				if p.refs == nil || t.Sub(p.t) > cc.Window {
					continue
				}
				cand = entry{t: p.t, refs: appendRefs(slices.Clone(p.refs), refs)}
			}
			if g.prefix[i].refs == nil || !cand.t.Before(g.prefix[i].t) || t.Sub(g.prefix[i].t) > cc.Window {
				g.prefix[i] = cand
			}
		}
		last := g.prefix[len(cc.refs)-1]
		if last.refs != nil && t.Sub(last.t) <= cc.Window {
			c.emit(st, g, t, int64(len(cc.refs)), last.refs)
			g.prefix = nil
		}
	}
}

// emit records a hit and feeds it to the correlations that refer to this
// one.
func (c *Correlator) emit(st *corrState, g *group, t time.Time, count int64, refs []Ref) {
	h := Hit{Rule: st.r, Time: t, Group: g.vals, Count: count, Events: slices.Clone(refs)}
	c.out = append(c.out, h)
	for _, f := range st.r.feeds {
		c.feed(c.states[f], st.r, t, h.Events, h.Group)
	}
}

// appendRefs appends refs, keeping the most recent MaxHitEvents.
func appendRefs(dst, refs []Ref) []Ref {
	dst = append(dst, refs...)
	if over := len(dst) - MaxHitEvents; over > 0 {
		dst = slices.Delete(dst, 0, over)
	}
	return dst
}

func sortRefs(r []Ref) {
	slices.SortStableFunc(r, func(a, b Ref) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
}
