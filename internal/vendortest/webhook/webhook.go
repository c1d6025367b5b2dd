// Package webhook is a fake webhook receiver: a generic JSON endpoint that
// verifies Vigil's HMAC signature and timestamp (its own implementation of
// the check, so a mistake in the sender's signing shows), or a
// Slack-compatible incoming webhook (answers "ok", or Slack's error tokens
// such as invalid_payload). It records every message and counts effective
// deliveries by Idempotency-Key.
//
//	srv := webhook.New(t, webhook.WithSecret("s3cret"))
//	... connector posting to srv.URL() with the same secret ...
//	srv.Messages()[0].Text, srv.Deliveries(vendortest.KindNotify, "")
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
)

// Path is where the fake listens, shaped like a Slack hook URL.
const Path = "/services/T0VIGIL/B0VIGIL/fakehooktoken"

// Message is one notification the fake accepted.
type Message struct {
	IdempotencyKey string
	Body           []byte
	// Text is the Slack text, or the JSON document's summary.
	Text string
	// Document is the decoded JSON body (nil in Slack mode).
	Document map[string]any
	// Signed is true when the request carried a valid signature.
	Signed bool
	Time   time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithSecret makes the receiver require a valid X-Vigil-Signature and a
// X-Vigil-Timestamp within the tolerance (default five minutes).
func WithSecret(secret string) Option { return func(s *Server) { s.secret = []byte(secret) } }

// WithTolerance sets how far the timestamp may be from the fake's clock.
func WithTolerance(d time.Duration) Option { return func(s *Server) { s.tolerance = d } }

// WithSlack makes the receiver behave as a Slack incoming webhook.
func WithSlack() Option { return func(s *Server) { s.slack = true } }

// WithClock sets the fake's clock.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a running fake receiver.
type Server struct {
	*vendortest.Recorder
	vendortest.Endpoint
	now       func() time.Time
	secret    []byte
	tolerance time.Duration
	slack     bool

	mu       sync.Mutex
	messages []Message
}

// New starts the receiver on a loopback address; cleanup (a testing.TB,
// or nil) closes it when the test ends, and so does Close.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := &Server{now: time.Now, tolerance: 5 * time.Minute}
	for _, o := range opts {
		o(s)
	}
	s.Recorder = vendortest.NewRecorder(s.now)
	s.Endpoint = vendortest.Listen(cleanup, http.HandlerFunc(s.serve), s.Recorder)
	return s
}

// URL is the hook's full URL.
func (s *Server) URL() string { return s.Endpoint.URL() + Path }

// Messages returns the accepted messages, in order (retries included).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	c := s.Begin(w, r)
	if c == nil {
		return
	}
	// Route first, so failed attempts are logged with what they were for.
	var doc struct {
		Action struct {
			Target string `json:"target"`
		} `json:"action"`
	}
	_ = json.Unmarshal(c.Body(), &doc)
	c.Route(vendortest.KindNotify, doc.Action.Target)
	if f, ok := c.Injected(vendortest.ScopeAPI); ok {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
		}
		s.fail(w, c, f.Status, "rate_limited")
		return
	}
	if r.Method != http.MethodPost {
		s.fail(w, c, http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	if r.URL.Path != Path {
		s.fail(w, c, http.StatusNotFound, "no_service")
		return
	}
	body := c.Body()
	signed := false
	if s.secret != nil {
		if !s.verify(r, body) {
			s.fail(w, c, http.StatusUnauthorized, "invalid_signature")
			return
		}
		signed = true
	}
	m := Message{IdempotencyKey: r.Header.Get("Idempotency-Key"), Body: body, Signed: signed, Time: s.now()}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.fail(w, c, http.StatusBadRequest, "invalid_payload")
		return
	}
	if s.slack {
		var p struct {
			Text *string `json:"text"`
		}
		if json.Unmarshal(body, &p) != nil {
			s.fail(w, c, http.StatusBadRequest, "invalid_payload")
			return
		}
		if p.Text == nil || *p.Text == "" {
			s.fail(w, c, http.StatusBadRequest, "no_text")
			return
		}
		m.Text = *p.Text
	} else {
		if json.Unmarshal(body, &m.Document) != nil {
			s.fail(w, c, http.StatusBadRequest, "invalid_payload")
			return
		}
		m.Text, _ = m.Document["summary"].(string)
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	c.Write(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ok"))
}

// verify is the receiver's side of the signature: HMAC-SHA256 over
// "<timestamp>.<body>", timestamp within the tolerance.
func (s *Server) verify(r *http.Request, body []byte) bool {
	ts := r.Header.Get("X-Vigil-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := s.now().Sub(time.Unix(sec, 0)); d > s.tolerance || d < -s.tolerance {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("X-Vigil-Signature"), "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(ts + "." + string(body)))
	return hmac.Equal(sig, m.Sum(nil))
}

// fail answers as Slack does: a status and a plain-text error token.
func (s *Server) fail(w http.ResponseWriter, c *vendortest.Call, status int, token string) {
	if status >= 500 {
		token = "internal_error"
	}
	c.Write(w, status, "text/plain; charset=utf-8", []byte(token))
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
