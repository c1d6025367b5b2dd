// Package oktaadmin is a contract-faithful fake of the Okta management API
// endpoints Vigil acts through: clear a user's sessions (and OAuth
// tokens), suspend a user, reset factors, and read a user. It checks the
// Authorization header (SSWS API tokens and OAuth 2.0 bearer tokens),
// answers with Okta's error objects and rate-limit headers, records every
// request and counts effective deliveries by Idempotency-Key.
//
//	srv := oktaadmin.New(t)
//	srv.AddUser(oktaadmin.User{ID: "00u1", Login: "ada@example.com"})
//	srv.FailNext(2, 429, 3*time.Second)
//	... point the connector at srv.URL() with oktaadmin.DefaultAPIToken ...
//	srv.Deliveries(vendortest.KindClearSessions, "00u1")
package oktaadmin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
)

// DefaultAPIToken is the SSWS token a server accepts unless options say
// otherwise.
const DefaultAPIToken = "00vigil-test-okta-api-token"

// User is an Okta user as the fake keeps it.
type User struct {
	ID     string
	Login  string
	Status string // ACTIVE (default), SUSPENDED, DEPROVISIONED, ...
	// Sessions and OAuthTokens count what the user holds; clearing
	// sessions zeroes them. Factors counts enrolled factors.
	Sessions    int
	OAuthTokens int
	Factors     int
}

// Option configures a Server.
type Option func(*Server)

// WithAPIToken makes the server accept tok as an SSWS API token instead of
// DefaultAPIToken (call it more than once to accept several).
func WithAPIToken(tok string) Option {
	return func(s *Server) {
		if !s.customTokens {
			s.apiTokens = map[string]bool{}
			s.customTokens = true
		}
		s.apiTokens[tok] = true
	}
}

// WithBearerToken makes the server accept tok as an OAuth 2.0 access token
// granted scopes (okta.users.manage covers everything the fake serves).
func WithBearerToken(tok string, scopes ...string) Option {
	return func(s *Server) { s.bearer[tok] = scopes }
}

// WithClock sets the fake's clock (rate-limit resets, request times).
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// Server is a running fake Okta org.
type Server struct {
	*vendortest.Recorder
	vendortest.Endpoint
	mux *http.ServeMux
	now func() time.Time

	mu           sync.Mutex
	users        map[string]*User // by id
	apiTokens    map[string]bool
	customTokens bool
	bearer       map[string][]string
}

// New starts a fake Okta org on a loopback address. cleanup (a
// testing.TB, or nil) closes it when the test ends; Close does too.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := &Server{
		mux:       http.NewServeMux(),
		now:       time.Now,
		users:     map[string]*User{},
		apiTokens: map[string]bool{DefaultAPIToken: true},
		bearer:    map[string][]string{},
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
	s.mux.HandleFunc("DELETE /api/v1/users/{id}/sessions", s.clearSessions)
	s.mux.HandleFunc("POST /api/v1/users/{id}/lifecycle/suspend", s.suspend)
	s.mux.HandleFunc("POST /api/v1/users/{id}/lifecycle/reset_factors", s.resetFactors)
	s.mux.HandleFunc("GET /api/v1/users/{id}", s.getUser)
	s.Endpoint = vendortest.Listen(cleanup, http.HandlerFunc(s.serve), s.Recorder)
	return s
}

// Handle mounts h at pattern behind the same authentication, failure
// injection and request log, for endpoints other tests need (the System
// Log, say). h should call nothing on the Recorder; its status is logged.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, vendortest.Mount(h))
}

// AddUser seeds a user; an empty ID gets a generated one, an empty Status
// is ACTIVE. It returns the user as stored.
func (s *Server) AddUser(u User) User {
	if u.ID == "" {
		u.ID = "00u" + vendortest.RandHex(8)
	}
	if u.Status == "" {
		u.Status = "ACTIVE"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := u
	s.users[u.ID] = &cp
	return u
}

// User returns the user with that id or login.
func (s *Server) User(idOrLogin string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.lookup(idOrLogin); u != nil {
		return *u, true
	}
	return User{}, false
}

// lookup finds a user by id, login or login shortname (the part before
// "@", when unambiguous), as Okta's path parameter accepts.
func (s *Server) lookup(key string) *User {
	if u, ok := s.users[key]; ok {
		return u
	}
	var short *User
	n := 0
	for _, u := range s.users {
		if strings.EqualFold(u.Login, key) {
			return u
		}
		if name, _, ok := strings.Cut(u.Login, "@"); ok && strings.EqualFold(name, key) {
			short = u
			n++
		}
	}
	if n == 1 {
		return short
	}
	return nil
}

// serve runs what every endpoint shares: record, delay, injected
// failures, authentication; then routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	c := s.Begin(w, r)
	if c == nil {
		return
	}
	w.Header().Set("X-Okta-Request-Id", vendortest.RandHex(10))
	s.rateHeaders(w, 600, 599, s.now().Add(time.Minute))
	// Route first, so failed attempts are logged with what they were for.
	_, pattern := s.mux.Handler(r)
	kind, ok := patternKinds[pattern]
	if !ok && pattern != "" {
		kind = vendortest.KindRead // mounted with Handle
	}
	c.Route(kind, s.userID(r.URL))
	if f, ok := c.Injected(vendortest.ScopeAPI); ok {
		s.injected(w, c, f)
		return
	}
	if !s.authorized(w, r, c) {
		return
	}
	if pattern == "" {
		s.oktaError(w, c, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path)
		return
	}
	s.mux.ServeHTTP(w, vendortest.WithCall(r, c))
}

