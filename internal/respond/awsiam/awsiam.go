// Package awsiam is the response connector for AWS IAM: it deactivates an
// IAM user's access key and revokes every session of an IAM role issued
// before now, through the IAM Query API signed with Signature Version 4
// (implemented here; no SDK).
//
// Requests (POST https://iam.amazonaws.com/, form-encoded, Version
// 2010-05-08, signed for region us-east-1 and service iam):
//
//	deactivate_key        Action=UpdateAccessKey&UserName={params.user}&AccessKeyId={target}&Status=Inactive
//	revoke_role_sessions  Action=PutRolePolicy&RoleName={target}&PolicyName=VigilRevokeOlderSessions
//	                      &PolicyDocument={deny everything when aws:TokenIssueTime < now}
//
// The role policy is the one the IAM console's "Revoke active sessions"
// attaches: sessions whose credentials were issued before the moment of
// the call are denied everything, sessions assumed afterwards are not.
// Sending it again (a retry) moves the cut-off to the retry's time, which
// only revokes more.
//
// Least privilege: give Vigil's principal only this policy, with the
// resources narrowed to the users and roles automation may touch:
//
//	{
//	  "Version": "2012-10-17",
//	  "Statement": [
//	    {"Sid": "DeactivateAccessKeys", "Effect": "Allow",
//	     "Action": "iam:UpdateAccessKey",
//	     "Resource": "arn:aws:iam::ACCOUNT_ID:user/*"},
//	    {"Sid": "RevokeRoleSessions", "Effect": "Allow",
//	     "Action": "iam:PutRolePolicy",
//	     "Resource": "arn:aws:iam::ACCOUNT_ID:role/*",
//	     "Condition": {"StringEquals": {"iam:PolicyName": "VigilRevokeOlderSessions"}}}
//	  ]
//	}
//
// iam:PutRolePolicy can grant a role anything, so keep the condition that
// limits it to the one policy name, and prefer temporary credentials
// (SessionToken) from an assumed role over a long-lived access key.
package awsiam

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/httpx"
	"github.com/vigil-zt/vigil/internal/respond"
)

var _ respond.Connector = (*Connector)(nil)

// Defaults for the aws partition; aws-cn and aws-us-gov have their own
// IAM endpoints and signing regions (cn-north-1, us-gov-west-1).
const (
	DefaultEndpoint = "https://iam.amazonaws.com"
	DefaultRegion   = "us-east-1"
	// PolicyName is the inline role policy that revokes older sessions.
	PolicyName = "VigilRevokeOlderSessions"
	apiVersion = "2010-05-08"
)

// ParamUser names the Action.Params entry holding the IAM user name that
// owns the key deactivate_key acts on.
const ParamUser = "user"

// Config configures a Connector. Secrets are values the caller read from
// where it keeps them; this package never reads files or the environment.
type Config struct {
	// Credentials sign every request. AccessKeyID and SecretAccessKey are
	// required; SessionToken is set for temporary credentials.
	Credentials Credentials
	// Endpoint is IAM's URL, DefaultEndpoint when empty. Plain http is
	// accepted only for loopback addresses.
	Endpoint string
	// Region is the signing region, DefaultRegion when empty.
	Region string
	// Timeout bounds one call, 10s by default.
	Timeout time.Duration
	// Version is Vigil's version, sent as User-Agent "vigil/<version>".
	Version string
	// Now is the clock for signatures and the revocation cut-off;
	// time.Now by default.
	Now func() time.Time
}

// Connector performs actions in one AWS account. It is safe for
// concurrent use.
type Connector struct {
	cfg      Config
	endpoint string
	client   *http.Client
	agent    string
}

