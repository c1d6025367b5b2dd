// Package graphlog is a contract-faithful fake of the Microsoft Graph
// audit log APIs pollers read (GET /v1.0/auditLogs/signIns and
// /v1.0/auditLogs/directoryAudits, and the same under /beta) and of the
// Microsoft identity platform's token endpoint for the client credentials
// grant (POST /{tenant}/oauth2/v2.0/token), on one server.
//
// The token endpoint checks the tenant, client id, client secret, grant
// type and scope and answers with the identity platform's error objects
// (AADSTS codes); tokens expire after their lifetime, or at once with
// ExpireTokens. The log endpoints check the bearer token, serve records
// newest first (directoryAudits oldest first with $orderby=activityDateTime
// asc; signIns, as documented, supports no $orderby), filter on the time
// field ($filter with ge, gt, le, lt and eq joined by and), page with $top
// and @odata.nextLink ($skiptoken is a keyset, so records added during
// paging land in later sweeps, never shift a page), and answer Graph's
// error objects. Graph publishes records late: Add a record with a time
// in the past to model it.
//
// Failures are injected through the embedded vendortest.Recorder:
// FailNext(n, 429, d) answers the next log calls with 429 and Retry-After,
// FailTokenNext the token endpoint's, SetDelay slows every answer.
//
//	srv := graphlog.New(t)
//	srv.Add(graphlog.SignIns, graphlog.SignIn("id1", t0, "ada@example.com"))
//	... authority and Graph URL srv.URL(), tenant DefaultTenant,
//	    client DefaultClientID / DefaultClientSecret ...
//
// NewInMemory serves without a listener through Client(), for tests in a
// testing/synctest bubble.
package graphlog

import (
	"encoding/base64"
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

// Credentials a server accepts unless WithClient says otherwise.
const (
	DefaultTenant       = "3f6d2a8e-5b1c-4c7e-9a0f-2d4b6e8c1a35"
	DefaultClientID     = "5e1b9a3c-7d2f-4e8a-b6c0-1f3d5a7e9b21"
	DefaultClientSecret = "vigil~test~graph~client~secret"
	// Scope is the only scope the token endpoint grants.
	Scope = "https://graph.microsoft.com/.default"
)

// DefaultTokenLifetime is how long tokens last unless WithTokenLifetime
// says otherwise (the identity platform's usual 3599 s).
const DefaultTokenLifetime = 3599 * time.Second

// InMemoryURL is the base URL of a server made by NewInMemory.
const InMemoryURL = "https://graph.vigil-test.invalid"

// Log names a log the server holds.
type Log string

// The logs.
const (
	SignIns         Log = "signIns"
	DirectoryAudits Log = "directoryAudits"
)

func (l Log) timeField() string {
	if l == DirectoryAudits {
		return "activityDateTime"
	}
	return "createdDateTime"
}

// Option configures a Server.
type Option func(*Server)

// WithClient sets the tenant and the one app registration the token
// endpoint knows.
func WithClient(tenant, clientID, secret string) Option {
	return func(s *Server) { s.tenant, s.clientID, s.secret = tenant, clientID, secret }
}

// WithTokenLifetime sets how long issued tokens last.
func WithTokenLifetime(d time.Duration) Option {
	return func(s *Server) { s.lifetime = d }
}

// WithClock sets the fake's clock.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// Server is a fake Microsoft Graph and token endpoint.
type Server struct {
	*vendortest.Recorder
	now func() time.Time
	vendortest.Endpoint

	tenant, clientID, secret string
	lifetime                 time.Duration

	mu     sync.Mutex
	logs   map[Log][]record
	tokens map[string]time.Time // access token → expiry
}

type record struct {
	t   time.Time
	id  string
	raw []byte
}

func newServer(opts []Option) *Server {
	s := &Server{
		now:      time.Now,
		tenant:   DefaultTenant,
		clientID: DefaultClientID,
		secret:   DefaultClientSecret,
		lifetime: DefaultTokenLifetime,
		logs:     map[Log][]record{},
		tokens:   map[string]time.Time{},
	}
	for _, o := range opts {
		o(s)
	}
	s.Recorder = vendortest.NewRecorder(s.now)
	return s
}

// New starts a fake on a loopback address. cleanup (a testing.TB, or nil)
// closes it when the test ends; Close does too.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := newServer(opts)
	s.Endpoint = vendortest.Listen(cleanup, s, s.Recorder)
	return s
}

