// Package ingest moves records from inputs (files, directories, gzip,
// standard input, followed files) through the source decoders into a store:
// batched, deduplicated, and with every record that cannot be decoded
// quarantined with its reason, file and line. Nothing is dropped silently.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store"
)

// Sink stores batches. The SQLite store implements it.
type Sink interface {
	Append(ctx context.Context, b *store.Batch) (store.Result, error)
}

// Options tune a run. The zero value is usable.
type Options struct {
	// Source forces every record to be decoded as this format instead of
	// detecting it.
	Source event.Source
	// BatchSize is the number of records per write transaction.
	BatchSize int
	// Workers is the number of decoding goroutines; 0 picks one per core,
	// leaving one for the writer.
	Workers int
	// MaxRecord bounds one record in bytes; 0 means source.DefaultMaxRecord.
	MaxRecord int
	// Now stamps receive times; nil means time.Now.
	Now func() time.Time
	// Log receives per-input problems; nil discards them.
	Log *slog.Logger
	// Progress, when set, is updated as the run goes.
	Progress *Progress
}

// Progress is read concurrently by a progress display.
type Progress struct {
	Bytes   atomic.Int64 // input bytes consumed (compressed size for gzip)
	Records atomic.Int64 // records written or quarantined
}

// Summary is what a run did. Counts are in vendor records (one Workspace
// activity with three events is one record): Read = Stored + Duplicates +
// Quarantined.
type Summary struct {
	Read        int                         `json:"read"`
	Stored      int                         `json:"stored"`
	Duplicates  int                         `json:"duplicates"`
	Quarantined int                         `json:"quarantined"`
	Events      int                         `json:"events"`
	BySource    map[event.Source]*SourceSum `json:"by_source"`
	Inputs      int                         `json:"inputs"`
	Errors      []string                    `json:"errors,omitempty"`
}

// SourceSum is Summary for one source. Records that matched no format count
// under "unknown".
type SourceSum struct {
	Read        int `json:"read"`
	Stored      int `json:"stored"`
	Duplicates  int `json:"duplicates"`
	Quarantined int `json:"quarantined"`
}

// Unknown is the BySource key of records no decoder recognized.
const Unknown event.Source = "unknown"

func (s *Summary) src(k event.Source) *SourceSum {
	if k == "" {
		k = Unknown
	}
	if s.BySource[k] == nil {
		s.BySource[k] = &SourceSum{}
	}
	return s.BySource[k]
}

// chunk is a raw record cut from an input, copied out of the scanner.
type chunk struct {
	origin string
	line   int
	data   []byte
	err    error
}

// ErrInputs is returned (wrapped) when some inputs could not be read; the
// others were ingested.
var ErrInputs = errors.New("some inputs could not be read")

// ErrInterrupted is returned (wrapped) when ctx ended a run before its
// inputs did; everything read until then was stored.
var ErrInterrupted = errors.New("interrupted")

