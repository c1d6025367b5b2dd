package oktaadmin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

func do(t *testing.T, method, url, auth string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestContract(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := oktaadmin.New(t, oktaadmin.WithClock(func() time.Time { return now }))
	u := srv.AddUser(oktaadmin.User{Login: "ada@example.com"})
	ssws := "SSWS " + oktaadmin.DefaultAPIToken
	for _, tc := range []struct {
		name, method, path, auth string
		status                   int
		code                     string
	}{
		{"no auth", "DELETE", "/api/v1/users/" + u.ID + "/sessions", "", 401, "E0000011"},
		{"wrong token", "DELETE", "/api/v1/users/" + u.ID + "/sessions", "SSWS nope", 401, "E0000011"},
		{"unknown user", "DELETE", "/api/v1/users/00unobody/sessions", ssws, 404, "E0000007"},
		{"unknown path", "GET", "/api/v1/groups", ssws, 404, "E0000007"},
		{"read by shortname", "GET", "/api/v1/users/ada", ssws, 200, ""},
		{"suspend", "POST", "/api/v1/users/ada@example.com/lifecycle/suspend", ssws, 200, ""},
		{"suspend again", "POST", "/api/v1/users/ada@example.com/lifecycle/suspend", ssws, 400, "E0000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL()+tc.path, tc.auth)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.code != "" {
				if body["errorCode"] != tc.code || body["errorSummary"] == "" || body["errorId"] == "" {
					t.Errorf("error body %v", body)
				}
			}
		})
	}
	srv.FailNext(1, 429, 5*time.Second)
	resp, body := do(t, "GET", srv.URL()+"/api/v1/users/"+u.ID, ssws)
	if resp.StatusCode != 429 || body["errorCode"] != "E0000047" {
		t.Fatalf("injected 429: %d %v", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("X-Rate-Limit-Reset"), strconv.FormatInt(now.Unix()+5, 10); got != want {
		t.Errorf("X-Rate-Limit-Reset %s, want %s", got, want)
	}
	if resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("X-Rate-Limit-Remaining %q", resp.Header.Get("X-Rate-Limit-Remaining"))
	}
	if got := len(srv.Requests()); got != 8 {
		t.Errorf("%d requests logged, want 8", got)
	}
}

func TestHandleMountsBehindAuth(t *testing.T) {
	srv := oktaadmin.New(nil)
	defer srv.Close()
	srv.Handle("GET /api/v1/logs", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	}))
	if resp, _ := do(t, "GET", srv.URL()+"/api/v1/logs", ""); resp.StatusCode != 401 {
		t.Errorf("unauthenticated logs: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL()+"/api/v1/logs", "SSWS "+oktaadmin.DefaultAPIToken); resp.StatusCode != 200 {
		t.Errorf("logs: %d", resp.StatusCode)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Status != 200 || reqs[1].Kind != "read" {
		t.Errorf("requests %+v", reqs)
	}
}

// Counting and waiting accept the user's login as well as its id.
func TestCountsByLogin(t *testing.T) {
	srv := oktaadmin.New(t)
	u := srv.AddUser(oktaadmin.User{Login: "ada@example.com", Sessions: 1})
	resp, _ := do(t, "DELETE", srv.URL()+"/api/v1/users/"+u.ID+"/sessions", "SSWS "+oktaadmin.DefaultAPIToken)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("clear sessions: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitDeliveries(ctx, vendortest.KindClearSessions, "ada@example.com", 1); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{u.ID, "ada@example.com", ""} {
		if n := srv.Deliveries(vendortest.KindClearSessions, key); n != 1 {
			t.Errorf("Deliveries(%q) = %d, want 1", key, n)
		}
		if n := srv.Count(vendortest.KindClearSessions, key); n != 1 {
			t.Errorf("Count(%q) = %d, want 1", key, n)
		}
	}
	if n := srv.Deliveries(vendortest.KindClearSessions, "bob@example.com"); n != 0 {
		t.Errorf("an unknown user has %d deliveries", n)
	}
}