// NewInMemory returns a fake without a listener: Client() calls it
// directly, and URL() is InMemoryURL. For tests under testing/synctest.
func NewInMemory(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := newServer(opts)
	s.Endpoint = vendortest.InMemoryAt(cleanup, s, s.Recorder, InMemoryURL)
	return s
}

// Add appends records to a log: JSON objects with an id and the log's time
// field (createdDateTime, activityDateTime). Any time is fine: a record in
// the past models Graph's late publication.
func (s *Server) Add(log Log, recs ...json.RawMessage) error {
	if log != SignIns && log != DirectoryAudits {
		return fmt.Errorf("graphlog: unknown log %q", log)
	}
	add := make([]record, 0, len(recs))
	for i, raw := range recs {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("graphlog: record %d: %w", i, err)
		}
		var id, ts string
		if err := json.Unmarshal(m["id"], &id); err != nil || id == "" {
			return fmt.Errorf("graphlog: record %d: no id", i)
		}
		if err := json.Unmarshal(m[log.timeField()], &ts); err != nil {
			return fmt.Errorf("graphlog: record %d: no %s", i, log.timeField())
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return fmt.Errorf("graphlog: record %d: %s: %w", i, log.timeField(), err)
		}
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(json.RawMessage(raw)); err != nil {
			return fmt.Errorf("graphlog: record %d: %w", i, err)
		}
		add = append(add, record{t: t, id: id, raw: []byte(strings.TrimSpace(b.String()))})
	}
	s.mu.Lock()
	s.logs[log] = append(s.logs[log], add...)
	s.mu.Unlock()
	return nil
}

// Len returns the number of records in a log.
func (s *Server) Len(log Log) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.logs[log])
}

// ExpireTokens makes every token issued so far invalid: the next log call
// with one answers 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokensIssued counts successful token requests.
func (s *Server) TokensIssued() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Kind == vendortest.KindToken && r.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// SignIn returns a Graph signIn resource that Vigil's entra decoder reads:
// an interactive browser sign-in to the Azure portal that succeeded.
func SignIn(id string, created time.Time, upn string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"id":                               id,
		"createdDateTime":                  created.UTC().Format(time.RFC3339Nano),
		"userDisplayName":                  upn,
		"userPrincipalName":                upn,
		"userId":                           "u-" + upn,
		"appId":                            "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
		"appDisplayName":                   "Azure Portal",
		"ipAddress":                        "198.51.100.23",
		"clientAppUsed":                    "Browser",
		"correlationId":                    "corr-" + id,
		"conditionalAccessStatus":          "success",
		"isInteractive":                    true,
		"riskDetail":                       "none",
		"riskLevelAggregated":              "none",
		"riskLevelDuringSignIn":            "none",
		"riskState":                        "none",
		"riskEventTypes":                   []string{},
		"riskEventTypes_v2":                []string{},
		"resourceDisplayName":              "Windows Azure Service Management API",
		"resourceId":                       "797f4846-ba00-4fd7-ba43-dac1f8f63013",
		"status":                           map[string]any{"errorCode": 0, "failureReason": "Other.", "additionalDetails": nil},
		"deviceDetail":                     map[string]any{"deviceId": "", "displayName": "", "operatingSystem": "Windows10", "browser": "Edge 126.0.0", "isCompliant": false, "isManaged": false, "trustType": ""},
		"location":                         map[string]any{"city": "Lisbon", "state": "Lisboa", "countryOrRegion": "PT", "geoCoordinates": map[string]any{"latitude": 38.7223, "longitude": -9.1393}},
		"appliedConditionalAccessPolicies": []any{},
	})
	return b
}

