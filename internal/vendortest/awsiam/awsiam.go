// Package awsiam is a contract-faithful fake of the AWS IAM Query API
// actions Vigil acts through: UpdateAccessKey and PutRolePolicy. It
// verifies each request's Signature Version 4 with its own implementation
// (independent of the connector's signer), checks the caller may perform
// the action, and answers in IAM's XML, errors included (ErrorResponse
// with Type, Code, Message and RequestId). Throttling is answered as IAM
// does: HTTP 400 with code Throttling.
//
//	srv := awsiam.New(t)
//	srv.AddAccessKey("bob", "AKIABOBKEY0000000001")
//	srv.AddRole("deploy")
//	... connector with srv.URL() and awsiam.DefaultAccessKeyID/DefaultSecretAccessKey ...
//	srv.Deliveries(vendortest.KindDeactivateKey, "AKIABOBKEY0000000001")
package awsiam

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
)

// The credentials a server accepts unless options say otherwise, and the
// account it pretends to be.
const (
	DefaultAccessKeyID     = "AKIAVIGILTESTCALLER1"
	DefaultSecretAccessKey = "vigil/Test+Secret/Access/Key/EXAMPLEKEY0"
	AccountID              = "123456789012"
	xmlns                  = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// AccessKey is an IAM user's access key.
type AccessKey struct {
	ID     string
	User   string
	Status string // Active or Inactive
}

type caller struct {
	secret, sessionToken string
}

// Option configures a Server.
type Option func(*Server)

// WithCredentials replaces the accepted caller credentials; sessionToken
// is required on requests when not empty (temporary credentials).
func WithCredentials(accessKeyID, secret, sessionToken string) Option {
	return func(s *Server) {
		s.callers = map[string]caller{accessKeyID: {secret: secret, sessionToken: sessionToken}}
	}
}

// WithAllowedActions replaces what the caller may do (default
// iam:UpdateAccessKey and iam:PutRolePolicy).
func WithAllowedActions(actions ...string) Option {
	return func(s *Server) { s.allowed = actions }
}

// WithClock sets the fake's clock (signature expiry, request times).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a running fake IAM.
type Server struct {
	*vendortest.Recorder
	vendortest.Endpoint
	now func() time.Time

	mu      sync.Mutex
	callers map[string]caller
	allowed []string
	users   map[string]bool
	keys    map[string]*AccessKey
	roles   map[string]map[string]string // role → policy name → document
}

// New starts the fake on a loopback address; cleanup (a testing.TB, or
// nil) closes it when the test ends, and so does Close.
func New(cleanup vendortest.Cleanup, opts ...Option) *Server {
	s := &Server{
		now:     time.Now,
		callers: map[string]caller{DefaultAccessKeyID: {secret: DefaultSecretAccessKey}},
		allowed: []string{"iam:UpdateAccessKey", "iam:PutRolePolicy"},
		users:   map[string]bool{},
		keys:    map[string]*AccessKey{},
		roles:   map[string]map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	s.Recorder = vendortest.NewRecorder(s.now)
	s.Endpoint = vendortest.Listen(cleanup, http.HandlerFunc(s.serve), s.Recorder)
	return s
}

// AddUser seeds an IAM user.
func (s *Server) AddUser(name string) {
	s.mu.Lock()
	s.users[name] = true
	s.mu.Unlock()
}

// AddAccessKey seeds an active access key of user (creating the user).
func (s *Server) AddAccessKey(user, keyID string) {
	s.mu.Lock()
	s.users[user] = true
	s.keys[keyID] = &AccessKey{ID: keyID, User: user, Status: "Active"}
	s.mu.Unlock()
}

// AddRole seeds a role.
func (s *Server) AddRole(name string) {
	s.mu.Lock()
	if s.roles[name] == nil {
		s.roles[name] = map[string]string{}
	}
	s.mu.Unlock()
}

// AccessKey returns the key with that id.
func (s *Server) AccessKey(id string) (AccessKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[id]; ok {
		return *k, true
	}
	return AccessKey{}, false
}

// RolePolicy returns the inline policy document name of role holds.
func (s *Server) RolePolicy(role, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.roles[role][name]
	return doc, ok
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	c := s.Begin(w, r)
	if c == nil {
		return
	}
	w.Header().Set("x-amzn-RequestId", requestID())
	if r.URL.Path != "/" {
		s.iamError(w, c, http.StatusNotFound, "Sender", "InvalidAction", "Could not find operation for path "+r.URL.Path)
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			s.iamError(w, c, http.StatusBadRequest, "Sender", "InvalidParameterValue", "Content-Type must be application/x-www-form-urlencoded")
			return
		}
		form, err := url.ParseQuery(string(c.Body()))
		if err != nil {
			s.iamError(w, c, http.StatusBadRequest, "Sender", "MalformedQueryString", "Malformed request body")
			return
		}
		for k, v := range form {
			params[k] = v
		}
	}
	// Route first, so failed attempts are logged with what they were for.
	switch params.Get("Action") {
	case "UpdateAccessKey":
		c.Route(vendortest.KindDeactivateKey, params.Get("AccessKeyId"))
	case "PutRolePolicy":
		c.Route(vendortest.KindRevokeRoleTokens, params.Get("RoleName"))
	}
	if f, ok := c.Injected(vendortest.ScopeAPI); ok {
		switch {
		case f.Status == http.StatusTooManyRequests || f.Status == http.StatusBadRequest:
			s.iamError(w, c, http.StatusBadRequest, "Sender", "Throttling", "Rate exceeded")
		case f.Status == http.StatusServiceUnavailable:
			s.iamError(w, c, f.Status, "Receiver", "ServiceUnavailable", "Service is unable to handle request.")
		default:
			s.iamError(w, c, f.Status, "Receiver", "ServiceFailure", "Request processing has failed due to some unknown error, exception or failure.")
		}
		return
	}
	if code, msg := s.verify(r, c.Body()); code != "" {
		s.iamError(w, c, http.StatusForbidden, "Sender", code, msg)
		return
	}
	action := params.Get("Action")
	if params.Get("Version") != "2010-05-08" || (action != "UpdateAccessKey" && action != "PutRolePolicy") {
		s.iamError(w, c, http.StatusBadRequest, "Sender", "InvalidAction", "Could not find operation "+action+" for version "+params.Get("Version"))
		return
	}
	s.mu.Lock()
	allowed := slices.Contains(s.allowed, "iam:"+action)
	s.mu.Unlock()
	switch action {
	case "UpdateAccessKey":
		s.updateAccessKey(w, c, params, allowed)
	case "PutRolePolicy":
		s.putRolePolicy(w, c, params, allowed)
	}
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*SignedHeaders=([a-z0-9;\-]+),\s*Signature=([0-9a-f]{64})$`)

// verify checks the request's Signature Version 4 and returns an IAM
// error code and message when it fails.
func (s *Server) verify(r *http.Request, body []byte) (string, string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	m := authRE.FindStringSubmatch(auth)
	if m == nil {
		return "IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."
	}
	akid, date, region, service, signed, sig := m[1], m[2], m[3], m[4], m[5], m[6]
	s.mu.Lock()
	cr, ok := s.callers[akid]
	s.mu.Unlock()
	if !ok {
		return "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	if cr.sessionToken != "" && r.Header.Get("X-Amz-Security-Token") != cr.sessionToken {
		return "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	if service != "iam" {
		return "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'iam'."
	}
	if region != "us-east-1" {
		return "SignatureDoesNotMatch", "Credential should be scoped to a valid region."
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || amzDate[:8] != date {
		return "IncompleteSignature", "Date must be in ISO-8601 'basic format'."
	}
	if d := s.now().Sub(t); d > 15*time.Minute || d < -15*time.Minute {
		return "SignatureDoesNotMatch", "Signature expired: " + amzDate + " is now earlier than " + s.now().UTC().Add(-15*time.Minute).Format("20060102T150405Z") + "."
	}
	names := strings.Split(signed, ";")
	if !slices.Contains(names, "host") || !sort.StringsAreSorted(names) {
		return "SignatureDoesNotMatch", "'Host' must be a signed header."
	}
	var ch strings.Builder
	for _, n := range names {
		var v string
		switch n {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			var vals []string
			for _, x := range r.Header.Values(n) {
				vals = append(vals, strings.Join(strings.Fields(x), " "))
			}
			v = strings.Join(vals, ",")
		}
		ch.WriteString(n + ":" + v + "\n")
	}
	sum := sha256.Sum256(body)
	canonical := r.Method + "\n" + doubleEncodedPath(r.URL) + "\n" + sortedQuery(r.URL.Query()) + "\n" +
		ch.String() + "\n" + signed + "\n" + hex.EncodeToString(sum[:])
	creqSum := sha256.Sum256([]byte(canonical))
	scope := date + "/" + region + "/" + service + "/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(creqSum[:])
	key := mac([]byte("AWS4"+cr.secret), date)
	for _, p := range []string{region, service, "aws4_request"} {
		key = mac(key, p)
	}
	want := hex.EncodeToString(mac(key, sts))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	}
	return "", ""
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

func doubleEncodedPath(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		segs[i] = awsEscape(awsEscape(s))
	}
	if p := strings.Join(segs, "/"); p != "" {
		return p
	}
	return "/"
}

func sortedQuery(q url.Values) string {
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{awsEscape(k), awsEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p[0] + "=" + p[1]
	}
	return strings.Join(parts, "&")
}

// awsEscape is RFC 3986 percent-encoding: url.QueryEscape with spaces as
// %20 and "~" left alone.
func awsEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"), "%7E", "~")
}

func (s *Server) updateAccessKey(w http.ResponseWriter, c *vendortest.Call, p url.Values, allowed bool) {
	user, keyID, status := p.Get("UserName"), p.Get("AccessKeyId"), p.Get("Status")
	c.Route(vendortest.KindDeactivateKey, keyID)
	if status == "Active" {
		c.Route("activate_key", keyID)
	}
	if !allowed {
		s.iamError(w, c, http.StatusForbidden, "Sender", "AccessDenied", "User: arn:aws:iam::"+AccountID+":user/vigil-responder is not authorized to perform: iam:UpdateAccessKey on resource: user "+user+" because no identity-based policy allows the iam:UpdateAccessKey action")
		return
	}
	if status != "Active" && status != "Inactive" {
		s.iamError(w, c, http.StatusBadRequest, "Sender", "ValidationError", "1 validation error detected: Value '"+status+"' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]")
		return
	}
	s.mu.Lock()
	if user == "" {
		s.mu.Unlock()
		// IAM would act on the caller's own key; the fake's caller has
		// none to act on.
		s.iamError(w, c, http.StatusNotFound, "Sender", "NoSuchEntity", "The Access Key with id "+keyID+" cannot be found.")
		return
	}
	if !s.users[user] {
		s.mu.Unlock()
		s.iamError(w, c, http.StatusNotFound, "Sender", "NoSuchEntity", "The user with name "+user+" cannot be found.")
		return
	}
	k, ok := s.keys[keyID]
	if !ok || k.User != user {
		s.mu.Unlock()
		s.iamError(w, c, http.StatusNotFound, "Sender", "NoSuchEntity", "The Access Key with id "+keyID+" cannot be found.")
		return
	}
	k.Status = status
	s.mu.Unlock()
	s.ok(w, c, "UpdateAccessKey")
}

func (s *Server) putRolePolicy(w http.ResponseWriter, c *vendortest.Call, p url.Values, allowed bool) {
	role, name, doc := p.Get("RoleName"), p.Get("PolicyName"), p.Get("PolicyDocument")
	c.Route(vendortest.KindRevokeRoleTokens, role)
	if !allowed {
		s.iamError(w, c, http.StatusForbidden, "Sender", "AccessDenied", "User: arn:aws:iam::"+AccountID+":user/vigil-responder is not authorized to perform: iam:PutRolePolicy on resource: role "+role+" because no identity-based policy allows the iam:PutRolePolicy action")
		return
	}
	var policy struct {
		Version   string
		Statement []json.RawMessage
	}
	if name == "" || json.Unmarshal([]byte(doc), &policy) != nil || policy.Version != "2012-10-17" || len(policy.Statement) == 0 {
		s.iamError(w, c, http.StatusBadRequest, "Sender", "MalformedPolicyDocument", "Syntax errors in policy.")
		return
	}
	s.mu.Lock()
	pols, ok := s.roles[role]
	if !ok {
		s.mu.Unlock()
		s.iamError(w, c, http.StatusNotFound, "Sender", "NoSuchEntity", "The role with name "+role+" cannot be found.")
		return
	}
	pols[name] = doc
	s.mu.Unlock()
	s.ok(w, c, "PutRolePolicy")
}

type responseMetadata struct {
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

func (s *Server) ok(w http.ResponseWriter, c *vendortest.Call, action string) {
	v := struct {
		XMLName xml.Name
		Xmlns   string `xml:"xmlns,attr"`
		responseMetadata
	}{XMLName: xml.Name{Local: action + "Response"}, Xmlns: xmlns, responseMetadata: responseMetadata{RequestID: w.Header().Get("x-amzn-RequestId")}}
	b, _ := xml.MarshalIndent(v, "", "  ")
	c.Write(w, http.StatusOK, "text/xml", b)
}

// iamError writes IAM's XML error response.
func (s *Server) iamError(w http.ResponseWriter, c *vendortest.Call, status int, typ, code, msg string) {
	v := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}{Xmlns: xmlns, RequestID: w.Header().Get("x-amzn-RequestId")}
	v.Error.Type, v.Error.Code, v.Error.Message = typ, code, msg
	b, _ := xml.MarshalIndent(v, "", "  ")
	c.Write(w, status, "text/xml", b)
}

func requestID() string {
	h := vendortest.RandHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Close stops the server (Recorder and Endpoint both have a Close).
func (s *Server) Close() { s.Endpoint.Close() }
