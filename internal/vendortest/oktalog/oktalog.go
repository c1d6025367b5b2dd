// Package oktalog is a contract-faithful fake of the Okta System Log API
// (GET /api/v1/logs) for pollers: it checks the Authorization header (SSWS
// API tokens and OAuth 2.0 bearer tokens with okta.logs.read), serves the
// events it holds in order with real paging (limit, since, until, and
// Link rel="self" and rel="next" headers carrying an opaque after cursor),
// keeps returning the next link when a poller has caught up, as Okta's
// polling mode does, and sends Okta's X-Rate-Limit-* headers from a
// per-minute window, answering 429 (E0000047) when it runs out.
//
// Tests append events while a poller runs (Add) and inject failures
// through the embedded vendortest.Recorder: FailNext(n, 429, d) answers
// 429 with Retry-After and X-Rate-Limit-Reset d ahead, FailNext(n, 503, 0)
// a 5xx, SetDelay(d) slow answers.
//
//	srv := oktalog.New(t)
//	srv.Add(oktalog.Event("e1", t0, "user.session.start", "ada@example.com"))
//	... poll srv.URL() with oktalog.DefaultAPIToken ...
//
// NewInMemory serves without a listener through Client(), for tests in a
// testing/synctest bubble (real sockets would keep its clock from moving).
//
// Events are served in the order added, which should be published order,
// as in Okta's log. The fake implements sortOrder=ASCENDING only and
// ignores filter and q.
package oktalog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
)

// DefaultAPIToken is the SSWS token a server accepts unless options say
// otherwise.
const DefaultAPIToken = "00vigil-test-okta-logs-token"

// DefaultRateLimit is the requests per minute a server allows unless
// WithRateLimit says otherwise.
const DefaultRateLimit = 120

// InMemoryURL is the base URL of a server made by NewInMemory.
const InMemoryURL = "https://vigil-test.okta.invalid"

// Option configures a Server.
type Option func(*Server)

// WithAPIToken makes the server accept tok as an SSWS API token instead of
// DefaultAPIToken (call it more than once to accept several).
func WithAPIToken(tok string) Option {
	return func(s *Server) {
		if !s.customTokens {
			s.apiTokens = map[string]bool{}
			s.customTokens = true
		}
		s.apiTokens[tok] = true
	}
}

// WithBearerToken makes the server accept tok as an OAuth 2.0 access token
// granted scopes; reading the log needs okta.logs.read.
func WithBearerToken(tok string, scopes ...string) Option {
	return func(s *Server) { s.bearer[tok] = scopes }
}

// WithRateLimit sets the requests allowed per one-minute window
// (DefaultRateLimit otherwise).
func WithRateLimit(perMinute int) Option {
	return func(s *Server) { s.rateLimit = max(1, perMinute) }
}

// WithClock sets the fake's clock.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// Server is a fake Okta org serving its System Log.
type Server struct {
	*vendortest.Recorder
	now func() time.Time
	vendortest.Endpoint

	mu           sync.Mutex
	events       []entry
	apiTokens    map[string]bool
	customTokens bool
	bearer       map[string][]string
	rateLimit    int
	windowEnd    time.Time
	used         int
}

type entry struct {
	published time.Time
	raw       []byte
}

func newServer(opts []Option) *Server {
	s := &Server{
		now:       time.Now,
		apiTokens: map[string]bool{DefaultAPIToken: true},
		bearer:    map[string][]string{},
		rateLimit: DefaultRateLimit,
	}
	for _, o := range opts {
		o(s)
	}
	s.Recorder = vendortest.NewRecorder(s.now)
	return s
}

// New starts a fake org on a loopback address. cleanup (a testing.TB, or
// nil) closes it when the test ends; Close does too.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := newServer(opts)
	s.Endpoint = vendortest.Listen(cleanup, s, s.Recorder)
	return s
}

// NewInMemory returns a fake org without a listener: Client() calls it
// directly, and URL() is InMemoryURL. For tests under testing/synctest.
func NewInMemory(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := newServer(opts)
	s.Endpoint = vendortest.InMemoryAt(cleanup, s, s.Recorder, InMemoryURL)
	return s
}