// DirectoryAudit returns a Graph directoryAudit resource that Vigil's
// entra decoder reads: activity (such as "Update user") by upn on a user.
func DirectoryAudit(id string, at time.Time, activity, upn string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"id":                  id,
		"category":            "UserManagement",
		"correlationId":       "corr-" + id,
		"result":              "success",
		"resultReason":        "",
		"activityDisplayName": activity,
		"activityDateTime":    at.UTC().Format(time.RFC3339Nano),
		"loggedByService":     "Core Directory",
		"operationType":       "Update",
		"initiatedBy": map[string]any{
			"app":  nil,
			"user": map[string]any{"id": "u-" + upn, "displayName": nil, "userPrincipalName": upn, "ipAddress": "198.51.100.23"},
		},
		"targetResources": []any{map[string]any{
			"id": "u-target", "displayName": nil, "type": "User", "userPrincipalName": "target@example.com", "modifiedProperties": []any{},
		}},
		"additionalDetails": []any{},
	})
	return b
}

// ServeHTTP routes to the token endpoint and the log endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.Begin(w, r)
	if c == nil {
		return
	}
	w.Header().Set("request-id", vendortest.RandHex(16))
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" {
		s.token(w, r, c, parts[0])
		return
	}
	if len(parts) == 3 && (parts[0] == "v1.0" || parts[0] == "beta") && strings.EqualFold(parts[1], "auditLogs") {
		for _, l := range []Log{SignIns, DirectoryAudits} {
			if strings.EqualFold(parts[2], string(l)) {
				s.list(w, r, c, l, parts[0])
				return
			}
		}
	}
	c.Route(vendortest.KindRead, "")
	graphError(w, c, http.StatusNotFound, "ResourceNotFound", "Resource not found for the segment '"+parts[len(parts)-1]+"'.")
}

// token serves the client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request, c *vendortest.Call, tenant string) {
	form, _ := url.ParseQuery(string(c.Body()))
	c.Route(vendortest.KindToken, form.Get("client_id"))
	if f, ok := c.Injected(vendortest.ScopeToken); ok {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
		}
		code, desc := "temporarily_unavailable", "AADSTS50196: The server terminated an operation because it encountered a client request loop."
		switch f.Status {
		case http.StatusUnauthorized:
			code, desc = "invalid_client", "AADSTS7000215: Invalid client secret provided."
		case http.StatusBadRequest:
			code, desc = "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'."
		}
		s.aadError(w, c, f.Status, code, desc)
		return
	}
	switch {
	case r.Method != http.MethodPost:
		s.aadError(w, c, http.StatusBadRequest, "invalid_request", "AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a "+r.Method+" request.")
	case tenant != s.tenant:
		s.aadError(w, c, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
	case form.Get("grant_type") != "client_credentials":
		s.aadError(w, c, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"+form.Get("grant_type")+"'.")
	case form.Get("client_id") != s.clientID:
		s.aadError(w, c, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+form.Get("client_id")+"' was not found in the directory '"+s.tenant+"'.")
	case form.Get("client_secret") != s.secret:
		s.aadError(w, c, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+s.clientID+"'.")
	case form.Get("scope") != Scope:
		s.aadError(w, c, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope "+form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
	default:
		tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + vendortest.RandHex(24)
		s.mu.Lock()
		s.tokens[tok] = s.now().Add(s.lifetime)
		s.mu.Unlock()
		secs := int(s.lifetime / time.Second)
		c.WriteJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
		})
	}
}

func (s *Server) aadError(w http.ResponseWriter, c *vendortest.Call, status int, code, desc string) {
	now := s.now().UTC()
	trace := vendortest.RandHex(16)
	c.WriteJSON(w, status, map[string]any{
		"error":             code,
		"error_description": desc + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + vendortest.RandHex(16) + "\r\nTimestamp: " + now.Format("2006-01-02 15:04:05Z"),
		"error_codes":       []int{aadCode(desc)},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
	})
}

