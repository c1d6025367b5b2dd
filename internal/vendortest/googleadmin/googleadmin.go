// Package googleadmin is a contract-faithful fake of Google's OAuth 2.0
// token endpoint for service accounts (the RFC 7523 JWT bearer grant with
// domain-wide delegation) and the Admin SDK Directory API's users.signOut.
// The token endpoint verifies the RS256 assertion against the public key
// of the service account the fake issued, checks its claims, the
// impersonated admin and the delegated scopes; the Directory API checks
// the access token and its scope. Errors come in Google's shapes.
//
//	srv := googleadmin.New(t)
//	srv.AddUser(googleadmin.User{PrimaryEmail: "ada@example.com"})
//	key := srv.ServiceAccountKey() // JSON key file contents, token_uri = the fake
//	... connector with key, subject googleadmin.DefaultAdmin, base URL srv.URL() ...
//	srv.Deliveries(vendortest.KindSignOut, "ada@example.com")
package googleadmin

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-zt/vigil/internal/vendortest"
)

// Defaults of a new server.
const (
	DefaultAdmin         = "vigil-admin@example.com"
	DefaultClientEmail   = "vigil-responder@vigil-test.iam.gserviceaccount.com"
	DefaultClientID      = "109876543210987654321"
	ScopeUserSecurity    = "https://www.googleapis.com/auth/admin.directory.user.security"
	ScopeUser            = "https://www.googleapis.com/auth/admin.directory.user"
	jwtBearerGrant       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	maxAssertionLifetime = time.Hour
)

// testKey is one RSA key shared by every fake in the process: generating
// a 2048-bit key per server would slow tests for no gain.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, _ := rsa.GenerateKey(rand.Reader, 2048) // fails only for bad sizes
	return k
})

// User is a Workspace user as the fake keeps it.
type User struct {
	ID           string // generated when empty
	PrimaryEmail string
	Aliases      []string
	// SignOuts counts sign-outs applied.
	SignOuts int
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the fake's clock (assertion times, token expiry).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenLifetime sets expires_in of issued tokens (default 3599s).
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.lifetime = d } }

// WithDelegatedScopes replaces the scopes domain-wide delegation grants
// the service account (default: admin.directory.user.security only).
func WithDelegatedScopes(scopes ...string) Option {
	return func(s *Server) { s.delegated = scopes }
}

// WithAdmins replaces the users the service account may impersonate
// (default: DefaultAdmin).
func WithAdmins(emails ...string) Option { return func(s *Server) { s.admins = emails } }

// WithKey makes the service account use key instead of the shared one.
func WithKey(key *rsa.PrivateKey) Option { return func(s *Server) { s.key = key } }

type token struct {
	scopes  []string
	expires time.Time
}

// Server is a running fake Google token endpoint and Directory API; URL is
// the base URL of the Directory API (https://admin.googleapis.com in real
// life).
type Server struct {
	*vendortest.Recorder
	vendortest.Endpoint
	mux   *http.ServeMux
	now   func() time.Time
	key   *rsa.PrivateKey
	keyID string

	mu        sync.Mutex
	users     map[string]*User
	delegated []string
	admins    []string
	tokens    map[string]token
	lifetime  time.Duration
}

// New starts the fake on a loopback address; cleanup (a testing.TB, or
// nil) closes it when the test ends, and so does Close.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := &Server{
		mux:       http.NewServeMux(),
		now:       time.Now,
		keyID:     vendortest.RandHex(20),
		users:     map[string]*User{},
		delegated: []string{ScopeUserSecurity},
		admins:    []string{DefaultAdmin},
		tokens:    map[string]token{},
		lifetime:  3599 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	if s.key == nil {
		s.key = testKey()
	}
	s.Recorder = vendortest.NewRecorder(s.now)
	s.Recorder.SetResolver(func(key string) string {
		if u, ok := s.User(key); ok {
			return u.ID
		}
		return key
	})
	s.mux.HandleFunc("POST /token", s.token)
	s.mux.HandleFunc("POST /admin/directory/v1/users/{userKey}/signOut", s.authed(vendortest.KindSignOut, s.signOut))
	s.mux.HandleFunc("GET /admin/directory/v1/users/{userKey}", s.authed(vendortest.KindRead, s.get))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c := vendortest.CallFrom(r)
		s.googleError(w, c, http.StatusNotFound, "Not Found", "notFound", "", "NOT_FOUND")
	})
	s.Endpoint = vendortest.Listen(cleanup, http.HandlerFunc(s.serve), s.Recorder)
	return s
}

