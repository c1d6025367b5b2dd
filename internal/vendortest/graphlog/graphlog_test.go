package graphlog_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest/graphlog"
)

func token(t *testing.T, srv *graphlog.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := srv.Client().PostForm(srv.URL()+"/"+graphlog.DefaultTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestTokenEndpoint(t *testing.T) {
	srv := graphlog.New(t)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {graphlog.DefaultClientID},
		"client_secret": {graphlog.DefaultClientSecret}, "scope": {graphlog.Scope}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"ok", good, 200, ""},
		{"wrong secret", with("client_secret", "x"), 401, "invalid_client"},
		{"unknown client", with("client_id", "x"), 400, "unauthorized_client"},
		{"grant", with("grant_type", "password"), 400, "unsupported_grant_type"},
		{"scope", with("scope", "https://graph.microsoft.com/User.Read"), 400, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := token(t, srv, tc.form)
			if status != tc.status || (tc.code != "" && m["error"] != tc.code) {
				t.Fatalf("%d %v, want %d %s", status, m, tc.status, tc.code)
			}
			if tc.status == 200 && (m["access_token"] == "" || m["token_type"] != "Bearer" || m["expires_in"] == nil) {
				t.Errorf("token answer %v", m)
			}
			if d, _ := m["error_description"].(string); strings.Contains(d, graphlog.DefaultClientSecret) {
				t.Error("the error echoes the secret")
			}
		})
	}
}

func TestLogContract(t *testing.T) {
	srv := graphlog.New(t)
	_, m := token(t, srv, url.Values{"grant_type": {"client_credentials"}, "client_id": {graphlog.DefaultClientID},
		"client_secret": {graphlog.DefaultClientSecret}, "scope": {graphlog.Scope}})
	bearer := "Bearer " + m["access_token"].(string)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		srv.Add(graphlog.SignIns, graphlog.SignIn(id, t0.Add(time.Duration(i)*time.Minute), "ada@example.com"))
		srv.Add(graphlog.DirectoryAudits, graphlog.DirectoryAudit(id, t0.Add(time.Duration(i)*time.Minute), "Update user", "ada@example.com"))
	}
	get := func(u, auth string) (int, string, []string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var page struct {
			Value []struct{ ID string }
			Next  string `json:"@odata.nextLink"`
		}
		json.Unmarshal(b, &page)
		var ids []string
		for _, v := range page.Value {
			ids = append(ids, v.ID)
		}
		return res.StatusCode, page.Next, ids
	}
	q := func(log, s string) string { return srv.URL() + "/v1.0/auditLogs/" + log + "?" + s }

	for _, tc := range []struct {
		name, url, auth string
		status          int
		ids             string
	}{
		{"no token", q("signIns", ""), "", 401, ""},
		{"unknown token", q("signIns", ""), "Bearer eyJx.y", 401, ""},
		{"newest first", q("signIns", ""), bearer, 200, "e,d,c,b,a"},
		{"filter", q("signIns", "$filter=createdDateTime%20ge%202026-03-02T09:02:00Z%20and%20createdDateTime%20le%202026-03-02T09:03:00Z"), bearer, 200, "d,c"},
		{"orderby on signIns", q("signIns", "$orderby=createdDateTime%20asc"), bearer, 400, ""},
		{"audits ascending", q("directoryAudits", "$orderby=activityDateTime%20asc"), bearer, 200, "a,b,c,d,e"},
		{"filter on another field", q("signIns", "$filter=userId%20eq%20'x'"), bearer, 400, ""},
		{"top too big", q("signIns", "$top=1001"), bearer, 400, ""},
		{"case-insensitive path", srv.URL() + "/v1.0/auditlogs/directoryaudits", bearer, 200, "e,d,c,b,a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, ids := get(tc.url, tc.auth)
			if status != tc.status || strings.Join(ids, ",") != tc.ids {
				t.Errorf("%d %v, want %d %s", status, ids, tc.status, tc.ids)
			}
		})
	}

	// Paging with $top: the next link carries the filter and a keyset; a
	// record added meanwhile newer than the first page does not shift it.
	status, next, ids := get(q("signIns", "$top=2&$filter=createdDateTime%20ge%202026-03-02T09:00:00Z"), bearer)
	all := ids
	srv.Add(graphlog.SignIns, graphlog.SignIn("z", t0.Add(time.Hour), "ada@example.com"))
	for status == 200 && next != "" {
		status, next, ids = get(next, bearer)
		all = append(all, ids...)
	}
	if strings.Join(all, ",") != "e,d,c,b,a" {
		t.Errorf("paged %v", all)
	}

	srv.ExpireTokens()
	if status, _, _ := get(q("signIns", ""), bearer); status != 401 {
		t.Errorf("expired token: %d", status)
	}
}
