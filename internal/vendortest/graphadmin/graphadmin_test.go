package graphadmin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-zt/vigil/internal/vendortest/graphadmin"
)

func post(t *testing.T, u, ctype, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestContract(t *testing.T) {
	srv := graphadmin.New(t)
	u := srv.AddUser(graphadmin.User{UserPrincipalName: "ada@contoso.com"})
	tokenURL := srv.URL() + "/" + graphadmin.DefaultTenant + "/oauth2/v2.0/token"
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {graphadmin.DefaultClientID},
		"client_secret": {graphadmin.DefaultClientSecret}, "scope": {graphadmin.GraphScope}}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("scope", "User.Read")
	if st, m := post(t, tokenURL, "application/x-www-form-urlencoded", "", bad.Encode()); st != 400 || m["error"] != "invalid_scope" {
		t.Errorf("bad scope: %d %v", st, m)
	}
	st, m := post(t, tokenURL, "application/x-www-form-urlencoded", "", form.Encode())
	if st != 200 || m["token_type"] != "Bearer" || m["expires_in"] != float64(3599) {
		t.Fatalf("token: %d %v", st, m)
	}
	tok, _ := m["access_token"].(string)

	revoke := srv.URL() + "/v1.0/users/" + u.ID + "/revokeSignInSessions"
	st, m = post(t, revoke, "", "", "")
	if e, _ := m["error"].(map[string]any); st != 401 || e["code"] != "InvalidAuthenticationToken" || e["message"] != "Access token is empty." {
		t.Errorf("no token: %d %v", st, m)
	}
	if st, m = post(t, revoke, "", "Bearer "+tok, ""); st != 200 || m["value"] != true {
		t.Errorf("revoke: %d %v", st, m)
	}
	st, m = post(t, srv.URL()+"/v1.0/users/nobody@contoso.com/revokeSignInSessions", "", "Bearer "+tok, "")
	if e, _ := m["error"].(map[string]any); st != 404 || e["code"] != "Request_ResourceNotFound" {
		t.Errorf("unknown user: %d %v", st, m)
	}
}
