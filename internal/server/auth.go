package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/store"
)

// Roles, in increasing power. Ingest tokens can only push events (vendor
// event hooks hold them); viewers read; responders also act; admins also
// read the audit log. Receiver tokens stand apart: a Shared Signals
// receiver manages its own streams and polls its events, nothing else
// (and no other role may act as a receiver).
const (
	RoleIngest    = "ingest"
	RoleViewer    = "viewer"
	RoleResponder = "responder"
	RoleAdmin     = "admin"
	RoleReceiver  = "receiver"
)

// Roles lists the roles.
var Roles = []string{RoleIngest, RoleViewer, RoleResponder, RoleAdmin, RoleReceiver}

func rank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleResponder:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// allows reports whether a token's role may use an endpoint needing need.
func allows(have, need string) bool {
	if have == RoleReceiver || need == RoleReceiver {
		return have == need
	}
	if need == RoleIngest {
		return have == RoleIngest || rank(have) >= rank(RoleResponder)
	}
	return rank(have) >= rank(need)
}

// ValidRole reports whether role is a role.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// NewToken makes a token: "vgl_<id>_<secret>". Only the SHA-256 of the
// secret is stored; the token itself is shown once.
func NewToken(name, role string, now time.Time) (string, store.Token, error) {
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", store.Token{}, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", store.Token{}, err
	}
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	h := sha256.Sum256([]byte(s))
	t := store.Token{ID: hex.EncodeToString(id[:]), Name: name, Role: role, Hash: h[:], Created: now}
	return "vgl_" + t.ID + "_" + s, t, nil
}

// TokenStore looks tokens up.
type TokenStore interface {
	Token(ctx context.Context, id string) (store.Token, error)
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// errUnauthorized never says why: a caller guessing tokens learns nothing.
var errUnauthorized = &httpError{status: http.StatusUnauthorized, msg: "missing or invalid bearer token"}

// authenticate returns the token presented with r.
func (s *Server) authenticate(r *http.Request) (store.Token, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return store.Token{}, errUnauthorized
	}
	return s.checkToken(r.Context(), raw)
}

// checkToken returns the token raw is, if it is a valid one. The secret is
// compared by hash in constant time.
func (s *Server) checkToken(ctx context.Context, raw string) (store.Token, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(raw), "vgl_")
	if !ok {
		return store.Token{}, errUnauthorized
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || secret == "" {
		return store.Token{}, errUnauthorized
	}
	t, err := s.d.Tokens.Token(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errUnauthorized
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("token lookup: %w", err)
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], t.Hash) != 1 || t.Revoked {
		return store.Token{}, errUnauthorized
	}
	if now := s.d.Now(); now.Sub(t.LastUsed) > time.Minute {
		// Recorded at most once a minute: reads stay reads.
		_ = s.d.Tokens.TouchToken(context.WithoutCancel(ctx), t.ID, now)
	}
	return t, nil
}
