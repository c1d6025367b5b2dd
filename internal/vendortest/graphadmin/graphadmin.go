// Package graphadmin is a contract-faithful fake of the Microsoft identity
// platform token endpoint (OAuth 2.0 client credentials) and the Microsoft
// Graph user endpoints Vigil acts through: revokeSignInSessions and
// disabling an account. Tokens carry the application permissions the test
// granted, Graph checks them, and errors come in Graph's and Entra's
// shapes (AADSTS codes), with Retry-After on throttling.
//
//	srv := graphadmin.New(t)
//	srv.AddUser(graphadmin.User{UserPrincipalName: "ada@contoso.com"})
//	... point the connector's authority and Graph URL at srv.URL(), with
//	    graphadmin.DefaultTenant, DefaultClientID and DefaultClientSecret ...
//	srv.Deliveries(vendortest.KindClearSessions, "ada@contoso.com")
//	srv.Count(vendortest.KindToken, "") // token requests
package graphadmin

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
)

// The tenant and application a server knows unless options say otherwise.
// The default application holds the least-privilege permissions.
const (
	DefaultTenant       = "8a3b5c1e-0f4d-4e6a-9b2c-7d1e3f5a6b7c"
	DefaultClientID     = "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	DefaultClientSecret = "vigil~test~graph~client~secret"
)

// Application permissions (app roles) the fake checks.
const (
	PermRevokeSessions = "User.RevokeSessions.All"
	PermEnableDisable  = "User.EnableDisableAccount.All"
	PermUserReadWrite  = "User.ReadWrite.All"
	PermDirectoryRW    = "Directory.ReadWrite.All"
)

// GraphScope is the only scope the fake's token endpoint grants.
const GraphScope = "https://graph.microsoft.com/.default"

// User is an Entra user as the fake keeps it.
type User struct {
	ID                string // object id; generated when empty
	UserPrincipalName string
	Disabled          bool
	// SignInSessionsValidFrom is reset to the fake's now by
	// revokeSignInSessions, as Graph's signInSessionsValidFromDateTime.
	SignInSessionsValidFrom time.Time
}

type app struct {
	tenant, secret string
	roles          []string
}

type token struct {
	clientID string
	roles    []string
	expires  time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithClient registers an application (client id and secret) in tenant
// holding roles, replacing the default application.
func WithClient(tenant, clientID, secret string, roles ...string) Option {
	return func(s *Server) {
		if !s.customApps {
			s.apps = map[string]app{}
			s.customApps = true
		}
		s.apps[clientID] = app{tenant: tenant, secret: secret, roles: roles}
	}
}

// WithTokenLifetime sets expires_in of issued tokens (default 3599s).
func WithTokenLifetime(d time.Duration) Option {
	return func(s *Server) { s.lifetime = d }
}

// WithClock sets the fake's clock (token expiry, request times).
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// Server is a running fake Entra tenant and Graph; URL is the base URL of
// both the authority and Graph.
type Server struct {
	*vendortest.Recorder
	vendortest.Endpoint
	mux *http.ServeMux
	now func() time.Time

	mu         sync.Mutex
	users      map[string]*User // by object id
	apps       map[string]app
	customApps bool
	tokens     map[string]token
	lifetime   time.Duration
}

// New starts the fake on a loopback address; cleanup (a testing.TB, or
// nil) closes it when the test ends, and so does Close. The same URL
// serves as the authority (login.microsoftonline.com) and as Graph.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := &Server{
		mux:      http.NewServeMux(),
		now:      time.Now,
		users:    map[string]*User{},
		apps:     map[string]app{DefaultClientID: {tenant: DefaultTenant, secret: DefaultClientSecret, roles: []string{PermRevokeSessions, PermEnableDisable, "User.Read.All"}}},
		tokens:   map[string]token{},
		lifetime: 3599 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	s.Recorder = vendortest.NewRecorder(s.now)
	s.Recorder.SetResolver(func(key string) string {
		if u, ok := s.User(key); ok {
			return u.ID
		}
		return key
	})
	s.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	s.mux.HandleFunc("POST /v1.0/users/{id}/revokeSignInSessions", s.authed(vendortest.KindClearSessions, s.revoke))
	s.mux.HandleFunc("PATCH /v1.0/users/{id}", s.authed(vendortest.KindSuspendUser, s.patch))
	s.mux.HandleFunc("GET /v1.0/users/{id}", s.authed(vendortest.KindRead, s.get))
	s.mux.HandleFunc("/", s.authed("", func(w http.ResponseWriter, r *http.Request, c *vendortest.Call, _ token) {
		s.graphError(w, c, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
	}))
	s.Endpoint = vendortest.Listen(cleanup, http.HandlerFunc(s.serve), s.Recorder)
	return s
}

// AddUser seeds a user and returns it as stored.
func (s *Server) AddUser(u User) User {
	if u.ID == "" {
		u.ID = uuid()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := u
	s.users[u.ID] = &cp
	return u
}

// User returns the user with that object id or user principal name.
func (s *Server) User(key string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.lookup(key); u != nil {
		return *u, true
	}
	return User{}, false
}

// RevokeTokens makes every access token issued so far invalid, as when a
// signing key rolls or the app's consent changes: the next Graph call
// with one answers 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]token{}
	s.mu.Unlock()
}

// Handle mounts h at pattern behind Graph's token check, failure injection
// and the request log (for endpoints other tests need, such as sign-in
// logs).
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.authed(vendortest.KindRead, func(w http.ResponseWriter, r *http.Request, _ *vendortest.Call, _ token) {
		vendortest.Mount(h).ServeHTTP(w, r)
	}))
}

