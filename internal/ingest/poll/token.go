package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/httpx"
)

// CredentialsConfig configures the OAuth 2.0 client credentials grant of a
// Microsoft Entra app registration.
type CredentialsConfig struct {
	// Authority is the identity platform's base URL; "" means
	// https://login.microsoftonline.com (national clouds have their own).
	Authority string
	// Tenant is the directory (tenant) id or a verified domain.
	Tenant string
	// ClientID is the app's application (client) id.
	ClientID string
	// ClientSecret is one of the app's client secrets (its value, not its
	// id).
	ClientSecret Secret
	// Scope is what the token is for; "" means
	// https://graph.microsoft.com/.default (the app's granted application
	// permissions).
	Scope string
	// HTTP makes the token requests; nil means a default client. Redirects
	// are not followed.
	HTTP *http.Client
	// Now is the clock for expiry; nil means time.Now.
	Now func() time.Time
	// Timeout bounds one token request; 0 means 30 s.
	Timeout time.Duration
}

// ClientCredentials gets access tokens with the client credentials grant
// and caches each until shortly before it expires. Safe for concurrent
// use: the Graph pollers of one tenant share one.
type ClientCredentials struct {
	cfg      CredentialsConfig
	tokenURL string
	op       string

	lock  chan struct{} // a mutex a waiting context can give up on
	token string
	renew time.Time // when to fetch a new token
}

var _ Tokens = (*ClientCredentials)(nil)

// maxTokenResponse bounds a token endpoint's answer.
const maxTokenResponse = 1 << 20

// NewClientCredentials returns a token source; it requests nothing until
// the first Token.
func NewClientCredentials(cfg CredentialsConfig) (*ClientCredentials, error) {
	if cfg.Authority == "" {
		cfg.Authority = "https://login.microsoftonline.com"
	}
	if cfg.Scope == "" {
		cfg.Scope = "https://graph.microsoft.com/.default"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	cfg.HTTP = httpx.NoRedirects(cfg.HTTP)
	base, err := checkBase("token authority", cfg.Authority)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Tenant == "", strings.ContainsAny(cfg.Tenant, "/?#% "):
		return nil, fmt.Errorf("%w: a tenant id or domain is required", ErrConfig)
	case cfg.ClientID == "":
		return nil, fmt.Errorf("%w: a client id is required", ErrConfig)
	case cfg.ClientSecret == "":
		return nil, fmt.Errorf("%w: a client secret is required", ErrConfig)
	}
	u := under(base, cfg.Tenant, "oauth2", "v2.0", "token")
	return &ClientCredentials{
		cfg:      cfg,
		tokenURL: u.String(),
		op:       "POST " + u.Path,
		lock:     make(chan struct{}, 1),
	}, nil
}

// Token returns a cached token, or fetches one. Errors from the endpoint
// refusing the client (invalid_client, an unknown app or tenant) wrap
// ErrAuth; throttling and 5xx are *StatusError with Wait set when the
// endpoint said.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.lock }()
	now := c.cfg.Now()
	if c.token != "" && now.Before(c.renew) {
		return c.token, nil
	}
	tok, life, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	// Renew well before expiry: five minutes early, or halfway through a
	// short lifetime, so a token never expires in flight.
	c.token, c.renew = tok, now.Add(life-min(5*time.Minute, life/2))
	return tok, nil
}

// Invalidate forgets token if it is the cached one (the API refused it).
func (c *ClientCredentials) Invalidate(token string) {
	c.lock <- struct{}{}
	if c.token == token {
		c.token = ""
	}
	<-c.lock
}

func (c *ClientCredentials) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{}
	form.Set("grant_type", "client_credentials")
	form.Set("client_id", c.cfg.ClientID)
	form.Set("client_secret", c.cfg.ClientSecret.Reveal())
	form.Set("scope", c.cfg.Scope)
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", c.op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	res, err := c.cfg.HTTP.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return "", 0, fmt.Errorf("%s: no answer within %s", c.op, c.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", 0, fmt.Errorf("%s: %w", c.op, err)
	}
	defer res.Body.Close()
	body, err := readLimited(res.Body, maxTokenResponse)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w: %v", c.op, errResponse, err)
	}
	if res.StatusCode != http.StatusOK {
		return "", 0, c.statusError(res, body)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("%s: %w: no access_token in the answer", c.op, errResponse)
	}
	if !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("%s: %w: token type %q, not Bearer", c.op, errResponse, vendorText(tr.TokenType))
	}
	// expires_in is a number, or a string in older endpoints' answers.
	secs, err := strconv.ParseInt(string(bytes.Trim(tr.ExpiresIn, `"`)), 10, 64)
	if err != nil || secs <= 0 {
		secs = 0 // unknown: use once, fetch again next time
	}
	return tr.AccessToken, time.Duration(min(secs, 24*3600)) * time.Second, nil
}

// statusError reads the identity platform's error answer. Refusals of the
// client itself are permanent (ErrAuth); the rest is retried.
func (c *ClientCredentials) statusError(res *http.Response, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	se := &StatusError{Op: c.op, Status: res.StatusCode, Code: vendorText(e.Error), Message: firstSentence(e.Description)}
	switch {
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		se.Wait = httpx.RetryAfter(res.Header, c.cfg.Now())
		return se
	case res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusUnauthorized:
		switch e.Error {
		case "invalid_client", "unauthorized_client", "invalid_request", "invalid_scope", "invalid_grant", "":
			se.Hint = "check the tenant, client id and client secret"
			return fmt.Errorf("%w: %w", ErrAuth, se)
		}
	}
	return se
}

// firstSentence keeps the AADSTS code and first sentence of an
// error_description ("AADSTS7000215: Invalid client secret provided.") and
// drops the trace and correlation ids after it.
func firstSentence(s string) string {
	s = vendorText(s)
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
