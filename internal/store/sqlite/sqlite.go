// Package sqlite is Vigil's embedded store: one SQLite file in WAL mode
// (pure-Go driver, so the binary stays static), schema migrations embedded
// in the binary, batched writes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store. Writes go through one connection, queued in
// arrival order by database/sql rather than by SQLite's busy handler
// (which sleeps in coarse steps and made a waiting writer late by seconds
// under load); reads run concurrently with them (WAL).
type Store struct {
	path string
	db   *sql.DB // readers
	w    *sql.DB // the writer

	mu     sync.Mutex // guards blocks
	blocks blockCache
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
		}
	}
	// Logs are sensitive: create the file readable by its owner only
	// (SQLite gives the -wal and -shm files the same mode).
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)", "cache_size(-65536)", "wal_autocheckpoint(16384)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, db: db, w: w, blocks: blockCache{max: 16}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.w.Close(), s.db.Close()) }

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the number of the last applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// migrate applies the embedded migrations newer than the database's
// user_version, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s: read schema version: %w", s.path, err)
	}
	if cur > len(names) {
		return fmt.Errorf("sqlite: %s has schema version %d, newer than this vigil knows (%d): upgrade vigil", s.path, cur, len(names))
	}
	for i, name := range names {
		v := i + 1
		if prefix, _, _ := strings.Cut(filepath.Base(name), "_"); prefix != fmt.Sprintf("%04d", v) {
			return fmt.Errorf("sqlite: migration %s is out of sequence (want %04d_…)", name, v)
		}
		if v <= cur {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: %s: migrate: %w", s.path, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: %s: migration %s: %w", s.path, name, err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(v)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: %s: migration %s: %w", s.path, name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: %s: migration %s: %w", s.path, name, err)
		}
	}
	return nil
}

const eventCols = 17

// rowsPerInsert is how many events one INSERT statement carries: fewer
// statements is most of the write speed with this driver.
const rowsPerInsert = 64

var insertPrefix = "INSERT INTO events (dedupe, source, vendor_id, time, received, category, activity, " +
	"vendor_type, result, actor, actor_kind, session, session_alt, ip, block, slot, part) VALUES "

func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(insertPrefix)
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", eventCols), ",") + ")"
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ph)
	}
	return b.String()
}

var fullInsert = insertSQL(rowsPerInsert)

