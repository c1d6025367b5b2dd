// Package server is Vigil's HTTP API: ingestion endpoints for vendors'
// native payloads, incidents, alerts, identities, sessions and actions for
// people and programs, health and Prometheus metrics. Every request but
// health is authenticated with a bearer token and a role; every mutating
// call is written to the hash-chained audit log. Handlers return errors,
// mapped once to a status, a safe message and an error id.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
)

// Data is what the API reads and changes in the store.
type Data interface {
	Incidents(ctx context.Context, q store.IncidentQuery) ([]store.IncidentRow, error)
	Incident(ctx context.Context, id string) (store.IncidentRow, error)
	SetIncidentStatus(ctx context.Context, id, status string) error
	Alerts(ctx context.Context, q store.AlertQuery) ([]event.Alert, error)
	// AlertRules lists the rules that have alerts.
	AlertRules(ctx context.Context) ([]string, error)
	// AlertSeries counts alerts in [from, to) per bucket of width and
	// severity.
	AlertSeries(ctx context.Context, from, to time.Time, width time.Duration) ([]store.AlertBucket, error)
	Actions(ctx context.Context, q store.ActionQuery) ([]respond.Action, error)
	// CountActionsByState counts the outbox's actions by state.
	CountActionsByState(ctx context.Context) (map[string]int, error)
}

// Audit is the hash-chained audit log.
type Audit interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
	AuditEntries(ctx context.Context, fn func(store.AuditEntry) error) error
	VerifyAudit(ctx context.Context) (int, error)
}

// Ingester takes a vendor payload.
type Ingester interface {
	// Ingest reads records from body (any layout the scanner accepts) as
	// source src (or detected when src is ""), stores them, and feeds new
	// events to detection. received is when the request arrived.
	Ingest(ctx context.Context, src event.Source, origin string, body io.Reader, received time.Time) (IngestResult, error)
}

// IngestResult is what one ingestion request did.
type IngestResult struct {
	Read        int `json:"read"`
	Stored      int `json:"stored"`
	Duplicates  int `json:"duplicates"`
	Quarantined int `json:"quarantined"`
}

// Identities answers questions about one identity.
type Identities interface {
	Identity(ctx context.Context, id string) (IdentityView, error)
	// Baseline is the identity without its incidents and timeline: what
	// the engine knows (kind, risk, devices, networks, sessions).
	Baseline(ctx context.Context, id string) (IdentityView, error)
}

// IdentityView is what the API shows of an identity.
type IdentityView struct {
	ID string `json:"id"`
	// AsOf is the time the risk is given at.
	AsOf  time.Time      `json:"as_of"`
	Kind  event.Kind     `json:"kind,omitempty"`
	Risk  float64        `json:"risk"`
	Level event.Severity `json:"level"`
	// RiskHalfLife is how fast risk decays without alerts.
	RiskHalfLife time.Duration       `json:"-"`
	Since        time.Time           `json:"since,omitzero"`
	Learned      bool                `json:"learned"`
	Devices      []Seen              `json:"devices,omitempty"`
	Networks     []Seen              `json:"networks,omitempty"`
	Sessions     []SessionView       `json:"sessions,omitempty"`
	Incidents    []store.IncidentRow `json:"incidents,omitempty"`
	Timeline     []event.EventRef    `json:"timeline,omitempty"`
}