func (s *Server) lookup(key string) *User {
	if u, ok := s.users[key]; ok {
		return u
	}
	for _, u := range s.users {
		if strings.EqualFold(u.UserPrincipalName, key) {
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
	w.Header().Set("request-id", uuid())
	s.mux.ServeHTTP(w, vendortest.WithCall(r, c))
}

// token is the client-credentials grant of the v2.0 token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	c := vendortest.CallFrom(r)
	tenant := r.PathValue("tenant")
	form, err := parseForm(c.Body())
	clientID := form.Get("client_id")
	c.Route(vendortest.KindToken, clientID)
	if f, ok := c.Injected(vendortest.ScopeToken); ok {
		s.injectedAAD(w, c, f)
		return
	}
	if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.aadError(w, c, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if form.Get("grant_type") != "client_credentials" {
		s.aadError(w, c, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+form.Get("grant_type")+"'.")
		return
	}
	secret := form.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		clientID, secret = user, pass
		c.Route(vendortest.KindToken, clientID)
	}
	s.mu.Lock()
	a, known := s.apps[clientID]
	s.mu.Unlock()
	switch {
	case !known || a.tenant != tenant:
		s.aadError(w, c, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+clientID+"' was not found in the directory '"+tenant+"'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
		return
	case secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) != 1:
		s.aadError(w, c, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
		return
	case form.Get("scope") != GraphScope:
		s.aadError(w, c, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope "+form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + vendortest.RandHex(32) + "." + vendortest.RandHex(16)
	s.mu.Lock()
	s.tokens[tok] = token{clientID: clientID, roles: a.roles, expires: s.now().Add(s.lifetime)}
	s.mu.Unlock()
	secs := int(s.lifetime / time.Second)
	c.WriteJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

func (s *Server) injectedAAD(w http.ResponseWriter, c *vendortest.Call, f vendortest.Failure) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		s.aadError(w, c, f.Status, "temporarily_unavailable", 50196, "The server terminated an operation because it encountered a client request loop.")
	case f.Status >= 500:
		s.aadError(w, c, f.Status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
	default:
		s.aadError(w, c, f.Status, "invalid_request", 90002, "Tenant not found.")
	}
}

// aadError writes the identity platform's OAuth error object.
func (s *Server) aadError(w http.ResponseWriter, c *vendortest.Call, status int, code string, aadsts int, msg string) {
	now := s.now().UTC()
	trace, corr := uuid(), uuid()
	c.WriteJSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, msg, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      s.URL() + "/error?code=" + strconv.Itoa(aadsts),
	})
}

type graphHandler func(http.ResponseWriter, *http.Request, *vendortest.Call, token)

// authed wraps a Graph handler doing kind with failure injection and the
// bearer token check. The call is routed first, so failed attempts are
// logged with what they were for.
func (s *Server) authed(kind string, h graphHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := vendortest.CallFrom(r)
		target := r.PathValue("id")
		if target != "" {
			s.mu.Lock()
			if u := s.lookup(target); u != nil {
				target = u.ID
			}
			s.mu.Unlock()
		}
		c.Route(kind, target)
		if f, ok := c.Injected(vendortest.ScopeAPI); ok {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
			}
			switch {
			case f.Status == http.StatusTooManyRequests:
				s.graphError(w, c, f.Status, "TooManyRequests", "Too many requests.")
			case f.Status == http.StatusUnauthorized:
				s.unauthorized(w, c, "Access token validation failure. Invalid audience.")
			case f.Status == http.StatusServiceUnavailable:
				s.graphError(w, c, f.Status, "serviceNotAvailable", "The service is temporarily unavailable. Try again later.")
			case f.Status >= 500:
				s.graphError(w, c, f.Status, "generalException", "An unspecified error occurred.")
			default:
				s.graphError(w, c, f.Status, "BadRequest", "Bad request.")
			}
			return
		}
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if cred == "" || !strings.EqualFold(scheme, "Bearer") {
			s.unauthorized(w, c, "Access token is empty.")
			return
		}
		s.mu.Lock()
		tok, ok := s.tokens[cred]
		s.mu.Unlock()
		switch {
		case !ok:
			s.unauthorized(w, c, "Invalid JWT token. The token is not valid.")
			return
		case !s.now().Before(tok.expires):
			s.unauthorized(w, c, "Lifetime validation failed, the token is expired.")
			return
		}
		h(w, r, c, tok)
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, c *vendortest.Call, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	s.graphError(w, c, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
}

// graphError writes Graph's error object.
func (s *Server) graphError(w http.ResponseWriter, c *vendortest.Call, status int, code, msg string) {
	c.WriteJSON(w, status, map[string]any{
		"error": map[string]any{
			"code":    code,
			"message": msg,
			"innerError": map[string]string{
				"date":              s.now().UTC().Format("2006-01-02T15:04:05"),
				"request-id":        w.Header().Get("request-id"),
				"client-request-id": w.Header().Get("request-id"),
			},
		},
	})
}

// user resolves {id} or answers Graph's 404; the caller holds s.mu.
func (s *Server) user(w http.ResponseWriter, r *http.Request, c *vendortest.Call, kind string) *User {
	key := r.PathValue("id")
	u := s.lookup(key)
	if u == nil {
		c.Route(kind, key)
		s.graphError(w, c, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.")
		return nil
	}
	c.Route(kind, u.ID)
	return u
}

func allowed(tok token, perms ...string) bool {
	for _, p := range perms {
		if slices.Contains(tok.roles, p) {
			return true
		}
	}
	return false
}

func (s *Server) denied(w http.ResponseWriter, c *vendortest.Call) {
	s.graphError(w, c, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, c *vendortest.Call, tok token) {
	s.mu.Lock()
	u := s.user(w, r, c, vendortest.KindClearSessions)
	if u == nil {
		s.mu.Unlock()
		return
	}
	if !allowed(tok, PermRevokeSessions, PermUserReadWrite, PermDirectoryRW) {
		s.mu.Unlock()
		s.denied(w, c)
		return
	}
	u.SignInSessionsValidFrom = s.now()
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean",
		"value":          true,
	})
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, c *vendortest.Call, tok token) {
	var body map[string]json.RawMessage
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(c.Body(), &body) != nil {
		c.Route(vendortest.KindSuspendUser, r.PathValue("id"))
		s.graphError(w, c, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return
	}
	raw, ok := body["accountEnabled"]
	var enabled bool
	if !ok || len(body) != 1 || json.Unmarshal(raw, &enabled) != nil {
		c.Route(vendortest.KindRead, r.PathValue("id"))
		s.graphError(w, c, http.StatusBadRequest, "Request_BadRequest", "The fake serves only updates of accountEnabled.")
		return
	}
	kind := vendortest.KindSuspendUser
	if enabled {
		kind = "enable_user"
	}
	s.mu.Lock()
	u := s.user(w, r, c, kind)
	if u == nil {
		s.mu.Unlock()
		return
	}
	if !allowed(tok, PermEnableDisable, PermUserReadWrite, PermDirectoryRW) {
		s.mu.Unlock()
		s.denied(w, c)
		return
	}
	u.Disabled = !enabled
	s.mu.Unlock()
	c.Write(w, http.StatusNoContent, "", nil)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, c *vendortest.Call, _ token) {
	s.mu.Lock()
	u := s.user(w, r, c, vendortest.KindRead)
	if u == nil {
		s.mu.Unlock()
		return
	}
	cp := *u
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{
		"@odata.context":    "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
		"id":                cp.ID,
		"userPrincipalName": cp.UserPrincipalName,
		"accountEnabled":    !cp.Disabled,
	})
}

func parseForm(b []byte) (url.Values, error) { return url.ParseQuery(string(b)) }

func lastSegment(p string) string {
	p = strings.TrimSuffix(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

func uuid() string {
	h := vendortest.RandHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
