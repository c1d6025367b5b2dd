package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/ssf"
)

// SSF returns the Shared Signals transmitter's store, kept in this
// database.
func (s *Store) SSF() ssf.Store { return ssfStore{s} }

type ssfStore struct{ s *Store }

var _ ssf.Store = ssfStore{}

func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (x ssfStore) Streams(ctx context.Context) ([]ssf.Stream, error) {
	rows, err := x.s.db.QueryContext(ctx, `SELECT body FROM ssf_streams`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ssf streams: %w", err)
	}
	defer rows.Close()
	var out []ssf.Stream
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var st ssf.Stream
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			return nil, fmt.Errorf("sqlite: ssf stream: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (x ssfStore) Stream(ctx context.Context, id string) (ssf.Stream, error) {
	var body string
	err := x.s.db.QueryRowContext(ctx, `SELECT body FROM ssf_streams WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return ssf.Stream{}, fmt.Errorf("stream %s: %w", id, ssf.ErrNotFound)
	}
	if err != nil {
		return ssf.Stream{}, fmt.Errorf("sqlite: ssf stream: %w", err)
	}
	var st ssf.Stream
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return ssf.Stream{}, fmt.Errorf("sqlite: ssf stream %s: %w", id, err)
	}
	return st, nil
}

func (x ssfStore) SaveStream(ctx context.Context, st ssf.Stream) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = x.s.w.ExecContext(ctx, `INSERT INTO ssf_streams (id, body) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET body = excluded.body`, st.ID, string(body))
	return err
}

func (x ssfStore) DeleteStream(ctx context.Context, id string) error {
	tx, err := x.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM ssf_streams WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("stream %s: %w", id, ssf.ErrNotFound)
	}
	for _, q := range []string{`DELETE FROM ssf_subjects WHERE stream = ?`, `DELETE FROM ssf_queue WHERE stream = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (x ssfStore) AddSubject(ctx context.Context, stream string, subject []byte) error {
	_, err := x.s.w.ExecContext(ctx, `INSERT OR IGNORE INTO ssf_subjects (stream, subject) VALUES (?, ?)`, stream, subject)
	return err
}

func (x ssfStore) RemoveSubject(ctx context.Context, stream string, subject []byte) error {
	_, err := x.s.w.ExecContext(ctx, `DELETE FROM ssf_subjects WHERE stream = ? AND subject = ?`, stream, subject)
	return err
}

func (x ssfStore) Subjects(ctx context.Context, stream string) ([][]byte, error) {
	rows, err := x.s.db.QueryContext(ctx, `SELECT subject FROM ssf_subjects WHERE stream = ?`, stream)
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

func (x ssfStore) Enqueue(ctx context.Context, sets []ssf.QueuedSET) error {
	tx, err := x.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range sets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ssf_queue
			(stream, jti, event_type, token, created, state, attempts, next_attempt, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			q.Stream, q.JTI, q.EventType, q.Token, nanosOrZero(q.Created), q.State, q.Attempts, nanosOrZero(q.NextAttempt), q.LastError); err != nil {
			return fmt.Errorf("sqlite: ssf enqueue %s: %w", q.JTI, err)
		}
	}
	return tx.Commit()
}

func (x ssfStore) queued(ctx context.Context, where string, args ...any) ([]ssf.QueuedSET, error) {
	rows, err := x.s.db.QueryContext(ctx, `SELECT stream, jti, event_type, token, created, state, attempts, next_attempt, last_error
		FROM ssf_queue `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ssf.QueuedSET
	for rows.Next() {
		var q ssf.QueuedSET
		var created, next int64
		if err := rows.Scan(&q.Stream, &q.JTI, &q.EventType, &q.Token, &created, &q.State, &q.Attempts, &next, &q.LastError); err != nil {
			return nil, err
		}
		q.Created, q.NextAttempt = timeOrZero(created), timeOrZero(next)
		out = append(out, q)
	}
	return out, rows.Err()
}

func (x ssfStore) Pending(ctx context.Context, stream string, limit int) ([]ssf.QueuedSET, error) {
	return x.queued(ctx, `WHERE stream = ? AND state = 'pending' ORDER BY seq LIMIT ?`, stream, limit)
}

func (x ssfStore) Failed(ctx context.Context, stream string, limit int) ([]ssf.QueuedSET, error) {
	return x.queued(ctx, `WHERE stream = ? AND state = 'failed' ORDER BY seq DESC LIMIT ?`, stream, limit)
}

func (x ssfStore) UpdateQueued(ctx context.Context, q ssf.QueuedSET) error {
	_, err := x.s.w.ExecContext(ctx, `UPDATE ssf_queue SET state = ?, attempts = ?, next_attempt = ?, last_error = ?
		WHERE stream = ? AND jti = ?`, q.State, q.Attempts, nanosOrZero(q.NextAttempt), q.LastError, q.Stream, q.JTI)
	return err
}

func (x ssfStore) Ack(ctx context.Context, stream string, jtis []string) (int, error) {
	if len(jtis) == 0 {
		return 0, nil
	}
	args := []any{stream}
	for _, j := range jtis {
		args = append(args, j)
	}
	res, err := x.s.w.ExecContext(ctx, `DELETE FROM ssf_queue WHERE stream = ? AND jti IN (?`+strings.Repeat(",?", len(jtis)-1)+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (x ssfStore) Keys(ctx context.Context) ([]ssf.Key, error) {
	rows, err := x.s.db.QueryContext(ctx, `SELECT id, alg, private, created, retired FROM ssf_keys`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ssf.Key
	for rows.Next() {
		var k ssf.Key
		var created, retired int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &created, &retired); err != nil {
			return nil, err
		}
		k.Created, k.Retired = timeOrZero(created), timeOrZero(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (x ssfStore) SaveKey(ctx context.Context, k ssf.Key) error {
	_, err := x.s.w.ExecContext(ctx, `INSERT INTO ssf_keys (id, alg, private, created, retired) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET alg = excluded.alg, private = excluded.private, created = excluded.created, retired = excluded.retired`,
		k.ID, k.Algorithm, k.Private, nanosOrZero(k.Created), nanosOrZero(k.Retired))
	return err
}

func (x ssfStore) DeleteKey(ctx context.Context, id string) error {
	_, err := x.s.w.ExecContext(ctx, `DELETE FROM ssf_keys WHERE id = ?`, id)
	return err
}
