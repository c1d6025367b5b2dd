package respond_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

// recorder is a connector that records what it was asked and fails on
// demand.
type recorder struct {
	mu        sync.Mutex
	calls     []string // "kind target key"
	retryable int      // fail this many next calls with a retryable error
	permanent bool
}

func (r *recorder) Kinds() []string {
	return []string{respond.KindClearSessions, respond.KindSuspendUser, respond.KindNotify}
}

func (r *recorder) Do(_ context.Context, a respond.Action) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, a.Kind+" "+a.Target+" "+a.ID)
	switch {
	case r.permanent:
		return "", errors.New("user not found (404)")
	case r.retryable > 0:
		r.retryable--
		return "", respond.Retryable(errors.New("503 from vendor"), 0)
	}
	return "done: " + a.Kind, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var hijackPlaybook = respond.Playbook{Name: "hijack", Rules: []string{"session.hijack"}, MinSeverity: event.SeverityHigh,
	Kinds: []event.Kind{event.KindHuman}, Steps: []respond.Step{{Connector: "okta", Kind: respond.KindClearSessions}}, Mode: respond.ModeEnforce}

func alert(id, identity, incident string) *event.Alert {
	return &event.Alert{ID: id, Rule: "session.hijack", Severity: event.SeverityCritical, Identity: identity, IdentityKind: event.KindHuman,
		Incident: incident, Summary: "session replayed", Risk: 80}
}

