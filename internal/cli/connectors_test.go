package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
	iamfake "github.com/vigil-zt/vigil/internal/vendortest/awsiam"
	"github.com/vigil-zt/vigil/internal/vendortest/googleadmin"
	"github.com/vigil-zt/vigil/internal/vendortest/graphadmin"
	hookfake "github.com/vigil-zt/vigil/internal/vendortest/webhook"
)

// TestServeConnectorsFromConfig configures every vendor connector from
// YAML with secrets in the environment and in files, asks the running
// service for one action through each over the API, and checks each fake
// vendor received it, authenticated, and that no secret reached the log.
func TestServeConnectorsFromConfig(t *testing.T) {
	dir := t.TempDir()
	graph := graphadmin.New(t)
	graph.AddUser(graphadmin.User{UserPrincipalName: "ada@example.com"})
	google := googleadmin.New(t)
	google.AddUser(googleadmin.User{PrimaryEmail: "ada@example.com"})
	iam := iamfake.New(t)
	iam.AddAccessKey("ci-deployer", "AKIACIDEPLOYER000001")
	iam.AddRole("deploy")
	hook := hookfake.New(t, hookfake.WithSecret("hook-hmac-secret"))

	keyFile := filepath.Join(dir, "google-key.json")
	if err := os.WriteFile(keyFile, google.ServiceAccountKey(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TEST_GRAPH_SECRET", graphadmin.DefaultClientSecret)
	t.Setenv("VIGIL_TEST_AWS_KEY", iamfake.DefaultAccessKeyID)
	t.Setenv("VIGIL_TEST_AWS_SECRET", iamfake.DefaultSecretAccessKey)
	t.Setenv("VIGIL_TEST_HOOK_URL", hook.URL())
	t.Setenv("VIGIL_TEST_HOOK_SECRET", "hook-hmac-secret")

	db := filepath.Join(dir, "vigil.db")
	responder := newToken(t, db, "soc", "responder")
	svc := startService(t, db, fmt.Sprintf(`
connectors:
  - name: entra
    type: entra
    tenant: %s
    client_id: %s
    client_secret: {env: VIGIL_TEST_GRAPH_SECRET}
    login_url: %s
    url: %s
  - name: google
    type: gworkspace
    admin: %s
    key: {file: %s}
    url: %s
  - name: aws
    type: awsiam
    access_key_id: {env: VIGIL_TEST_AWS_KEY}
    secret_access_key: {env: VIGIL_TEST_AWS_SECRET}
    url: %s
  - name: soc-channel
    type: webhook
    secret_url: {env: VIGIL_TEST_HOOK_URL}
    secret: {env: VIGIL_TEST_HOOK_SECRET}
`, graphadmin.DefaultTenant, graphadmin.DefaultClientID, graph.URL(), graph.URL(),
		googleadmin.DefaultAdmin, keyFile, google.URL(), iam.URL()))

	for _, body := range []string{
		`{"connector":"entra","kind":"clear_sessions","identity":"ada@example.com"}`,
		`{"connector":"entra","kind":"suspend_user","identity":"ada@example.com"}`,
		`{"connector":"google","kind":"sign_out","identity":"ada@example.com"}`,
		`{"connector":"aws","kind":"deactivate_key","identity":"ci-deployer","target":"AKIACIDEPLOYER000001","params":{"user":"ci-deployer"}}`,
		`{"connector":"aws","kind":"revoke_role_sessions","identity":"role/deploy","target":"deploy"}`,
		`{"connector":"soc-channel","kind":"notify","identity":"ada@example.com","params":{"message":"ada's session was replayed"}}`,
	} {
		if code, resp := svc.call(t, "POST", "/v1/actions", responder, strings.NewReader(body)); code != 202 {
			t.Fatalf("%s: %d %s", body, code, resp)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, w := range []struct {
		name string
		rec  interface {
			WaitDeliveries(context.Context, string, string, int) error
		}
		kind, target string
	}{
		{"entra revokeSignInSessions", graph.Recorder, vendortest.KindClearSessions, ""},
		{"entra disable", graph.Recorder, vendortest.KindSuspendUser, ""},
		{"google signOut", google.Recorder, vendortest.KindSignOut, ""},
		{"aws UpdateAccessKey", iam.Recorder, vendortest.KindDeactivateKey, ""},
		{"aws PutRolePolicy", iam.Recorder, vendortest.KindRevokeRoleTokens, ""},
		{"webhook", hook.Recorder, vendortest.KindNotify, ""},
	} {
		if err := w.rec.WaitDeliveries(ctx, w.kind, w.target, 1); err != nil {
			t.Errorf("%s never arrived: %v\n%s", w.name, err, svc.stderr.String())
		}
	}
	if k, _ := iam.AccessKey("AKIACIDEPLOYER000001"); k.Status != "Inactive" {
		t.Errorf("access key %+v, want Inactive", k)
	}
	if u, _ := graph.User("ada@example.com"); !u.Disabled {
		t.Errorf("entra user %+v, want disabled", u)
	}
	if msgs := hook.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "ada's session was replayed") {
		t.Errorf("webhook messages: %+v", msgs)
	}
	svc.stop()
	log := svc.stderr.String()
	for _, secret := range []string{graphadmin.DefaultClientSecret, iamfake.DefaultSecretAccessKey, "hook-hmac-secret", hookfake.Path, "PRIVATE KEY"} {
		if strings.Contains(log, secret) {
			t.Errorf("the service log holds a secret (%.12s…)", secret)
		}
	}
}

// A secret that cannot be read stops the service at start, naming the
// variable and never a value.
func TestServeMissingSecret(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte("connectors:\n  - name: okta\n    type: okta\n    url: https://acme.okta.com\n    token: {env: VIGIL_TEST_UNSET_TOKEN}\n"), 0o600)
	r := run(t, "", "serve", "--db", filepath.Join(dir, "vigil.db"), "--config", cfg, "--listen", "127.0.0.1:0")
	if r.code == 0 || !strings.Contains(r.stderr, "VIGIL_TEST_UNSET_TOKEN") || !strings.Contains(r.stderr, "okta") {
		t.Errorf("serve with an unset secret: %+v", r)
	}
}