// TokenURL is the token endpoint (https://oauth2.googleapis.com/token).
func (s *Server) TokenURL() string { return s.URL() + "/token" }

// ServiceAccountKey returns the JSON key file of the fake's service
// account, as the Google Cloud console downloads it, with token_uri
// pointing at the fake.
func (s *Server) ServiceAccountKey() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		return nil
	}
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "vigil-test",
		"private_key_id":              s.keyID,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                DefaultClientEmail,
		"client_id":                   DefaultClientID,
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   s.TokenURL(),
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/" + url.PathEscape(DefaultClientEmail),
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return b
}

// AddUser seeds a user and returns it as stored.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = "1" + strconv.FormatUint(uint64(len(s.users))+10000000000000000001, 10)
	}
	cp := u
	s.users[u.ID] = &cp
	return u
}

// User returns the user with that id, primary email or alias.
func (s *Server) User(key string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.lookup(key); u != nil {
		return *u, true
	}
	return User{}, false
}

// RevokeTokens makes every access token issued so far invalid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]token{}
	s.mu.Unlock()
}

func (s *Server) lookup(key string) *User {
	if u, ok := s.users[key]; ok {
		return u
	}
	for _, u := range s.users {
		if strings.EqualFold(u.PrimaryEmail, key) || slices.ContainsFunc(u.Aliases, func(a string) bool { return strings.EqualFold(a, key) }) {
			return u
		}
	}
	return nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	c := s.Begin(w, r)
	if c == nil {
		return
	}
	s.mux.ServeHTTP(w, vendortest.WithCall(r, c))
}