// New checks cfg and returns a Connector sending through client (a
// default client when nil). It makes no call.
func New(cfg Config, client *http.Client) (*Connector, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	endpoint, err := parseBase(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("awsiam: endpoint: %w", err)
	}
	cr := cfg.Credentials
	switch {
	case cr.AccessKeyID == "" || cr.SecretAccessKey == "":
		return nil, errors.New("awsiam: access key id and secret access key are required")
	case strings.ContainsAny(cr.AccessKeyID+cr.SessionToken, " \t\r\n"):
		return nil, errors.New("awsiam: access key id or session token holds white space")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
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
	return &Connector{cfg: cfg, endpoint: endpoint + "/", client: httpx.NoRedirects(client), agent: "vigil/" + cfg.Version}, nil
}

// Kinds lists what the connector does.
func (c *Connector) Kinds() []string {
	return []string{respond.KindDeactivateKey, respond.KindRevokeRoleTokens}
}

var (
	accessKeyID = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	iamName     = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// Do performs a. For deactivate_key the target is the access key id and
// a.Params["user"] the IAM user owning it (required: without UserName IAM
// would act on the caller's own keys). For revoke_role_sessions the target
// is a role name or role ARN.
func (c *Connector) Do(ctx context.Context, a respond.Action) (string, error) {
	switch a.Kind {
	case respond.KindDeactivateKey:
		user := a.Params[ParamUser]
		if !accessKeyID.MatchString(a.Target) {
			return "", fmt.Errorf("awsiam: deactivate key: %q is not an access key id", a.Target)
		}
		if !iamName.MatchString(user) {
			return "", fmt.Errorf("awsiam: deactivate key %s: params.user %q is not an iam user name", a.Target, user)
		}
		op := fmt.Sprintf("deactivate access key %s of user %q", a.Target, user)
		form := url.Values{
			"Action":      {"UpdateAccessKey"},
			"UserName":    {user},
			"AccessKeyId": {a.Target},
			"Status":      {"Inactive"},
			"Version":     {apiVersion},
		}
		if err := c.call(ctx, a, op, form); err != nil {
			return "", err
		}
		return fmt.Sprintf("deactivated access key %s of %s", a.Target, user), nil
	case respond.KindRevokeRoleTokens:
		role := roleName(a.Target)
		if !iamName.MatchString(role) {
			return "", fmt.Errorf("awsiam: revoke role sessions: %q is not a role name or arn", a.Target)
		}
		cutoff := c.cfg.Now().UTC().Truncate(time.Second)
		doc, err := revokePolicy(cutoff)
		if err != nil {
			return "", fmt.Errorf("awsiam: revoke sessions of role %q: %w", role, err)
		}
		op := fmt.Sprintf("revoke sessions of role %q", role)
		form := url.Values{
			"Action":         {"PutRolePolicy"},
			"RoleName":       {role},
			"PolicyName":     {PolicyName},
			"PolicyDocument": {doc},
			"Version":        {apiVersion},
		}
		if err := c.call(ctx, a, op, form); err != nil {
			return "", err
		}
		return fmt.Sprintf("denied sessions of role %s issued before %s", role, cutoff.Format(time.RFC3339)), nil
	}
	return "", fmt.Errorf("awsiam: %q: %w", a.Kind, respond.ErrUnsupported)
}

// roleName accepts a name or an ARN (arn:aws:iam::123456789012:role/path/name).
func roleName(t string) string {
	if strings.HasPrefix(t, "arn:") {
		_, res, ok := strings.Cut(t, ":role/")
		if !ok {
			return ""
		}
		return res[strings.LastIndexByte(res, '/')+1:]
	}
	return t
}

// revokePolicy is the deny-all policy for sessions issued before cutoff.
func revokePolicy(cutoff time.Time) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Deny",
			"Action":   []string{"*"},
			"Resource": []string{"*"},
			"Condition": map[string]any{
				"DateLessThan": map[string]string{"aws:TokenIssueTime": cutoff.Format(time.RFC3339)},
			},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// call sends one signed Query API request and maps the answer.
func (c *Connector) call(ctx context.Context, a respond.Action, op string, form url.Values) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("awsiam: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "text/xml")
	if a.ID != "" {
		req.Header.Set("Idempotency-Key", a.ID)
	}
	signV4(req, body, c.cfg.Credentials, c.cfg.Region, "iam", c.cfg.Now())
	req.Header.Set("User-Agent", c.agent)
	resp, err := c.client.Do(req)
	if err != nil {
		return respond.Retryable(fmt.Errorf("awsiam: %s: %w", op, httpx.TransportError(err)), 0)
	}
	defer resp.Body.Close()
	// Not httpx.Do: a 2xx whose body broke off still did the change.
	rb, err := httpx.ReadBody(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if err != nil && len(rb) == 0 {
		return respond.Retryable(fmt.Errorf("awsiam: %s: reading response: %w", op, httpx.TransportError(err)), 0)
	}
	ae := &apiError{op: op, status: resp.StatusCode}
	var er struct {
		Error struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	}
	if xml.Unmarshal(rb, &er) == nil {
		ae.code = httpx.Clean(er.Error.Code, 48)
		ae.message = httpx.Clean(er.Error.Message, 200)
	}
	if retryable(resp.StatusCode, ae.code) {
		return respond.Retryable(ae, retryAfter(resp.Header))
	}
	return ae
}

// retryable reports whether an answer is worth retrying: throttling
// (which IAM answers with 400 and code Throttling), transient server
// faults and concurrent modification.
func retryable(status int, code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
		"ServiceUnavailable", "ServiceUnavailableException", "ServiceFailure", "InternalFailure",
		"InternalError", "RequestTimeout", "RequestTimeoutException", "ConcurrentModification":
		return true
	}
	return status == http.StatusTooManyRequests || status >= 500
}

// apiError is an IAM error answer: the operation, the status and IAM's
// code and message (never the body).
type apiError struct {
	op      string
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	what := "failed"
	switch {
	case e.code == "NoSuchEntity":
		what = "not found"
	case e.code == "AccessDenied":
		what = "permission denied"
	case e.code == "InvalidClientTokenId", e.code == "SignatureDoesNotMatch", e.code == "MissingAuthenticationToken",
		e.code == "ExpiredToken", e.code == "IncompleteSignature":
		what = "authentication failed"
	case retryable(e.status, e.code) && (e.status == http.StatusTooManyRequests || strings.HasPrefix(e.code, "Throttl") || e.code == "RequestLimitExceeded"):
		what = "throttled"
	case e.status >= 500:
		what = "server error"
	case e.status == http.StatusBadRequest:
		what = "rejected"
	}
	return fmt.Sprintf("awsiam: %s: %s (%s)", e.op, what, httpx.Detail(e.status, e.code, e.message))
}

// retryAfter reads a Retry-After in seconds, which IAM does not send but
// a proxy in front of it may.
func retryAfter(h http.Header) time.Duration {
	var s int
	if _, err := fmt.Sscanf(strings.TrimSpace(h.Get("Retry-After")), "%d", &s); err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(min(s, 3600))*time.Second, time.Hour)
}

// parseBase is stricter than httpx.ParseBase: the Query API is served at
// the root, so a path is refused too.
func parseBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a url")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", errors.New("want scheme://host with no credentials, path, query or fragment")
	}
	if err := httpx.CheckScheme(u); err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host, nil
}
