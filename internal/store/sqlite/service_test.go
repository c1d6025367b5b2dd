package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAlertsAndIncidents(t *testing.T) {
	s, ctx := open(t), context.Background()
	a1 := event.Alert{ID: "al-1", Time: t0, Rule: "mfa.fatigue", Severity: "high", Identity: "dana", Incident: "inc-1", Summary: "burst"}
	a2 := event.Alert{ID: "al-2", Time: t0.Add(time.Minute), Rule: "session.hijack", Severity: "critical", Identity: "dana", Incident: "inc-1", Summary: "replay"}
	if err := s.SaveAlerts(ctx, []event.Alert{a2, a1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAlerts(ctx, []event.Alert{a1}); err != nil { // again: kept once
		t.Fatal(err)
	}
	inc := &event.Incident{ID: "inc-1", Identity: "dana", Opened: t0, Updated: t0.Add(time.Minute), Severity: "critical", Risk: 80,
		Rules: []string{"mfa.fatigue", "session.hijack"}, Summary: "replay", Alerts: []event.Alert{a1, a2}}
	if err := s.SaveIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIncidentStatus(ctx, "inc-1", store.StatusFalsePositive); err != nil {
		t.Fatal(err)
	}
	// A later update from the engine keeps the status people set.
	inc.Updated = t0.Add(time.Hour)
	if err := s.SaveIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	got, err := s.Incident(ctx, "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusFalsePositive || !got.Updated.Equal(t0.Add(time.Hour)) || len(got.Alerts) != 2 || got.Alerts[0].ID != "al-1" {
		t.Fatalf("incident %+v", got)
	}
	if _, err := s.Incident(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing incident: %v", err)
	}
	list, err := s.Incidents(ctx, store.IncidentQuery{Identity: "dana"})
	if err != nil || len(list) != 1 || list[0].Alerts != nil {
		t.Fatalf("list %+v %v", list, err)
	}
	alerts, _ := s.Alerts(ctx, store.AlertQuery{Identity: "dana", Rule: "session.hijack"})
	if len(alerts) != 1 || alerts[0].Summary != "replay" {
		t.Errorf("alerts %+v", alerts)
	}
	other := &event.Incident{ID: "inc-2", Identity: "erik", Opened: t0, Updated: t0, Severity: "high", Rules: []string{"mfa.fatigue"}}
	if err := s.SaveIncident(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    store.IncidentQuery
		want []string
	}{
		{"by rule", store.IncidentQuery{Rule: "session.hijack"}, []string{"inc-1"}},
		{"by rule, none", store.IncidentQuery{Rule: "nhi.new_resource"}, nil},
		{"by severity", store.IncidentQuery{Severity: "high"}, []string{"inc-2"}},
		{"by status", store.IncidentQuery{Status: store.StatusOpen}, []string{"inc-2"}},
		{"all", store.IncidentQuery{}, []string{"inc-1", "inc-2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			list, err := s.Incidents(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range list {
				ids = append(ids, r.ID)
			}
			if diff := cmp.Diff(c.want, ids); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if rules, err := s.AlertRules(ctx); err != nil || strings.Join(rules, ",") != "mfa.fatigue,session.hijack" {
		t.Errorf("alert rules %v %v", rules, err)
	}
	counts, err := s.CountIncidents(ctx, store.StatusOpen)
	if diff := cmp.Diff(map[string]int{"high": 1}, counts); err != nil || diff != "" {
		t.Errorf("open incidents by severity (-want +got): %v\n%s", err, diff)
	}
}

func TestOutbox(t *testing.T) {
	s, ctx := open(t), context.Background()
	mk := func(id string, next time.Duration) respond.Action {
		return respond.Action{ID: id, Connector: "okta", Kind: respond.KindClearSessions, Identity: "dana", Target: "dana@example.com",
			Incident: "inc-1", DecidedBy: "playbook:hijack", Mode: respond.ModeEnforce, State: respond.StatePending,
			NextAt: t0.Add(next), Created: t0, Updated: t0}
	}
	for _, a := range []respond.Action{mk("b", time.Minute), mk("a", 0), mk("c", time.Hour)} {
		if ok, err := s.EnqueueAction(ctx, a); err != nil || !ok {
			t.Fatalf("enqueue %s: %v %v", a.ID, ok, err)
		}
	}
	if ok, err := s.EnqueueAction(ctx, mk("a", 0)); err != nil || ok {
		t.Fatalf("the same action twice was enqueued: %v %v", ok, err)
	}
	due, err := s.DueActions(ctx, t0.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range due {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"a", "b"}, ids); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	a := due[0]
	a.State, a.Attempts, a.Result, a.Updated = respond.StateDone, 1, "sessions cleared", t0.Add(time.Second)
	if err := s.UpdateAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Actions(ctx, store.ActionQuery{Incident: "inc-1", State: respond.StateDone})
	if len(got) != 1 || got[0].Result != "sessions cleared" || got[0].DecidedBy != "playbook:hijack" {
		t.Errorf("done actions %+v", got)
	}
	if n, _ := s.CountActions(ctx, respond.StatePending); n != 2 {
		t.Errorf("pending %d", n)
	}
	byState, err := s.CountActionsByState(ctx)
	if diff := cmp.Diff(map[string]int{"pending": 2, "done": 1}, byState); err != nil || diff != "" {
		t.Errorf("actions by state (-want +got): %v\n%s", err, diff)
	}
	if err := s.UpdateAction(ctx, mk("zzz", 0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing action: %v", err)
	}
}

func TestTokens(t *testing.T) {
	s, ctx := open(t), context.Background()
	tok := store.Token{ID: "t1", Name: "alice", Role: "responder", Hash: []byte("hash"), Created: t0}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, store.Token{ID: "t2", Name: "alice", Role: "viewer", Hash: []byte("h"), Created: t0}); err == nil || !strings.Contains(err.Error(), "alice") {
		t.Errorf("duplicate name: %v", err)
	}
	s.TouchToken(ctx, "t1", t0.Add(time.Hour))
	got, err := s.Token(ctx, "t1")
	if err != nil || got.Name != "alice" || string(got.Hash) != "hash" || !got.LastUsed.Equal(t0.Add(time.Hour)) || got.Revoked {
		t.Fatalf("token %+v %v", got, err)
	}
	if err := s.RevokeToken(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, "t1"); !got.Revoked {
		t.Error("not revoked")
	}
	if _, err := s.Token(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing token: %v", err)
	}
}

func TestAuditChain(t *testing.T) {
	s, ctx := open(t), context.Background()
	for i, action := range []string{"token.create", "respond.kill_sessions", "incident.dismiss"} {
		e, err := s.AppendAudit(ctx, store.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Actor: "token:alice", Action: action, Target: "dana", Detail: `{"n":1}`})
		if err != nil || e.Seq != int64(i+1) || len(e.Hash) != 32 {
			t.Fatalf("append: %+v %v", e, err)
		}
	}
	if n, err := s.VerifyAudit(ctx); err != nil || n != 3 {
		t.Fatalf("verify: %d %v", n, err)
	}
	// Append-only: the database refuses changes…
	if _, err := s.db.ExecContext(ctx, "UPDATE audit SET actor = 'mallory' WHERE seq = 2"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("update of the audit log: %v", err)
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM audit WHERE seq = 3"); err == nil {
		t.Error("delete from the audit log succeeded")
	}
	// …and a forged entry (written around the store) breaks the chain.
	if _, err := s.db.ExecContext(ctx, "INSERT INTO audit (seq, time, actor, action, target, detail, prev, hash) VALUES (4, 0, 'mallory', 'x', 'y', '{}', x'00', x'00')"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, ErrAuditBroken) || !strings.Contains(err.Error(), "entry 4") {
		t.Errorf("forged entry: %v", err)
	}
}

func TestCursorsAndState(t *testing.T) {
	s, ctx := open(t), context.Background()
	if v, err := s.Cursor(ctx, "okta"); err != nil || v != "" {
		t.Fatalf("unset cursor: %q %v", v, err)
	}
	s.SetCursor(ctx, "okta", "a")
	s.SetCursor(ctx, "okta", "b")
	if v, _ := s.Cursor(ctx, "okta"); v != "b" {
		t.Errorf("cursor %q", v)
	}
	if d, err := s.LoadState(ctx, "engine"); err != nil || d != nil {
		t.Fatalf("unset state: %v %v", d, err)
	}
	s.SaveState(ctx, "engine", []byte("snapshot"))
	if d, _ := s.LoadState(ctx, "engine"); string(d) != "snapshot" {
		t.Errorf("state %q", d)
	}
}

func TestPaging(t *testing.T) {
	s, ctx := open(t), context.Background()
	var want []string
	// Five incidents and five actions, three of each at the same instant:
	// the pages must neither skip nor repeat across the tie.
	for i, d := range []time.Duration{4, 3, 3, 3, 1} {
		id := fmt.Sprintf("x-%d", i)
		at := t0.Add(d * time.Minute)
		if err := s.SaveIncident(ctx, &event.Incident{ID: id, Identity: "dana", Opened: at, Updated: at, Severity: "high"}); err != nil {
			t.Fatal(err)
		}
		a := respond.Action{ID: id, Connector: "okta", Kind: respond.KindClearSessions, Identity: "dana", State: respond.StateDone, Created: at, Updated: at}
		if _, err := s.EnqueueAction(ctx, a); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	var incs, acts []string
	q := store.IncidentQuery{Limit: 2}
	for range 10 {
		page, err := s.Incidents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			incs = append(incs, r.ID)
		}
		if len(page) < q.Limit {
			break
		}
		q.Before, q.BeforeID = page[len(page)-1].Updated, page[len(page)-1].ID
	}
	aq := store.ActionQuery{Limit: 2}
	for range 10 {
		page, err := s.Actions(ctx, aq)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			acts = append(acts, a.ID)
		}
		if len(page) < aq.Limit {
			break
		}
		aq.Before, aq.BeforeID = page[len(page)-1].Created, page[len(page)-1].ID
	}
	if diff := cmp.Diff(want, incs); diff != "" {
		t.Errorf("incidents paged (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, acts); diff != "" {
		t.Errorf("actions paged (-want +got):\n%s", diff)
	}
}

func TestAlertSeries(t *testing.T) {
	s, ctx := open(t), context.Background()
	var alerts []event.Alert
	// 6,000 alerts over three hours (more than any list the console reads)
	// and one outside the range.
	for i := range 6000 {
		sev := event.SeverityLow
		if i%3 == 0 {
			sev = event.SeverityHigh
		}
		alerts = append(alerts, event.Alert{ID: fmt.Sprintf("al-%d", i), Time: t0.Add(time.Duration(i) * 1800 * time.Millisecond), Rule: "r",
			Severity: sev, Identity: "dana", Incident: "i", Risk: float64(i % 97)})
	}
	alerts = append(alerts, event.Alert{ID: "late", Time: t0.Add(5 * time.Hour), Rule: "r", Severity: event.SeverityCritical, Identity: "dana", Incident: "i", Risk: 100})
	if err := s.SaveAlerts(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertSeries(ctx, t0, t0.Add(3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := func(i int, sev event.Severity, n int) store.AlertBucket {
		return store.AlertBucket{Bucket: i, Severity: sev, Count: n, MaxRisk: 96}
	}
	want := []store.AlertBucket{b(0, "high", 667), b(0, "low", 1333), b(1, "high", 667), b(1, "low", 1333), b(2, "high", 666), b(2, "low", 1334)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := s.AlertSeries(ctx, t0, t0, time.Hour); err == nil {
		t.Errorf("an empty range is an error")
	}
}
