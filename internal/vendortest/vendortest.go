// Package vendortest holds what the contract-faithful fake vendor APIs
// (oktaadmin, graphadmin, googleadmin, awsiam, webhook) share: a request
// log, effective-delivery counting by Idempotency-Key, failure injection
// (429 with waits, 5xx, delays), waiting for requests without sleeps, and
// the in-memory transport of the log fakes (oktalog, graphlog).
//
// The fakes run in tests and in-process outside them (a demo), so nothing
// here needs a *testing.T: a Cleanup registrar is optional and every
// server has Close.
package vendortest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Action kinds as the fakes name what they were asked to do. They equal
// the respond package's kinds (a test pins that) without importing it, so
// respond's own tests can use the fakes.
const (
	KindClearSessions    = "clear_sessions"
	KindSuspendUser      = "suspend_user"
	KindResetFactors     = "reset_factors"
	KindSignOut          = "sign_out"
	KindDeactivateKey    = "deactivate_key"
	KindRevokeRoleTokens = "revoke_role_sessions"
	KindNotify           = "notify"

	// KindToken marks a request to a fake's token endpoint; KindRead a
	// request that changes nothing. Neither counts as a delivery.
	KindToken = "token"
	KindRead  = "read"
)

// Cleanup is what testing.TB offers to close a server when a test ends.
type Cleanup interface {
	Cleanup(func())
}

// Request is one request a fake received, as it answered it.
type Request struct {
	Method string
	Path   string // unescaped
	Query  string // raw query
	// IdempotencyKey is the Idempotency-Key header, "" when absent.
	IdempotencyKey string
	// Kind and Target are what the fake understood the request to do and
	// to whom (a user id, key id, role name), once routed.
	Kind   string
	Target string
	Status int
	// Injected is true when the answer came from FailNext, not the API.
	Injected bool
	// Effective is true for the first successful mutating request with its
	// Idempotency-Key (and every successful one without a key).
	Effective bool
	Body      []byte
	// Header is the request's header with credentials redacted.
	Header http.Header
	Time   time.Time
}

// Failure is an injected answer: the status to return and the wait the
// fake advertises (Retry-After, rate-limit reset).
type Failure struct {
	Status     int
	RetryAfter time.Duration
}

// Scopes of failure injection: API calls and token-endpoint calls fail
// independently, so a test can throttle one without the other.
const (
	ScopeAPI   = "api"
	ScopeToken = "token"
)

// MaxBody bounds what a fake reads of a request body.
const MaxBody = 1 << 20

// Recorder logs requests and injects failures; the fakes embed it.
type Recorder struct {
	mu       sync.Mutex
	now      func() time.Time
	reqs     []Request
	applied  map[string]bool // idempotency keys of effective deliveries
	failures map[string][]Failure
	delay    time.Duration
	changed  chan struct{} // closed and replaced on every new request
	closed   chan struct{}
	once     sync.Once
	resolve  func(string) string // set once, before requests arrive
}

// SetResolver makes Count, Deliveries and WaitDeliveries accept what a
// fake's users are also known by (a login, an e-mail): f maps it to the
// target the fake records (the user's id), or returns it unchanged.
func (r *Recorder) SetResolver(f func(string) string) { r.resolve = f }

func (r *Recorder) target(t string) string {
	if t == "" || r.resolve == nil {
		return t
	}
	return r.resolve(t)
}

// NewRecorder returns a Recorder using now as its clock (time.Now if nil).
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{
		now:      now,
		applied:  map[string]bool{},
		failures: map[string][]Failure{},
		changed:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
}

// Now is the fake's clock.
func (r *Recorder) Now() time.Time { return r.now() }

// FailNext makes the next n API calls answer status, advertising
// retryAfter (0 for none) in the vendor's headers.
func (r *Recorder) FailNext(n, status int, retryAfter time.Duration) {
	r.failScope(ScopeAPI, n, status, retryAfter)
}

// FailTokenNext makes the next n token-endpoint calls answer status.
func (r *Recorder) FailTokenNext(n, status int, retryAfter time.Duration) {
	r.failScope(ScopeToken, n, status, retryAfter)
}

func (r *Recorder) failScope(scope string, n, status int, retryAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.failures[scope] = append(r.failures[scope], Failure{Status: status, RetryAfter: retryAfter})
	}
}

// SetDelay delays every later answer by d (0 to stop).
func (r *Recorder) SetDelay(d time.Duration) {
	r.mu.Lock()
	r.delay = d
	r.mu.Unlock()
}

// Reset forgets the request log, deliveries, pending failures and delay.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = nil
	r.applied = map[string]bool{}
	r.failures = map[string][]Failure{}
	r.delay = 0
}

// Requests returns a copy of every request received, in order.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// Count returns how many requests of kind for target arrived, whatever
// their outcome ("" matches any target).
func (r *Recorder) Count(kind, target string) int {
	target = r.target(target)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.reqs {
		if q.Kind == kind && (target == "" || q.Target == target) {
			n++
		}
	}
	return n
}

// Deliveries returns how many effective deliveries of kind reached target
// ("" matches any target): retries carrying an Idempotency-Key already
// applied do not count.
func (r *Recorder) Deliveries(kind, target string) int {
	target = r.target(target)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deliveriesLocked(kind, target)
}

