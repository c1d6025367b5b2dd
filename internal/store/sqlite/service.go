package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
)

// SaveAlerts stores alerts; an alert already stored (same id) is kept as it
// was.
func (s *Store) SaveAlerts(ctx context.Context, alerts []event.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save alerts: %w", err)
	}
	defer tx.Rollback()
	for i := range alerts {
		a := &alerts[i]
		body, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, time, rule, severity, identity, incident, body)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Time.UnixNano(), a.Rule, string(a.Severity), a.Identity, a.Incident, string(body)); err != nil {
			return fmt.Errorf("sqlite: save alert %s: %w", a.ID, err)
		}
	}
	return tx.Commit()
}

// SaveIncident stores or updates an incident (its alerts are stored with
// SaveAlerts). The status, which people set, is not overwritten.
func (s *Store) SaveIncident(ctx context.Context, inc *event.Incident) error {
	c := *inc
	c.Alerts = nil
	body, err := json.Marshal(&c)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO incidents (id, identity, opened, updated, severity, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, severity = excluded.severity, body = excluded.body`,
		inc.ID, inc.Identity, inc.Opened.UnixNano(), inc.Updated.UnixNano(), string(inc.Severity), string(body))
	if err != nil {
		return fmt.Errorf("sqlite: save incident %s: %w", inc.ID, err)
	}
	return nil
}

// SetIncidentStatus sets an incident's status (open, closed, dismissed,
// false_positive).
func (s *Store) SetIncidentStatus(ctx context.Context, id, status string) error {
	r, err := s.w.ExecContext(ctx, "UPDATE incidents SET status = ? WHERE id = ?", status, id)
	if err != nil {
		return fmt.Errorf("sqlite: incident %s: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Incidents returns incidents, most recently updated first, without their
// alerts.
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]store.IncidentRow, error) {
	var where []string
	var args []any
	if q.Identity != "" {
		where, args = append(where, "identity = ?"), append(args, q.Identity)
	}
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	if q.Severity != "" {
		where, args = append(where, "severity = ?"), append(args, q.Severity)
	}
	if q.Rule != "" {
		where, args = append(where, "id IN (SELECT incident FROM alerts WHERE rule = ?)"), append(args, q.Rule)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "updated >= ?"), append(args, q.Since.UnixNano())
	}
	if !q.Before.IsZero() {
		b := q.Before.UnixNano()
		where, args = append(where, "(updated < ? OR updated = ? AND id > ?)"), append(args, b, b, q.BeforeID)
	}
	text := "SELECT body, status FROM incidents" + whereSQL(where) + " ORDER BY updated DESC, id" + limitSQL(q.Limit)
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: incidents: %w", err)
	}
	defer rows.Close()
	var out []store.IncidentRow
	for rows.Next() {
		var body, status string
		if err := rows.Scan(&body, &status); err != nil {
			return nil, err
		}
		var r store.IncidentRow
		if err := json.Unmarshal([]byte(body), &r.Incident); err != nil {
			return nil, fmt.Errorf("sqlite: incident body: %w", err)
		}
		r.Status = status
		out = append(out, r)
	}
	return out, rows.Err()
}

// Incident returns one incident with its alerts in time order.
func (s *Store) Incident(ctx context.Context, id string) (store.IncidentRow, error) {
	var body, status string
	err := s.db.QueryRowContext(ctx, "SELECT body, status FROM incidents WHERE id = ?", id).Scan(&body, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return store.IncidentRow{}, fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("sqlite: incident %s: %w", id, err)
	}
	var r store.IncidentRow
	if err := json.Unmarshal([]byte(body), &r.Incident); err != nil {
		return r, err
	}
	r.Status = status
	r.Alerts, err = s.Alerts(ctx, store.AlertQuery{Incident: id})
	return r, err
}

// Alerts returns alerts in time order (newest first when not filtered by
// incident).
func (s *Store) Alerts(ctx context.Context, q store.AlertQuery) ([]event.Alert, error) {
	var where []string
	var args []any
	order := " ORDER BY time DESC, id"
	if q.Incident != "" {
		where, args = append(where, "incident = ?"), append(args, q.Incident)
		order = " ORDER BY time, id"
	}
	if q.Identity != "" {
		where, args = append(where, "identity = ?"), append(args, q.Identity)
	}
	if q.Rule != "" {
		where, args = append(where, "rule = ?"), append(args, q.Rule)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, q.Since.UnixNano())
	}
	rows, err := s.db.QueryContext(ctx, "SELECT body FROM alerts"+whereSQL(where)+order+limitSQL(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", err)
	}
	defer rows.Close()
	var out []event.Alert
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var a event.Alert
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("sqlite: alert body: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertSeries counts the alerts in [from, to) by bucket of width and
// severity, with the highest risk each bucket's alerts left. It counts in
// the database: every alert, however many.
func (s *Store) AlertSeries(ctx context.Context, from, to time.Time, width time.Duration) ([]store.AlertBucket, error) {
	if width <= 0 || !to.After(from) {
		return nil, fmt.Errorf("sqlite: alert series: empty range or bucket")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT (time - ?) / ? AS b, severity, COUNT(*), MAX(json_extract(body, '$.risk'))
		FROM alerts WHERE time >= ? AND time < ? GROUP BY b, severity ORDER BY b, severity`,
		from.UnixNano(), int64(width), from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlite: alert series: %w", err)
	}
	defer rows.Close()
	var out []store.AlertBucket
	for rows.Next() {
		var b store.AlertBucket
		var sev string
		var risk sql.NullFloat64
		if err := rows.Scan(&b.Bucket, &sev, &b.Count, &risk); err != nil {
			return nil, err
		}
		b.Severity, b.MaxRisk = event.Severity(sev), risk.Float64
		out = append(out, b)
	}
	return out, rows.Err()
}