// Append writes a batch in one transaction: events not stored before, their
// records (compressed), and quarantined records.
func (s *Store) Append(ctx context.Context, b *store.Batch) (store.Result, error) {
	res := store.Result{BySource: map[event.Source]store.SourceCounts{}}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()

	// Keys of every event, and which of them exist already.
	type pending struct {
		rec, part int
		key       store.Key
	}
	var all []pending
	for i := range b.Records {
		r := &b.Records[i]
		for p := range r.Events {
			e := &r.Events[p]
			all = append(all, pending{i, p, store.EventKey(e.Time, e.Source, e.VendorID, p, r.Digest)})
		}
	}
	keys := make([][]byte, len(all))
	for i := range all {
		keys[i] = all[i].key[:]
	}
	existing, err := s.existing(ctx, tx, keys)
	if err != nil {
		return res, err
	}
	newRec := make([]bool, len(b.Records))
	isNew := make([]bool, len(all))
	for i, p := range all {
		if _, dup := existing[p.key]; dup {
			continue
		}
		existing[p.key] = struct{}{} // the same event twice in one batch
		isNew[i] = true
		newRec[p.rec] = true
	}

	res.Fresh = newRec
	// The block holds the records that have at least one new event.
	slot := make([]int, len(b.Records))
	var raws [][]byte
	for i, r := range b.Records {
		src := firstSource(r.Events)
		c := res.BySource[src]
		if newRec[i] {
			slot[i] = len(raws)
			raws = append(raws, r.Raw)
			res.Stored++
			c.Stored++
		} else {
			res.Duplicates++
			c.Duplicates++
		}
		res.BySource[src] = c
	}
	var blockID int64
	if len(raws) > 0 {
		data := b.Block
		if data == nil || len(raws) != len(b.Records) {
			data = store.PackBlock(raws, nil)
		}
		r, err := tx.ExecContext(ctx, "INSERT INTO blocks (codec, count, data) VALUES ('zstd', ?, ?)", len(raws), data)
		if err != nil {
			return res, fmt.Errorf("sqlite: write block: %w", err)
		}
		if blockID, err = r.LastInsertId(); err != nil {
			return res, err
		}
	}

	args := make([]any, 0, rowsPerInsert*eventCols)
	n := 0
	var full *sql.Stmt
	flush := func() error {
		if n == 0 {
			return nil
		}
		var err error
		if n == rowsPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, fullInsert); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(n), args...)
		}
		args, n = args[:0], 0
		return err
	}
	for i, p := range all {
		if !isNew[i] {
			continue
		}
		e := &b.Records[p.rec].Events[p.part]
		sess, alt := sessionKeys(e.Session)
		args = append(args, p.key[:], string(e.Source), e.VendorID, e.Time.UnixNano(), e.Received.UnixNano(),
			string(e.Category), string(e.Activity), e.VendorType, string(e.Outcome.Result),
			e.Actor.ID, string(e.Actor.Kind), nullable(sess), nullable(alt), ipText(e),
			blockID, slot[p.rec], p.part)
		n++
		res.Events++
		if n == rowsPerInsert {
			if err := flush(); err != nil {
				return res, fmt.Errorf("sqlite: insert events: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return res, fmt.Errorf("sqlite: insert events: %w", err)
	}
	if full != nil {
		full.Close()
	}

	for _, q := range b.Quarantine {
		d := store.RecordDigest(q.Raw)
		_, err := tx.ExecContext(ctx, `INSERT INTO quarantine (digest, received, origin, line, elem, source, reason, raw)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
			d[:], q.Received.UnixNano(), q.Origin, q.Line, q.Elem, string(q.Source), q.Reason, q.Raw)
		if err != nil {
			return res, fmt.Errorf("sqlite: quarantine: %w", err)
		}
		res.Quarantined++
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("sqlite: commit: %w", err)
	}
	return res, nil
}

func firstSource(evs []event.Event) event.Source {
	if len(evs) == 0 {
		return ""
	}
	return evs[0].Source
}

// existing returns which of keys are stored already.
func (s *Store) existing(ctx context.Context, tx *sql.Tx, keys [][]byte) (map[store.Key]struct{}, error) {
	out := make(map[store.Key]struct{})
	const chunk = 500
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		args := make([]any, n)
		for i := range n {
			args[i] = keys[i]
		}
		q := "SELECT dedupe FROM events WHERE dedupe IN (?" + strings.Repeat(",?", n-1) + ")"
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: dedupe lookup: %w", err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			var k store.Key
			copy(k[:], b)
			out[k] = struct{}{}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		keys = keys[n:]
	}
	return out, nil
}

// sessionKeys returns the two session keys indexed for an event.
func sessionKeys(s event.Session) (key, alt string) {
	key = s.Key()
	for _, k := range []string{s.RootID, s.TokenID, s.AccessKeyID} {
		if k != "" && k != key {
			return key, k
		}
	}
	return key, ""
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ipText(e *event.Event) any {
	if !e.Network.IP.IsValid() {
		return nil
	}
	return e.Network.IP.String()
}

// Events calls fn for each stored event matching q, in event-time order
// (newest first with q.Desc).
func (s *Store) Events(ctx context.Context, q store.Query, fn func(store.Row) error) error {
	var where []string
	var args []any
	if q.Identity != "" {
		where = append(where, "actor = ?")
		args = append(args, q.Identity)
	}
	if q.Source != "" {
		where = append(where, "source = ?")
		args = append(args, string(q.Source))
	}
	if q.Category != "" {
		where = append(where, "category = ?")
		args = append(args, string(q.Category))
	}
	if q.Session != "" {
		where = append(where, "(session = ? OR session_alt = ?)")
		args = append(args, q.Session, q.Session)
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, q.Until.UnixNano())
	}
	order := " ORDER BY time, id"
	if q.Desc {
		order = " ORDER BY time DESC, id DESC"
	}
	sqlText := "SELECT id, source, vendor_id, time, received, block, slot, part FROM events" + whereSQL(where) + order + limitSQL(q.Limit)
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return fmt.Errorf("sqlite: query events: %w", err)
	}
	type ref struct {
		row         store.Row
		block, slot int64
	}
	// Rows are read fully before blocks are fetched: one connection cannot
	// run a second query while the first is open on it.
	var refs []ref
	for rows.Next() {
		var r ref
		var src string
		var t, rcv int64
		if err := rows.Scan(&r.row.ID, &src, &r.row.VendorID, &t, &rcv, &r.block, &r.slot, &r.row.Part); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: query events: %w", err)
		}
		r.row.Source = event.Source(src)
		r.row.Time = time.Unix(0, t).UTC()
		r.row.Received = time.Unix(0, rcv).UTC()
		refs = append(refs, r)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("sqlite: query events: %w", err)
	}
	for _, r := range refs {
		recs, err := s.block(ctx, r.block)
		if err != nil {
			return err
		}
		if r.slot < 0 || r.slot >= int64(len(recs)) {
			return fmt.Errorf("sqlite: event %d points at slot %d of block %d, which has %d: %w", r.row.ID, r.slot, r.block, len(recs), store.ErrCorruptBlock)
		}
		r.row.Raw = recs[r.slot]
		if err := fn(r.row); err != nil {
			return err
		}
	}
	return nil
}

// block returns the unpacked records of a block, from a small cache since
// consecutive events usually share blocks.
func (s *Store) block(ctx context.Context, id int64) ([][]byte, error) {
	s.mu.Lock()
	recs, ok := s.blocks.get(id)
	s.mu.Unlock()
	if ok {
		return recs, nil
	}
	var data []byte
	if err := s.db.QueryRowContext(ctx, "SELECT data FROM blocks WHERE id = ?", id).Scan(&data); err != nil {
		return nil, fmt.Errorf("sqlite: read block %d: %w", id, err)
	}
	recs, err := store.UnpackBlock(data)
	if err != nil {
		return nil, fmt.Errorf("sqlite: block %d: %w", id, err)
	}
	s.mu.Lock()
	s.blocks.put(id, recs)
	s.mu.Unlock()
	return recs, nil
}

// CountEvents returns the number of stored events.
func (s *Store) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM events").Scan(&n)
	return n, err
}

// Quarantined calls fn for quarantined records, oldest first.
func (s *Store) Quarantined(ctx context.Context, q store.QuarantineQuery, fn func(store.QuarantineRow) error) error {
	var where []string
	var args []any
	if q.Origin != "" {
		where, args = append(where, "origin = ?"), append(args, q.Origin)
	}
	sqlText := "SELECT id, received, origin, line, elem, source, reason, raw FROM quarantine" + whereSQL(where) + " ORDER BY id" + limitSQL(q.Limit)
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return fmt.Errorf("sqlite: query quarantine: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r store.QuarantineRow
		var rcv int64
		var src string
		if err := rows.Scan(&r.ID, &rcv, &r.Origin, &r.Line, &r.Elem, &src, &r.Reason, &r.Raw); err != nil {
			return fmt.Errorf("sqlite: query quarantine: %w", err)
		}
		r.Received = time.Unix(0, rcv).UTC()
		r.Source = event.Source(src)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// blockCache is a tiny LRU of unpacked blocks.
type blockCache struct {
	max   int
	ids   []int64
	items map[int64][][]byte
}

func (c *blockCache) get(id int64) ([][]byte, bool) {
	r, ok := c.items[id]
	return r, ok
}

func (c *blockCache) put(id int64, recs [][]byte) {
	if c.items == nil {
		c.items = make(map[int64][][]byte)
	}
	if len(c.ids) >= c.max {
		delete(c.items, c.ids[0])
		c.ids = c.ids[1:]
	}
	c.ids = append(c.ids, id)
	c.items[id] = recs
}
