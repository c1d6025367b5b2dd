package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-zt/vigil/internal/store"
)

type receiverKey struct{}

var errNotReceiver = errors.New("not a Shared Signals receiver token")

// SSFReceiver is the Shared Signals transmitter's Authorizer: the name of
// the receiver token that ssfHandler authenticated, or an error (the
// transmitter answers 401).
func SSFReceiver(r *http.Request) (string, error) {
	if name, ok := r.Context().Value(receiverKey{}).(string); ok && name != "" {
		return name, nil
	}
	return "", errNotReceiver
}

// ssfHandler authenticates Shared Signals requests with Vigil's tokens
// (receiver role only), counts them, and writes every change a receiver
// makes (streams, status, subjects, verification) to the audit log. Polls
// are not audited: they are the delivery itself.
func (s *Server) ssfHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.d.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.reqs.WithLabelValues("ssf", strconv.Itoa(rec.status)).Inc()
			s.latency.WithLabelValues("ssf").Observe(s.d.Now().Sub(start).Seconds())
		}()
		var name string
		if r.Header.Get("Authorization") != "" {
			tok, err := s.authenticate(r)
			if err != nil && !errors.Is(err, errUnauthorized) {
				s.fail(rec, r, err)
				return
			}
			if err == nil && tok.Role == RoleReceiver {
				name = tok.Name
				r = r.WithContext(context.WithValue(r.Context(), receiverKey{}, name))
			}
		}
		h.ServeHTTP(rec, r)
		if name == "" || r.Method == http.MethodGet || strings.Contains(r.URL.Path, "/ssf/poll/") || rec.status/100 != 2 {
			return
		}
		op := r.URL.Path
		if i := strings.LastIndex(op, "/ssf/"); i >= 0 {
			op = op[i+len("/ssf/"):]
		}
		detail := map[string]any{"method": r.Method, "path": r.URL.Path, "status": rec.status}
		if id := r.URL.Query().Get("stream_id"); id != "" {
			detail["stream_id"] = id
		}
		if err := s.audit(r.Context(), store.Token{Name: name}, "ssf."+r.Method+" "+op, name, detail); err != nil {
			s.d.Log.Error("audit: recording a Shared Signals change", "receiver", name, "err", err)
		}
	})
}

// ssfRotate makes a new signing key active; the old one stays published
// for the grace period.
func (s *Server) ssfRotate(w http.ResponseWriter, r *http.Request, tok store.Token) error {
	kid, err := s.d.SSFRotate(r.Context())
	if err != nil {
		return err
	}
	if err := s.audit(r.Context(), tok, "ssf.rotate-key", kid, map[string]string{"kid": kid}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"kid": kid})
}