// Add appends events to the log: JSON objects with a published time (RFC
// 3339), in published order. A poller sees them on its next request.
func (s *Server) Add(events ...json.RawMessage) error {
	add := make([]entry, 0, len(events))
	for i, ev := range events {
		var e struct {
			Published string `json:"published"`
		}
		if err := json.Unmarshal(ev, &e); err != nil {
			return fmt.Errorf("oktalog: event %d: %w", i, err)
		}
		t, err := time.Parse(time.RFC3339Nano, e.Published)
		if err != nil {
			return fmt.Errorf("oktalog: event %d: published: %w", i, err)
		}
		add = append(add, entry{published: t, raw: append([]byte(nil), ev...)})
	}
	s.mu.Lock()
	s.events = append(s.events, add...)
	s.mu.Unlock()
	return nil
}

// Len returns the number of events in the log.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// Event returns a System Log LogEvent that Vigil's okta decoder reads: a
// user's sign-in (or eventType) from a fixed address and browser.
func Event(uuid string, published time.Time, eventType, login string) json.RawMessage {
	ev := map[string]any{
		"uuid":            uuid,
		"published":       published.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType":       eventType,
		"version":         "0",
		"severity":        "INFO",
		"displayMessage":  "User login to Okta",
		"legacyEventType": "core.user_auth.login_success",
		"actor": map[string]any{
			"id": "00u" + shortHash(login), "type": "User", "alternateId": login, "displayName": login,
		},
		"client": map[string]any{
			"userAgent": map[string]any{
				"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
				"os":           "Mac OS X", "browser": "CHROME",
			},
			"zone": "null", "device": "Computer", "ipAddress": "198.51.100.7",
			"geographicalContext": map[string]any{"city": "Lisbon", "country": "Portugal"},
		},
		"outcome":               map[string]any{"result": "SUCCESS"},
		"target":                []any{},
		"transaction":           map[string]any{"type": "WEB", "id": "tx-" + uuid},
		"authenticationContext": map[string]any{"authenticationStep": 0, "externalSessionId": "102" + shortHash(login+uuid)},
		"debugContext":          map[string]any{"debugData": map[string]any{"requestId": "req-" + uuid}},
		"securityContext":       map[string]any{},
	}
	b, _ := json.Marshal(ev)
	return b
}

func shortHash(s string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return strconv.FormatUint(h, 36)
}

// ServeHTTP serves the System Log endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.Begin(w, r)
	if c == nil {
		return
	}
	w.Header().Set("X-Okta-Request-Id", vendortest.RandHex(10))
	c.Route(vendortest.KindRead, "")
	if f, ok := c.Injected(vendortest.ScopeAPI); ok {
		s.injected(w, c, f)
		return
	}
	if r.URL.Path != "/api/v1/logs" {
		oktaError(w, c, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Path)")
		return
	}
	if r.Method != http.MethodGet {
		oktaError(w, c, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
		return
	}
	if status := s.authorize(r); status != http.StatusOK {
		if status == http.StatusForbidden {
			oktaError(w, c, status, "E0000006", "You do not have permission to perform the requested action")
		} else {
			oktaError(w, c, status, "E0000011", "Invalid token provided")
		}
		return
	}
	if !s.take(w) {
		oktaError(w, c, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	s.logs(w, r, c)
}

// authorize checks the Authorization header: 200, 401 or 403.
func (s *Server) authorize(r *http.Request) int {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case scheme == "SSWS" && s.apiTokens[tok]:
		return http.StatusOK
	case strings.EqualFold(scheme, "Bearer"):
		scopes, ok := s.bearer[tok]
		if !ok {
			return http.StatusUnauthorized
		}
		for _, sc := range scopes {
			if sc == "okta.logs.read" {
				return http.StatusOK
			}
		}
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// take spends one request of the window and sets the rate-limit headers;
// false when none was left.
func (s *Server) take(w http.ResponseWriter) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !now.Before(s.windowEnd) {
		s.windowEnd, s.used = now.Add(time.Minute), 0
	}
	ok := s.used < s.rateLimit
	if ok {
		s.used++
	}
	rateHeaders(w, s.rateLimit, s.rateLimit-s.used, s.windowEnd)
	return ok
}

func rateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(0, remaining)))
	// Epoch seconds, rounded up so a client waiting for it is never early.
	sec := reset.Unix()
	if reset.Nanosecond() > 0 {
		sec++
	}
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(sec, 10))
}

