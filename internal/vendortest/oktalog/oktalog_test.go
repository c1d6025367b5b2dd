package oktalog_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/vendortest/oktalog"
)

func get(t *testing.T, c *http.Client, u, auth string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func next(t *testing.T, res *http.Response) string {
	t.Helper()
	for _, l := range res.Header.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			return strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
		}
	}
	return ""
}

func TestContract(t *testing.T) {
	srv := oktalog.New(t, oktalog.WithBearerToken("at", "okta.logs.read"), oktalog.WithBearerToken("weak", "okta.users.read"))
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 5 {
		if err := srv.Add(oktalog.Event(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "user.session.start", "ada@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.Client()
	base := srv.URL() + "/api/v1/logs"
	ssws := "SSWS " + oktalog.DefaultAPIToken

	for _, tc := range []struct {
		name, query, auth string
		status            int
		code              string
	}{
		{"no auth", "", "", 401, "E0000011"},
		{"wrong token", "", "SSWS nope", 401, "E0000011"},
		{"bearer without the scope", "", "Bearer weak", 403, "E0000006"},
		{"bearer", "", "Bearer at", 200, ""},
		{"limit too big", "?limit=1001", ssws, 400, "E0000001"},
		{"bad since", "?since=yesterday", ssws, 400, "E0000001"},
		{"bad after", "?after=x", ssws, 400, "E0000001"},
		{"descending", "?sortOrder=DESCENDING", ssws, 400, "E0000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, c, base+tc.query, tc.auth)
			if res.StatusCode != tc.status || !strings.Contains(body, tc.code) {
				t.Errorf("%d %s, want %d %s", res.StatusCode, body, tc.status, tc.code)
			}
			if res.Header.Get("X-Rate-Limit-Limit") == "" && tc.status == 200 {
				t.Error("no rate-limit headers")
			}
		})
	}

	// Paging: 5 events in pages of 2, then the next link stays put.
	u := base + "?" + url.Values{"since": {t0.Format(time.RFC3339)}, "limit": {"2"}, "sortOrder": {"ASCENDING"}}.Encode()
	var got []string
	for range 4 {
		res, body := get(t, c, u, ssws)
		var page []struct{ UUID string }
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.UUID)
		}
		n := next(t, res)
		if n == "" {
			t.Fatal("no next link in polling mode")
		}
		u = n
	}
	if strings.Join(got, ",") != "0,1,2,3,4" {
		t.Errorf("paged %v", got)
	}
	srv.Add(oktalog.Event("5", time.Now(), "user.session.start", "ada@example.com"))
	if _, body := get(t, c, u, ssws); !strings.Contains(body, `"uuid":"5"`) {
		t.Errorf("the caught-up next link did not serve the new event: %s", body)
	}

	// until bounds the log: no next link once it is read.
	res, _ := get(t, c, base+"?"+url.Values{"since": {t0.Format(time.RFC3339)}, "until": {t0.Add(90 * time.Second).Format(time.RFC3339)}}.Encode(), ssws)
	if next(t, res) != "" {
		t.Error("bounded request ended with a next link")
	}
}

func TestInjectedRateLimit(t *testing.T) {
	srv := oktalog.New(t)
	srv.FailNext(1, http.StatusTooManyRequests, 30*time.Second)
	res, body := get(t, srv.Client(), srv.URL()+"/api/v1/logs", "SSWS "+oktalog.DefaultAPIToken)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "30" || res.Header.Get("X-Rate-Limit-Remaining") != "0" ||
		!strings.Contains(body, "E0000047") {
		t.Errorf("%d %v %s", res.StatusCode, res.Header, body)
	}
}
