package ssf

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqliteStore is the Store the tests run against: a real SQLite file, so
// the contract (ordering, uniqueness, cascade on delete, all-or-nothing
// enqueue) is exercised the way the production store will meet it.
type sqliteStore struct{ db *sql.DB }

var _ Store = (*sqliteStore)(nil)

const testSchema = `
CREATE TABLE ssf_streams (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE ssf_subjects (stream TEXT NOT NULL, subject BLOB NOT NULL, PRIMARY KEY (stream, subject));
CREATE TABLE ssf_queue (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	stream TEXT NOT NULL, jti TEXT NOT NULL, event_type TEXT NOT NULL, token TEXT NOT NULL,
	created INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL, last_error TEXT NOT NULL,
	UNIQUE (stream, jti));
CREATE TABLE ssf_keys (id TEXT PRIMARY KEY, alg TEXT NOT NULL, private BLOB NOT NULL, created INTEGER NOT NULL, retired INTEGER NOT NULL);
`

func openTestStore(t testing.TB) *sqliteStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ssf.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(testSchema); err != nil {
		t.Fatal(err)
	}
	return &sqliteStore{db: db}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (s *sqliteStore) Streams(ctx context.Context) ([]Stream, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM ssf_streams`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var st Stream
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s *sqliteStore) Stream(ctx context.Context, id string) (Stream, error) {
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM ssf_streams WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return Stream{}, fmt.Errorf("stream %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Stream{}, err
	}
	var st Stream
	err = json.Unmarshal([]byte(body), &st)
	return st, err
}

func (s *sqliteStore) SaveStream(ctx context.Context, st Stream) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO ssf_streams (id, body) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET body = excluded.body`, st.ID, string(body))
	return err
}

func (s *sqliteStore) DeleteStream(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM ssf_streams WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("stream %s: %w", id, ErrNotFound)
	}
	for _, q := range []string{`DELETE FROM ssf_subjects WHERE stream = ?`, `DELETE FROM ssf_queue WHERE stream = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) AddSubject(ctx context.Context, stream string, subject []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO ssf_subjects (stream, subject) VALUES (?, ?)`, stream, subject)
	return err
}

func (s *sqliteStore) RemoveSubject(ctx context.Context, stream string, subject []byte) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM ssf_subjects WHERE stream = ? AND subject = ?`, stream, subject)
	return err
}

func (s *sqliteStore) Subjects(ctx context.Context, stream string) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subject FROM ssf_subjects WHERE stream = ?`, stream)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (s *sqliteStore) Enqueue(ctx context.Context, sets []QueuedSET) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range sets {
		_, err := tx.ExecContext(ctx, `INSERT INTO ssf_queue
			(stream, jti, event_type, token, created, state, attempts, next_attempt, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			q.Stream, q.JTI, q.EventType, q.Token, unixNano(q.Created), q.State, q.Attempts, unixNano(q.NextAttempt), q.LastError)
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) queued(ctx context.Context, query string, args ...any) ([]QueuedSET, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT stream, jti, event_type, token, created, state, attempts, next_attempt, last_error
		FROM ssf_queue `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueuedSET
	for rows.Next() {
		var q QueuedSET
		var created, next int64
		if err := rows.Scan(&q.Stream, &q.JTI, &q.EventType, &q.Token, &created, &q.State, &q.Attempts, &next, &q.LastError); err != nil {
			return nil, err
		}
		q.Created, q.NextAttempt = fromNano(created), fromNano(next)
		out = append(out, q)
	}
	return out, rows.Err()
}

func (s *sqliteStore) Pending(ctx context.Context, stream string, limit int) ([]QueuedSET, error) {
	return s.queued(ctx, `WHERE stream = ? AND state = 'pending' ORDER BY seq LIMIT ?`, stream, limit)
}

func (s *sqliteStore) Failed(ctx context.Context, stream string, limit int) ([]QueuedSET, error) {
	return s.queued(ctx, `WHERE stream = ? AND state = 'failed' ORDER BY seq DESC LIMIT ?`, stream, limit)
}

func (s *sqliteStore) UpdateQueued(ctx context.Context, q QueuedSET) error {
	_, err := s.db.ExecContext(ctx, `UPDATE ssf_queue SET state = ?, attempts = ?, next_attempt = ?, last_error = ?
		WHERE stream = ? AND jti = ?`, q.State, q.Attempts, unixNano(q.NextAttempt), q.LastError, q.Stream, q.JTI)
	return err
}

func (s *sqliteStore) Ack(ctx context.Context, stream string, jtis []string) (int, error) {
	if len(jtis) == 0 {
		return 0, nil
	}
	args := []any{stream}
	for _, j := range jtis {
		args = append(args, j)
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM ssf_queue WHERE stream = ? AND jti IN (?`+strings.Repeat(",?", len(jtis)-1)+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (s *sqliteStore) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, alg, private, created, retired FROM ssf_keys`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var created, retired int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &created, &retired); err != nil {
			return nil, err
		}
		k.Created, k.Retired = fromNano(created), fromNano(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *sqliteStore) SaveKey(ctx context.Context, k Key) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO ssf_keys (id, alg, private, created, retired) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET alg = excluded.alg, private = excluded.private, created = excluded.created, retired = excluded.retired`,
		k.ID, k.Algorithm, k.Private, unixNano(k.Created), unixNano(k.Retired))
	return err
}

func (s *sqliteStore) DeleteKey(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM ssf_keys WHERE id = ?`, id)
	return err
}
