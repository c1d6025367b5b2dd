package ssf

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// ErrUnauthorized is what the Authorizers here return for a request without
// valid credentials.
var ErrUnauthorized = errors.New("unauthorized")

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (RFC 6750 §2.1; the scheme is case-insensitive).
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// BearerTokens returns an Authorizer accepting a fixed set of bearer tokens,
// each mapped to the receiver it authenticates. Tokens are compared in
// constant time, by their SHA-256 digests so that length does not leak
// either, and every token is compared on every request.
func BearerTokens(tokens map[string]string) Authorizer {
	type entry struct {
		digest   [sha256.Size]byte
		receiver string
	}
	entries := make([]entry, 0, len(tokens))
	for tok, receiver := range tokens {
		entries = append(entries, entry{sha256.Sum256([]byte(tok)), receiver})
	}
	return func(r *http.Request) (string, error) {
		tok, ok := BearerToken(r)
		if !ok {
			return "", ErrUnauthorized
		}
		d := sha256.Sum256([]byte(tok))
		found := ""
		for _, e := range entries {
			if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
				found = e.receiver
			}
		}
		if found == "" {
			return "", ErrUnauthorized
		}
		return found, nil
	}
}
