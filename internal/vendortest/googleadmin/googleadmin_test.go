package googleadmin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/vendortest/googleadmin"
)

func TestContract(t *testing.T) {
	srv := googleadmin.New(t)
	u := srv.AddUser(googleadmin.User{PrimaryEmail: "ada@example.com"})
	for _, tc := range []struct {
		name, path, ctype, body string
		status                  int
		reason                  string
	}{
		{"sign-out without token", "/admin/directory/v1/users/" + u.ID + "/signOut", "", "", 401, "required"},
		{"token with a garbage assertion", "/token", "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}}.Encode(), 400, "invalid_grant"},
		{"token with another grant", "/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", 400, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL()+tc.path, tc.ctype, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.status, m)
			}
			got := m["error"]
			if e, ok := got.(map[string]any); ok {
				errs, _ := e["errors"].([]any)
				if len(errs) == 0 || e["code"] != float64(tc.status) {
					t.Fatalf("google error shape %v", e)
				}
				got = errs[0].(map[string]any)["reason"]
			}
			if got != tc.reason {
				t.Errorf("reason %v, want %s", got, tc.reason)
			}
		})
	}
	var key map[string]string
	if err := json.Unmarshal(srv.ServiceAccountKey(), &key); err != nil {
		t.Fatal(err)
	}
	if key["type"] != "service_account" || key["token_uri"] != srv.TokenURL() || !strings.HasPrefix(key["private_key"], "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("key file %v", key)
	}
}