// Wait blocks until cond holds for the request log or ctx ends.
func (r *Recorder) Wait(ctx context.Context, cond func([]Request) bool) error {
	for {
		r.mu.Lock()
		ok := cond(r.reqs)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitDeliveries blocks until kind reached target n times effectively.
func (r *Recorder) WaitDeliveries(ctx context.Context, kind, target string, n int) error {
	target = r.target(target)
	return r.Wait(ctx, func([]Request) bool { return r.deliveriesLocked(kind, target) >= n })
}

func (r *Recorder) deliveriesLocked(kind, target string) int {
	n := 0
	for _, q := range r.reqs {
		if q.Effective && q.Kind == kind && (target == "" || q.Target == target) {
			n++
		}
	}
	return n
}

// Call is one request in flight in a fake.
type Call struct {
	rec *Recorder
	req Request
}

// Begin starts recording r: it reads the body (bounded) and applies the
// configured delay. It returns nil when the client went away or the
// recorder closed during the delay; the caller then answers nothing.
func (r *Recorder) Begin(w http.ResponseWriter, q *http.Request) *Call {
	var body []byte
	if q.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(q.Body, MaxBody))
	}
	c := &Call{rec: r, req: Request{
		Method:         q.Method,
		Path:           q.URL.Path,
		Query:          q.URL.RawQuery,
		IdempotencyKey: q.Header.Get("Idempotency-Key"),
		Body:           body,
		Header:         redacted(q.Header),
		Time:           r.now(),
	}}
	r.mu.Lock()
	d := r.delay
	r.mu.Unlock()
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-q.Context().Done():
			c.Finish(499) // client closed the request, nginx's name for it
			return nil
		case <-r.closed:
			w.WriteHeader(http.StatusServiceUnavailable)
			c.Finish(http.StatusServiceUnavailable)
			return nil
		}
	}
	return c
}

// Body is the request body the call read.
func (c *Call) Body() []byte { return c.req.Body }

// Injected pops the next injected failure of scope, if any.
func (c *Call) Injected(scope string) (Failure, bool) {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	fs := c.rec.failures[scope]
	if len(fs) == 0 {
		return Failure{}, false
	}
	c.rec.failures[scope] = fs[1:]
	c.req.Injected = true
	return fs[0], true
}

// Route records what the request was understood to do.
func (c *Call) Route(kind, target string) {
	c.req.Kind, c.req.Target = kind, target
}

// Finish records the answer's status; a successful mutating call with a
// new Idempotency-Key counts as an effective delivery.
func (c *Call) Finish(status int) {
	c.req.Status = status
	r := c.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	q := c.req
	if q.Status >= 200 && q.Status < 300 && !q.Injected && mutating(q.Kind) {
		if q.IdempotencyKey == "" || !r.applied[q.IdempotencyKey] {
			q.Effective = true
			if q.IdempotencyKey != "" {
				r.applied[q.IdempotencyKey] = true
			}
		}
	}
	r.reqs = append(r.reqs, q)
	close(r.changed)
	r.changed = make(chan struct{})
}

func mutating(kind string) bool {
	return kind != "" && kind != KindToken && kind != KindRead
}

// Close releases requests waiting in a delay.
func (r *Recorder) Close() {
	r.once.Do(func() { close(r.closed) })
}

// RetryAfterSeconds renders d as a Retry-After value: whole seconds,
// rounded up so a client never retries early.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 0 {
		return 0
	}
	return s
}

// WriteJSON answers v as JSON with status and finishes the call.
func (c *Call) WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{}`)
	}
	c.Write(w, status, "application/json", b)
}

// Write answers body with status and content type (none when "") and
// finishes the call.
func (c *Call) Write(w http.ResponseWriter, status int, contentType string, body []byte) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body)
	}
	c.Finish(status)
}

// Serve starts h on a loopback httptest server and registers its closing
// with cleanup when there is one.
func Serve(cleanup Cleanup, h http.Handler, rec *Recorder) *httptest.Server {
	srv := httptest.NewServer(h)
	if cleanup != nil {
		cleanup.Cleanup(func() { rec.Close(); srv.Close() })
	}
	return srv
}

type callKey struct{}

// WithCall returns r carrying c, for the fake's handlers behind its mux.
func WithCall(r *http.Request, c *Call) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callKey{}, c))
}

// CallFrom returns the call WithCall attached to r.
func CallFrom(r *http.Request) *Call {
	c, _ := r.Context().Value(callKey{}).(*Call)
	return c
}

// Mount wraps h, a handler a test adds to a fake, so its answer is logged
// as a read on the call WithCall attached.
func Mount(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := CallFrom(r)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		if c != nil {
			c.Route(KindRead, "")
			c.Finish(sw.status)
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// RandHex returns n random bytes in hex, for ids fakes make up.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redacted clones h without credential values.
func redacted(h http.Header) http.Header {
	h = h.Clone()
	if v := h.Get("Authorization"); v != "" {
		scheme, _, _ := strings.Cut(v, " ")
		h.Set("Authorization", scheme+" [redacted]")
	}
	for _, k := range []string{"X-Amz-Security-Token", "Cookie"} {
		if h.Get(k) != "" {
			h.Set(k, "[redacted]")
		}
	}
	return h
}
