package ssf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Request body limits.
const (
	maxManagementBody = 64 << 10
	maxPollBody       = 256 << 10
	maxSubjects       = 1000 // per stream
	maxState          = 1024 // verification state
	maxReason         = 256  // status reason
)

// Paths, relative to the issuer's path.
const (
	pathWellKnown = "/.well-known/ssf-configuration"
	pathJWKS      = "/ssf/jwks.json"
	pathStream    = "/ssf/stream"
	pathStatus    = "/ssf/status"
	pathAdd       = "/ssf/subjects:add"
	pathRemove    = "/ssf/subjects:remove"
	pathVerify    = "/ssf/verify"
	pathPoll      = "/ssf/poll/"
)

// Handler returns the transmitter's HTTP endpoints: the metadata at
// /.well-known/ssf-configuration[/<issuer path>] and the JWKS, both public,
// and under <issuer path>/ssf/ the stream management and poll endpoints,
// which require the Authorizer's approval. Mount it at the server's root,
// e.g. mux.Handle("/.well-known/ssf-configuration", h) and
// mux.Handle("/ssf/", h) for an issuer without a path.
func (t *Transmitter) Handler() http.Handler {
	mux := http.NewServeMux()
	p := t.issuerPath
	mux.Handle("GET "+pathWellKnown+p, t.handle(t.serveMetadata))
	mux.Handle("GET "+p+pathJWKS, t.handle(t.serveJWKS))
	mux.Handle("POST "+p+pathStream, t.authed(t.createStream))
	mux.Handle("GET "+p+pathStream, t.authed(t.readStream))
	mux.Handle("PATCH "+p+pathStream, t.authed(t.updateStream(false)))
	mux.Handle("PUT "+p+pathStream, t.authed(t.updateStream(true)))
	mux.Handle("DELETE "+p+pathStream, t.authed(t.deleteStream))
	mux.Handle("GET "+p+pathStatus, t.authed(t.readStatus))
	mux.Handle("POST "+p+pathStatus, t.authed(t.updateStatus))
	mux.Handle("POST "+p+pathAdd, t.authed(t.addSubject))
	mux.Handle("POST "+p+pathRemove, t.authed(t.removeSubject))
	mux.Handle("POST "+p+pathVerify, t.authed(t.requestVerification))
	mux.Handle("POST "+p+pathPoll+"{stream_id}", t.authed(t.poll))
	return mux
}

// apiError is an error with the status and message a client sees.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func fail(status int, code, format string, a ...any) error {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, a...)}
}

func badRequest(err error) error {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", msg: err.Error()}
}

var errNoStream = &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such stream"}

// handle maps a handler's error, once, to a status and a JSON body
// {"err", "description"} in the style of RFC 8935 §2.3. Unexpected errors
// are logged with an id and answered 500 with only that id.
func (t *Transmitter) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &ae):
		case errors.As(err, &tooBig):
			ae = &apiError{status: http.StatusRequestEntityTooLarge, code: "invalid_request",
				msg: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
		case errors.Is(err, ErrNotOpen):
			ae = &apiError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "transmitter is starting"}
		default:
			id := randomID()[:12]
			t.log.Error("ssf: request failed", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
			ae = &apiError{status: http.StatusInternalServerError, code: "internal_error", msg: "internal error " + id}
		}
		if ae.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ssf"`)
		}
		writeJSON(w, ae.status, map[string]string{"err": ae.code, "description": ae.msg})
	})
}

