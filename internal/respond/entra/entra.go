// Package entra is the response connector for Microsoft Entra ID: it
// revokes a user's sign-in sessions and disables an account through
// Microsoft Graph, authenticating as an application with the OAuth 2.0
// client-credentials grant.
//
// Endpoints (the user is an object id or user principal name):
//
//	token           POST  {authority}/{tenant}/oauth2/v2.0/token
//	                      scope https://graph.microsoft.com/.default
//	clear_sessions  POST  {graph}/v1.0/users/{id}/revokeSignInSessions
//	suspend_user    PATCH {graph}/v1.0/users/{id}  {"accountEnabled":false}
//
// The access token is cached until five minutes before it expires; a 401
// from Graph drops it and the call is made once more with a fresh one.
// Throttling (429, 503) and 5xx are retryable with Graph's Retry-After.
//
// Least privilege: register an application with only the application
// permissions User.RevokeSessions.All (revoke sessions) and
// User.EnableDisableAccount.All with User.Read.All (disable accounts),
// granted admin consent, instead of User.ReadWrite.All or
// Directory.ReadWrite.All. Acting on users who hold administrator roles
// additionally needs the app to be assigned a privileged Entra role; leave
// that out unless automation must be able to act on administrators.
package entra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/httpx"
	"github.com/vigil-zt/vigil/internal/respond"
)

var _ respond.Connector = (*Connector)(nil)

// Defaults for the public cloud. National clouds have their own (for
// example https://login.microsoftonline.us and
// https://graph.microsoft.us).
const (
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultGraphURL  = "https://graph.microsoft.com"
)

// Config configures a Connector. Secrets are values the caller read from
// where it keeps them; this package never reads files or the environment.
type Config struct {
	// TenantID is the directory (tenant) id or a verified domain. Required.
	TenantID string
	// ClientID is the application (client) id. Required.
	ClientID string
	// ClientSecret is a client secret value of that application. Required.
	ClientSecret string
	// Authority is the identity platform's base URL, DefaultAuthority when
	// empty. Plain http is accepted only for loopback addresses.
	Authority string
	// GraphURL is Microsoft Graph's base URL, DefaultGraphURL when empty.
	GraphURL string
	// Timeout bounds one HTTP call, 10s by default.
	Timeout time.Duration
	// Version is Vigil's version, sent as User-Agent "vigil/<version>".
	Version string
	// Now is the clock for token expiry; time.Now by default.
	Now func() time.Time
}

// Connector performs actions against one Entra tenant. It is safe for
// concurrent use.
type Connector struct {
	cfg      Config
	tokenURL string
	graph    string
	client   *http.Client
	agent    string

	mu      sync.Mutex // guards the token; held while fetching one
	token   string
	expires time.Time
}

// New checks cfg and returns a Connector sending through client
// (a default client when nil). It makes no call.
func New(cfg Config, client *http.Client) (*Connector, error) {
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	authority, err := httpx.ParseBase(cfg.Authority)
	if err != nil {
		return nil, fmt.Errorf("entra: authority: %w", err)
	}
	graph, err := httpx.ParseBase(cfg.GraphURL)
	if err != nil {
		return nil, fmt.Errorf("entra: graph url: %w", err)
	}
	switch {
	case cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "":
		return nil, errors.New("entra: tenant id, client id and client secret are required")
	case strings.ContainsAny(cfg.TenantID, "/?#%\\ \t\r\n"):
		return nil, errors.New("entra: tenant id must be a guid or domain name")
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
	return &Connector{
		cfg:      cfg,
		tokenURL: authority + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
		graph:    graph,
		client:   httpx.NoRedirects(client),
		agent:    "vigil/" + cfg.Version,
	}, nil
}

// Kinds lists what the connector does.
func (c *Connector) Kinds() []string {
	return []string{respond.KindClearSessions, respond.KindSuspendUser}
}

// Do performs a against a.Target, a user's object id or user principal
// name.
func (c *Connector) Do(ctx context.Context, a respond.Action) (string, error) {
	if err := httpx.CheckTarget(a.Target); err != nil {
		return "", fmt.Errorf("entra: %w", err)
	}
	user := "/v1.0/users/" + url.PathEscape(a.Target)
	switch a.Kind {
	case respond.KindClearSessions:
		op := fmt.Sprintf("revoke sign-in sessions of %q", a.Target)
		if err := c.graphCall(ctx, a, op, http.MethodPost, user+"/revokeSignInSessions", nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("revoked sign-in sessions and refresh tokens of %s", a.Target), nil
	case respond.KindSuspendUser:
		op := fmt.Sprintf("disable %q", a.Target)
		if err := c.graphCall(ctx, a, op, http.MethodPatch, user, []byte(`{"accountEnabled":false}`)); err != nil {
			return "", err
		}
		return fmt.Sprintf("disabled account %s", a.Target), nil
	}
	return "", fmt.Errorf("entra: %q: %w", a.Kind, respond.ErrUnsupported)
}

// graphCall sends one Graph request, fetching a fresh token and trying
// once more when Graph answers 401 to a cached one.
func (c *Connector) graphCall(ctx context.Context, a respond.Action, op, method, path string, body []byte) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return fmt.Errorf("entra: %s: %w", op, err)
		}
		status, h, resp, err := c.send(ctx, method, c.graph+path, body, func(req *http.Request) {
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "application/json")
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if a.ID != "" {
				req.Header.Set("Idempotency-Key", a.ID)
			}
		})
		if err != nil {
			return respond.Retryable(fmt.Errorf("entra: %s: %w", op, err), 0)
		}
		if status >= 200 && status < 300 {
			return nil
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.dropToken(tok)
			continue
		}
		ge := &apiError{op: op, status: status}
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(resp, &e) == nil {
			ge.code = httpx.Clean(e.Error.Code, 48)
			ge.message = httpx.Clean(e.Error.Message, 200)
		}
		switch {
		case status == http.StatusTooManyRequests || status >= 500:
			return respond.Retryable(ge, httpx.RetryAfter(h, c.cfg.Now()))
		}
		return ge
	}
}

// send makes one HTTP call bounded by the timeout (httpx.Send) with
// Vigil's User-Agent.
func (c *Connector) send(ctx context.Context, method, target string, body []byte, prepare func(*http.Request)) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return httpx.Send(ctx, c.client, c.cfg.Timeout, method, target, rd, func(req *http.Request) {
		req.Header.Set("User-Agent", c.agent)
		prepare(req)
	})
}

// apiError is a non-2xx Graph answer: the operation, the user, the status
// and Graph's error code and message (never the body).
type apiError struct {
	op      string
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	what := httpx.Failure(e.status)
	if e.status == http.StatusTooManyRequests {
		what = "throttled" // Graph's word for it
	}
	return fmt.Sprintf("entra: %s: %s (%s)", e.op, what, httpx.Detail(e.status, e.code, e.message))
}
