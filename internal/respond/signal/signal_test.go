package signal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/ssf"
)

func TestSubject(t *testing.T) {
	for id, want := range map[string]ssf.Subject{
		"ada@example.com":                         ssf.EmailSubject("ada@example.com"),
		"Ada <ada@example.com>":                   ssf.OpaqueSubject("Ada <ada@example.com>"),
		"role/deploy":                             ssf.OpaqueSubject("role/deploy"),
		"arn:aws:iam::1:user/ci":                  ssf.OpaqueSubject("arn:aws:iam::1:user/ci"),
		"svc-backup@proj.iam.gserviceaccount.com": ssf.EmailSubject("svc-backup@proj.iam.gserviceaccount.com"),
	} {
		if got := Subject(id); got != want {
			t.Errorf("Subject(%q) = %+v, want %+v", id, got, want)
		}
	}
}

func TestOutcome(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	done := respond.Action{Connector: "okta", Kind: respond.KindClearSessions, Identity: "ada@example.com", Target: "00u1",
		Incident: "inc-1", DecidedBy: "playbook:stolen", State: respond.StateDone, Updated: at, Params: map[string]string{"message": "replayed session"}}
	ev, ok := Outcome(done)
	if !ok || ev.Type != ssf.EventSessionRevoked || ev.Txn != "inc-1" || ev.InitiatingEntity != "policy" || !ev.Time.Equal(at) ||
		ev.ReasonAdmin["en"] != "Vigil ended the sessions of ada@example.com through okta (incident inc-1): replayed session" {
		t.Errorf("clear_sessions done: %+v %v", ev, ok)
	}
	manual := done
	manual.DecidedBy = "token:soc"
	if ev, _ := Outcome(manual); ev.InitiatingEntity != "admin" {
		t.Errorf("a person's action: initiating entity %q, want admin", ev.InitiatingEntity)
	}
	key := respond.Action{Connector: "aws", Kind: respond.KindDeactivateKey, Identity: "arn:aws:iam::1:user/ci", Target: "AKIAEXAMPLE",
		State: respond.StateDone, Updated: at, DecidedBy: "playbook:keys"}
	if ev, ok := Outcome(key); !ok || ev.Type != ssf.EventCredentialChange || ev.ChangeType != "revoke" || ev.FriendlyName != "AKIAEXAMPLE" ||
		ev.Subject != ssf.OpaqueSubject("arn:aws:iam::1:user/ci") {
		t.Errorf("deactivate_key done: %+v %v", ev, ok)
	}
	for _, a := range []respond.Action{
		{Kind: respond.KindClearSessions, State: respond.StateFailed},
		{Kind: respond.KindClearSessions, State: respond.StateSkipped},
		{Kind: respond.KindClearSessions, State: respond.StateBlocked},
		{Kind: respond.KindNotify, State: respond.StateDone},
		{Kind: respond.KindSignal, State: respond.StateDone},
		{Kind: respond.KindResetFactors, State: respond.StateDone},
	} {
		if ev, ok := Outcome(a); ok {
			t.Errorf("%s %s announced: %+v", a.Kind, a.State, ev)
		}
	}
}

func TestRiskChange(t *testing.T) {
	at := time.Now()
	for _, c := range []struct {
		prev, cur, curCAEP, prevCAEP string
		ok                           bool
	}{
		{"low", "medium", "MEDIUM", "LOW", true},
		{"medium", "critical", "HIGH", "MEDIUM", true},
		{"high", "critical", "", "", false}, // HIGH → HIGH for receivers
		{"critical", "high", "", "", false},
		{"critical", "low", "LOW", "HIGH", true},
		{"low", "bogus", "", "", false},
	} {
		ev, ok := RiskChange("ada@example.com", c.prev, c.cur, "why", "inc-1", at)
		if ok != c.ok || ok && (ev.CurrentLevel != c.curCAEP || ev.PreviousLevel != c.prevCAEP || ev.Txn != "inc-1" || ev.Principal != "USER") {
			t.Errorf("%s→%s: %+v %v", c.prev, c.cur, ev, ok)
		}
	}
}

type emitter struct {
	evs []ssf.Event
	err error
}

func (e *emitter) Emit(_ context.Context, ev ssf.Event) error {
	e.evs = append(e.evs, ev)
	return e.err
}

func TestConnector(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("a signal connector without a transmitter was accepted")
	}
	e := &emitter{}
	c, err := New(e)
	if err != nil {
		t.Fatal(err)
	}
	a := respond.Action{Kind: respond.KindSignal, Identity: "ada@example.com", Incident: "inc-9", DecidedBy: "playbook:p"}
	if _, err := c.Do(context.Background(), a); err != nil || len(e.evs) != 1 || e.evs[0].Type != ssf.EventSessionRevoked || e.evs[0].Txn != "inc-9" {
		t.Fatalf("Do: %v %+v", err, e.evs)
	}
	e.err = errors.New("database is locked")
	if _, err := c.Do(context.Background(), a); err == nil {
		t.Error("a failed Emit was reported done")
	} else if _, retry := respond.IsRetryable(err); !retry {
		t.Errorf("a store failure is not retryable: %v", err)
	}
	e.err = ssf.ErrInvalidEvent
	if _, err := c.Do(context.Background(), a); err == nil {
		t.Error("an invalid event was reported done")
	} else if _, retry := respond.IsRetryable(err); retry {
		t.Errorf("an invalid event is retryable: %v", err)
	}
	if _, err := c.Do(context.Background(), respond.Action{Kind: respond.KindClearSessions}); !errors.Is(err, respond.ErrUnsupported) {
		t.Errorf("other kinds: %v", err)
	}
}