// start runs a responder until the test ends.
func start(t *testing.T, cfg respond.Config, st *sqlite.Store) *respond.Responder {
	t.Helper()
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	}
	r, err := respond.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func waitState(t *testing.T, st *sqlite.Store, id, state string) respond.Action {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // guards a hang; asserts no speed
	for {
		acts, err := st.Actions(context.Background(), store.ActionQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if a.ID == id && a.State == state {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("action %s never reached %s: %+v", id, state, acts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPlaybookDeliversOnce(t *testing.T) {
	st, rec := openStore(t), &recorder{}
	var doneActions []respond.Action
	var mu sync.Mutex
	r := start(t, respond.Config{Playbooks: []respond.Playbook{hijackPlaybook}, Connectors: map[string]respond.Connector{"okta": rec},
		OnDone: func(a respond.Action) { mu.Lock(); doneActions = append(doneActions, a); mu.Unlock() }}, st)
	ctx := context.Background()
	acts, err := r.OnAlert(ctx, alert("al-1", "dana@example.com", "inc-1"))
	if err != nil || len(acts) != 1 {
		t.Fatalf("OnAlert: %v %v", acts, err)
	}
	// The same incident's next alert asks for the same action: nothing new.
	again, _ := r.OnAlert(ctx, alert("al-2", "dana@example.com", "inc-1"))
	if len(again) != 0 {
		t.Errorf("second alert of the incident queued %v", again)
	}
	a := waitState(t, st, acts[0].ID, respond.StateDone)
	if a.Result != "done: clear_sessions" || a.Attempts != 1 || a.DecidedBy != "playbook:hijack" || a.Target != "dana@example.com" {
		t.Errorf("action %+v", a)
	}
	if rec.count() != 1 {
		t.Errorf("%d calls, want 1", rec.count())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(doneActions) != 1 || doneActions[0].ID != a.ID {
		t.Errorf("OnDone got %v", doneActions)
	}
	// Another incident of the same identity acts again.
	acts, _ = r.OnAlert(ctx, alert("al-3", "dana@example.com", "inc-2"))
	if len(acts) != 1 {
		t.Fatalf("a new incident queued %v", acts)
	}
	waitState(t, st, acts[0].ID, respond.StateDone)
}

func TestPlaybookConditionsAndModes(t *testing.T) {
	st, rec := openStore(t), &recorder{}
	rec2 := &recorder{}
	pbs := []respond.Playbook{
		hijackPlaybook,
		{Name: "watch", Rules: []string{"sigma.*"}, Steps: []respond.Step{{Connector: "slack", Kind: respond.KindNotify}}, Mode: respond.ModeDryRun},
		{Name: "suggest", MinRisk: 90, Steps: []respond.Step{{Connector: "okta", Kind: respond.KindSuspendUser}}, Mode: respond.ModeRecommend},
	}
	r := start(t, respond.Config{Playbooks: pbs, Connectors: map[string]respond.Connector{"okta": rec, "slack": rec2}}, st)
	ctx := context.Background()
	low := alert("a", "eli@example.com", "inc-e")
	low.Severity = event.SeverityMedium
	svc := alert("b", "role/etl", "inc-r")
	svc.IdentityKind = event.KindService
	sig := alert("c", "maya@example.com", "inc-m")
	sig.Rule = "sigma.1234"
	risky := alert("d", "omar@example.com", "inc-o")
	risky.Rule, risky.Risk = "mfa.fatigue", 95
	for _, tt := range []struct {
		a    *event.Alert
		want []string // states
	}{
		{low, nil}, {svc, nil}, {sig, []string{respond.StateSkipped}}, {risky, []string{respond.StateSkipped}},
	} {
		acts, err := r.OnAlert(ctx, tt.a)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, a := range acts {
			states = append(states, a.State)
		}
		if !slices.Equal(states, tt.want) {
			t.Errorf("%s on %s: %v, want %v", tt.a.Rule, tt.a.Identity, states, tt.want)
		}
	}
	time.Sleep(50 * time.Millisecond) // nothing should be sent; give the dispatcher a chance to misbehave
	if rec.count()+rec2.count() != 0 {
		t.Errorf("recommend/dry-run/unmatched alerts reached a connector: %v %v", rec.calls, rec2.calls)
	}
}

func TestGuardrails(t *testing.T) {
	st, rec := openStore(t), &recorder{}
	var opened []int
	r := start(t, respond.Config{Playbooks: []respond.Playbook{hijackPlaybook}, Connectors: map[string]respond.Connector{"okta": rec},
		Protected: []string{"BreakGlass@example.com"}, BreakerMax: 2, BreakerWindow: time.Hour,
		OnBreaker: func(_ time.Time, n int) { opened = append(opened, n) }}, st)
	ctx := context.Background()
	acts, _ := r.OnAlert(ctx, alert("p", "breakglass@example.com", "inc-p"))
	if len(acts) != 1 || acts[0].State != respond.StateBlocked || !strings.Contains(acts[0].LastError, "protected") {
		t.Fatalf("protected identity: %+v", acts)
	}
	var states []string
	for i := range 4 {
		acts, _ := r.OnAlert(ctx, alert(fmt.Sprint(i), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("inc-%d", i)))
		states = append(states, acts[0].State)
	}
	if !slices.Equal(states, []string{"pending", "pending", "blocked", "blocked"}) || !r.BreakerOpen() || len(opened) != 1 {
		t.Fatalf("breaker: states %v, open %v, opened %v", states, r.BreakerOpen(), opened)
	}
	// A person can still act.
	m, err := r.Manual(ctx, respond.Request{Connector: "okta", Kind: respond.KindClearSessions, Identity: "user3@example.com", DecidedBy: "token:alice", Incident: "inc-3"})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, st, m.ID, respond.StateDone)
	if _, err := r.Manual(ctx, respond.Request{Connector: "nope", Kind: respond.KindClearSessions, Identity: "x", DecidedBy: "token:alice"}); err == nil {
		t.Error("unknown connector accepted")
	}
	if _, err := r.Manual(ctx, respond.Request{Connector: "okta", Kind: respond.KindDeactivateKey, Identity: "x", DecidedBy: "token:alice"}); err == nil {
		t.Error("unsupported kind accepted")
	}
}

func TestRetriesAndFailures(t *testing.T) {
	st := openStore(t)
	flaky := &recorder{retryable: 2}
	broken := &recorder{permanent: true}
	r := start(t, respond.Config{Connectors: map[string]respond.Connector{"okta": flaky, "entra": broken}, MaxAttempts: 5}, st)
	ctx := context.Background()
	a, _ := r.Manual(ctx, respond.Request{Connector: "okta", Kind: respond.KindClearSessions, Identity: "dana@example.com", DecidedBy: "cli", Incident: "inc-1"})
	got := waitState(t, st, a.ID, respond.StateDone)
	if got.Attempts != 3 || flaky.count() != 3 {
		t.Errorf("attempts %d, calls %d; want 3 (two 503s, then success)", got.Attempts, flaky.count())
	}
	b, _ := r.Manual(ctx, respond.Request{Connector: "entra", Kind: respond.KindClearSessions, Identity: "dana@example.com", DecidedBy: "cli", Incident: "inc-1"})
	got = waitState(t, st, b.ID, respond.StateFailed)
	if got.Attempts != 1 || !strings.Contains(got.LastError, "404") {
		t.Errorf("permanent failure: %+v", got)
	}
	always := &recorder{retryable: 100}
	st2 := openStore(t)
	r2 := start(t, respond.Config{Connectors: map[string]respond.Connector{"okta": always}, MaxAttempts: 3}, st2)
	c, _ := r2.Manual(ctx, respond.Request{Connector: "okta", Kind: respond.KindClearSessions, Identity: "eli@example.com", DecidedBy: "cli", Incident: "inc-2"})
	got = waitState(t, st2, c.ID, respond.StateFailed)
	if got.Attempts != 3 || !strings.Contains(got.LastError, "gave up after 3 attempts") {
		t.Errorf("give up: %+v", got)
	}
}

func TestRunResendsActionsInFlightAtACrash(t *testing.T) {
	st, rec := openStore(t), &recorder{}
	ctx := context.Background()
	now := time.Now()
	a := respond.Action{ID: "act-crashed", Connector: "okta", Kind: respond.KindClearSessions, Identity: "dana@example.com",
		Target: "dana@example.com", DecidedBy: "playbook:hijack", Mode: respond.ModeEnforce, State: respond.StateSending,
		Attempts: 1, NextAt: now, Created: now, Updated: now}
	if _, err := st.EnqueueAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	start(t, respond.Config{Connectors: map[string]respond.Connector{"okta": rec}}, st)
	got := waitState(t, st, "act-crashed", respond.StateDone)
	if got.Attempts != 2 || rec.count() != 1 || !strings.HasSuffix(rec.calls[0], "act-crashed") {
		t.Errorf("resent action %+v, calls %v", got, rec.calls)
	}
}

func TestNewValidates(t *testing.T) {
	st := openStore(t)
	conns := map[string]respond.Connector{"okta": &recorder{}}
	for name, pb := range map[string]respond.Playbook{
		"unknown connector": {Name: "x", Steps: []respond.Step{{Connector: "nope", Kind: respond.KindClearSessions}}, Mode: respond.ModeEnforce},
		"unsupported kind":  {Name: "x", Steps: []respond.Step{{Connector: "okta", Kind: respond.KindSignOut}}, Mode: respond.ModeEnforce},
		"bad mode":          {Name: "x", Steps: []respond.Step{{Connector: "okta", Kind: respond.KindClearSessions}}, Mode: "yolo"},
	} {
		if _, err := respond.New(respond.Config{Playbooks: []respond.Playbook{pb}, Connectors: conns}, st); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDefaultTarget(t *testing.T) {
	for _, tt := range []struct {
		name, kind, identity, session string
		want                          string
	}{
		{"a user's long-term key is deactivated", respond.KindDeactivateKey, "svc-ci-deploy", "AKIAUC3NQX7DIUFI7WAD", "AKIAUC3NQX7DIUFI7WAD"},
		{"temporary credentials cannot be deactivated", respond.KindDeactivateKey, "svc-ci-deploy", "ASIAUC3NQX7PLNJJDPR4", ""},
		{"a role has no key", respond.KindDeactivateKey, "role/etl-nightly", "ASIAUC3NQX7PLNJJDPR4", ""},
		{"a role's sessions are revoked", respond.KindRevokeRoleTokens, "role/etl-nightly", "ASIAUC3NQX7PLNJJDPR4", "etl-nightly"},
		{"a user is not a role", respond.KindRevokeRoleTokens, "svc-ci-deploy", "AKIAUC3NQX7DIUFI7WAD", ""},
		{"people are acted on by id", respond.KindClearSessions, "dana@example.com", "102abc", "dana@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, params := respond.DefaultTarget("aws", tt.kind, &event.Alert{Identity: tt.identity, Session: tt.session})
			if got != tt.want {
				t.Errorf("target %q, want %q", got, tt.want)
			}
			if tt.kind == respond.KindDeactivateKey && got != "" && params["user"] != tt.identity {
				t.Errorf("params %v", params)
			}
		})
	}
}
