package respond

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// Outbox is the durable queue of actions. The SQLite store implements it.
type Outbox interface {
	EnqueueAction(ctx context.Context, a Action) (bool, error)
	UpdateAction(ctx context.Context, a Action) error
	DueActions(ctx context.Context, now time.Time, limit int) ([]Action, error)
	// ClaimAction moves a pending action to sending, writing a; it
	// reports false when another dispatcher claimed it first.
	ClaimAction(ctx context.Context, a Action) (bool, error)
	// ActionsInState returns actions in a state (used at start to find
	// actions a crash left in flight).
	ActionsInState(ctx context.Context, state string) ([]Action, error)
}

// Target turns an identity into what a connector's vendor calls it (an
// Okta login, an Entra UPN, an IAM role name). The default is the identity
// itself; the service can map with an inventory.
type Target func(connector, kind string, a *event.Alert) (target string, params map[string]string)

// Config configures a Responder.
type Config struct {
	Playbooks  []Playbook
	Connectors map[string]Connector
	// Protected identities are never acted on automatically (break-glass
	// accounts). Manual actions on them are allowed and audited.
	Protected []string
	// Breaker stops automatic actions once more than BreakerMax were
	// queued within BreakerWindow: a misfiring rule must not lock out the
	// company. 0 turns it off.
	BreakerMax    int
	BreakerWindow time.Duration
	// Backoff bounds retries: the first wait, the longest, and how many
	// attempts before an action fails for good.
	BackoffMin  time.Duration
	BackoffMax  time.Duration
	MaxAttempts int
	Target      Target
	Now         func() time.Time
	Log         *slog.Logger
	// OnDone, when set, is told about every action that completed or failed
	// for good (the service re-checks sessions, emits Shared Signals and
	// updates the incident).
	OnDone func(Action)
	// OnBreaker, when set, is told when the breaker opens.
	OnBreaker func(at time.Time, queued int)
}

// Responder turns alerts into actions and delivers them.
type Responder struct {
	cfg    Config
	outbox Outbox
	wake   chan struct{}

	mu       sync.Mutex
	recent   []time.Time // automatic actions queued within the window
	breaker  bool
	inflight sync.WaitGroup
}

// New returns a Responder; Run delivers.
func New(cfg Config, outbox Outbox) (*Responder, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.Target == nil {
		cfg.Target = DefaultTarget
	}
	for _, p := range cfg.Playbooks {
		for _, s := range p.Steps {
			c, ok := cfg.Connectors[s.Connector]
			if !ok {
				return nil, fmt.Errorf("playbook %s: no connector %q", p.Name, s.Connector)
			}
			if !slices.Contains(c.Kinds(), s.Kind) {
				return nil, fmt.Errorf("playbook %s: connector %s does not do %s (it does %s)", p.Name, s.Connector, s.Kind, strings.Join(c.Kinds(), ", "))
			}
		}
		switch p.Mode {
		case ModeEnforce, ModeRecommend, ModeDryRun:
		default:
			return nil, fmt.Errorf("playbook %s: mode %q is not enforce, recommend or dry-run", p.Name, p.Mode)
		}
	}
	return &Responder{cfg: cfg, outbox: outbox, wake: make(chan struct{}, 1)}, nil
}

// DefaultTarget acts on the identity itself, except for AWS credentials,
// which it acts on as their kind allows: an IAM user's long-term access
// key (AKIA…, the alert's session) is deactivated, with the user as a
// parameter; a role's credentials are temporary and cannot be, so the
// role's sessions are revoked instead ("role/name" → "name"). A step that
// does not fit the alert's identity gets no target: one playbook can list
// both steps for every machine identity.
func DefaultTarget(connector, kind string, a *event.Alert) (string, map[string]string) {
	role := strings.HasPrefix(a.Identity, "role/")
	switch kind {
	case KindDeactivateKey:
		if role || !strings.HasPrefix(a.Session, "AKIA") {
			return "", nil
		}
		return a.Session, map[string]string{"user": a.Identity}
	case KindRevokeRoleTokens:
		if !role {
			return "", nil
		}
		return strings.TrimPrefix(a.Identity, "role/"), nil
	case KindNotify, KindSignal:
		// "message" is what the webhook connector shows people.
		return a.Identity, map[string]string{"message": a.Summary, "severity": string(a.Severity), "rule": a.Rule}
	}
	return a.Identity, nil
}