func aadCode(desc string) int {
	rest, ok := strings.CutPrefix(desc, "AADSTS")
	if !ok {
		return 0
	}
	num, _, _ := strings.Cut(rest, ":")
	n, _ := strconv.Atoi(num)
	return n
}

func graphError(w http.ResponseWriter, c *vendortest.Call, status int, code, msg string) {
	c.WriteJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"request-id": vendortest.RandHex(16)},
	}})
}

// list serves one page of a log.
func (s *Server) list(w http.ResponseWriter, r *http.Request, c *vendortest.Call, log Log, version string) {
	c.Route(vendortest.KindRead, string(log))
	if f, ok := c.Injected(vendortest.ScopeAPI); ok {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(vendortest.RetryAfterSeconds(f.RetryAfter)))
		}
		switch {
		case f.Status == http.StatusTooManyRequests:
			graphError(w, c, f.Status, "TooManyRequests", "Too many requests.")
		case f.Status == http.StatusUnauthorized:
			graphError(w, c, f.Status, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
		case f.Status == http.StatusForbidden:
			graphError(w, c, f.Status, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		case f.Status == http.StatusServiceUnavailable:
			graphError(w, c, f.Status, "ServiceUnavailable", "The service is temporarily unavailable.")
		default:
			graphError(w, c, f.Status, "UnknownError", "")
		}
		return
	}
	if r.Method != http.MethodGet {
		graphError(w, c, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
		return
	}
	if msg := s.authorize(r); msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		graphError(w, c, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return
	}
	q, err := parseQuery(r.URL.Query(), log)
	if err != nil {
		graphError(w, c, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}

	s.mu.Lock()
	var match []record
	for _, rec := range s.logs[log] {
		if q.keep(rec.t) {
			match = append(match, rec)
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(match, q.compare)
	if q.after != nil {
		i := 0
		for i < len(match) && q.compare(match[i], *q.after) <= 0 {
			i++
		}
		match = match[i:]
	}
	page := match[:min(len(match), q.top)]

	base := s.URL() + "/" + version + "/auditLogs/" + string(log)
	resp := struct {
		Context  string            `json:"@odata.context"`
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink,omitempty"`
	}{Context: s.URL() + "/" + version + "/$metadata#auditLogs/" + string(log), Value: make([]json.RawMessage, 0, len(page))}
	for _, rec := range page {
		resp.Value = append(resp.Value, rec.raw)
	}
	if len(match) > len(page) {
		last := page[len(page)-1]
		nq := r.URL.Query()
		nq.Del("$skiptoken")
		var b strings.Builder
		for _, k := range []string{"$filter", "$top", "$orderby"} {
			if v := nq.Get(k); v != "" {
				b.WriteString(k + "=" + strings.ReplaceAll(url.QueryEscape(v), "+", "%20") + "&")
			}
		}
		b.WriteString("$skiptoken=" + skipToken(last))
		resp.NextLink = base + "?" + b.String()
	}
	// Encoded without HTML escaping, as Graph sends records: json.Marshal
	// would rewrite <, > and & inside them.
	var body strings.Builder
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		graphError(w, c, http.StatusInternalServerError, "UnknownError", err.Error())
		return
	}
	c.Write(w, http.StatusOK, "application/json; odata.metadata=minimal", []byte(body.String()))
}

// authorize returns "" for a valid bearer token, else Graph's message.
func (s *Server) authorize(r *http.Request) string {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "Access token is empty."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	switch {
	case !ok && strings.HasPrefix(tok, "eyJ"):
		return "Access token has expired or is not yet valid."
	case !ok:
		return "IDX14100: JWT is not well formed, there are no dots (.)."
	case !s.now().Before(exp):
		return "Access token has expired or is not yet valid."
	}
	return ""
}

// query is a parsed list request.
type query struct {
	preds []pred
	top   int
	asc   bool
	after *record // keyset of $skiptoken
}

type pred struct {
	op string
	t  time.Time
}

func (q *query) keep(t time.Time) bool {
	for _, p := range q.preds {
		c := t.Compare(p.t)
		ok := map[string]bool{"ge": c >= 0, "gt": c > 0, "le": c <= 0, "lt": c < 0, "eq": c == 0}[p.op]
		if !ok {
			return false
		}
	}
	return true
}

// compare orders records as served: newest first, or oldest first when
// asc; ties by id.
func (q *query) compare(a, b record) int {
	c := a.t.Compare(b.t)
	if c == 0 {
		c = strings.Compare(a.id, b.id)
	}
	if !q.asc {
		c = -c
	}
	return c
}

// badRequest is Graph's message for a query it refuses.
type badRequest string

func (b badRequest) Error() string { return string(b) }

func parseQuery(v url.Values, log Log) (*query, error) {
	q := &query{top: 1000}
	if log == DirectoryAudits {
		q.top = 100
	}
	for k := range v {
		switch k {
		case "$filter", "$top", "$orderby", "$skiptoken":
		default:
			if strings.HasPrefix(k, "$") {
				return nil, badRequest("Query option '" + k + "' is not supported.")
			}
		}
	}
	if f := v.Get("$filter"); f != "" {
		preds, err := parseFilter(f, log.timeField())
		if err != nil {
			return nil, err
		}
		q.preds = preds
	}
	if t := v.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 1000 {
			return nil, badRequest("Invalid page size specified: '" + t + "'. Must be between 1 and 1000 inclusive.")
		}
		q.top = n
	}
	if o := v.Get("$orderby"); o != "" {
		if log == SignIns {
			return nil, badRequest("Sorting is not supported for signIns.")
		}
		f := strings.Fields(o)
		if len(f) == 0 || len(f) > 2 || !strings.EqualFold(f[0], log.timeField()) ||
			(len(f) == 2 && !strings.EqualFold(f[1], "asc") && !strings.EqualFold(f[1], "desc")) {
			return nil, badRequest("Invalid $orderby '" + o + "'.")
		}
		q.asc = len(f) == 1 || strings.EqualFold(f[1], "asc")
	}
	if st := v.Get("$skiptoken"); st != "" {
		rec, ok := parseSkipToken(st)
		if !ok {
			return nil, badRequest("Invalid skip token.")
		}
		q.after = &rec
	}
	return q, nil
}

// parseFilter reads the subset of OData the fake implements: comparisons
// of the time field with ge, gt, le, lt or eq and a DateTimeOffset (or a
// date), joined by and, optionally in parentheses.
func parseFilter(f, field string) ([]pred, error) {
	bad := badRequest("Invalid filter clause: " + f + " (the fake filters on " + field + " only)")
	var preds []pred
	for _, clause := range splitAnd(f) {
		clause = strings.TrimSpace(strings.Trim(strings.TrimSpace(clause), "()"))
		w := strings.Fields(clause)
		if len(w) != 3 || !strings.EqualFold(w[0], field) {
			return nil, bad
		}
		op := strings.ToLower(w[1])
		switch op {
		case "ge", "gt", "le", "lt", "eq":
		default:
			return nil, bad
		}
		t, err := time.Parse(time.RFC3339Nano, w[2])
		if err != nil {
			if t, err = time.Parse("2006-01-02", w[2]); err != nil {
				return nil, bad
			}
		}
		preds = append(preds, pred{op, t})
	}
	if len(preds) == 0 {
		return nil, bad
	}
	return preds, nil
}

func splitAnd(f string) []string {
	var out []string
	w := strings.Fields(f)
	start := 0
	for i, x := range w {
		if strings.EqualFold(x, "and") {
			out = append(out, strings.Join(w[start:i], " "))
			start = i + 1
		}
	}
	return append(out, strings.Join(w[start:], " "))
}

func skipToken(r record) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(r.t.UnixNano(), 10) + "|" + r.id))
}

func parseSkipToken(s string) (record, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return record{}, false
	}
	ns, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return record{}, false
	}
	return record{t: time.Unix(0, n), id: id}, true
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