// AlertRules returns the rules that have alerts, sorted.
func (s *Store) AlertRules(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT rule FROM alerts ORDER BY rule")
	if err != nil {
		return nil, fmt.Errorf("sqlite: alert rules: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EnqueueAction writes an action to the outbox. It reports false when an
// action with the same id is there already: the same incident does not do
// the same thing twice.
func (s *Store) EnqueueAction(ctx context.Context, a respond.Action) (bool, error) {
	body, err := json.Marshal(&a)
	if err != nil {
		return false, err
	}
	r, err := s.w.ExecContext(ctx, `INSERT INTO actions (id, connector, kind, identity, incident, state, next_at, created, updated, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Connector, a.Kind, a.Identity, a.Incident, a.State, a.NextAt.UnixNano(), a.Created.UnixNano(), a.Updated.UnixNano(), string(body))
	if err != nil {
		return false, fmt.Errorf("sqlite: enqueue action %s: %w", a.ID, err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// UpdateAction writes an action's new state.
func (s *Store) UpdateAction(ctx context.Context, a respond.Action) error {
	body, err := json.Marshal(&a)
	if err != nil {
		return err
	}
	r, err := s.w.ExecContext(ctx, "UPDATE actions SET state = ?, next_at = ?, updated = ?, body = ? WHERE id = ?",
		a.State, a.NextAt.UnixNano(), a.Updated.UnixNano(), string(body), a.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update action %s: %w", a.ID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("action %s: %w", a.ID, store.ErrNotFound)
	}
	return nil
}

// ClaimAction moves a pending action to sending (writing a), unless
// another dispatcher claimed it first.
func (s *Store) ClaimAction(ctx context.Context, a respond.Action) (bool, error) {
	body, err := json.Marshal(&a)
	if err != nil {
		return false, err
	}
	r, err := s.w.ExecContext(ctx, "UPDATE actions SET state = ?, next_at = ?, updated = ?, body = ? WHERE id = ? AND state = ?",
		a.State, a.NextAt.UnixNano(), a.Updated.UnixNano(), string(body), a.ID, respond.StatePending)
	if err != nil {
		return false, fmt.Errorf("sqlite: claim action %s: %w", a.ID, err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// DueActions returns pending actions whose time has come, oldest first.
func (s *Store) DueActions(ctx context.Context, now time.Time, limit int) ([]respond.Action, error) {
	return s.actions(ctx, "SELECT body FROM actions WHERE state = ? AND next_at <= ? ORDER BY next_at, id"+limitSQL(limit),
		respond.StatePending, now.UnixNano())
}

// Actions returns outbox actions, newest first.
func (s *Store) Actions(ctx context.Context, q store.ActionQuery) ([]respond.Action, error) {
	var where []string
	var args []any
	if q.Identity != "" {
		where, args = append(where, "identity = ?"), append(args, q.Identity)
	}
	if q.Incident != "" {
		where, args = append(where, "incident = ?"), append(args, q.Incident)
	}
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, q.State)
	}
	if !q.Before.IsZero() {
		b := q.Before.UnixNano()
		where, args = append(where, "(created < ? OR created = ? AND id > ?)"), append(args, b, b, q.BeforeID)
	}
	return s.actions(ctx, "SELECT body FROM actions"+whereSQL(where)+" ORDER BY created DESC, id"+limitSQL(q.Limit), args...)
}

func (s *Store) actions(ctx context.Context, text string, args ...any) ([]respond.Action, error) {
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: actions: %w", err)
	}
	defer rows.Close()
	var out []respond.Action
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var a respond.Action
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("sqlite: action body: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ActionsInState returns every action in a state.
func (s *Store) ActionsInState(ctx context.Context, state string) ([]respond.Action, error) {
	return s.Actions(ctx, store.ActionQuery{State: state})
}

// CountActions returns how many actions are in a state.
func (s *Store) CountActions(ctx context.Context, state string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM actions WHERE state = ?", state).Scan(&n)
	return n, err
}

// CountIncidents counts the incidents in a status by severity.
func (s *Store) CountIncidents(ctx context.Context, status string) (map[string]int, error) {
	return s.countBy(ctx, "SELECT severity, COUNT(*) FROM incidents WHERE status = ? GROUP BY severity", status)
}

// CountActionsByState counts the outbox's actions by state.
func (s *Store) CountActionsByState(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, "SELECT state, COUNT(*) FROM actions GROUP BY state")
}

func (s *Store) countBy(ctx context.Context, text string, args ...any) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// CreateToken stores a new API token.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)",
		t.ID, t.Name, t.Role, t.Hash, t.Created.UnixNano())
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return fmt.Errorf("a token named %q exists already", t.Name)
	}
	return err
}

// Token returns the token with id.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	var t store.Token
	var created, used int64
	var revoked int
	err := s.db.QueryRowContext(ctx, "SELECT id, name, role, hash, created, last_used, revoked FROM tokens WHERE id = ?", id).
		Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: token: %w", err)
	}
	t.Created, t.Revoked = time.Unix(0, created).UTC(), revoked != 0
	if used != 0 {
		t.LastUsed = time.Unix(0, used).UTC()
	}
	return t, nil
}

// Tokens lists tokens by name.
func (s *Store) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM tokens ORDER BY name")
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]store.Token, 0, len(ids))
	for _, id := range ids {
		t, err := s.Token(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// RevokeToken revokes the token named name.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	r, err := s.w.ExecContext(ctx, "UPDATE tokens SET revoked = 1 WHERE name = ?", name)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("token %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// TouchToken records a token's use.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, "UPDATE tokens SET last_used = ? WHERE id = ?", at.UnixNano(), id)
	return err
}

// AppendAudit appends an entry to the audit log, chaining it to the last.
// Seq, Prev and Hash are set here.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	tx, err := s.w.BeginTx(ctx, nil) // immediate: appends are serialized
	if err != nil {
		return e, fmt.Errorf("sqlite: audit: %w", err)
	}
	defer tx.Rollback()
	var last sql.NullInt64
	var prev []byte
	err = tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("sqlite: audit: %w", err)
	}
	e.Seq = last.Int64 + 1
	if prev == nil {
		prev = []byte{}
	}
	e.Prev = prev
	e.Time = e.Time.UTC()
	e.Hash = store.AuditHash(prev, e)
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit (seq, time, actor, action, target, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		e.Seq, e.Time.UnixNano(), e.Actor, e.Action, e.Target, e.Detail, e.Prev, e.Hash); err != nil {
		return e, fmt.Errorf("sqlite: audit: %w", err)
	}
	return e, tx.Commit()
}

// AuditEntries calls fn with every audit entry in order.
func (s *Store) AuditEntries(ctx context.Context, fn func(store.AuditEntry) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT seq, time, actor, action, target, detail, prev, hash FROM audit ORDER BY seq")
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Prev, &e.Hash); err != nil {
			return err
		}
		e.Time = time.Unix(0, t).UTC()
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ErrAuditBroken is returned by VerifyAudit when the chain does not hold.
var ErrAuditBroken = errors.New("audit log chain broken")

// VerifyAudit recomputes the chain and returns the number of entries, or
// ErrAuditBroken naming the first entry that does not hold.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	n := 0
	prev := []byte{}
	err := s.AuditEntries(ctx, func(e store.AuditEntry) error {
		n++
		if e.Seq != int64(n) {
			return fmt.Errorf("%w: entry %d follows entry %d", ErrAuditBroken, e.Seq, n-1)
		}
		if !bytes.Equal(e.Prev, prev) || !bytes.Equal(store.AuditHash(prev, e), e.Hash) {
			return fmt.Errorf("%w at entry %d (%s by %s at %s)", ErrAuditBroken, e.Seq, e.Action, e.Actor, e.Time.Format(time.RFC3339))
		}
		prev = e.Hash
		return nil
	})
	return n, err
}

// Cursor returns a named cursor, "" when unset.
func (s *Store) Cursor(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM cursors WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetCursor sets a named cursor.
func (s *Store) SetCursor(ctx context.Context, name, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO cursors (name, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated`, name, value, time.Now().UnixNano())
	return err
}

// SaveState stores a named blob (the engine's snapshot).
func (s *Store) SaveState(ctx context.Context, name string, data []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO state (name, data, updated) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated`, name, data, time.Now().UnixNano())
	return err
}

// LoadState returns a named blob, nil when absent.
func (s *Store) LoadState(ctx context.Context, name string) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, "SELECT data FROM state WHERE name = ?", name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return data, err
}

func whereSQL(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

func limitSQL(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(n)
}