// OnAlert runs the playbooks on an alert and queues the actions they call
// for. It returns the actions queued (including those recorded but not
// sent: recommend, dry-run, blocked).
func (r *Responder) OnAlert(ctx context.Context, a *event.Alert) ([]Action, error) {
	var out []Action
	now := r.cfg.Now()
	for i := range r.cfg.Playbooks {
		p := &r.cfg.Playbooks[i]
		if !p.Matches(a) {
			continue
		}
		for _, s := range p.Steps {
			target, params := r.cfg.Target(s.Connector, s.Kind, a)
			if target == "" {
				r.cfg.Log.Info("playbook step does not apply to the alert's identity", "playbook", p.Name, "connector", s.Connector, "kind", s.Kind, "identity", a.Identity)
				continue
			}
			act := Action{
				ID: ActionID(a.Incident, s.Connector, s.Kind, target), Connector: s.Connector, Kind: s.Kind,
				Identity: a.Identity, Target: target, Params: params, Incident: a.Incident, Alert: a.ID,
				DecidedBy: "playbook:" + p.Name, Mode: p.Mode, State: StatePending, NextAt: now, Created: now, Updated: now,
			}
			switch {
			case p.Mode != ModeEnforce:
				act.State = StateSkipped
				act.Result = p.Mode + ": not sent"
			case r.protected(a.Identity):
				act.State = StateBlocked
				act.LastError = "protected identity: never acted on automatically"
			case s.Kind != KindNotify && s.Kind != KindSignal && !r.allow(now):
				act.State = StateBlocked
				act.LastError = fmt.Sprintf("circuit breaker open: more than %d automatic actions in %s", r.cfg.BreakerMax, r.cfg.BreakerWindow)
			}
			ok, err := r.outbox.EnqueueAction(ctx, act)
			if err != nil {
				return out, err
			}
			if ok {
				out = append(out, act)
			}
		}
	}
	r.kick()
	return out, nil
}

// Request is an action a person asks for.
type Request struct {
	Connector, Kind string
	Identity        string
	Target          string // default: the identity
	Params          map[string]string
	DecidedBy       string // "token:<name>", "cli:<user>"
	Incident        string
}

// Manual queues an action a person asked for (API or CLI). Guardrails do
// not apply: a person decided. The action id includes the decider and the
// time, so repeating a manual action repeats it.
func (r *Responder) Manual(ctx context.Context, req Request) (Action, error) {
	c, ok := r.cfg.Connectors[req.Connector]
	if !ok {
		return Action{}, fmt.Errorf("no connector %q", req.Connector)
	}
	if !slices.Contains(c.Kinds(), req.Kind) {
		return Action{}, fmt.Errorf("connector %s does not do %s (it does %s)", req.Connector, req.Kind, strings.Join(c.Kinds(), ", "))
	}
	act := ManualAction(req, r.cfg.Now())
	if _, err := r.outbox.EnqueueAction(ctx, act); err != nil {
		return act, err
	}
	r.kick()
	return act, nil
}

// ManualAction builds the action a person asks for. Its id includes the
// decider and the time, so that repeating a manual action repeats it.
func ManualAction(req Request, now time.Time) Action {
	target := req.Target
	if target == "" {
		target = req.Identity
	}
	return Action{
		ID:        ActionID(req.Incident+"|manual|"+req.DecidedBy+"|"+now.Format(time.RFC3339Nano), req.Connector, req.Kind, target),
		Connector: req.Connector, Kind: req.Kind, Identity: req.Identity, Target: target, Params: req.Params,
		Incident: req.Incident, DecidedBy: req.DecidedBy, Mode: ModeEnforce,
		State: StatePending, NextAt: now, Created: now, Updated: now,
	}
}

func (r *Responder) protected(identity string) bool {
	return slices.ContainsFunc(r.cfg.Protected, func(p string) bool { return strings.EqualFold(p, identity) })
}

