// Package signal turns what Vigil decided and did into OpenID Shared
// Signals (CAEP) events: the facts it broadcasts after an action finished
// (sessions revoked, a credential deactivated), identity risk level
// changes, and the "signal" action a playbook uses when the receivers
// themselves are the enforcement point (an identity provider that ends
// its own sessions when told).
package signal

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/ssf"
)

// Emitter queues an event for every receiver stream that wants it
// (*ssf.Transmitter).
type Emitter interface {
	Emit(ctx context.Context, ev ssf.Event) error
}

// Subject is how receivers know an identity: by email when it is one
// (people, and service accounts named by email), else as an opaque id
// (roles, access keys, service principals).
func Subject(identity string) ssf.Subject {
	if a, err := mail.ParseAddress(identity); err == nil && a.Address == identity && a.Name == "" {
		return ssf.EmailSubject(identity)
	}
	return ssf.OpaqueSubject(identity)
}

// initiator is CAEP's initiating_entity for whoever decided an action.
func initiator(decidedBy string) string {
	if strings.HasPrefix(decidedBy, "playbook:") {
		return "policy"
	}
	return "admin"
}

func reason(a respond.Action, what string) map[string]string {
	msg := "Vigil " + what
	if a.Incident != "" {
		msg += " (incident " + a.Incident + ")"
	}
	if m := a.Params["message"]; m != "" {
		msg += ": " + m
	}
	return map[string]string{"en": msg}
}

// Outcome is the event that announces a finished action, if it is one
// receivers should hear about: a session revocation or sign-out as
// session-revoked, an access key deactivated as credential-change.
// Actions not carried out (failed, recommend, dry-run) announce nothing.
func Outcome(a respond.Action) (ssf.Event, bool) {
	if a.State != respond.StateDone {
		return ssf.Event{}, false
	}
	ev := ssf.Event{Subject: Subject(a.Identity), Time: a.Updated, Txn: a.Incident, InitiatingEntity: initiator(a.DecidedBy)}
	switch a.Kind {
	case respond.KindClearSessions, respond.KindSignOut, respond.KindSuspendUser:
		ev.Type = ssf.EventSessionRevoked
		ev.ReasonAdmin = reason(a, "ended the sessions of "+a.Identity+" through "+a.Connector)
	case respond.KindRevokeRoleTokens:
		ev.Type = ssf.EventSessionRevoked
		ev.ReasonAdmin = reason(a, "revoked the sessions of role "+a.Target+" issued before "+a.Updated.UTC().Format(time.RFC3339))
	case respond.KindDeactivateKey:
		ev.Type = ssf.EventCredentialChange
		ev.CredentialType = "api-key" // not among CAEP's listed types; CAEP allows agreed values
		ev.ChangeType = "revoke"
		ev.FriendlyName = a.Target
		ev.ReasonAdmin = reason(a, "deactivated access key "+a.Target+" of "+a.Identity)
	default:
		return ssf.Event{}, false
	}
	return ev, true
}

// RiskChange is the event for an identity whose risk level moved from
// prev to cur (Vigil's levels: low, medium, high, critical), with txn the
// incident that moved it ("" for none). It is false when receivers would
// see no change: CAEP's highest level is HIGH, so high and critical are
// the same to them.
func RiskChange(identity, prev, cur, why, txn string, at time.Time) (ssf.Event, bool) {
	c, ok := ssf.RiskLevel(cur)
	if !ok {
		return ssf.Event{}, false
	}
	p, _ := ssf.RiskLevel(prev)
	if p == c {
		return ssf.Event{}, false
	}
	return ssf.Event{Type: ssf.EventRiskLevelChange, Subject: Subject(identity), Time: at,
		Txn: txn, Principal: "USER", CurrentLevel: c, PreviousLevel: p, RiskReason: why,
		InitiatingEntity: "system"}, true
}

// Connector is the "signal" action: tell receivers to end the identity's
// sessions (session-revoked) when Vigil has no connector that could, or
// in addition to one.
type Connector struct{ e Emitter }

// New returns the connector emitting through e.
func New(e Emitter) (*Connector, error) {
	if e == nil {
		return nil, errors.New("signal: Shared Signals is not enabled (set ssf.enabled)")
	}
	return &Connector{e: e}, nil
}

var _ respond.Connector = (*Connector)(nil)

// Kinds implements respond.Connector.
func (c *Connector) Kinds() []string { return []string{respond.KindSignal} }

// Do queues a session-revoked event for every receiver that wants it.
// The event is stored (durably) before Do returns; delivery to each
// receiver is the transmitter's, with its own retries.
func (c *Connector) Do(ctx context.Context, a respond.Action) (string, error) {
	if a.Kind != respond.KindSignal {
		return "", fmt.Errorf("signal: %w: %s", respond.ErrUnsupported, a.Kind)
	}
	ev := ssf.Event{Type: ssf.EventSessionRevoked, Subject: Subject(a.Identity), Time: a.Created, Txn: a.Incident,
		InitiatingEntity: initiator(a.DecidedBy), ReasonAdmin: reason(a, "asks receivers to end the sessions of "+a.Identity)}
	if err := c.e.Emit(ctx, ev); err != nil {
		if errors.Is(err, ssf.ErrInvalidEvent) {
			return "", fmt.Errorf("signal: %w", err)
		}
		return "", respond.Retryable(fmt.Errorf("signal: %w", err), 0)
	}
	return "session-revoked queued for Shared Signals receivers", nil
}
