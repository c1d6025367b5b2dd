package ssf

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what a Store returns for a stream that does not exist.
var ErrNotFound = errors.New("not found")

// Store persists the transmitter's state: streams, their subjects, the queue
// of signed SETs awaiting delivery, and the signing keys. Implementations
// must be safe for concurrent use. The transmitter serializes its own
// read-modify-write sequences, so a Store needs no transactions beyond what
// each method says.
type Store interface {
	// Streams returns every stream, in any order.
	Streams(ctx context.Context) ([]Stream, error)
	// Stream returns one stream, or an error wrapping ErrNotFound.
	Stream(ctx context.Context, id string) (Stream, error)
	// SaveStream inserts the stream or replaces the one with its ID.
	SaveStream(ctx context.Context, s Stream) error
	// DeleteStream removes a stream with its subjects and every queued SET
	// of it, in one transaction; an absent stream is an error wrapping
	// ErrNotFound.
	DeleteStream(ctx context.Context, id string) error

	// AddSubject records a subject for a stream. subject is the canonical
	// JSON of a subject identifier and is compared bytewise; adding one
	// twice is not an error.
	AddSubject(ctx context.Context, stream string, subject []byte) error
	// RemoveSubject forgets a subject; removing an absent one is not an
	// error.
	RemoveSubject(ctx context.Context, stream string, subject []byte) error
	// Subjects returns a stream's subjects, in any order.
	Subjects(ctx context.Context, stream string) ([][]byte, error)

	// Enqueue stores SETs for delivery, all or none. A (Stream, JTI) pair
	// is unique.
	Enqueue(ctx context.Context, sets []QueuedSET) error
	// Pending returns up to limit SETs of a stream in state "pending", in
	// the order they were enqueued, whatever their NextAttempt.
	Pending(ctx context.Context, stream string, limit int) ([]QueuedSET, error)
	// Failed returns up to limit SETs of a stream in state "failed", most
	// recently enqueued first.
	Failed(ctx context.Context, stream string, limit int) ([]QueuedSET, error)
	// UpdateQueued writes the delivery bookkeeping of one SET, found by
	// Stream and JTI: State, Attempts, NextAttempt and LastError. Updating
	// an absent SET (acknowledged or deleted meanwhile) is not an error.
	UpdateQueued(ctx context.Context, q QueuedSET) error
	// Ack deletes the given SETs of a stream, whatever their state, and
	// returns how many existed. Unknown JTIs are ignored.
	Ack(ctx context.Context, stream string, jtis []string) (int, error)

	// Keys returns every signing key kept, in any order.
	Keys(ctx context.Context) ([]Key, error)
	// SaveKey inserts the key or replaces the one with its ID.
	SaveKey(ctx context.Context, k Key) error
	// DeleteKey removes a key; removing an absent one is not an error.
	DeleteKey(ctx context.Context, id string) error
}

// Stream is an event stream as stored. Everything a receiver sees is
// derived from it; the wire form is streamJSON.
type Stream struct {
	ID       string
	Receiver string   // who owns it: the name the Authorizer returned
	Audience []string // the SETs' aud; fixed at creation

	EventsRequested []string // as the receiver asked, unknown types included
	EventsDelivered []string // EventsRequested ∩ SupportedEvents
	Delivery        Delivery
	Description     string

	Status       string // StatusEnabled, StatusPaused or StatusDisabled
	StatusReason string
	// DefaultSubjects is the transmitter's default_subjects when the
	// stream was created: with "ALL" its subjects are exclusions, with
	// "NONE" they are the only subjects delivered.
	DefaultSubjects string

	Created          time.Time
	Updated          time.Time
	LastVerification time.Time
}

// Delivery is how a stream's SETs reach the receiver.
type Delivery struct {
	Method      string // DeliveryPush or DeliveryPoll
	EndpointURL string // push: the receiver's URL; poll: this transmitter's
	// AuthorizationHeader is sent verbatim as the Authorization header of
	// every push. It is a secret: never returned, logged or put in errors.
	AuthorizationHeader string
}

// Delivery methods (SSF 1.0 §6.1).
const (
	DeliveryPush = "urn:ietf:rfc:8935"
	DeliveryPoll = "urn:ietf:rfc:8936"
)

// Stream statuses (SSF 1.0 §8.1.2).
const (
	StatusEnabled  = "enabled"
	StatusPaused   = "paused"
	StatusDisabled = "disabled"
)

// Values of default_subjects.
const (
	SubjectsAll  = "ALL"
	SubjectsNone = "NONE"
)

// QueuedSET is one signed SET awaiting delivery on one stream.
type QueuedSET struct {
	Stream    string
	JTI       string
	EventType string
	Token     string // the compact JWS, signed once at enqueue time
	Created   time.Time

	State       string    // QueuePending or QueueFailed
	Attempts    int       // push attempts made
	NextAttempt time.Time // push: not before this time; zero means now
	LastError   string    // why the last attempt failed; never holds secrets
}

// Queue states.
const (
	QueuePending = "pending"
	QueueFailed  = "failed" // permanently: the receiver rejected it, or retries ran out
)

// Key is a signing key as stored. Private is a PKCS #8 PEM block: the store
// must keep it at least as well protected as API token hashes.
type Key struct {
	ID        string // the JWS kid: the RFC 7638 thumbprint of the public key
	Algorithm string // RS256 or ES256
	Private   []byte
	Created   time.Time
	// Retired is when a newer key replaced this one; zero for the active
	// key. Retired keys stay in the JWKS for Config.KeyGrace.
	Retired time.Time
}
