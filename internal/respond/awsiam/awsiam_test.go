package awsiam_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/awsiam"
	"github.com/vigil-zt/vigil/internal/vendortest"
	iamfake "github.com/vigil-zt/vigil/internal/vendortest/awsiam"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func setup(t *testing.T, opts ...iamfake.Option) (*iamfake.Server, *awsiam.Connector) {
	t.Helper()
	srv := iamfake.New(t, append([]iamfake.Option{iamfake.WithClock(clock)}, opts...)...)
	srv.AddAccessKey("bob", "AKIABOBKEY0000000001")
	srv.AddAccessKey("carol", "AKIACAROLKEY00000001")
	srv.AddRole("deploy")
	return srv, connector(t, srv, awsiam.Credentials{AccessKeyID: iamfake.DefaultAccessKeyID, SecretAccessKey: iamfake.DefaultSecretAccessKey})
}

func connector(t *testing.T, srv *iamfake.Server, cr awsiam.Credentials) *awsiam.Connector {
	t.Helper()
	c, err := awsiam.New(awsiam.Config{Credentials: cr, Endpoint: srv.URL(), Version: "1.2.3", Now: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deactivate(key, user string) respond.Action {
	return respond.Action{ID: "act-key-" + key, Kind: respond.KindDeactivateKey, Target: key, Params: map[string]string{awsiam.ParamUser: user}}
}

func revoke(role string) respond.Action {
	return respond.Action{ID: "act-role-" + role, Kind: respond.KindRevokeRoleTokens, Target: role}
}

func TestDeactivateKey(t *testing.T) {
	srv, c := setup(t)
	a := deactivate("AKIABOBKEY0000000001", "bob")
	res, err := c.Do(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if res != "deactivated access key AKIABOBKEY0000000001 of bob" {
		t.Errorf("result %q", res)
	}
	if k, _ := srv.AccessKey("AKIABOBKEY0000000001"); k.Status != "Inactive" {
		t.Errorf("key %+v", k)
	}
	if k, _ := srv.AccessKey("AKIACAROLKEY00000001"); k.Status != "Active" {
		t.Errorf("other key touched: %+v", k)
	}
	r := srv.Requests()[0]
	form, _ := url.ParseQuery(string(r.Body))
	want := url.Values{"Action": {"UpdateAccessKey"}, "UserName": {"bob"}, "AccessKeyId": {"AKIABOBKEY0000000001"}, "Status": {"Inactive"}, "Version": {"2010-05-08"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form %s, want %s", form.Encode(), want.Encode())
	}
	if r.Method != "POST" || r.Path != "/" || r.IdempotencyKey != a.ID || r.Header.Get("User-Agent") != "vigil/1.2.3" {
		t.Errorf("request %s %s key %q ua %q", r.Method, r.Path, r.IdempotencyKey, r.Header.Get("User-Agent"))
	}
	if r.Header.Get("X-Amz-Date") != "20260301T120000Z" {
		t.Errorf("X-Amz-Date %q", r.Header.Get("X-Amz-Date"))
	}
	if _, err := c.Do(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if d, n := srv.Deliveries(vendortest.KindDeactivateKey, "AKIABOBKEY0000000001"), srv.Count(vendortest.KindDeactivateKey, ""); d != 1 || n != 2 {
		t.Errorf("deliveries %d of %d requests, want 1 of 2", d, n)
	}
}

func TestRevokeRoleSessions(t *testing.T) {
	srv, c := setup(t)
	for _, target := range []string{"deploy", "arn:aws:iam::123456789012:role/ci/deploy"} {
		res, err := c.Do(context.Background(), revoke(target))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if res != "denied sessions of role deploy issued before 2026-03-01T12:00:00Z" {
			t.Errorf("result %q", res)
		}
	}
	doc, ok := srv.RolePolicy("deploy", "VigilRevokeOlderSessions")
	if !ok {
		t.Fatal("no policy")
	}
	var got any
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	var want any
	_ = json.Unmarshal([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],
		"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T12:00:00Z"}}}]}`), &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("policy\n got %s\nwant %s", gb, wb)
	}
	if n := srv.Deliveries(vendortest.KindRevokeRoleTokens, "deploy"); n != 2 {
		t.Errorf("deliveries %d, want 2 (two action ids)", n)
	}
}

func TestSessionToken(t *testing.T) {
	srv, _ := setup(t, iamfake.WithCredentials("ASIATEMPORARYKEY0001", "temp-secret", "session-token-value"))
	withToken := connector(t, srv, awsiam.Credentials{AccessKeyID: "ASIATEMPORARYKEY0001", SecretAccessKey: "temp-secret", SessionToken: "session-token-value"})
	if _, err := withToken.Do(context.Background(), revoke("deploy")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[0].Header.Get("X-Amz-Security-Token"); got != "[redacted]" {
		t.Errorf("security token header %q", got)
	}
	without := connector(t, srv, awsiam.Credentials{AccessKeyID: "ASIATEMPORARYKEY0001", SecretAccessKey: "temp-secret"})
	_, err := without.Do(context.Background(), revoke("deploy"))
	if _, retry := respond.IsRetryable(err); err == nil || retry || !strings.Contains(err.Error(), "authentication failed (403 InvalidClientTokenId") {
		t.Errorf("missing session token: %v", err)
	}
}

func TestPermanentFailures(t *testing.T) {
	srv, c := setup(t)
	_, cd := setup(t, iamfake.WithAllowedActions("iam:UpdateAccessKey"))
	wrongSecret := connector(t, srv, awsiam.Credentials{AccessKeyID: iamfake.DefaultAccessKeyID, SecretAccessKey: "not-the-SECRET"})
	skewed, _ := awsiam.New(awsiam.Config{Credentials: awsiam.Credentials{AccessKeyID: iamfake.DefaultAccessKeyID, SecretAccessKey: iamfake.DefaultSecretAccessKey},
		Endpoint: srv.URL(), Now: func() time.Time { return now.Add(-time.Hour) }}, nil)
	for _, tc := range []struct {
		name string
		c    *awsiam.Connector
		a    respond.Action
		want string
	}{
		{"unknown user", c, deactivate("AKIABOBKEY0000000001", "mallory"), `user "mallory": not found (404 NoSuchEntity: The user with name mallory cannot be found.)`},
		{"key of another user", c, deactivate("AKIACAROLKEY00000001", "bob"), "not found (404 NoSuchEntity: The Access Key with id AKIACAROLKEY00000001 cannot be found.)"},
		{"unknown role", c, revoke("ghost"), `revoke sessions of role "ghost": not found (404 NoSuchEntity: The role with name ghost cannot be found.)`},
		{"access denied", cd, revoke("deploy"), "permission denied (403 AccessDenied: User: arn:aws:iam::123456789012:user/vigil-responder is not authorized to perform: iam:PutRolePolicy"},
		{"wrong secret", wrongSecret, revoke("deploy"), "authentication failed (403 SignatureDoesNotMatch"},
		{"clock skew", skewed, revoke("deploy"), "Signature expired"},
		{"missing user param", c, deactivate("AKIABOBKEY0000000001", ""), `params.user "" is not an iam user name`},
		{"bad key id", c, deactivate("akia-lower", "bob"), `"akia-lower" is not an access key id`},
		{"bad role arn", c, revoke("arn:aws:iam::123456789012:user/bob"), "is not a role name or arn"},
		{"unsupported", c, respond.Action{Kind: respond.KindSuspendUser, Target: "bob"}, "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Do(context.Background(), tc.a)
			if err == nil {
				t.Fatal("no error")
			}
			if _, retry := respond.IsRetryable(err); retry {
				t.Errorf("%v is retryable", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), iamfake.DefaultSecretAccessKey) {
				t.Errorf("error %q echoes a secret", err)
			}
		})
	}
	if k, _ := srv.AccessKey("AKIABOBKEY0000000001"); k.Status != "Active" {
		t.Errorf("key changed by failed calls: %+v", k)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   string
	}{
		{"throttled", http.StatusTooManyRequests, "throttled (400 Throttling: Rate exceeded)"},
		{"unavailable", http.StatusServiceUnavailable, "server error (503 ServiceUnavailable"},
		{"failure", http.StatusInternalServerError, "server error (500 ServiceFailure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := setup(t)
			srv.FailNext(1, tc.status, 0)
			a := deactivate("AKIABOBKEY0000000001", "bob")
			_, err := c.Do(context.Background(), a)
			if _, retry := respond.IsRetryable(err); !retry {
				t.Fatalf("%v, want retryable", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if _, err := c.Do(context.Background(), a); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if d, n := srv.Deliveries(vendortest.KindDeactivateKey, "AKIABOBKEY0000000001"), srv.Count(vendortest.KindDeactivateKey, "AKIABOBKEY0000000001"); d != 1 || n != 2 {
				t.Errorf("deliveries %d of %d requests, want 1 of 2", d, n)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	cr := awsiam.Credentials{AccessKeyID: "AKIAX", SecretAccessKey: "sek-RET"}
	for _, cfg := range []awsiam.Config{
		{},
		{Credentials: awsiam.Credentials{AccessKeyID: "AKIAX"}},
		{Credentials: cr, Endpoint: "http://iam.amazonaws.com"},
		{Credentials: cr, Endpoint: "https://iam.amazonaws.com/some/path"},
		{Credentials: awsiam.Credentials{AccessKeyID: "AKIAX", SecretAccessKey: "s", SessionToken: "a\r\nb"}},
	} {
		if _, err := awsiam.New(cfg, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg.Endpoint)
		} else if strings.Contains(err.Error(), "sek-RET") {
			t.Errorf("error %q echoes the secret", err)
		}
	}
	if _, err := awsiam.New(awsiam.Config{Credentials: cr}, nil); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