func (s *Server) injected(w http.ResponseWriter, c *vendortest.Call, f vendortest.Failure) {
	if f.RetryAfter > 0 && (f.Status == http.StatusTooManyRequests || f.Status >= 500) {
		w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		reset := s.now().Add(f.RetryAfter)
		s.mu.Lock()
		if f.RetryAfter <= 0 {
			reset = s.windowEnd
		}
		limit := s.rateLimit
		s.mu.Unlock()
		rateHeaders(w, limit, 0, reset)
		oktaError(w, c, f.Status, "E0000047", "API call exceeded rate limit due to too many requests.")
	case f.Status == http.StatusUnauthorized:
		oktaError(w, c, f.Status, "E0000011", "Invalid token provided")
	case f.Status == http.StatusForbidden:
		oktaError(w, c, f.Status, "E0000006", "You do not have permission to perform the requested action")
	case f.Status >= 500:
		oktaError(w, c, f.Status, "E0000009", "Internal Server Error")
	default:
		oktaError(w, c, f.Status, "E0000001", "Api validation failed")
	}
}

func oktaError(w http.ResponseWriter, c *vendortest.Call, status int, code, summary string) {
	c.WriteJSON(w, status, map[string]any{
		"errorCode":    code,
		"errorSummary": summary,
		"errorLink":    code,
		"errorId":      "oae" + vendortest.RandHex(11),
		"errorCauses":  []any{},
	})
}

// logs answers one page.
func (s *Server) logs(w http.ResponseWriter, r *http.Request, c *vendortest.Call) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			oktaError(w, c, http.StatusBadRequest, "E0000001", "Api validation failed: limit")
			return
		}
		limit = n
	}
	if so := q.Get("sortOrder"); so != "" && so != "ASCENDING" {
		oktaError(w, c, http.StatusBadRequest, "E0000001", "Api validation failed: sortOrder (the fake serves ASCENDING only)")
		return
	}
	now := s.now()
	since := now.Add(-7 * 24 * time.Hour) // Okta's default
	if v := q.Get("since"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			oktaError(w, c, http.StatusBadRequest, "E0000001", "Api validation failed: since")
			return
		}
		since = t
	}
	var until time.Time
	if v := q.Get("until"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			oktaError(w, c, http.StatusBadRequest, "E0000001", "Api validation failed: until")
			return
		}
		until = t
	}

	s.mu.Lock()
	pos := -1
	if v := q.Get("after"); v != "" {
		_, seq, ok := strings.Cut(v, "_")
		n, err := strconv.Atoi(seq)
		if !ok || err != nil || n < 0 || n > len(s.events) {
			s.mu.Unlock()
			oktaError(w, c, http.StatusBadRequest, "E0000001", "Api validation failed: after")
			return
		}
		pos = n
	} else {
		pos = len(s.events)
		for i, e := range s.events {
			if !e.published.Before(since) {
				pos = i
				break
			}
		}
	}
	end := pos
	for end < len(s.events) && end-pos < limit && (until.IsZero() || s.events[end].published.Before(until)) {
		end++
	}
	page := make([][]byte, 0, end-pos)
	for _, e := range s.events[pos:end] {
		page = append(page, e.raw)
	}
	ms := since.UnixMilli()
	if end > 0 {
		ms = s.events[end-1].published.UnixMilli()
	}
	exhausted := !until.IsZero() && (end == len(s.events) || !s.events[end].published.Before(until))
	s.mu.Unlock()

	self := s.URL() + r.URL.RequestURI()
	w.Header().Add("Link", "<"+self+">; rel=\"self\"")
	// Polling mode (no until): the next link is always there, pointing
	// past what was served, to be polled again for new events.
	if !exhausted {
		nq := url.Values{}
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("sortOrder", "ASCENDING")
		nq.Set("after", strconv.FormatInt(ms, 10)+"_"+strconv.Itoa(end))
		if !until.IsZero() {
			nq.Set("until", q.Get("until"))
		}
		w.Header().Add("Link", "<"+s.URL()+"/api/v1/logs?"+nq.Encode()+">; rel=\"next\"")
	}
	body := []byte{'['}
	for i, raw := range page {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, raw...)
	}
	body = append(body, ']')
	c.Write(w, http.StatusOK, "application/json", body)
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.000-0700", v)
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
