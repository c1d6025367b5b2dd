package server

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	out := map[string]any{"status": "ok", "version": s.d.Version, "time": s.d.Now().UTC()}
	if s.d.Health != nil {
		checks := s.d.Health(r.Context())
		out["checks"] = checks
		for _, v := range checks {
			if v != "ok" {
				out["status"] = "degraded"
			}
		}
	}
	code := http.StatusOK
	if out["status"] != "ok" {
		code = http.StatusServiceUnavailable
	}
	return writeJSON(w, code, out)
}

// sources that may be posted to; "auto" detects each record's format.
var ingestSources = []string{"auto", "okta", "entra", "cloudtrail", "azure_activity", "gworkspace", "ocsf"}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request, tok store.Token) error {
	received := s.d.Now()
	src := r.PathValue("source")
	if !slices.Contains(ingestSources, src) {
		return badRequest("unknown source %q (one of %s)", src, strings.Join(ingestSources, ", "))
	}
	if src == "auto" {
		src = ""
	}
	body, err := s.ingestBody(r)
	if err != nil {
		return err
	}
	res, err := s.d.Ingest.Ingest(r.Context(), event.Source(src), "http:"+tok.Name, body, received)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// ingestBody is the request body, decompressed when it is gzip
// (Content-Encoding: gzip, as log shippers and Firehose send it). The
// decompressed size is bounded too: at most 8 × max_ingest_bytes.
func (s *Server) ingestBody(r *http.Request) (io.Reader, error) {
	switch ce := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
		return r.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, badRequest("Content-Encoding gzip, but the body is not gzip: %v", err)
		}
		limit := 8 * s.d.MaxIngestBytes
		return &inflateLimit{r: zr, left: limit, limit: limit}, nil
	default:
		return nil, &httpError{status: http.StatusUnsupportedMediaType, msg: "Content-Encoding " + ce + " is not supported (gzip is)"}
	}
}

// inflateLimit fails a decompressed body that grows past its limit.
type inflateLimit struct {
	r           io.Reader
	left, limit int64
}

func (l *inflateLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, err := l.r.Read(one[:]); n == 0 && err != nil {
			return 0, err // ended exactly at the limit
		}
		return 0, &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("decompressed body over %d bytes", l.limit)}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// eventHookVerify answers Okta's one-time event hook verification: it
// echoes the challenge header.
func (s *Server) eventHookVerify(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	ch := r.Header.Get("X-Okta-Verification-Challenge")
	if r.PathValue("source") != "okta" || ch == "" || len(ch) > 256 {
		return badRequest("GET is only for Okta's event hook verification (X-Okta-Verification-Challenge)")
	}
	return writeJSON(w, http.StatusOK, map[string]string{"verification": ch})
}

func limitOf(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, badRequest("limit must be 1–1000")
	}
	return n, nil
}

func (s *Server) sinceOf(r *http.Request) (time.Time, error) {
	v := r.URL.Query().Get("since")
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return s.d.Now().Add(-d), nil
	}
	return time.Time{}, badRequest("since must be an RFC 3339 time or a duration (24h)")
}

