package gworkspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-zt/vigil/internal/httpx"
	"github.com/vigil-zt/vigil/internal/respond"
)

// refreshBefore is how long before expiry a cached token is replaced.
const refreshBefore = 5 * time.Minute

// assertionLifetime is the longest Google accepts.
const assertionLifetime = time.Hour

// assertion builds the signed RFC 7523 JWT: the service account asks for
// Scope on behalf of the delegated admin.
func (c *Connector) assertion(now time.Time) (string, error) {
	claims := jwt.Claims{
		Issuer:   c.email,
		Subject:  c.cfg.Subject,
		Audience: jwt.Audience{c.tokenURL},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(assertionLifetime)),
	}
	return jwt.Signed(c.signer).Claims(claims).Claims(map[string]any{"scope": Scope}).Serialize()
}

// accessToken returns the cached token or exchanges a fresh assertion for
// one. Concurrent callers wait for a single exchange.
func (c *Connector) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if c.token != "" && now.Before(c.expires) {
		return c.token, nil
	}
	c.token = ""
	jws, err := c.assertion(now)
	if err != nil {
		return "", errors.New("token: signing the assertion failed")
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {jws},
	}
	status, h, body, err := c.send(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()), func(req *http.Request) {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
	})
	if err != nil {
		return "", respond.Retryable(fmt.Errorf("token: %w", err), 0)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tr)
	if status != http.StatusOK {
		what := httpx.Clean(tr.Error, 40)
		if what == "" {
			what = "error"
		}
		if d := httpx.Clean(tr.Description, 120); d != "" {
			what += ": " + d
		}
		if status == http.StatusTooManyRequests || status >= 500 {
			return "", respond.Retryable(fmt.Errorf("token endpoint unavailable (%d %s)", status, what), httpx.RetryAfter(h, c.cfg.Now()))
		}
		return "", fmt.Errorf("token request refused (%d %s)", status, what)
	}
	if tr.AccessToken == "" || strings.ContainsAny(tr.AccessToken, "\r\n ") {
		return "", respond.Retryable(errors.New("token: answer without a usable access token"), 0)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 || tr.ExpiresIn > 24*3600 {
		life = time.Hour
	}
	c.token = tr.AccessToken
	c.expires = now.Add(life - min(refreshBefore, life/2))
	return c.token, nil
}

// dropToken forgets tok after the API refused it, unless another call
// already replaced it.
func (c *Connector) dropToken(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}