var patternKinds = map[string]string{
	"DELETE /api/v1/users/{id}/sessions":              vendortest.KindClearSessions,
	"POST /api/v1/users/{id}/lifecycle/suspend":       vendortest.KindSuspendUser,
	"POST /api/v1/users/{id}/lifecycle/reset_factors": vendortest.KindResetFactors,
	"GET /api/v1/users/{id}":                          vendortest.KindRead,
}

// userID is the id of the user a /api/v1/users/{id}/... path names (the
// path's key when no user matches), "" for other paths.
func (s *Server) userID(u *url.URL) string {
	rest, ok := strings.CutPrefix(u.EscapedPath(), "/api/v1/users/")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "/")
	if k, err := url.PathUnescape(key); err == nil {
		key = k
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if usr := s.lookup(key); usr != nil {
		return usr.ID
	}
	return key
}

func (s *Server) rateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

func (s *Server) injected(w http.ResponseWriter, c *vendortest.Call, f vendortest.Failure) {
	now := s.now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	if f.Status == http.StatusTooManyRequests {
		secs := vendortest.RetryAfterSeconds(f.RetryAfter)
		// Okta announces the wait only as the window's reset time.
		s.rateHeaders(w, 600, 0, now.Truncate(time.Second).Add(time.Duration(secs)*time.Second))
		s.oktaError(w, c, f.Status, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
	}
	switch {
	case f.Status >= 500:
		s.oktaError(w, c, f.Status, "E0000009", "Internal Server Error")
	default:
		s.oktaError(w, c, f.Status, "E0000001", "Api validation failed")
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request, c *vendortest.Call) bool {
	auth := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(auth, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.EqualFold(scheme, "SSWS") && s.apiTokens[cred]:
		return true
	case strings.EqualFold(scheme, "Bearer"):
		scopes, ok := s.bearer[cred]
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+s.URL()+`/oauth2/v1/authorize", realm="`+s.URL()+`", scope="okta.users.manage", error="invalid_token", error_description="The token is not valid.", resource="`+r.URL.Path+`"`)
			s.oktaError(w, c, http.StatusUnauthorized, "E0000011", "Invalid token provided")
			return false
		}
		need := "okta.users.manage"
		if r.Method == http.MethodGet {
			need = "okta.users.read"
		}
		for _, sc := range scopes {
			if sc == need || sc == "okta.users.manage" {
				return true
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+s.URL()+`/oauth2/v1/authorize", realm="`+s.URL()+`", scope="`+need+`", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="`+r.URL.Path+`"`)
		s.oktaError(w, c, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
		return false
	}
	s.oktaError(w, c, http.StatusUnauthorized, "E0000011", "Invalid token provided")
	return false
}

// oktaError writes Okta's error object.
func (s *Server) oktaError(w http.ResponseWriter, c *vendortest.Call, status int, code, summary string, causes ...string) {
	id := "oae" + vendortest.RandHex(11)
	body := map[string]any{
		"errorCode":    code,
		"errorSummary": summary,
		"errorLink":    code,
		"errorId":      id,
		"errorCauses":  []map[string]string{},
	}
	if len(causes) > 0 {
		cs := make([]map[string]string, len(causes))
		for i, cause := range causes {
			cs[i] = map[string]string{"errorSummary": cause}
		}
		body["errorCauses"] = cs
	}
	c.WriteJSON(w, status, body)
}

// user resolves the {id} path value or answers Okta's 404.
func (s *Server) user(w http.ResponseWriter, r *http.Request, c *vendortest.Call, kind string) *User {
	key := r.PathValue("id")
	u := s.lookup(key)
	if u == nil {
		c.Route(kind, key)
		s.oktaError(w, c, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+key+" (User)")
		return nil
	}
	c.Route(kind, u.ID)
	return u
}

func (s *Server) clearSessions(w http.ResponseWriter, r *http.Request) {
	c := vendortest.CallFrom(r)
	s.mu.Lock()
	u := s.user(w, r, c, vendortest.KindClearSessions)
	if u == nil {
		s.mu.Unlock()
		return
	}
	u.Sessions = 0
	if r.URL.Query().Get("oauthTokens") == "true" {
		u.OAuthTokens = 0
	}
	s.mu.Unlock()
	c.Write(w, http.StatusNoContent, "", nil)
}

func (s *Server) suspend(w http.ResponseWriter, r *http.Request) {
	c := vendortest.CallFrom(r)
	s.mu.Lock()
	u := s.user(w, r, c, vendortest.KindSuspendUser)
	if u == nil {
		s.mu.Unlock()
		return
	}
	if u.Status != "ACTIVE" {
		s.mu.Unlock()
		s.oktaError(w, c, http.StatusBadRequest, "E0000001", "Api validation failed: suspend", "Cannot suspend a user that is not active")
		return
	}
	u.Status = "SUSPENDED"
	u.Sessions = 0
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) resetFactors(w http.ResponseWriter, r *http.Request) {
	c := vendortest.CallFrom(r)
	s.mu.Lock()
	u := s.user(w, r, c, vendortest.KindResetFactors)
	if u == nil {
		s.mu.Unlock()
		return
	}
	u.Factors = 0
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	c := vendortest.CallFrom(r)
	s.mu.Lock()
	u := s.user(w, r, c, vendortest.KindRead)
	if u == nil {
		s.mu.Unlock()
		return
	}
	cp := *u
	s.mu.Unlock()
	c.WriteJSON(w, http.StatusOK, map[string]any{
		"id":     cp.ID,
		"status": cp.Status,
		"profile": map[string]string{
			"login": cp.Login,
			"email": cp.Login,
		},
		"_links": map[string]any{
			"self": map[string]string{"href": s.URL() + "/api/v1/users/" + cp.ID},
		},
	})
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