// beforeOf reads a page cursor: before (RFC 3339) and before_id, the last
// row of the previous page.
func beforeOf(r *http.Request) (time.Time, string, error) {
	q := r.URL.Query()
	v := q.Get("before")
	if v == "" {
		return time.Time{}, "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, "", badRequest("before must be an RFC 3339 time (the last row's of the previous page)")
	}
	id := q.Get("before_id")
	if len(id) > 128 {
		return time.Time{}, "", badRequest("before_id is at most 128 characters")
	}
	return t, id, nil
}

func (s *Server) incidents(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	limit, err := limitOf(r)
	if err != nil {
		return err
	}
	since, err := s.sinceOf(r)
	if err != nil {
		return err
	}
	before, beforeID, err := beforeOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := s.d.Data.Incidents(r.Context(), store.IncidentQuery{Identity: strings.ToLower(q.Get("identity")), Status: q.Get("status"), Since: since,
		Severity: q.Get("severity"), Rule: q.Get("rule"), Before: before, BeforeID: beforeID, Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incidents": nonNil(list)})
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	inc, err := s.d.Data.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	acts, err := s.d.Data.Actions(r.Context(), store.ActionQuery{Incident: inc.ID})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incident": inc, "actions": nonNil(acts)})
}

var statuses = []string{store.StatusOpen, store.StatusClosed, store.StatusDismissed, store.StatusFalsePositive}

func (s *Server) incidentStatus(w http.ResponseWriter, r *http.Request, tok store.Token) error {
	var body struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if !slices.Contains(statuses, body.Status) {
		return badRequest("status must be one of %s", strings.Join(statuses, ", "))
	}
	id := r.PathValue("id")
	if err := s.setStatus(r.Context(), tok, id, body.Status, body.Note); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"id": id, "status": body.Status})
}

// setStatus sets an incident's status, audited; a false positive is fed
// back to the engine.
func (s *Server) setStatus(ctx context.Context, tok store.Token, id, status, note string) error {
	inc, err := s.d.Data.Incident(ctx, id)
	if err != nil {
		return err
	}
	if err := s.d.Data.SetIncidentStatus(ctx, id, status); err != nil {
		return err
	}
	if err := s.audit(ctx, tok, "incident.status", id, map[string]string{"status": status, "note": note}); err != nil {
		return err
	}
	if status == store.StatusFalsePositive && inc.Status != store.StatusFalsePositive && s.d.Live != nil {
		return s.d.Live.FalsePositive(ctx, inc.Alerts)
	}
	return nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	o, err := s.d.Live.Overview(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

func (s *Server) searchIdentities(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	limit, err := limitOf(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 256 {
		return badRequest("q is at most 256 characters")
	}
	list, err := s.d.Live.Search(r.Context(), q, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"identities": nonNil(list)})
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	limit, err := limitOf(r)
	if err != nil {
		return err
	}
	since, err := s.sinceOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := s.d.Data.Alerts(r.Context(), store.AlertQuery{Identity: strings.ToLower(q.Get("identity")), Incident: q.Get("incident"),
		Rule: q.Get("rule"), Since: since, Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"alerts": nonNil(list)})
}

func (s *Server) identity(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	v, err := s.d.Identities.Identity(r.Context(), strings.ToLower(r.PathValue("id")))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) sessions(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	v, err := s.d.Identities.Baseline(r.Context(), strings.ToLower(r.PathValue("id")))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"identity": v.ID, "sessions": nonNil(v.Sessions)})
}

func (s *Server) actions(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	limit, err := limitOf(r)
	if err != nil {
		return err
	}
	before, beforeID, err := beforeOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := s.d.Data.Actions(r.Context(), store.ActionQuery{Identity: strings.ToLower(q.Get("identity")), Incident: q.Get("incident"),
		State: q.Get("state"), Before: before, BeforeID: beforeID, Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"actions": nonNil(list)})
}

type actionRequest struct {
	Connector string `json:"connector"`
	Kind      string `json:"kind"`
	Identity  string `json:"identity"`
	Target    string `json:"target"`
	Incident  string `json:"incident"`
	// Params: what some kinds need ("user" for deactivate_key, "message"
	// for notify).
	Params map[string]string `json:"params"`
}

func (s *Server) newAction(w http.ResponseWriter, r *http.Request, tok store.Token) error {
	var req actionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Connector == "" || req.Kind == "" || req.Identity == "" {
		return badRequest("connector, kind and identity are required")
	}
	kinds, ok := s.d.Respond.Connectors()[req.Connector]
	if !ok || !slices.Contains(kinds, req.Kind) {
		return badRequest("no configured connector %q doing %q", req.Connector, req.Kind)
	}
	if len(req.Params) > 16 {
		return badRequest("at most 16 params")
	}
	a, err := s.d.Respond.Manual(r.Context(), respond.Request{Connector: req.Connector, Kind: req.Kind, Identity: strings.ToLower(req.Identity),
		Target: req.Target, Params: req.Params, DecidedBy: "token:" + tok.Name, Incident: req.Incident})
	if err != nil {
		return err
	}
	if err := s.audit(r.Context(), tok, "respond."+req.Kind, req.Identity, map[string]string{"connector": req.Connector, "action": a.ID, "incident": req.Incident}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, a)
}

// killSessions ends an identity's sessions everywhere Vigil can: every
// connector that clears sessions or signs out.
func (s *Server) killSessions(w http.ResponseWriter, r *http.Request, tok store.Token) error {
	var req struct {
		Identity   string   `json:"identity"`
		Connectors []string `json:"connectors"`
		Incident   string   `json:"incident"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Identity == "" {
		return badRequest("identity is required")
	}
	out, err := s.killAll(r.Context(), tok, req.Identity, req.Incident, req.Connectors)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"actions": out})
}

type auditView struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
	Hash   string    `json:"hash"`
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	limit, err := limitOf(r)
	if err != nil {
		return err
	}
	var all []auditView
	err = s.d.Audit.AuditEntries(r.Context(), func(e store.AuditEntry) error {
		all = append(all, auditView{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Hash: hex.EncodeToString(e.Hash)})
		return nil
	})
	if err != nil {
		return err
	}
	if len(all) > limit {
		all = all[len(all)-limit:]
	}
	slices.Reverse(all)
	return writeJSON(w, http.StatusOK, map[string]any{"entries": nonNil(all)})
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, _ store.Token) error {
	n, err := s.d.Audit.VerifyAudit(r.Context())
	if err != nil {
		return writeJSON(w, http.StatusOK, map[string]any{"ok": false, "entries": n, "error": err.Error()})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "entries": n})
}

// nonNil makes empty lists [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
