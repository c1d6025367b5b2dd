package cli

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest"
)

// replayClock is the demo's simulated time, at which risk is judged: the
// event time the replay has reached (never beyond the last record the
// service has acknowledged), and after the replay the end of the logs plus
// the wall time since, at 1×. It is safe for concurrent use.
type replayClock struct {
	now func() time.Time

	mu        sync.Mutex
	posted    time.Time // event time of the latest record acknowledged
	replaying bool
	t0, w0    time.Time // the replay's start, in event time and wall time
	speed     float64
	ended     bool
	end, wend time.Time
}

func newReplayClock(start time.Time, now func() time.Time) *replayClock {
	return &replayClock{now: now, posted: start}
}

// Now is the simulated time.
func (c *replayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *replayClock) nowLocked() time.Time {
	switch {
	case c.ended:
		return c.end.Add(c.now().Sub(c.wend))
	case c.replaying:
		if cur := c.cursorLocked(); cur.Before(c.posted) {
			return cur
		}
	}
	return c.posted
}

// start begins the paced replay at event time t0, now.
func (c *replayClock) start(t0 time.Time, speed float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replaying, c.t0, c.w0, c.speed = true, t0, c.now(), speed
}

// cursor is the event time due now: records up to it may be posted.
func (c *replayClock) cursor() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursorLocked()
}

func (c *replayClock) cursorLocked() time.Time {
	d := float64(c.now().Sub(c.w0)) * c.speed
	if d > math.MaxInt64/2 {
		d = math.MaxInt64 / 2
	}
	return c.t0.Add(time.Duration(d))
}

// acknowledged records that the service has stored and judged records up
// to event time t.
func (c *replayClock) acknowledged(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.posted) {
		c.posted = t
	}
}

// finish ends the replay: from now on the clock runs at 1×.
func (c *replayClock) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.end, c.wend = c.nowLocked(), c.now()
	c.ended = true
}

// Batches of the replay: big for the history (fewer requests, one SQLite
// transaction each), bounded for the ingest body limit.
const (
	demoBatchRecords = 2000
	demoBatchBytes   = 8 << 20
	demoTick         = 100 * time.Millisecond
)

// replay posts the simulated logs into the service in event-time order:
// the history as fast as the service takes it, then the rest paced by the
// clock. One sender: order matters to the engine.
type replay struct {
	e      *env
	api    *apiClient // admin: progress
	ingest *apiClient // ingest token: posting
	clock  *replayClock
	speed  float64
	from   time.Time // event time where the paced replay begins
	total  int       // records in the logs, for progress

	sent     atomic.Int64 // records acknowledged
	lastSent atomic.Int64 // event time (Unix ns) of the latest acknowledged
	phase    atomic.Int32 // 0 history, 1 replay, 2 done
}

type demoRecords struct {
	History int `json:"history"`
	Replay  int `json:"replay"`
}

type replayResult struct {
	records                 demoRecords
	historySecs, replaySecs float64
}

type demoBatch struct {
	body []byte
	n    int
	last time.Time
	mark chan struct{} // a barrier: closed when every batch before it is acknowledged
}

