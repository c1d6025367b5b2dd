// Package poll reads vendor log APIs live: the Okta System Log
// (/api/v1/logs) and the Microsoft Graph audit logs (auditLogs/signIns and
// auditLogs/directoryAudits). Each poller hands the raw records it fetches
// to a Sink, in the vendor's own JSON, so that they take the same decode,
// dedupe and batch path as records read from files; and it keeps a cursor
// in Cursors so that a restart continues where the last run stopped.
//
// Delivery is at least once. A poller persists its cursor only after the
// Sink has accepted the records before it, so a crash between the two
// delivers those records again; ingestion deduplicates them (store.EventKey
// is derived from the vendor id and the record's content). Nothing is
// skipped: a page the Sink refuses is fetched again.
//
// Okta's cursor is the System Log's own next link, which Okta returns even
// when there is nothing new: it is polled again after an interval. Graph
// has no such cursor, and its logs arrive minutes late, so the Graph
// poller re-reads an overlap window before its newest event time and
// skips the ids it already delivered; see Graph for what that guarantees.
//
// Pollers wait out 429s (Retry-After, Okta's X-Rate-Limit-Reset), slow
// down before Okta's rate limit is exhausted, back off with jitter on
// network errors and 5xx, and stop with an error wrapping ErrAuth or
// ErrRejected when retrying cannot help (a revoked token, a missing
// permission, a request the API refuses). Secrets never appear in errors or
// logs. See docs/pollers.md for configuration and least-privilege
// credentials.
package poll

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/httpx"
)

// Sink receives the records a poller fetched: each one element of an Okta
// page or of a Graph page's value array, as the vendor sent it. src is the
// format (event.SourceOkta, event.SourceEntra) and origin names the
// endpoint (a URL without query) for quarantine entries and errors.
//
// Records returns nil only once the records are durably handed over
// (stored, or queued where a crash cannot lose them): the poller then moves
// its cursor past them. An error makes the poller fetch and offer the same
// records again after a backoff, so a Sink sees a record more than once
// after failures and restarts and must tolerate it (ingestion dedupes).
// The raws belong to the Sink after the call. Records is called from one
// goroutine per poller; a Sink shared by pollers must be safe for
// concurrent use.
type Sink interface {
	Records(ctx context.Context, src event.Source, origin string, raws [][]byte) error
}

// Cursors persists each poller's position under its name. Cursor returns
// "" and a nil error when nothing is stored under name. Values are opaque
// to the store, a few kilobytes at most (Graph cursors carry up to
// GraphConfig.CursorIDs ids). SetCursor must be durable when it returns:
// the poller moves on.
type Cursors interface {
	Cursor(ctx context.Context, name string) (string, error)
	SetCursor(ctx context.Context, name, value string) error
}

// Metrics receives what pollers do, for the service to export (Prometheus
// counters and gauges labelled by poller name). Implementations must be
// safe for concurrent use and must not block.
type Metrics interface {
	// Page is called for every page fetched: fetched is the number of
	// records in it, delivered how many of them went to the Sink (Graph
	// skips the ids it delivered before).
	Page(poller string, fetched, delivered int)
	// Throttled is called when the poller waits for the API's rate limit:
	// after a 429 or 503, or before Okta's limit runs out.
	Throttled(poller string, wait time.Duration)
	// Error is called for every failed attempt, by kind.
	Error(poller string, kind ErrorKind)
	// Lag is the time from the newest event delivered so far to now,
	// reported after every poll. For a quiet source it grows between
	// events; it is a freshness signal, not a backlog measure.
	Lag(poller string, lag time.Duration)
}

// ErrorKind classifies failures for Metrics.Error.
type ErrorKind string

// Kinds of failure.
const (
	ErrorHTTP     ErrorKind = "http"     // network error, timeout, 5xx
	ErrorThrottle ErrorKind = "throttle" // 429
	ErrorAuth     ErrorKind = "auth"     // 401, 403, token endpoint refused
	ErrorRejected ErrorKind = "rejected" // other 4xx
	ErrorResponse ErrorKind = "response" // unreadable or unexpected answer
	ErrorSink     ErrorKind = "sink"     // Sink.Records failed
	ErrorCursor   ErrorKind = "cursor"   // Cursors failed
)

// NopMetrics discards everything.
type NopMetrics struct{}

func (NopMetrics) Page(string, int, int)           {}
func (NopMetrics) Throttled(string, time.Duration) {}
func (NopMetrics) Error(string, ErrorKind)         {}
func (NopMetrics) Lag(string, time.Duration)       {}

var _ Metrics = NopMetrics{}

// Errors a poller's Run stops with, wrapped. Everything else is retried.
var (
	// ErrAuth: the API or its token endpoint refused the credentials (401,
	// 403, invalid_client). Retrying with the same credentials cannot help.
	ErrAuth = errors.New("authentication failed")
	// ErrRejected: the API refused the request (a 4xx other than 401, 403,
	// 408 and 429), such as a since older than the log's retention.
	ErrRejected = errors.New("request rejected")
	// ErrCursor: the stored cursor cannot be used. Delete it to start over
	// from the configured since.
	ErrCursor = errors.New("unusable stored cursor")
	// ErrConfig: the configuration is incomplete or invalid (returned by
	// the constructors).
	ErrConfig = errors.New("invalid poller configuration")
)

// Secret is a credential. It prints as [redacted] (fmt, slog, JSON) so that
// a configuration can be logged whole.
type Secret string

const redacted = "[redacted]"

// String returns [redacted].
func (Secret) String() string { return redacted }

// GoString returns [redacted], for %#v.
func (Secret) GoString() string { return redacted }

// LogValue returns [redacted], for slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Reveal returns the credential itself, for the request that needs it.
func (s Secret) Reveal() string { return string(s) }

// Tokens supplies OAuth 2.0 access tokens. Invalidate is called with a
// token the API refused (401); the next Token must not return it again.
// ClientCredentials implements it; a service app with private_key_jwt
// (Okta) can too.
type Tokens interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// Options are what every poller takes besides its vendor's settings. Sink
// and Cursors are required.
type Options struct {
	Sink    Sink
	Cursors Cursors
	// Log receives progress and problems; nil discards them.
	Log *slog.Logger
	// Metrics receives counters; nil discards them.
	Metrics Metrics
	// HTTP makes the requests; nil means a client with the default
	// transport. Redirects are never followed, whatever it says: a
	// credential goes only where it was configured to.
	HTTP *http.Client
	// Now is the clock (lag, cursor times); nil means time.Now.
	Now func() time.Time
	// RequestTimeout bounds one request including reading its body; 0
	// means 60 s.
	RequestTimeout time.Duration
	// MaxResponse bounds a response body in bytes; 0 means 64 MiB. A
	// larger page is an error: lower the page size.
	MaxResponse int64
	// MinBackoff and MaxBackoff bound the jittered exponential backoff
	// after errors; 0 means 1 s and 5 min.
	MinBackoff, MaxBackoff time.Duration
	// MaxWait caps how long a poller obeys a server's Retry-After or rate
	// limit reset at once; 0 means 15 min. It asks again afterwards.
	MaxWait time.Duration
}

func (o *Options) defaults() error {
	if o.Sink == nil || o.Cursors == nil {
		return errors.New("poller needs a sink and a cursor store")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NopMetrics{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = 64 << 20
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.MaxWait <= 0 {
		o.MaxWait = 15 * time.Minute
	}
	o.HTTP = httpx.NoRedirects(o.HTTP)
	return nil
}