// token serves the JWT bearer grant (RFC 7523) for service accounts.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	c := vendortest.CallFrom(r)
	c.Route(vendortest.KindToken, "")
	if f, ok := c.Injected(vendortest.ScopeToken); ok {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
		}
		s.oauthError(w, c, f.Status, "internal_failure", "Backend Error")
		return
	}
	form, err := url.ParseQuery(string(c.Body()))
	if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.oauthError(w, c, http.StatusBadRequest, "invalid_request", "Invalid request body")
		return
	}
	if form.Get("grant_type") != jwtBearerGrant {
		s.oauthError(w, c, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+form.Get("grant_type"))
		return
	}
	tok, err := jwt.ParseSigned(form.Get("assertion"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	if kid := tok.Headers[0].KeyID; kid != "" && kid != s.keyID {
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	var claims jwt.Claims
	var extra struct {
		Scope string `json:"scope"`
	}
	if err := tok.Claims(&s.key.PublicKey, &claims, &extra); err != nil {
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	c.Route(vendortest.KindToken, claims.Subject)
	now := s.now()
	switch {
	case claims.Issuer != DefaultClientEmail:
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	case !claims.Audience.Contains(s.TokenURL()):
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Failed audience check.")
		return
	case claims.IssuedAt == nil || claims.Expiry == nil,
		claims.Expiry.Time().Sub(claims.IssuedAt.Time()) > maxAssertionLifetime,
		claims.IssuedAt.Time().After(now.Add(5 * time.Minute)),
		!claims.Expiry.Time().After(now):
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	case !slices.Contains(s.admins, claims.Subject):
		s.oauthError(w, c, http.StatusBadRequest, "invalid_grant", "Invalid email or User ID")
		return
	}
	scopes := strings.Fields(extra.Scope)
	if len(scopes) == 0 {
		s.oauthError(w, c, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	s.mu.Lock()
	for _, sc := range scopes {
		if !slices.Contains(s.delegated, sc) {
			s.mu.Unlock()
			s.oauthError(w, c, http.StatusUnauthorized, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
			return
		}
	}
	access := "ya29.c." + vendortest.RandHex(40)
	s.tokens[access] = token{scopes: scopes, expires: now.Add(s.lifetime)}
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"expires_in":   int(s.lifetime / time.Second),
		"token_type":   "Bearer",
	})
}

func (s *Server) oauthError(w http.ResponseWriter, c *vendortest.Call, status int, code, desc string) {
	c.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

type apiHandler func(http.ResponseWriter, *http.Request, *vendortest.Call, token)

// authed wraps a Directory API handler doing kind with failure injection
// and the access token check. The call is routed first, so failed
// attempts are logged with what they were for.
func (s *Server) authed(kind string, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := vendortest.CallFrom(r)
		target := r.PathValue("userKey")
		s.mu.Lock()
		if u := s.lookup(target); u != nil {
			target = u.ID
		}
		s.mu.Unlock()
		c.Route(kind, target)
		if f, ok := c.Injected(vendortest.ScopeAPI); ok {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
			}
			switch {
			case f.Status == http.StatusTooManyRequests:
				s.googleError(w, c, f.Status, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.", "rateLimitExceeded", "", "RESOURCE_EXHAUSTED")
			case f.Status == http.StatusServiceUnavailable:
				s.googleError(w, c, f.Status, "The service is currently unavailable.", "backendError", "", "UNAVAILABLE")
			case f.Status >= 500:
				s.googleError(w, c, f.Status, "Internal error encountered.", "backendError", "", "INTERNAL")
			case f.Status == http.StatusUnauthorized:
				s.googleError(w, c, f.Status, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "authError", "Authorization", "UNAUTHENTICATED")
			default:
				s.googleError(w, c, f.Status, "Bad Request", "badRequest", "", "INVALID_ARGUMENT")
			}
			return
		}
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if cred == "" || !strings.EqualFold(scheme, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
			s.googleError(w, c, http.StatusUnauthorized, "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "required", "Authorization", "UNAUTHENTICATED")
			return
		}
		s.mu.Lock()
		tok, ok := s.tokens[cred]
		s.mu.Unlock()
		if !ok || !s.now().Before(tok.expires) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
			s.googleError(w, c, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "authError", "Authorization", "UNAUTHENTICATED")
			return
		}
		h(w, r, c, tok)
	}
}

// googleError writes the error object of Google's JSON APIs.
func (s *Server) googleError(w http.ResponseWriter, c *vendortest.Call, status int, msg, reason, location, code string) {
	e := map[string]string{"message": msg, "domain": "global", "reason": reason}
	if location != "" {
		e["location"], e["locationType"] = location, "header"
	}
	if reason == "required" {
		e["message"] = "Login Required."
	}
	if reason == "authError" {
		e["message"] = "Invalid Credentials"
	}
	body := map[string]any{"code": status, "message": msg, "errors": []map[string]string{e}}
	if code != "" {
		body["status"] = code
	}
	c.WriteJSON(w, status, map[string]any{"error": body})
}

func (s *Server) user(w http.ResponseWriter, r *http.Request, c *vendortest.Call, kind string, tok token, scopes ...string) *User {
	key := r.PathValue("userKey")
	s.mu.Lock()
	u := s.lookup(key)
	s.mu.Unlock()
	if u == nil {
		c.Route(kind, key)
		s.googleError(w, c, http.StatusNotFound, "Resource Not Found: userKey", "notFound", "", "")
		return nil
	}
	c.Route(kind, u.ID)
	if !slices.ContainsFunc(tok.scopes, func(sc string) bool { return slices.Contains(scopes, sc) }) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`)
		s.googleError(w, c, http.StatusForbidden, "Request had insufficient authentication scopes.", "insufficientPermissions", "", "PERMISSION_DENIED")
		return nil
	}
	return u
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, c *vendortest.Call, tok token) {
	u := s.user(w, r, c, vendortest.KindSignOut, tok, ScopeUserSecurity, ScopeUser)
	if u == nil {
		return
	}
	s.mu.Lock()
	u.SignOuts++
	s.mu.Unlock()
	c.Write(w, http.StatusNoContent, "", nil)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, c *vendortest.Call, tok token) {
	u := s.user(w, r, c, vendortest.KindRead, tok, ScopeUser, "https://www.googleapis.com/auth/admin.directory.user.readonly")
	if u == nil {
		return
	}
	s.mu.Lock()
	cp := *u
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{
		"kind":         "admin#directory#user",
		"id":           cp.ID,
		"primaryEmail": cp.PrimaryEmail,
		"aliases":      cp.Aliases,
	})
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