func (r *replay) run(ctx context.Context, logs string) (replayResult, error) {
	var res replayResult
	inputs, _, err := ingest.Resolve([]string{logs}, nil, false)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan demoBatch, 2)
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for b := range batches {
			if b.mark != nil {
				close(b.mark)
				continue
			}
			if err := r.ingest.post(ctx, "auto", b.body); err != nil {
				cancel(err)
				return
			}
			r.clock.acknowledged(b.last)
			r.sent.Add(int64(b.n))
			r.lastSent.Store(b.last.UnixNano())
		}
	}()
	progressDone := make(chan struct{})
	pctx, stopProgress := context.WithCancel(ctx)
	go func() {
		defer close(progressDone)
		r.progress(pctx)
	}()
	defer func() {
		close(batches)
		<-senderDone
		stopProgress()
		<-progressDone
	}()

	var buf bytes.Buffer
	n := 0
	var last time.Time
	flush := func() error {
		if n == 0 {
			return nil
		}
		b := demoBatch{body: bytes.Clone(buf.Bytes()), n: n, last: last}
		buf.Reset()
		n = 0
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	barrier := func() error {
		if err := flush(); err != nil {
			return err
		}
		mark := make(chan struct{})
		select {
		case batches <- demoBatch{mark: mark}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		select {
		case <-mark:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}

	begin := time.Now()
	var replayStart time.Time
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	var lastRaw []byte
	_, err = ingest.Stream(ctx, inputs, ingest.StreamOptions{}, func(ev *event.Event) error {
		if bytes.Equal(ev.Raw, lastRaw) { // one record, several events
			return nil
		}
		lastRaw = ev.Raw
		if ticker == nil && !ev.Time.Before(r.from) {
			// The history is in: the baselines are built. Start the clock.
			if err := barrier(); err != nil {
				return err
			}
			res.records.History = int(r.sent.Load())
			res.historySecs = time.Since(begin).Seconds()
			fmt.Fprintf(r.e.stderr, "vigil demo: history loaded: %d records up to %s in %.1f s (%.0f records/s); replaying from %s at %gx\n",
				res.records.History, r.from.Format("Mon 2 Jan 15:04 MST"), res.historySecs, float64(res.records.History)/res.historySecs,
				r.from.Format("Mon 2 Jan"), r.speed)
			r.clock.start(r.from, r.speed)
			r.phase.Store(1)
			replayStart = time.Now()
			ticker = time.NewTicker(demoTick)
		}
		if ticker != nil {
			for ev.Time.After(r.clock.cursor()) {
				if err := flush(); err != nil {
					return err
				}
				select {
				case <-ticker.C:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
		}
		buf.Write(ev.Raw)
		buf.WriteByte('\n')
		n++
		if ev.Time.After(last) {
			last = ev.Time
		}
		if n >= demoBatchRecords || buf.Len() >= demoBatchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = barrier()
	}
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return res, cause
		}
		return res, err
	}
	total := int(r.sent.Load())
	if ticker == nil { // nothing after r.from
		res.records.History, res.historySecs = total, time.Since(begin).Seconds()
	} else {
		res.records.Replay = total - res.records.History
		res.replaySecs = time.Since(replayStart).Seconds()
	}
	r.phase.Store(2)
	fmt.Fprintf(r.e.stderr, "vigil demo: replayed %d records in %.1f s\n", res.records.Replay, res.replaySecs)
	return res, nil
}

// progress reports on standard error: the history's progress every few
// seconds; during the replay, where the simulated clock is and each new
// high or critical incident and finished action as it happens.
func (r *replay) progress(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	seenInc, seenAct := map[string]bool{}, map[string]bool{}
	primed := false
	var lastLine time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		switch r.phase.Load() {
		case 0:
			if now.Sub(lastLine) >= 5*time.Second && r.lastSent.Load() != 0 {
				lastLine = now
				at := time.Unix(0, r.lastSent.Load()).UTC()
				fmt.Fprintf(r.e.stderr, "vigil demo: history: %d of %d records posted (through %s)\n",
					r.sent.Load(), r.total, at.Format("Mon 2 Jan 15:04"))
			}
		case 1:
			incs, acts, err := r.api.recent(ctx)
			if err != nil {
				continue // the summary reports what matters; progress is best effort
			}
			for _, inc := range incs {
				if seenInc[inc.ID] || inc.Severity.Rank() < event.SeverityHigh.Rank() {
					continue
				}
				seenInc[inc.ID] = true
				if primed {
					fmt.Fprintf(r.e.stderr, "vigil demo: %s  incident (%s) %s: %s\n", inc.Opened.UTC().Format("Mon 2 Jan 15:04"), inc.Severity, inc.Identity, inc.Summary)
				}
			}
			for _, a := range acts {
				if seenAct[a.ID] || a.State == "pending" || a.State == "sending" {
					continue
				}
				seenAct[a.ID] = true
				if primed {
					what := a.Result
					if a.LastError != "" {
						what = a.LastError
					}
					fmt.Fprintf(r.e.stderr, "vigil demo:   -> %s.%s %s: %s (%s)\n", a.Connector, a.Kind, a.Target, a.State, what)
				}
			}
			primed = true
			if now.Sub(lastLine) >= 15*time.Second {
				lastLine = now
				fmt.Fprintf(r.e.stderr, "vigil demo: replaying %s (%d records posted)\n", r.clock.Now().UTC().Format("Mon 2 Jan 15:04"), r.sent.Load())
			}
		}
	}
}
