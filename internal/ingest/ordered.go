package ingest

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store"
)

// StreamOptions tune Stream. The zero value is usable.
type StreamOptions struct {
	// Source forces a format instead of detecting it.
	Source event.Source
	// MaxRecord bounds one record in bytes; 0 means source.DefaultMaxRecord.
	MaxRecord int
	// Lateness is how far out of order events within one input may be and
	// still be delivered in order (CloudTrail files are unordered inside);
	// 0 means 15 minutes.
	Lateness time.Duration
	// Buffer bounds the events held per input for reordering; 0 means
	// 200,000.
	Buffer int
	// Quarantine, when set, receives every record that cannot be decoded.
	Quarantine func(store.Quarantined)
	// Now stamps receive times; nil means time.Now.
	Now func() time.Time
}

// StreamSummary is what Stream read.
type StreamSummary struct {
	Read        int                               `json:"read"`
	Events      int                               `json:"events"`
	Quarantined int                               `json:"quarantined"`
	BySource    map[event.Source]*StreamSourceSum `json:"by_source"`
	// Late counts events delivered after a later event had been: their
	// input was more out of order than Lateness allows.
	Late   int      `json:"late"`
	Inputs int      `json:"inputs"`
	Errors []string `json:"errors,omitempty"`
}

// Stream reads inputs, decodes them, and calls fn with every event in event
// time order across all inputs, so that a detector sees an identity's Okta,
// Entra and CloudTrail events interleaved as they happened. Each input is
// read in order and reordered within Lateness; inputs are merged by time
// and opened only when the merge reaches their first event, so that a
// directory of thousands of CloudTrail files holds few open at once.
// Order is deterministic: ties go by input order, then by position.
// fn's event is valid only during the call.
func Stream(ctx context.Context, inputs []Input, opt StreamOptions, fn func(*event.Event) error) (StreamSummary, error) {
	if opt.Lateness <= 0 {
		opt.Lateness = 15 * time.Minute
	}
	if opt.Buffer <= 0 {
		opt.Buffer = 200_000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if _, err := source.NewSet(opt.Source); err != nil {
		return StreamSummary{}, err
	}
	sum := StreamSummary{BySource: map[event.Source]*StreamSourceSum{}, Inputs: len(inputs)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Order inputs by their first event so that each opens when the merge
	// reaches it.
	streams := make([]*stream, len(inputs))
	for i, in := range inputs {
		streams[i] = &stream{idx: i, in: in}
		if in.Name != "-" && !in.follow {
			streams[i].first = firstTime(ctx, in, opt)
		}
	}
	pending := append([]*stream(nil), streams...)
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].first.Before(pending[j].first) })

	var active streamHeap
	var last time.Time
	activate := func(s *stream) {
		s.start(ctx, opt)
		if s.fill(opt, &sum) {
			heap.Push(&active, s)
		}
	}
	for {
		// Every input whose first event is not after the next event to
		// deliver must be open.
		for len(pending) > 0 && (active.Len() == 0 || !pending[0].first.After(active[0].head().ev.Time)) {
			activate(pending[0])
			pending = pending[1:]
		}
		if active.Len() == 0 {
			break
		}
		s := active[0]
		it := heap.Pop(&s.buf).(*item)
		if it.ev.Time.Before(last) {
			sum.Late++
		} else {
			last = it.ev.Time
		}
		sum.Events++
		if err := fn(&it.ev); err != nil {
			return sum, err
		}
		if s.fill(opt, &sum) {
			heap.Fix(&active, 0)
		} else {
			heap.Pop(&active)
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, s := range streams {
		if s.err != nil {
			sum.Errors = append(sum.Errors, fmt.Sprintf("%s: %v", s.in.Name, s.err))
		}
	}
	if len(sum.Errors) > 0 {
		return sum, fmt.Errorf("%w: %s", ErrInputs, sum.Errors[0])
	}
	return sum, ctx.Err()
}

// item is an event with its position in its input.
type item struct {
	ev  event.Event
	seq int64
}

// batch is what an input's reader goroutine hands over.
type batch struct {
	items []item // the buffer holds pointers into it
	recs  int    // vendor records read (decoded or not)
	quar  []store.Quarantined
	srcs  map[event.Source]int // decoded records per source
}

// stream is one input being merged.
type stream struct {
	idx   int
	in    Input
	first time.Time
	ch    chan batch
	errc  chan error
	buf   itemHeap
	max   time.Time // newest event time read so far
	done  bool
	err   error
}

// start launches the reader goroutine.
func (s *stream) start(ctx context.Context, opt StreamOptions) {
	s.ch = make(chan batch, 4)
	s.errc = make(chan error, 1)
	go func() {
		defer close(s.ch)
		s.errc <- readStream(ctx, s.in, opt, s.ch)
	}()
}

// fill reads until the oldest buffered event can be delivered in order
// (the input has moved Lateness past it, the buffer is full, or the input
// ended). It reports whether an event is ready.
func (s *stream) fill(opt StreamOptions, sum *StreamSummary) bool {
	for !s.done && (s.buf.Len() == 0 || s.max.Sub(s.buf[0].ev.Time) < opt.Lateness && s.buf.Len() < opt.Buffer) {
		b, ok := <-s.ch
		if !ok {
			s.done = true
			s.err = <-s.errc
			break
		}
		sum.Read += b.recs
		sum.Quarantined += len(b.quar)
		for _, q := range b.quar {
			src := q.Source
			if src == "" {
				src = Unknown
			}
			c := sum.src(src)
			c.Quarantined++
			c.Read++
			if opt.Quarantine != nil {
				opt.Quarantine(q)
			}
		}
		for src, n := range b.srcs {
			c := sum.src(src)
			c.Decoded += n
			c.Read += n
		}
		for i := range b.items {
			it := &b.items[i]
			if it.ev.Time.After(s.max) {
				s.max = it.ev.Time
			}
			heap.Push(&s.buf, it)
		}
	}
	return s.buf.Len() > 0
}

// StreamSourceSum is StreamSummary for one source.
type StreamSourceSum struct {
	Read        int `json:"read"`
	Decoded     int `json:"decoded"`
	Quarantined int `json:"quarantined"`
}

func (s *StreamSummary) src(k event.Source) *StreamSourceSum {
	if s.BySource[k] == nil {
		s.BySource[k] = &StreamSourceSum{}
	}
	return s.BySource[k]
}

func (s *stream) head() *item { return s.buf[0] }

// readStream decodes one input into batches.
func readStream(ctx context.Context, in Input, opt StreamOptions, out chan<- batch) error {
	set, err := source.NewSet(opt.Source)
	if err != nil {
		return err
	}
	rc, err := in.open(ctx, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, zc, err := decompress(rc)
	if err != nil {
		return err
	}
	defer zc.Close()
	sc := source.NewScanner(r, opt.MaxRecord)
	var recs []source.Record
	var seq int64
	b := batch{srcs: map[event.Source]int{}}
	// Raw records are copied into one arena per batch rather than one
	// allocation each: the garbage collector then has a few large
	// pointer-free blocks to manage instead of a million small ones.
	var arena []byte
	keep := func(data []byte) []byte {
		if len(data) > cap(arena)-len(arena) {
			arena = make([]byte, 0, max(1<<20, len(data)))
		}
		start := len(arena)
		arena = append(arena, data...)
		return arena[start:len(arena):len(arena)]
	}
	send := func() bool {
		select {
		case out <- b:
		case <-ctx.Done():
			return false
		}
		b = batch{srcs: map[event.Source]int{}}
		return true
	}
	for {
		c, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			send()
			return err
		}
		now := opt.Now()
		if c.Err != nil {
			b.recs++
			b.quar = append(b.quar, store.Quarantined{Origin: in.Name, Line: c.Line, Elem: -1, Reason: c.Err.Error(),
				Raw: keep(c.Data), Received: now})
		} else {
			// Records keep their bytes as evidence (and for Sigma): copy
			// them out of the scanner's buffer.
			recs = set.Decode(recs[:0], keep(c.Data))
			for _, rec := range recs {
				b.recs++
				if rec.Err != nil {
					b.quar = append(b.quar, store.Quarantined{Origin: in.Name, Line: c.Line, Elem: rec.Elem, Source: rec.Source,
						Reason: rec.Err.Error(), Raw: rec.Raw, Received: now})
					continue
				}
				b.srcs[rec.Source]++
				for _, e := range rec.Events {
					e.Received = now
					b.items = append(b.items, item{ev: e, seq: seq})
					seq++
				}
			}
		}
		if len(b.items) >= 1024 || len(b.quar) >= 1024 {
			if !send() {
				return ctx.Err()
			}
		}
	}
	if len(b.items) > 0 || len(b.quar) > 0 || b.recs > 0 {
		send()
	}
	return nil
}

// firstTime returns the time of an input's first decodable event, or the
// zero time (which sorts first) when it has none in its first records.
func firstTime(ctx context.Context, in Input, opt StreamOptions) time.Time {
	rc, err := in.open(ctx, nil)
	if err != nil {
		return time.Time{} // the error surfaces when the input is read
	}
	defer rc.Close()
	r, zc, err := decompress(rc)
	if err != nil {
		return time.Time{}
	}
	defer zc.Close()
	set, _ := source.NewSet(opt.Source)
	sc := source.NewScanner(r, opt.MaxRecord)
	var recs []source.Record
	for range 1000 {
		c, err := sc.Next()
		if err != nil {
			return time.Time{}
		}
		if c.Err != nil {
			continue
		}
		recs = set.Decode(recs[:0], c.Data)
		for _, rec := range recs {
			if rec.Err == nil && len(rec.Events) > 0 {
				return rec.Events[0].Time
			}
		}
	}
	return time.Time{}
}

// itemHeap orders an input's buffered events by time, then position. It
// holds pointers: events are large, and swapping them would cost more than
// everything else the heap does.
type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].ev.Time.Equal(h[j].ev.Time) {
		return h[i].ev.Time.Before(h[j].ev.Time)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

// streamHeap orders open inputs by their next event, then input order.
type streamHeap []*stream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	a, b := h[i].head().ev.Time, h[j].head().ev.Time
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h[i].idx < h[j].idx
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
