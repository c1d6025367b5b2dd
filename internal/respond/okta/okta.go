// Package okta is the response connector for Okta: it clears a user's
// sessions and OAuth tokens, suspends a user, and resets a user's factors
// through the Okta management API.
//
// Endpoints (the user is an Okta user id or login, path-escaped):
//
//	clear_sessions  DELETE /api/v1/users/{id}/sessions?oauthTokens=true
//	suspend_user    POST   /api/v1/users/{id}/lifecycle/suspend
//	reset_factors   POST   /api/v1/users/{id}/lifecycle/reset_factors
//
// Suspending a user who is already suspended answers 400; the connector
// then reads the user (GET /api/v1/users/{id}) and reports success when
// the user is SUSPENDED, so a retry after a crash is not a failure.
//
// Least privilege: create a custom admin role holding only the
// permissions okta.users.lifecycle.clearSessions ("Clear user sessions"),
// okta.users.lifecycle.suspend ("Suspend users"),
// okta.users.credentials.resetFactors ("Edit users' authenticator
// operations") and okta.users.read, bound to a resource set of the users
// automation may act on (not administrators). Assign it to an OAuth 2.0
// service app granted the okta.users.manage scope and pass that app's
// access tokens through Config.AccessToken; or assign it to a dedicated
// service admin and create the SSWS API token as that admin (a token
// carries every permission of the admin who created it, so never create
// it as a super admin).
package okta

import (
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
	"github.com/vigil-zt/vigil/internal/respond"
)

var _ respond.Connector = (*Connector)(nil)

// Config configures a Connector. Secrets are values the caller read from
// where it keeps them; this package never reads files or the environment.
type Config struct {
	// OrgURL is the org's base URL, https://{yourOktaDomain}. Required.
	// Plain http is accepted only for loopback addresses (tests, demos).
	OrgURL string
	// APIToken is an SSWS API token. Exactly one of APIToken and
	// AccessToken must be set.
	APIToken string
	// AccessToken returns a current OAuth 2.0 access token (sent as
	// "Authorization: Bearer"); the caller obtains and refreshes it.
	AccessToken func(ctx context.Context) (string, error)
	// Timeout bounds one call to Okta, 10s by default.
	Timeout time.Duration
	// Version is Vigil's version, sent as User-Agent "vigil/<version>".
	Version string
	// Now is the clock used to turn rate-limit resets into waits;
	// time.Now by default.
	Now func() time.Time
}

// Connector performs actions against one Okta org. It is safe for
// concurrent use.
type Connector struct {
	base    string // scheme://host[/path] without a trailing slash
	cfg     Config
	client  *http.Client
	agent   string
	timeout time.Duration
}