// authed is handle for endpoints that need an authorized receiver.
func (t *Transmitter) authed(h func(http.ResponseWriter, *http.Request, string) error) http.Handler {
	return t.handle(func(w http.ResponseWriter, r *http.Request) error {
		receiver, err := t.cfg.Authorize(r)
		if err != nil || receiver == "" {
			return fail(http.StatusUnauthorized, "authentication_failed", "missing or invalid credentials")
		}
		return h(w, r, receiver)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"err":"internal_error","description":"cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func noContent(w http.ResponseWriter, status int) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// readBody reads a JSON request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, fail(http.StatusUnsupportedMediaType, "invalid_request", "request body must be application/json")
		}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// metadata is the transmitter configuration metadata (SSF 1.0 §7.1).
type metadata struct {
	SpecVersion              string       `json:"spec_version"`
	Issuer                   string       `json:"issuer"`
	JWKSURI                  string       `json:"jwks_uri"`
	DeliveryMethodsSupported []string     `json:"delivery_methods_supported"`
	ConfigurationEndpoint    string       `json:"configuration_endpoint"`
	StatusEndpoint           string       `json:"status_endpoint"`
	AddSubjectEndpoint       string       `json:"add_subject_endpoint"`
	RemoveSubjectEndpoint    string       `json:"remove_subject_endpoint"`
	VerificationEndpoint     string       `json:"verification_endpoint"`
	AuthorizationSchemes     []authScheme `json:"authorization_schemes"`
	DefaultSubjects          string       `json:"default_subjects"`
}

type authScheme struct {
	SpecURN string `json:"spec_urn"`
}

func (t *Transmitter) serveMetadata(w http.ResponseWriter, r *http.Request) error {
	iss := t.cfg.Issuer
	writeJSON(w, http.StatusOK, metadata{
		SpecVersion:              "1_0",
		Issuer:                   iss,
		JWKSURI:                  iss + pathJWKS,
		DeliveryMethodsSupported: []string{DeliveryPush, DeliveryPoll},
		ConfigurationEndpoint:    iss + pathStream,
		StatusEndpoint:           iss + pathStatus,
		AddSubjectEndpoint:       iss + pathAdd,
		RemoveSubjectEndpoint:    iss + pathRemove,
		VerificationEndpoint:     iss + pathVerify,
		AuthorizationSchemes:     []authScheme{{SpecURN: "urn:ietf:rfc:6750"}}, // bearer tokens
		DefaultSubjects:          t.cfg.DefaultSubjects,
	})
	return nil
}

func (t *Transmitter) serveJWKS(w http.ResponseWriter, r *http.Request) error {
	t.mu.Lock()
	ring := t.keys
	t.mu.Unlock()
	if ring == nil {
		return ErrNotOpen
	}
	set := ring.jwks(t.cfg.Now(), t.cfg.KeyGrace)
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode jwks: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=60") // short: a rotated key must be seen soon
	_, _ = w.Write(b)
	return nil
}

// ownStream loads a stream the receiver owns; another receiver's stream
// is reported as absent, not forbidden, so stream IDs do not leak.
func (t *Transmitter) ownStream(r *http.Request, receiver, id string) (Stream, error) {
	if id == "" {
		return Stream{}, fail(http.StatusBadRequest, "invalid_request", "stream_id is required")
	}
	s, err := t.cfg.Store.Stream(r.Context(), id)
	if errors.Is(err, ErrNotFound) || (err == nil && s.Receiver != receiver) {
		return Stream{}, errNoStream
	}
	if err != nil {
		return Stream{}, fmt.Errorf("load stream: %w", err)
	}
	return s, nil
}

func (t *Transmitter) receiverStreams(r *http.Request, receiver string) ([]Stream, error) {
	all, err := t.cfg.Store.Streams(r.Context())
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	var mine []Stream
	for _, s := range all {
		if s.Receiver == receiver {
			mine = append(mine, s)
		}
	}
	slices.SortFunc(mine, func(a, b Stream) int { return a.Created.Compare(b.Created) })
	return mine, nil
}

func (t *Transmitter) createStream(w http.ResponseWriter, r *http.Request, receiver string) error {
	body, err := readBody(w, r, maxManagementBody)
	if err != nil {
		return err
	}
	req, err := parseStreamRequest(body, t.cfg.Insecure)
	if err != nil {
		return badRequest(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	mine, err := t.receiverStreams(r, receiver)
	if err != nil {
		return err
	}
	if len(mine) >= t.cfg.MaxStreamsPerReceiver {
		return fail(http.StatusConflict, "conflict", "this receiver already has %d streams, the most allowed", len(mine))
	}
	aud := t.cfg.Audience(receiver)
	if len(aud) == 0 {
		aud = []string{receiver}
	}
	now := t.cfg.Now()
	s := Stream{
		ID:              randomID(),
		Receiver:        receiver,
		Audience:        aud,
		Status:          StatusEnabled,
		DefaultSubjects: t.cfg.DefaultSubjects,
		Created:         now,
		Updated:         now,
	}
	if err := t.checkTransmitterSupplied(&streamRequest{Iss: req.Iss}, s); err != nil {
		return badRequest(err)
	}
	if err := t.applyStreamRequest(&s, req, false); err != nil {
		return badRequest(err)
	}
	if err := t.cfg.Store.SaveStream(r.Context(), s); err != nil {
		return fmt.Errorf("save stream: %w", err)
	}
	t.log.Info("ssf: stream created", "stream", s.ID, "receiver", receiver, "method", s.Delivery.Method)
	writeJSON(w, http.StatusCreated, t.streamView(s))
	return nil
}

func (t *Transmitter) readStream(w http.ResponseWriter, r *http.Request, receiver string) error {
	if id := r.URL.Query().Get("stream_id"); id != "" {
		s, err := t.ownStream(r, receiver, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, t.streamView(s))
		return nil
	}
	mine, err := t.receiverStreams(r, receiver)
	if err != nil {
		return err
	}
	views := make([]streamJSON, 0, len(mine))
	for _, s := range mine {
		views = append(views, t.streamView(s))
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

func (t *Transmitter) updateStream(replace bool) func(http.ResponseWriter, *http.Request, string) error {
	return func(w http.ResponseWriter, r *http.Request, receiver string) error {
		body, err := readBody(w, r, maxManagementBody)
		if err != nil {
			return err
		}
		req, err := parseStreamRequest(body, t.cfg.Insecure)
		if err != nil {
			return badRequest(err)
		}
		if req.StreamID == nil {
			return fail(http.StatusBadRequest, "invalid_request", "stream_id is required")
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		s, err := t.ownStream(r, receiver, *req.StreamID)
		if err != nil {
			return err
		}
		if err := t.checkTransmitterSupplied(req, s); err != nil {
			return badRequest(err)
		}
		if err := t.applyStreamRequest(&s, req, replace); err != nil {
			return badRequest(err)
		}
		s.Updated = t.cfg.Now()
		if err := t.cfg.Store.SaveStream(r.Context(), s); err != nil {
			return fmt.Errorf("save stream: %w", err)
		}
		t.notify(s.ID) // the endpoint or method may have changed
		writeJSON(w, http.StatusOK, t.streamView(s))
		return nil
	}
}

func (t *Transmitter) deleteStream(w http.ResponseWriter, r *http.Request, receiver string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, err := t.ownStream(r, receiver, r.URL.Query().Get("stream_id"))
	if err != nil {
		return err
	}
	if err := t.cfg.Store.DeleteStream(r.Context(), s.ID); errors.Is(err, ErrNotFound) {
		return errNoStream
	} else if err != nil {
		return fmt.Errorf("delete stream: %w", err)
	}
	t.notify(s.ID)
	t.log.Info("ssf: stream deleted", "stream", s.ID, "receiver", receiver)
	noContent(w, http.StatusNoContent)
	return nil
}

type statusJSON struct {
	StreamID string `json:"stream_id"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
}

func (t *Transmitter) readStatus(w http.ResponseWriter, r *http.Request, receiver string) error {
	s, err := t.ownStream(r, receiver, r.URL.Query().Get("stream_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusJSON{StreamID: s.ID, Status: s.Status, Reason: s.StatusReason})
	return nil
}

func (t *Transmitter) updateStatus(w http.ResponseWriter, r *http.Request, receiver string) error {
	body, err := readBody(w, r, maxManagementBody)
	if err != nil {
		return err
	}
	var req statusJSON
	if err := decodeInto(body, &req); err != nil {
		return badRequest(err)
	}
	switch req.Status {
	case StatusEnabled, StatusPaused, StatusDisabled:
	default:
		return fail(http.StatusBadRequest, "invalid_request", "status must be enabled, paused or disabled")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, err := t.ownStream(r, receiver, req.StreamID)
	if err != nil {
		return err
	}
	s.Status, s.StatusReason, s.Updated = req.Status, clean(truncate(req.Reason, maxReason), maxReason), t.cfg.Now()
	if err := t.cfg.Store.SaveStream(r.Context(), s); err != nil {
		return fmt.Errorf("save stream: %w", err)
	}
	if s.Status == StatusDisabled {
		// A disabled stream holds nothing for later (SSF 1.0 §8.1.2).
		if err := t.dropPending(r, s.ID); err != nil {
			return err
		}
	}
	t.notify(s.ID)
	t.log.Info("ssf: stream status changed", "stream", s.ID, "status", s.Status)
	writeJSON(w, http.StatusOK, statusJSON{StreamID: s.ID, Status: s.Status, Reason: s.StatusReason})
	return nil
}

func (t *Transmitter) dropPending(r *http.Request, stream string) error {
	for {
		batch, err := t.cfg.Store.Pending(r.Context(), stream, 500)
		if err != nil {
			return fmt.Errorf("read queue: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		jtis := make([]string, len(batch))
		for i, q := range batch {
			jtis[i] = q.JTI
		}
		if _, err := t.cfg.Store.Ack(r.Context(), stream, jtis); err != nil {
			return fmt.Errorf("drop queue: %w", err)
		}
	}
}

// decodeInto decodes one JSON object into v, ignoring unknown fields.
func decodeInto(body []byte, v any) error {
	if _, err := decodeObject(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errors.New("body has a field of the wrong type")
	}
	return nil
}

type subjectRequest struct {
	StreamID string          `json:"stream_id"`
	Subject  json.RawMessage `json:"subject"`
	Verified *bool           `json:"verified"`
}

// addSubject and removeSubject keep a stream's subject list. For a stream
// created with default subjects ALL the list holds exclusions; with NONE it
// holds the only subjects delivered.
func (t *Transmitter) addSubject(w http.ResponseWriter, r *http.Request, receiver string) error {
	return t.changeSubject(w, r, receiver, true)
}

func (t *Transmitter) removeSubject(w http.ResponseWriter, r *http.Request, receiver string) error {
	return t.changeSubject(w, r, receiver, false)
}

func (t *Transmitter) changeSubject(w http.ResponseWriter, r *http.Request, receiver string, add bool) error {
	body, err := readBody(w, r, maxManagementBody)
	if err != nil {
		return err
	}
	var req subjectRequest
	if err := decodeInto(body, &req); err != nil {
		return badRequest(err)
	}
	_, canon, err := parseSubject(req.Subject)
	if err != nil {
		return badRequest(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, err := t.ownStream(r, receiver, req.StreamID)
	if err != nil {
		return err
	}
	ctx := r.Context()
	listed := add == (s.DefaultSubjects == SubjectsNone) // does the change add to the list?
	if listed {
		subs, err := t.cfg.Store.Subjects(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("read subjects: %w", err)
		}
		if len(subs) >= maxSubjects {
			return fail(http.StatusBadRequest, "invalid_request", "stream already has %d subjects, the most allowed", maxSubjects)
		}
		err = t.cfg.Store.AddSubject(ctx, s.ID, canon)
	} else {
		err = t.cfg.Store.RemoveSubject(ctx, s.ID, canon)
	}
	if err != nil {
		return fmt.Errorf("change subjects: %w", err)
	}
	if add {
		noContent(w, http.StatusOK)
	} else {
		noContent(w, http.StatusNoContent)
	}
	return nil
}

type verifyRequest struct {
	StreamID string `json:"stream_id"`
	State    string `json:"state"`
}

func (t *Transmitter) requestVerification(w http.ResponseWriter, r *http.Request, receiver string) error {
	body, err := readBody(w, r, maxManagementBody)
	if err != nil {
		return err
	}
	var req verifyRequest
	if err := decodeInto(body, &req); err != nil {
		return badRequest(err)
	}
	if len(req.State) > maxState {
		return fail(http.StatusBadRequest, "invalid_request", "state is longer than %d bytes", maxState)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		return ErrNotOpen
	}
	s, err := t.ownStream(r, receiver, req.StreamID)
	if err != nil {
		return err
	}
	if s.Status == StatusDisabled {
		return fail(http.StatusBadRequest, "invalid_request", "stream is disabled")
	}
	now := t.cfg.Now()
	if !s.LastVerification.IsZero() && now.Sub(s.LastVerification) < t.cfg.MinVerificationInterval {
		wait := t.cfg.MinVerificationInterval - now.Sub(s.LastVerification)
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Round(time.Second)/time.Second)+1))
		return fail(http.StatusTooManyRequests, "too_many_requests", "verification requested too often")
	}
	s.LastVerification = now
	if err := t.cfg.Store.SaveStream(r.Context(), s); err != nil {
		return fmt.Errorf("save stream: %w", err)
	}
	if err := t.verify(r.Context(), s, req.State); err != nil {
		return err
	}
	noContent(w, http.StatusNoContent)
	return nil
}

// pollRequest is an RFC 8936 §2.4 poll.
type pollRequest struct {
	Ack               []string            `json:"ack"`
	SetErrs           map[string]setError `json:"setErrs"`
	MaxEvents         *int                `json:"maxEvents"`
	ReturnImmediately bool                `json:"returnImmediately"`
}

type setError struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

type pollResponse struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

const (
	defaultMaxEvents = 100
	maxMaxEvents     = 1000
	maxAcks          = 1000 // ack and setErrs entries per poll
)

func (t *Transmitter) poll(w http.ResponseWriter, r *http.Request, receiver string) error {
	body, err := readBody(w, r, maxPollBody)
	if err != nil {
		return err
	}
	var req pollRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeInto(body, &req); err != nil {
			return badRequest(err)
		}
	}
	maxEvents := defaultMaxEvents
	if req.MaxEvents != nil {
		maxEvents = *req.MaxEvents
	}
	if maxEvents < 0 || maxEvents > maxMaxEvents {
		return fail(http.StatusBadRequest, "invalid_request", "maxEvents must be between 0 and %d", maxMaxEvents)
	}
	if len(req.Ack) > maxAcks || len(req.SetErrs) > maxAcks {
		return fail(http.StatusBadRequest, "invalid_request", "at most %d ack and %d setErrs entries per poll", maxAcks, maxAcks)
	}
	ctx := r.Context()
	s, err := t.ownStream(r, receiver, r.PathValue("stream_id"))
	if err != nil {
		return err
	}
	if s.Delivery.Method != DeliveryPoll {
		return fail(http.StatusBadRequest, "invalid_request", "stream does not use poll delivery")
	}
	if err := t.acknowledge(ctx, s, req); err != nil {
		return err
	}
	resp := pollResponse{Sets: map[string]string{}}
	if maxEvents == 0 || s.Status != StatusEnabled {
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	deadline := time.NewTimer(t.cfg.PollWait)
	defer deadline.Stop()
	for {
		arrived := t.waiter(s.ID) // before reading, so no enqueue is missed
		batch, err := t.cfg.Store.Pending(ctx, s.ID, maxEvents+1)
		if err != nil {
			return fmt.Errorf("read queue: %w", err)
		}
		if len(batch) > 0 || req.ReturnImmediately {
			if len(batch) > maxEvents {
				batch, resp.MoreAvailable = batch[:maxEvents], true
			}
			for _, q := range batch {
				resp.Sets[q.JTI] = q.Token
			}
			writeJSON(w, http.StatusOK, resp)
			return nil
		}
		select {
		case <-arrived:
		case <-deadline.C:
			writeJSON(w, http.StatusOK, resp)
			return nil
		case <-ctx.Done():
			return nil // the receiver went away
		}
	}
}

// acknowledge applies a poll's ack and setErrs: acknowledged SETs are
// deleted; SETs the receiver reports errors for are marked failed with the
// error, so they are not delivered again and an operator can see why.
func (t *Transmitter) acknowledge(ctx context.Context, s Stream, req pollRequest) error {
	if len(req.Ack) == 0 && len(req.SetErrs) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(req.Ack) > 0 {
		if _, err := t.cfg.Store.Ack(ctx, s.ID, req.Ack); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
	}
	for jti, e := range req.SetErrs {
		detail := "receiver reported " + clean(e.Err, 64)
		if e.Description != "" {
			detail += ": " + clean(e.Description, 200)
		}
		q := QueuedSET{Stream: s.ID, JTI: jti, State: QueueFailed, LastError: detail}
		if err := t.cfg.Store.UpdateQueued(ctx, q); err != nil {
			return fmt.Errorf("record setErr: %w", err)
		}
		t.log.Warn("ssf: receiver rejected SET", "stream", s.ID, "jti", clean(jti, 64), "reason", detail)
	}
	return nil
}
