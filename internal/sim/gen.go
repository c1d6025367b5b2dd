package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Source names an output log.
type Source string

// The logs the simulator writes.
const (
	SourceOkta       Source = "okta"
	SourceEntra      Source = "entra"
	SourceCloudTrail Source = "cloudtrail"
)

// payload is one vendor record waiting to be written.
type payload interface {
	source() Source
	// write serializes the record at time t and returns it with the
	// vendor's event id and type (for the truth file).
	write(w *writer, t time.Time) (rec []byte, id, typ string)
}

// rec is a generated event in the time-ordered buffer.
type rec struct {
	t   int64 // unix milliseconds
	seq uint64
	ev  payload
	// tr and tr2 are the truth entries the event belongs to (an attack's
	// event can trip two rules).
	tr, tr2 *Truth
}

// gen runs one simulation: it generates day by day and writes events in
// time order.
type gen struct {
	o   *Org
	w   *writer
	buf []rec
	seq uint64
	// wm is the watermark: every event before it has been written, so no
	// event may be generated before it.
	wm  int64
	err error
}

// Actor kinds for dayRand streams.
const (
	streamPersonCtx = iota + 1
	streamPersonAct
	streamMachine
	streamScenario
)

// errBeforeWatermark marks a generator bug: an event generated after
// later events were already written.
var errBeforeWatermark = errors.New("sim: event generated before the watermark")

func (g *gen) emit(t time.Time, ev payload, tr *Truth) { g.emit2(t, ev, tr, nil) }

func (g *gen) emit2(t time.Time, ev payload, tr, tr2 *Truth) {
	if ev.source() != SourceOkta {
		// CloudTrail and Entra write whole seconds: the event's time is
		// what the record says.
		t = t.Truncate(time.Second)
	}
	ms := t.UnixMilli()
	if ms < g.wm {
		if g.err == nil {
			g.err = fmt.Errorf("%w: %s %T", errBeforeWatermark, t.UTC().Format(time.RFC3339), ev)
		}
		return
	}
	g.seq++
	g.buf = append(g.buf, rec{t: ms, seq: g.seq, ev: ev, tr: tr, tr2: tr2})
	if tr != nil {
		tr.planned++
	}
	if tr2 != nil {
		tr2.planned++
	}
}

// flush writes, in time order, every buffered event before wm.
func (g *gen) flush(wm int64) error {
	slices.SortFunc(g.buf, func(a, b rec) int {
		if a.t != b.t {
			if a.t < b.t {
				return -1
			}
			return 1
		}
		if a.seq < b.seq {
			return -1
		}
		return 1
	})
	n := 0
	for n < len(g.buf) && g.buf[n].t < wm {
		if !g.w.full() {
			if err := g.w.write(&g.buf[n]); err != nil {
				return err
			}
		}
		n++
	}
	rest := copy(g.buf, g.buf[n:])
	clear(g.buf[rest:])
	g.buf = g.buf[:rest]
	g.wm = max(g.wm, wm)
	return nil
}

// Run generates the organization's days and writes the logs and the
// truth file to out. Running it again writes the same bytes.
func (o *Org) Run(ctx context.Context, out Output) (Summary, error) {
	w, err := newWriter(o, out)
	if err != nil {
		return Summary{}, err
	}
	for _, t := range o.truth {
		t.reset()
	}
	for _, c := range o.counters {
		clear(c.counts)
	}
	g := &gen{o: o, w: w, wm: math.MinInt64}
	days := o.cfg.Days
	for d := 0; d < days; d++ {
		if err := ctx.Err(); err != nil {
			w.abort()
			return w.summary(), err
		}
		for i := range o.People {
			g.personDay(&o.People[i], d)
		}
		for _, m := range o.Machines {
			g.machineDay(m, d)
		}
		if g.err != nil {
			w.abort()
			return w.summary(), g.err
		}
		// The next day's events start no earlier than local midnight in
		// the easternmost time zone (UTC+14 at most).
		if err := g.flush(o.day(d + 1).Add(-14 * time.Hour).UnixMilli()); err != nil {
			w.abort()
			return w.summary(), err
		}
		if w.full() {
			break
		}
	}
	if err := g.flush(math.MaxInt64); err != nil {
		w.abort()
		return w.summary(), err
	}
	if err := w.close(); err != nil {
		return w.summary(), err
	}
	return w.summary(), nil
}
