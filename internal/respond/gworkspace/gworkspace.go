// Package gworkspace is the response connector for Google Workspace: it
// signs a user out of every web and device session through the Admin SDK
// Directory API, authenticating as a service account with domain-wide
// delegation (the OAuth 2.0 JWT bearer grant of RFC 7523).
//
// Endpoints (the user key is a primary email, alias or user id):
//
//	token                POST {token_uri}  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
//	sign_out (and        POST {base}/admin/directory/v1/users/{userKey}/signOut
//	clear_sessions)
//
// The assertion is signed RS256 with the service account's key: iss is the
// service account's client_email, sub the delegated admin it acts as,
// scope https://www.googleapis.com/auth/admin.directory.user.security, aud
// the token_uri, and it lives one hour. The access token is cached until
// five minutes before it expires; a 401 from the API drops it and the call
// is made once more with a fresh one.
//
// Least privilege: create a service account without any Cloud IAM role,
// download its JSON key, and in the Admin console authorize its client id
// for domain-wide delegation with only the admin.directory.user.security
// scope. Make the subject a dedicated admin account holding a custom admin
// role limited to the user-security privilege (Users → "Manage user
// security"), restricted to the organizational units Vigil may act on;
// never a super admin.
package gworkspace

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/vigil-zt/vigil/internal/httpx"
	"github.com/vigil-zt/vigil/internal/respond"
)

var _ respond.Connector = (*Connector)(nil)

// Defaults for Google's public endpoints.
const (
	DefaultBaseURL  = "https://admin.googleapis.com"
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
	// Scope is the only scope the connector asks for.
	Scope = "https://www.googleapis.com/auth/admin.directory.user.security"
)

// Config configures a Connector. Secrets are values the caller read from
// where it keeps them; this package never reads files or the environment.
type Config struct {
	// ServiceAccountKey is the contents of the service account's JSON key
	// file. Required.
	ServiceAccountKey []byte
	// Subject is the email of the delegated admin the service account
	// acts as. Required.
	Subject string
	// BaseURL is the Admin SDK's base URL, DefaultBaseURL when empty.
	// Plain http is accepted only for loopback addresses.
	BaseURL string
	// TokenURL overrides the key file's token_uri (DefaultTokenURL when
	// the key has none).
	TokenURL string
	// Timeout bounds one HTTP call, 10s by default.
	Timeout time.Duration
	// Version is Vigil's version, sent as User-Agent "vigil/<version>".
	Version string
	// Now is the clock for assertions and token expiry; time.Now by
	// default.
	Now func() time.Time
}

// Connector performs actions in one Workspace domain. It is safe for
// concurrent use.
type Connector struct {
	cfg      Config
	base     string
	tokenURL string
	email    string
	signer   jose.Signer
	client   *http.Client
	agent    string

	mu      sync.Mutex // guards the token; held while fetching one
	token   string
	expires time.Time
}

