package poll_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest/poll"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func init() {
	// The store's zstd encoder is created once per process and holds
	// channels: create it outside any synctest bubble, or the second test
	// to use it from its own bubble would be refused.
	store.PackBlock([][]byte{[]byte(`{}`)}, nil)
}

// sqlCursors keeps cursors in a table of a real SQLite file, as the
// service will in its store.
type sqlCursors struct {
	db *sql.DB

	mu       sync.Mutex
	failSets int // SetCursor calls to fail
	sets     int
}

var _ poll.Cursors = (*sqlCursors)(nil)

func openCursors(t testing.TB, path string) *sqlCursors {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS poll_cursor (name TEXT PRIMARY KEY, value TEXT NOT NULL)`); err != nil {
		db.Close()
		t.Fatal(err)
	}
	c := &sqlCursors{db: db}
	t.Cleanup(func() { db.Close() })
	return c
}

func (c *sqlCursors) Cursor(ctx context.Context, name string) (string, error) {
	var v string
	err := c.db.QueryRowContext(ctx, `SELECT value FROM poll_cursor WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (c *sqlCursors) SetCursor(ctx context.Context, name, value string) error {
	c.mu.Lock()
	c.sets++
	fail := c.failSets > 0
	if fail {
		c.failSets--
	}
	c.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	_, err := c.db.ExecContext(ctx, `INSERT INTO poll_cursor (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

func (c *sqlCursors) get(t testing.TB, name string) string {
	t.Helper()
	v, err := c.Cursor(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (c *sqlCursors) failNextSets(n int) {
	c.mu.Lock()
	c.failSets = n
	c.mu.Unlock()
}

// sink records what it is given. With a store it also decodes the records
// and appends them as ingestion does, so that dedupe is the store's.
type sink struct {
	mu       sync.Mutex
	raws     [][]byte
	sources  []event.Source
	origins  map[string]bool
	calls    int
	failNext int
	store    *sqlite.Store
	set      *source.Set
	stored   int
	dups     int
	quar     int
}

var _ poll.Sink = (*sink)(nil)

func newSink() *sink { return &sink{origins: map[string]bool{}} }

// withStore makes the sink store records in a SQLite store, as ingest does.
func (s *sink) withStore(t testing.TB) *sink {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.store = st
	s.set, _ = source.NewSet("")
	return s
}

func (s *sink) Records(ctx context.Context, src event.Source, origin string, raws [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failNext > 0 {
		s.failNext--
		return errors.New("store unavailable")
	}
	if s.store != nil {
		b := &store.Batch{}
		var recs []source.Record
		for _, raw := range raws {
			recs = s.set.Decode(recs[:0], raw)
			for _, r := range recs {
				if r.Err != nil || r.Source != src {
					s.quar++
					continue
				}
				b.Records = append(b.Records, store.Record{Raw: r.Raw, Digest: store.RecordDigest(r.Raw), Events: r.Events})
			}
		}
		res, err := s.store.Append(ctx, b)
		if err != nil {
			return err
		}
		s.stored += res.Stored
		s.dups += res.Duplicates
	}
	for _, r := range raws {
		s.raws = append(s.raws, r)
		s.sources = append(s.sources, src)
	}
	s.origins[origin] = true
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.raws)
}

func (s *sink) all() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.raws...)
}

func (s *sink) fail(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// metrics records what pollers report.
type metrics struct {
	mu        sync.Mutex
	pages     int
	fetched   int
	delivered int
	throttled []time.Duration
	errors    map[poll.ErrorKind]int
	lag       time.Duration
	lags      int
}

var _ poll.Metrics = (*metrics)(nil)

func newMetrics() *metrics { return &metrics{errors: map[poll.ErrorKind]int{}} }

func (m *metrics) Page(_ string, fetched, delivered int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pages++
	m.fetched += fetched
	m.delivered += delivered
}

func (m *metrics) Throttled(_ string, wait time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.throttled = append(m.throttled, wait)
}

func (m *metrics) Error(_ string, kind poll.ErrorKind) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errors[kind]++
}

func (m *metrics) Lag(_ string, lag time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lag = lag
	m.lags++
}

func (m *metrics) errs(kind poll.ErrorKind) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errors[kind]
}

// start runs a poller until the returned stop is called; stop returns
// Run's error. done is closed when Run returns, by itself or stopped.
func start(t testing.TB, run func(context.Context) error) (stop func() error, done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	var err error
	go func() {
		err = run(ctx)
		close(ch)
	}()
	stop = func() error {
		cancel()
		<-ch
		return err
	}
	t.Cleanup(func() { stop() })
	return stop, ch
}

func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