// New checks cfg and returns a Connector sending through client
// (http.DefaultClient's transport when nil). It makes no call.
func New(cfg Config, client *http.Client) (*Connector, error) {
	if cfg.OrgURL == "" {
		return nil, errors.New("okta: org url: missing")
	}
	base, err := httpx.ParseBase(cfg.OrgURL)
	if err != nil {
		return nil, fmt.Errorf("okta: org url: %w", err)
	}
	if (cfg.APIToken == "") == (cfg.AccessToken == nil) {
		return nil, errors.New("okta: set exactly one of api token and access token")
	}
	if strings.ContainsAny(cfg.APIToken, "\r\n") {
		return nil, errors.New("okta: api token holds a line break")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{base: base, cfg: cfg, client: httpx.NoRedirects(client), agent: "vigil/" + cfg.Version, timeout: cfg.Timeout}, nil
}

// Kinds lists what the connector does.
func (c *Connector) Kinds() []string {
	return []string{respond.KindClearSessions, respond.KindSuspendUser, respond.KindResetFactors}
}

// Do performs a against a.Target, an Okta user id or login.
func (c *Connector) Do(ctx context.Context, a respond.Action) (string, error) {
	if err := httpx.CheckTarget(a.Target); err != nil {
		return "", fmt.Errorf("okta: %w", err)
	}
	user := url.PathEscape(a.Target)
	switch a.Kind {
	case respond.KindClearSessions:
		op := fmt.Sprintf("clear sessions of %q", a.Target)
		if _, err := c.call(ctx, a, op, http.MethodDelete, "/api/v1/users/"+user+"/sessions", "oauthTokens=true"); err != nil {
			return "", err
		}
		return fmt.Sprintf("cleared sessions and oauth tokens of %s", a.Target), nil
	case respond.KindSuspendUser:
		op := fmt.Sprintf("suspend %q", a.Target)
		_, err := c.call(ctx, a, op, http.MethodPost, "/api/v1/users/"+user+"/lifecycle/suspend", "")
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest && c.suspended(ctx, a, user) {
			return fmt.Sprintf("%s was already suspended", a.Target), nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("suspended %s", a.Target), nil
	case respond.KindResetFactors:
		op := fmt.Sprintf("reset factors of %q", a.Target)
		if _, err := c.call(ctx, a, op, http.MethodPost, "/api/v1/users/"+user+"/lifecycle/reset_factors", ""); err != nil {
			return "", err
		}
		return fmt.Sprintf("reset factors of %s", a.Target), nil
	}
	return "", fmt.Errorf("okta: %q: %w", a.Kind, respond.ErrUnsupported)
}

// suspended reports whether the user is SUSPENDED, after a suspend call
// was refused: Okta refuses to suspend a user who is not ACTIVE.
func (c *Connector) suspended(ctx context.Context, a respond.Action, user string) bool {
	body, err := c.call(ctx, a, "read user", http.MethodGet, "/api/v1/users/"+user, "")
	if err != nil {
		return false
	}
	var u struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(body, &u) == nil && u.Status == "SUSPENDED"
}

// call sends one request and maps the answer: 2xx returns the body,
// 429/5xx/network errors are retryable, the rest permanent.
func (c *Connector) call(ctx context.Context, a respond.Action, op, method, path, query string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := c.base + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("okta: %s: %w", op, err)
	}
	auth, err := c.authorization(ctx)
	if err != nil {
		return nil, respond.Retryable(fmt.Errorf("okta: %s: access token: %w", op, err), 0)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.agent)
	if a.ID != "" {
		req.Header.Set("Idempotency-Key", a.ID)
	}
	status, h, body, err := httpx.Do(c.client, req)
	if err != nil {
		return nil, respond.Retryable(fmt.Errorf("okta: %s: %w", op, err), 0)
	}
	if status >= 200 && status < 300 {
		return body, nil
	}
	ae := &apiError{op: op, status: status}
	var oe struct {
		Code    string `json:"errorCode"`
		Summary string `json:"errorSummary"`
		Causes  []struct {
			Summary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	if json.Unmarshal(body, &oe) == nil {
		ae.code = httpx.Clean(oe.Code, 16)
		ae.summary = httpx.Clean(oe.Summary, 160)
		if len(oe.Causes) > 0 {
			ae.summary = httpx.Clean(ae.summary+"; "+oe.Causes[0].Summary, 240)
		}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return nil, respond.Retryable(ae, c.rateLimitWait(h))
	case status >= 500:
		return nil, respond.Retryable(ae, httpx.RetryAfter(h, c.serverNow(h)))
	}
	return nil, ae
}

func (c *Connector) authorization(ctx context.Context) (string, error) {
	if c.cfg.AccessToken == nil {
		return "SSWS " + c.cfg.APIToken, nil
	}
	tok, err := c.cfg.AccessToken(ctx)
	if err != nil {
		return "", err
	}
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", errors.New("empty or malformed token")
	}
	return "Bearer " + tok, nil
}

// rateLimitWait is how long Okta asked to wait: the later of Retry-After
// and X-Rate-Limit-Reset, the reset read against Okta's own Date header so
// clock skew between Vigil and Okta does not matter.
func (c *Connector) rateLimitWait(h http.Header) time.Duration {
	now := c.serverNow(h)
	wait := httpx.RetryAfter(h, now)
	if v := h.Get("X-Rate-Limit-Reset"); v != "" {
		if sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && sec > 0 {
			reset := time.Unix(sec, 0)
			if d := reset.Sub(now); d > wait {
				wait = d
			}
		}
	}
	return min(wait, httpx.MaxWait)
}

// serverNow is the vendor's time from its Date header, or ours.
func (c *Connector) serverNow(h http.Header) time.Time {
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		return d
	}
	return c.cfg.Now()
}

// apiError is a non-2xx answer. Its message names the operation, the user
// and the status, with Okta's error code and summary (never the body).
type apiError struct {
	op      string
	status  int
	code    string
	summary string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("okta: %s: %s (%s)", e.op, httpx.Failure(e.status), httpx.Detail(e.status, e.code, e.summary))
}