// Run ingests inputs into sink and returns what it did. A failing sink
// stops the run; an unreadable input is reported in Summary.Errors and
// ErrInputs, and the other inputs are still read. When ctx is done, reading
// stops and what was read is still stored: that is how a followed file
// ends (without error), and an interrupted run ends with ErrInterrupted.
func Run(ctx context.Context, sink Sink, inputs []Input, opt Options) (Summary, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 4096
	}
	if opt.Workers <= 0 {
		opt.Workers = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Progress == nil {
		opt.Progress = &Progress{}
	}
	if _, err := source.NewSet(opt.Source); err != nil {
		return Summary{}, err
	}
	sum := Summary{BySource: map[event.Source]*SourceSum{}, Inputs: len(inputs)}

	// ctx stops reading; pipe stops the pipeline, only when the store
	// fails, so that records already read are stored after ctx ends.
	pipe, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	jobs := make(chan []chunk, opt.Workers*2)
	batches := make(chan *store.Batch, opt.Workers*2)

	var readErrs []string
	go func() {
		defer close(jobs)
		readErrs = readInputs(ctx, pipe, inputs, opt, jobs)
	}()

	var wg sync.WaitGroup
	for range opt.Workers {
		set, _ := source.NewSet(opt.Source)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				b := decodeJob(set, job, opt.Now())
				select {
				case batches <- b:
				case <-pipe.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(batches) }()

	var writeErr error
	for b := range batches {
		if writeErr != nil {
			continue // drain so the workers can finish
		}
		res, err := sink.Append(pipe, b)
		if err != nil {
			writeErr = err
			cancel(err)
			continue
		}
		sum.add(b, res)
		opt.Progress.Records.Add(int64(len(b.Records) + len(b.Quarantine)))
	}
	sum.Errors = readErrs
	if writeErr != nil {
		return sum, fmt.Errorf("ingest: store: %w", writeErr)
	}
	if len(readErrs) > 0 {
		return sum, fmt.Errorf("%w: %s", ErrInputs, strings.Join(readErrs, "; "))
	}
	if ctx.Err() != nil && !following(inputs) {
		return sum, fmt.Errorf("ingest: %w after %d records", ErrInterrupted, sum.Read)
	}
	return sum, nil
}

func (s *Summary) add(b *store.Batch, res store.Result) {
	s.Stored += res.Stored
	s.Duplicates += res.Duplicates
	s.Events += res.Events
	s.Quarantined += len(b.Quarantine)
	for src, c := range res.BySource {
		x := s.src(src)
		x.Stored += c.Stored
		x.Duplicates += c.Duplicates
		x.Read += c.Stored + c.Duplicates
	}
	for _, q := range b.Quarantine {
		x := s.src(q.Source)
		x.Quarantined++
		x.Read++
	}
	s.Read = s.Stored + s.Duplicates + s.Quarantined
}

func following(inputs []Input) bool {
	for _, in := range inputs {
		if in.follow {
			return true
		}
	}
	return false
}

// readInputs cuts every input into chunks and sends them in jobs, until the
// inputs end or ctx does. It returns the inputs that failed.
func readInputs(ctx, pipe context.Context, inputs []Input, opt Options, jobs chan<- []chunk) []string {
	var errs []string
	job := make([]chunk, 0, opt.BatchSize)
	size := 0
	send := func() bool {
		if len(job) == 0 {
			return true
		}
		select {
		case jobs <- job:
		case <-pipe.Done():
			return false
		}
		job = make([]chunk, 0, opt.BatchSize)
		size = 0
		return true
	}
	for _, in := range inputs {
		if ctx.Err() != nil {
			break
		}
		// idle runs when a followed file has no more data for now: hand
		// over what was read so it is stored promptly.
		idle := func() { send() }
		err := readInput(ctx, in, opt, idle, func(c chunk) bool {
			job = append(job, c)
			size += len(c.data)
			if len(job) >= opt.BatchSize || size >= 8<<20 {
				return send()
			}
			return true
		})
		if err != nil {
			opt.Log.Error("cannot read input", "input", in.Name, "err", err)
			errs = append(errs, fmt.Sprintf("%s: %v", in.Name, err))
		}
	}
	send()
	return errs
}

func readInput(ctx context.Context, in Input, opt Options, idle func(), emit func(chunk) bool) error {
	rc, err := in.open(ctx, idle)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, zc, err := decompress(countingReader{rc, &opt.Progress.Bytes})
	if err != nil {
		return err
	}
	defer zc.Close()
	sc := source.NewScanner(r, opt.MaxRecord)
	for {
		c, err := sc.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		// The scanner reuses its buffer: copy.
		if !emit(chunk{origin: in.Name, line: c.Line, data: append([]byte(nil), c.Data...), err: c.Err}) {
			return nil // the store failed; Run reports that
		}
		if ctx.Err() != nil {
			return nil // interrupted; Run reports that
		}
	}
}

// decodeJob decodes chunks into a batch: events with their record digests,
// quarantine entries for what failed, and the compressed block of raw
// records (built here, off the writer's path).
func decodeJob(set *source.Set, job []chunk, now time.Time) *store.Batch {
	b := &store.Batch{}
	var recs []source.Record
	var raws [][]byte
	for _, c := range job {
		if c.err != nil {
			b.Quarantine = append(b.Quarantine, store.Quarantined{
				Origin: c.origin, Line: c.line, Elem: -1, Reason: c.err.Error(), Raw: c.data, Received: now,
			})
			continue
		}
		recs = set.Decode(recs[:0], c.data)
		for _, r := range recs {
			if r.Err != nil {
				b.Quarantine = append(b.Quarantine, store.Quarantined{
					Origin: c.origin, Line: c.line, Elem: r.Elem, Source: r.Source,
					Reason: r.Err.Error(), Raw: r.Raw, Received: now,
				})
				continue
			}
			for i := range r.Events {
				r.Events[i].Received = now
			}
			b.Records = append(b.Records, store.Record{Raw: r.Raw, Digest: store.RecordDigest(r.Raw), Events: r.Events})
			raws = append(raws, r.Raw)
		}
	}
	if len(raws) > 0 {
		b.Block = store.PackBlock(raws, nil)
	}
	return b
}

// Rehydrate re-derives the normalized event of a stored row from its
// original record.
func Rehydrate(set *source.Set, row store.Row) (event.Event, error) {
	recs := set.DecodeAs(nil, row.Source, row.Raw)
	if len(recs) != 1 {
		return event.Event{}, fmt.Errorf("event %d: stored record decodes to %d records", row.ID, len(recs))
	}
	r := recs[0]
	if r.Err != nil {
		return event.Event{}, fmt.Errorf("event %d: %w", row.ID, r.Err)
	}
	if row.Part < 0 || row.Part >= len(r.Events) {
		return event.Event{}, fmt.Errorf("event %d: part %d of a record with %d events", row.ID, row.Part, len(r.Events))
	}
	e := r.Events[row.Part]
	e.Received = row.Received
	return e, nil
}

// SortedSources returns the keys of BySource in order, for stable output.
func (s *Summary) SortedSources() []event.Source {
	keys := make([]event.Source, 0, len(s.BySource))
	for k := range s.BySource {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