// allow counts an automatic action against the breaker.
func (r *Responder) allow(now time.Time) bool {
	if r.cfg.BreakerMax <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cut := now.Add(-r.cfg.BreakerWindow)
	keep := r.recent[:0]
	for _, t := range r.recent {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	r.recent = keep
	if len(r.recent) >= r.cfg.BreakerMax {
		if !r.breaker {
			r.breaker = true
			if r.cfg.OnBreaker != nil {
				r.cfg.OnBreaker(now, len(r.recent))
			}
		}
		return false
	}
	r.breaker = false
	r.recent = append(r.recent, now)
	return true
}

// BreakerOpen reports whether the breaker is stopping automatic actions.
func (r *Responder) BreakerOpen() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.breaker
}

func (r *Responder) kick() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run delivers due actions until ctx ends. Actions a crash left in flight
// are sent again first, with the same Idempotency-Key.
func (r *Responder) Run(ctx context.Context) error {
	if err := r.recover(ctx); err != nil {
		return err
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			r.inflight.Wait()
			return nil
		case <-r.wake:
		case <-timer.C:
		}
		if err := r.dispatch(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Error("outbox", "err", err)
		}
		timer.Reset(500 * time.Millisecond) // retries come due on their own
	}
}

func (r *Responder) recover(ctx context.Context) error {
	stuck, err := r.outbox.ActionsInState(ctx, StateSending)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, a := range stuck {
		a.State, a.Updated = StatePending, r.cfg.Now()
		if err := r.outbox.UpdateAction(ctx, a); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		r.cfg.Log.Info("resending an action interrupted by a stop", "action", a.ID, "connector", a.Connector, "kind", a.Kind)
	}
	return nil
}

// dispatch sends every due action, each in its own goroutine: a slow
// vendor does not hold up the next action (claimed actions are no longer
// due, so none is sent twice).
func (r *Responder) dispatch(ctx context.Context) error {
	for {
		due, err := r.outbox.DueActions(ctx, r.cfg.Now(), 64)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, a := range due {
			a.State, a.Attempts, a.Updated = StateSending, a.Attempts+1, r.cfg.Now()
			// Written before the call: a crash from here on resends.
			claimed, err := r.outbox.ClaimAction(ctx, a)
			if err != nil {
				return err
			}
			if !claimed {
				continue
			}
			r.inflight.Add(1)
			go func(a Action) {
				defer r.inflight.Done()
				r.deliver(context.WithoutCancel(ctx), a)
			}(a)
		}
	}
}

func (r *Responder) deliver(ctx context.Context, a Action) {
	c := r.cfg.Connectors[a.Connector]
	var res string
	var err error
	if c == nil {
		err = fmt.Errorf("no connector %q configured", a.Connector)
	} else {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err = c.Do(cctx, a)
		cancel()
	}
	now := r.cfg.Now()
	a.Updated = now
	switch after, retry := IsRetryable(err); {
	case err == nil:
		a.State, a.Result, a.LastError = StateDone, res, ""
	case retry && a.Attempts < r.cfg.MaxAttempts:
		a.State, a.LastError = StatePending, err.Error()
		a.NextAt = now.Add(max(after, r.backoff(a.Attempts)))
	default:
		a.State, a.LastError = StateFailed, err.Error()
		if retry {
			a.LastError = fmt.Sprintf("gave up after %d attempts: %v", a.Attempts, err)
		}
	}
	if uerr := r.outbox.UpdateAction(ctx, a); uerr != nil {
		r.cfg.Log.Error("outbox: recording an action's outcome", "action", a.ID, "err", uerr)
		return
	}
	if err != nil {
		r.cfg.Log.Warn("action failed", "action", a.ID, "connector", a.Connector, "kind", a.Kind, "attempt", a.Attempts, "state", a.State, "err", err)
	}
	if (a.State == StateDone || a.State == StateFailed) && r.cfg.OnDone != nil {
		r.cfg.OnDone(a)
	}
}

// backoff is exponential with jitter, bounded.
func (r *Responder) backoff(attempt int) time.Duration {
	d := r.cfg.BackoffMin << min(attempt-1, 20)
	if d > r.cfg.BackoffMax || d <= 0 {
		d = r.cfg.BackoffMax
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