// Seen is a remembered value with how often and when last it was seen.
type Seen struct {
	Value string    `json:"value"`
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// SessionView is a session the engine remembers.
type SessionView struct {
	ID          string    `json:"id"`
	Established time.Time `json:"established"`
	LastUsed    time.Time `json:"last_used"`
	Device      string    `json:"device,omitempty"`
	Network     string    `json:"network,omitempty"`
	Hijacked    bool      `json:"hijacked"`
	// Cleared: people marked the hijack a false positive.
	Cleared bool `json:"cleared,omitempty"`
}

// Live is what the running pipeline knows beyond the store: the overview,
// identity search, and people's verdicts fed back to the engine.
type Live interface {
	Overview(ctx context.Context) (Overview, error)
	Search(ctx context.Context, q string, limit int) ([]IdentityRisk, error)
	// FalsePositive takes back alerts people found were no attack.
	FalsePositive(ctx context.Context, alerts []event.Alert) error
	// Timeline is an identity's events in [from, to), oldest first.
	Timeline(ctx context.Context, identity string, from, to time.Time, limit int) ([]event.EventRef, error)
}

// Overview is the state of the service at a glance.
type Overview struct {
	// AsOf is the time risk is judged at (now, but for the demo's replay).
	AsOf         time.Time `json:"as_of"`
	Events       int64     `json:"events"`
	EventsPerSec float64   `json:"events_per_sec"`
	// OpenIncidents counts open incidents by severity.
	OpenIncidents map[string]int `json:"open_incidents"`
	// AtRisk are the riskiest identities at medium or above (at most 20);
	// AtRiskTotal counts them all.
	AtRisk      []IdentityRisk `json:"identities_at_risk"`
	AtRiskTotal int            `json:"identities_at_risk_total"`
	// Actions counts the outbox's actions by state.
	Actions map[string]int `json:"actions"`
	// DetectionLatency is from the receipt of an alert's decisive event to
	// the alert; ResponseLatency to the finished automatic action.
	DetectionLatency Latency `json:"detection_latency"`
	ResponseLatency  Latency `json:"response_latency"`
}

// Latency summarizes recent latencies (the last Window of Count).
type Latency struct {
	Count  int     `json:"count"`
	Window int     `json:"window"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// IdentityRisk is an identity's current risk.
type IdentityRisk struct {
	ID    string         `json:"id"`
	Kind  event.Kind     `json:"kind,omitempty"`
	Risk  float64        `json:"risk"`
	Level event.Severity `json:"level"`
}

// Responder queues actions people ask for.
type Responder interface {
	Manual(ctx context.Context, req respond.Request) (respond.Action, error)
	// Connectors names the configured connectors and their kinds.
	Connectors() map[string][]string
}

// Deps are what the server serves from.
type Deps struct {
	Tokens     TokenStore
	Audit      Audit
	Data       Data
	Ingest     Ingester
	Identities Identities
	Live       Live
	Respond    Responder
	// Registry receives the server's metrics and is served at /metrics.
	Registry *prometheus.Registry
	// SSF, when set, serves the Shared Signals endpoints: its metadata
	// under /.well-known/ssf-configuration and the rest under
	// SSFPath+"/ssf/" (SSFPath is the issuer URL's path, "" or "/tenant").
	// Its Authorizer must be SSFReceiver. SSFRotate rotates its signing key.
	SSF       http.Handler
	SSFPath   string
	SSFRotate func(ctx context.Context) (kid string, err error)
	Log       *slog.Logger
	Version   string
	// PublicURL is where browsers reach the service; an https:// address
	// makes the console's cookie Secure even when TLS ends at a proxy.
	PublicURL      string
	MaxIngestBytes int64
	Now            func() time.Time
	// Health, when set, adds checks to /v1/health.
	Health func(ctx context.Context) map[string]string
}

// Server is the HTTP API.
type Server struct {
	d       Deps
	ui      *console
	uiSess  uiSessions
	mux     *http.ServeMux
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// New returns a Server.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.MaxIngestBytes <= 0 {
		d.MaxIngestBytes = 16 << 20
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{d: d, mux: http.NewServeMux()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}, []string{"route"})
	d.Registry.MustRegister(s.reqs, s.latency)
	s.routes()
	return s
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler { return s.mux }

// handler is an endpoint: it returns an error, mapped once.
type handler func(w http.ResponseWriter, r *http.Request, tok store.Token) error

// route registers pattern with the least role needed; "" means public.
func (s *Server) route(pattern, role string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rec, done := s.measure(pattern, w)
		defer done()
		var tok store.Token
		var err error
		if role != "" {
			tok, err = s.authenticate(r)
			if err == nil && !allows(tok.Role, role) {
				err = &httpError{status: http.StatusForbidden, msg: "this token's role (" + tok.Role + ") may not do that; it needs " + role}
			}
		}
		if err == nil {
			if r.Body != nil && r.Method != http.MethodGet {
				limit := int64(64 << 10)
				if strings.HasPrefix(pattern, "POST /v1/ingest") {
					limit = s.d.MaxIngestBytes
				}
				r.Body = http.MaxBytesReader(rec, r.Body, limit)
			}
			err = h(rec, r, tok)
		}
		if err != nil {
			s.fail(rec, r, err)
		}
	})
}

// measure counts a request to pattern and times it: call done when it is
// answered, and write through the returned writer.
func (s *Server) measure(pattern string, w http.ResponseWriter) (*statusWriter, func()) {
	start := s.d.Now()
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	return rec, func() {
		s.reqs.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
		s.latency.WithLabelValues(pattern).Observe(s.d.Now().Sub(start).Seconds())
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// httpError is an error with a status and a message safe to show.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// fail maps an error to a response. Unexpected errors are logged with an
// id the caller can quote; their text is not shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body over %d bytes", mbe.Limit)}
	case errors.Is(err, store.ErrNotFound):
		he = &httpError{status: http.StatusNotFound, msg: "not found"}
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away or the service is stopping: nothing failed
		// that an operator must look at. 503 tells a client still there to
		// send again (ingest is idempotent).
		s.d.Log.Info("request abandoned", "method", r.Method, "path", r.URL.Path, "reason", err)
		he = &httpError{status: http.StatusServiceUnavailable, msg: "request abandoned: " + r.Context().Err().Error()}
	default:
		var id [6]byte
		rand.Read(id[:])
		eid := hex.EncodeToString(id[:])
		s.d.Log.Error("request failed", "error_id", eid, "method", r.Method, "path", r.URL.Path, "err", err)
		he = &httpError{status: http.StatusInternalServerError, msg: "internal error (error id " + eid + ")"}
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	}
	writeJSON(w, he.status, map[string]string{"error": he.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("invalid JSON body: %v", err)
	}
	return nil
}

// audit records a mutating call.
func (s *Server) audit(ctx context.Context, tok store.Token, action, target string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = s.d.Audit.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{Time: s.d.Now(), Actor: "token:" + tok.Name, Action: action, Target: target, Detail: string(b)})
	return err
}

func (s *Server) routes() {
	s.route("GET /v1/health", "", s.health)
	s.mux.Handle("GET /metrics", s.metricsHandler())
	s.route("POST /v1/ingest/{source}", RoleIngest, s.ingest)
	s.route("GET /v1/ingest/{source}", RoleIngest, s.eventHookVerify)
	s.route("GET /v1/incidents", RoleViewer, s.incidents)
	s.route("GET /v1/incidents/{id}", RoleViewer, s.incident)
	s.route("POST /v1/incidents/{id}/status", RoleResponder, s.incidentStatus)
	s.route("GET /v1/alerts", RoleViewer, s.alerts)
	if s.d.Live != nil {
		s.route("GET /v1/overview", RoleViewer, s.overview)
		s.route("GET /v1/identities", RoleViewer, s.searchIdentities)
		s.consoleRoutes()
	}
	s.route("GET /v1/identities/{id}", RoleViewer, s.identity)
	s.route("GET /v1/identities/{id}/sessions", RoleViewer, s.sessions)
	s.route("GET /v1/actions", RoleViewer, s.actions)
	s.route("POST /v1/actions", RoleResponder, s.newAction)
	s.route("POST /v1/respond/kill-sessions", RoleResponder, s.killSessions)
	s.route("GET /v1/audit", RoleAdmin, s.auditLog)
	s.route("GET /v1/audit/verify", RoleAdmin, s.auditVerify)
	if s.d.SSF != nil {
		h := s.ssfHandler(s.d.SSF)
		s.mux.Handle("/.well-known/ssf-configuration", h)
		s.mux.Handle("/.well-known/ssf-configuration/", h)
		s.mux.Handle(strings.TrimSuffix(s.d.SSFPath, "/")+"/ssf/", h)
	}
	if s.d.SSFRotate != nil {
		s.route("POST /v1/ssf/rotate-key", RoleAdmin, s.ssfRotate)
	}
}

// metricsHandler serves /metrics to viewers and above.
func (s *Server) metricsHandler() http.Handler {
	prom := promhttp.HandlerFor(s.d.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.authenticate(r)
		if err == nil && !allows(tok.Role, RoleViewer) {
			err = &httpError{status: http.StatusForbidden, msg: "metrics need a viewer token"}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		prom.ServeHTTP(w, r)
	})
}