// serviceAccount is the part of a JSON key file the connector reads.
type serviceAccount struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// New checks cfg, parses the key and returns a Connector sending through
// client (a default client when nil). It makes no call. Its errors never
// quote the key.
func New(cfg Config, client *http.Client) (*Connector, error) {
	var sa serviceAccount
	if err := json.Unmarshal(cfg.ServiceAccountKey, &sa); err != nil {
		return nil, errors.New("gworkspace: service account key is not a json key file")
	}
	switch {
	case sa.Type != "service_account":
		return nil, errors.New(`gworkspace: service account key: type is not "service_account"`)
	case sa.ClientEmail == "" || sa.PrivateKey == "":
		return nil, errors.New("gworkspace: service account key lacks client_email or private_key")
	case cfg.Subject == "" || strings.ContainsAny(cfg.Subject, " \t\r\n"):
		return nil, errors.New("gworkspace: subject (the delegated admin's email) is required")
	}
	key, err := parseKey(sa.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("gworkspace: service account key: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if sa.PrivateKeyID != "" {
		opts = opts.WithHeader("kid", sa.PrivateKeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return nil, errors.New("gworkspace: service account key cannot sign RS256")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := httpx.ParseBase(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gworkspace: base url: %w", err)
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = sa.TokenURI
	}
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	if _, err := httpx.ParseBase(tokenURL); err != nil {
		return nil, fmt.Errorf("gworkspace: token url: %w", err)
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
	cfg.ServiceAccountKey = nil // parsed; keep no second copy
	return &Connector{
		cfg:      cfg,
		base:     base,
		tokenURL: tokenURL,
		email:    sa.ClientEmail,
		signer:   signer,
		client:   httpx.NoRedirects(client),
		agent:    "vigil/" + cfg.Version,
	}, nil
}

func parseKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("private_key is not pem")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("private_key is not an rsa key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("private_key is not a pkcs#8 or pkcs#1 rsa key")
}

// Kinds lists what the connector does. clear_sessions is an alias of
// sign_out: signing out is how Workspace ends a user's sessions.
func (c *Connector) Kinds() []string {
	return []string{respond.KindSignOut, respond.KindClearSessions}
}

// Do performs a against a.Target, a user's primary email, alias or id.
func (c *Connector) Do(ctx context.Context, a respond.Action) (string, error) {
	if err := httpx.CheckTarget(a.Target); err != nil {
		return "", fmt.Errorf("gworkspace: %w", err)
	}
	switch a.Kind {
	case respond.KindSignOut, respond.KindClearSessions:
		op := fmt.Sprintf("sign out %q", a.Target)
		path := "/admin/directory/v1/users/" + url.PathEscape(a.Target) + "/signOut"
		if err := c.apiCall(ctx, a, op, http.MethodPost, path); err != nil {
			return "", err
		}
		return fmt.Sprintf("signed %s out of all web and device sessions", a.Target), nil
	}
	return "", fmt.Errorf("gworkspace: %q: %w", a.Kind, respond.ErrUnsupported)
}

// apiCall sends one Directory API request, fetching a fresh token and
// trying once more when the API answers 401 to a cached one.
func (c *Connector) apiCall(ctx context.Context, a respond.Action, op, method, path string) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return fmt.Errorf("gworkspace: %s: %w", op, err)
		}
		status, h, body, err := c.send(ctx, method, c.base+path, nil, func(req *http.Request) {
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "application/json")
			if a.ID != "" {
				req.Header.Set("Idempotency-Key", a.ID)
			}
		})
		if err != nil {
			return respond.Retryable(fmt.Errorf("gworkspace: %s: %w", op, err), 0)
		}
		if status >= 200 && status < 300 {
			return nil
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.dropToken(tok)
			continue
		}
		ae := &apiError{op: op, status: status}
		var e struct {
			Error struct {
				Message string `json:"message"`
				Status  string `json:"status"`
				Errors  []struct {
					Reason string `json:"reason"`
				} `json:"errors"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil {
			ae.message = httpx.Clean(e.Error.Message, 200)
			ae.reason = httpx.Clean(e.Error.Status, 40)
			if len(e.Error.Errors) > 0 && e.Error.Errors[0].Reason != "" {
				ae.reason = httpx.Clean(e.Error.Errors[0].Reason, 40)
			}
		}
		if retryableStatus(status, ae.reason) {
			return respond.Retryable(ae, httpx.RetryAfter(h, c.cfg.Now()))
		}
		return ae
	}
}

// retryableStatus reports whether an answer is worth retrying. Google's
// older APIs, the Directory API among them, signal quota with 403 and a
// rate-limit reason rather than 429.
func retryableStatus(status int, reason string) bool {
	switch {
	case status == http.StatusTooManyRequests, status >= 500:
		return true
	case status == http.StatusForbidden:
		switch reason {
		case "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded":
			return true
		}
	}
	return false
}

// send makes one HTTP call bounded by the timeout (httpx.Send) with
// Vigil's User-Agent.
func (c *Connector) send(ctx context.Context, method, target string, body io.Reader, prepare func(*http.Request)) (int, http.Header, []byte, error) {
	return httpx.Send(ctx, c.client, c.cfg.Timeout, method, target, body, func(req *http.Request) {
		req.Header.Set("User-Agent", c.agent)
		prepare(req)
	})
}

// apiError is a non-2xx answer: the operation, the user, the status and
// Google's reason and message (never the body).
type apiError struct {
	op      string
	status  int
	reason  string
	message string
}

func (e *apiError) Error() string {
	what := httpx.Failure(e.status)
	if e.status == http.StatusForbidden && retryableStatus(e.status, e.reason) {
		what = "rate limited" // a quota 403
	}
	return fmt.Sprintf("gworkspace: %s: %s (%s)", e.op, what, httpx.Detail(e.status, e.reason, e.message))
}
