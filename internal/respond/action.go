// Package respond acts on detections at machine speed, safely: playbooks
// turn alerts into actions, a durable outbox delivers them through
// connectors (one sub-package per vendor) with retries and idempotency, and
// guardrails keep automation from locking out the company.
package respond

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Action kinds. A connector declares which it performs.
const (
	KindClearSessions    = "clear_sessions"       // end every session and OAuth token of a user
	KindSuspendUser      = "suspend_user"         // suspend or disable the account
	KindResetFactors     = "reset_factors"        // remove enrolled factors
	KindSignOut          = "sign_out"             // Google Workspace sign-out
	KindDeactivateKey    = "deactivate_key"       // AWS IAM access key → Inactive
	KindRevokeRoleTokens = "revoke_role_sessions" // deny a role's sessions issued before now
	KindNotify           = "notify"               // tell people (webhook, Slack)
	KindSignal           = "signal"               // Shared Signals event to receivers
)

// Action is one thing to do to one target, as the outbox keeps it.
type Action struct {
	// ID is derived from what the action is for (incident, connector,
	// kind, target), so the same incident never does the same thing twice;
	// connectors send it as the Idempotency-Key.
	ID        string `json:"id"`
	Connector string `json:"connector"` // configured connector name ("okta", "aws-prod")
	Kind      string `json:"kind"`
	// Identity is the canonical identity the action is about.
	Identity string `json:"identity"`
	// Target is what the vendor calls the object acted on: an Okta user id
	// or login, an Entra UPN, an access key id, a role name.
	Target string `json:"target"`
	// Params carries what some kinds need (the key's user, a message).
	Params map[string]string `json:"params,omitempty"`

	Incident string `json:"incident,omitempty"`
	Alert    string `json:"alert,omitempty"`
	// DecidedBy says who or what decided: "playbook:<name>" or
	// "token:<name>".
	DecidedBy string `json:"decided_by"`
	Mode      string `json:"mode"` // enforce, recommend, dry-run

	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Result    string    `json:"result,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Action states.
const (
	StatePending = "pending" // waiting to be sent (or retried at NextAt)
	StateSending = "sending" // handed to the connector; after a crash it is sent again, with the same Idempotency-Key
	StateDone    = "done"    // the vendor confirmed
	StateFailed  = "failed"  // a permanent failure, shown on the incident
	StateSkipped = "skipped" // recommend or dry-run: recorded, not sent
	StateBlocked = "blocked" // a guardrail stopped it
)

// Modes of a playbook.
const (
	ModeEnforce   = "enforce"
	ModeRecommend = "recommend"
	ModeDryRun    = "dry-run"
)

// Connector performs actions against one vendor. Implementations live in
// sub-packages and must be safe for concurrent use.
type Connector interface {
	// Kinds lists the action kinds the connector performs.
	Kinds() []string
	// Do performs a. It returns a short human-readable result on success,
	// *RetryableError for failures worth retrying (network, 5xx, 429),
	// and any other error for permanent failures (404, 403, bad target).
	Do(ctx context.Context, a Action) (string, error)
}

// RetryableError is a temporary failure; After, when set, is how long the
// vendor asked to wait (Retry-After, rate-limit reset).
type RetryableError struct {
	Err   error
	After time.Duration
}

func (e *RetryableError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
	}
	return e.Err.Error()
}

func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable wraps err as a RetryableError.
func Retryable(err error, after time.Duration) error { return &RetryableError{Err: err, After: after} }

// IsRetryable reports whether err is worth retrying and after how long.
func IsRetryable(err error) (time.Duration, bool) {
	var r *RetryableError
	if errors.As(err, &r) {
		return r.After, true
	}
	return 0, false
}

// ErrUnsupported is returned by a connector for a kind it does not do.
var ErrUnsupported = errors.New("action kind not supported by this connector")
