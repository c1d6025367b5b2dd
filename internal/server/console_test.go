package server

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
)

// clock is the server's time, moved by tests.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type fakeLive struct {
	mu  sync.Mutex
	fps [][]event.Alert
}

func (f *fakeLive) Overview(context.Context) (Overview, error) {
	return Overview{AsOf: time.Now(), Events: 10, OpenIncidents: map[string]int{"high": 1}, Actions: map[string]int{"done": 2},
		AtRisk: []IdentityRisk{{ID: "dana@example.com", Risk: 42, Level: event.SeverityMedium}}, AtRiskTotal: 1}, nil
}

func (f *fakeLive) Search(_ context.Context, q string, _ int) ([]IdentityRisk, error) {
	if strings.Contains("dana@example.com", q) {
		return []IdentityRisk{{ID: "dana@example.com", Risk: 42, Level: event.SeverityMedium}}, nil
	}
	return nil, nil
}

func (f *fakeLive) FalsePositive(_ context.Context, alerts []event.Alert) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fps = append(f.fps, alerts)
	return nil
}

func (f *fakeLive) Timeline(context.Context, string, time.Time, time.Time, int) ([]event.EventRef, error) {
	return nil, nil
}

// browserClient is a client with a cookie jar that does not follow
// redirects (the tests read them).
func browserClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) form(t *testing.T, c *http.Client, path string, v url.Values, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (f *fixture) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn signs in with role's token and returns the client and the CSRF
// token of the session.
func (f *fixture) signIn(t *testing.T, role string) (*http.Client, string) {
	t.Helper()
	c := browserClient(t)
	resp := f.form(t, c, "/ui/login", url.Values{"token": {f.tokens[role]}, "next": {"/ui/incidents"}}, f.srv.URL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/incidents" {
		t.Fatalf("sign-in as %s: %s → %q", role, resp.Status, resp.Header.Get("Location"))
	}
	_, body := f.get(t, c, "/ui/incidents")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page")
	}
	return c, m[1]
}

func (f *fixture) incident(t *testing.T) string {
	t.Helper()
	a := event.Alert{ID: "al-1", Time: time.Now(), Rule: "session.hijack", Severity: event.SeverityHigh, Confidence: 0.9,
		Identity: "dana@example.com", Incident: "inc-1", Session: "102abc", Summary: "replayed"}
	if err := f.st.SaveAlerts(context.Background(), []event.Alert{a}); err != nil {
		t.Fatal(err)
	}
	inc := &event.Incident{ID: "inc-1", Identity: "dana@example.com", Opened: a.Time, Updated: a.Time, Severity: a.Severity, Rules: []string{a.Rule}, Summary: a.Summary}
	if err := f.st.SaveIncident(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

func TestConsoleSignIn(t *testing.T) {
	f := setup(t)
	c := browserClient(t)
	// Pages need a session: a GET is sent to sign in, and back after.
	resp, _ := f.get(t, c, "/ui/incidents?status=any")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next=%2Fui%2Fincidents%3Fstatus%3Dany" {
		t.Fatalf("without a session: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	resp, body := f.get(t, c, "/ui/login")
	if resp.StatusCode != 200 || !strings.Contains(body, `<label for="token">`) {
		t.Fatalf("login page: %s", resp.Status)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("login page without %s", h)
		}
	}
	for name, tok := range map[string]string{"garbage": "vgl_nope", "revoked": f.tokens["revoked"], "ingest": f.tokens[RoleIngest], "receiver": f.tokens[RoleReceiver]} {
		resp := f.form(t, c, "/ui/login", url.Values{"token": {tok}}, f.srv.URL)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Errorf("%s token: %s, cookies %v", name, resp.Status, resp.Cookies())
		}
		if strings.Contains(string(b), tok) {
			t.Errorf("%s token echoed in the page", name)
		}
	}
	// A good token: a session cookie with every protection, and back to
	// where the person was going (only ever on this console).
	resp = f.form(t, c, "/ui/login", url.Values{"token": {f.tokens[RoleViewer]}, "next": {"//evil.example/ui/"}}, f.srv.URL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign-in: %s → %q", resp.Status, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || ck[0].Name != sessionCookie || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Secure || ck[0].Path != "/ui/" {
		t.Fatalf("cookie %+v", ck)
	}
	if strings.Contains(ck[0].Value, strings.SplitN(f.tokens[RoleViewer], "_", 3)[2]) {
		t.Errorf("the cookie carries the token's secret")
	}
	if resp, _ := f.get(t, c, "/ui/"); resp.StatusCode != 200 {
		t.Fatalf("overview: %s", resp.Status)
	}
	// Sign-in from another site is refused.
	if resp := f.form(t, browserClient(t), "/ui/login", url.Values{"token": {f.tokens[RoleViewer]}}, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin sign-in: %s", resp.Status)
	}
	// Sessions end after 30 idle minutes.
	f.clock.advance(31 * time.Minute)
	if resp, _ := f.get(t, c, "/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %s", resp.Status)
	}
}

func TestConsoleCookieSecureBehindHTTPS(t *testing.T) {
	f := setup(t)
	s := New(Deps{Tokens: f.st, Audit: f.st, Data: f.st, Ingest: f.ing, Identities: fakeIdentities{}, Live: f.live, Respond: f.resp,
		PublicURL: "https://vigil.example.com"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/ui/login", strings.NewReader(url.Values{"token": {f.tokens[RoleViewer]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := browserClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := resp.Cookies(); len(ck) != 1 || !ck[0].Secure {
		t.Errorf("published at https://, the cookie is not Secure: %+v", ck)
	}
}

func TestConsoleSessionEndsWithItsToken(t *testing.T) {
	f := setup(t)
	c, _ := f.signIn(t, RoleAdmin)
	if err := f.st.RevokeToken(context.Background(), "admin-token"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.get(t, c, "/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("page after the token was revoked: %s", resp.Status)
	}
	// Sign-out ends the session.
	c, csrf := f.signIn(t, RoleViewer)
	if resp := f.form(t, c, "/ui/logout", url.Values{"csrf": {csrf}}, f.srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %s", resp.Status)
	}
	if resp, _ := f.get(t, c, "/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("page after signing out: %s", resp.Status)
	}
}

func TestConsoleForms(t *testing.T) {
	f := setup(t)
	id := f.incident(t)
	c, csrf := f.signIn(t, RoleResponder)
	kill := "/ui/incidents/" + id + "/kill-sessions"

	for _, tt := range []struct {
		name   string
		form   url.Values
		origin string
		want   int
	}{
		{"no CSRF token", url.Values{}, f.srv.URL, http.StatusForbidden},
		{"wrong CSRF token", url.Values{"csrf": {csrf + "x"}}, f.srv.URL, http.StatusForbidden},
		{"another site", url.Values{"csrf": {csrf}}, "https://evil.example", http.StatusForbidden},
		{"opaque origin", url.Values{"csrf": {csrf}}, "null", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if resp := f.form(t, c, kill, tt.form, tt.origin); resp.StatusCode != tt.want {
				t.Errorf("%s, want %d", resp.Status, tt.want)
			}
		})
	}
	if len(f.resp.calls) != 0 {
		t.Fatalf("refused forms acted: %v", f.resp.calls)
	}
	resp := f.form(t, c, kill, url.Values{"csrf": {csrf}}, f.srv.URL)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?done=kill-sessions") {
		t.Fatalf("kill sessions: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	want := []string{"google sign_out dana@example.com token:responder-token", "okta clear_sessions dana@example.com token:responder-token"}
	if strings.Join(f.resp.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q", f.resp.calls)
	}
	// Marking a false positive feeds the alerts back, once.
	for range 2 {
		f.form(t, c, "/ui/incidents/"+id+"/status", url.Values{"csrf": {csrf}, "status": {"false_positive"}, "note": {"new laptop"}}, f.srv.URL)
	}
	if len(f.live.fps) != 1 || len(f.live.fps[0]) != 1 || f.live.fps[0][0].ID != "al-1" {
		t.Errorf("false positives fed back: %+v", f.live.fps)
	}
	inc, _ := f.st.Incident(context.Background(), id)
	if inc.Status != store.StatusFalsePositive {
		t.Errorf("status %q", inc.Status)
	}
	if resp := f.form(t, c, "/ui/incidents/"+id+"/status", url.Values{"csrf": {csrf}, "status": {"pwned"}}, f.srv.URL); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown status: %s", resp.Status)
	}
	// The audit log names who did it.
	var actions []string
	f.st.AuditEntries(context.Background(), func(e store.AuditEntry) error {
		actions = append(actions, e.Action+" "+e.Actor)
		return nil
	})
	got := strings.Join(actions, "|")
	for _, w := range []string{"console.sign_in token:responder-token", "respond.kill_sessions token:responder-token", "incident.status token:responder-token"} {
		if !strings.Contains(got, w) {
			t.Errorf("audit log lacks %q: %s", w, got)
		}
	}

	// A recommended action is sent by a person, as theirs, with its
	// target and parameters; an action already sent is not.
	rec := respond.Action{ID: "act-rec", Connector: "okta", Kind: respond.KindSuspendUser, Identity: "dana@example.com", Target: "00udana",
		Params: map[string]string{"why": "takeover"}, Incident: id, DecidedBy: "playbook:takeover", Mode: respond.ModeRecommend,
		State: respond.StateSkipped, Created: time.Now(), Updated: time.Now()}
	done := rec
	done.ID, done.State, done.Mode = "act-done", respond.StateDone, respond.ModeEnforce
	for _, a := range []respond.Action{rec, done} {
		if _, err := f.st.EnqueueAction(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	_, page := f.get(t, c, "/ui/incidents/"+id)
	if !strings.Contains(page, "/actions/act-rec/send") || strings.Contains(page, "/actions/act-done/send") {
		t.Errorf("the incident page should offer to send the recommended action only")
	}
	f.resp.calls = nil
	if resp := f.form(t, c, "/ui/incidents/"+id+"/actions/act-rec/send", url.Values{"csrf": {csrf}}, f.srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %s", resp.Status)
	}
	if resp := f.form(t, c, "/ui/incidents/"+id+"/actions/act-done/send", url.Values{"csrf": {csrf}}, f.srv.URL); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sending a done action again: %s", resp.Status)
	}
	if resp := f.form(t, c, "/ui/incidents/"+id+"/actions/nope/send", url.Values{"csrf": {csrf}}, f.srv.URL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("sending a missing action: %s", resp.Status)
	}
	if want := []string{"okta suspend_user dana@example.com token:responder-token 00udana why=takeover"}; strings.Join(f.resp.calls, "|") != want[0] {
		t.Errorf("calls %q, want %q", f.resp.calls, want)
	}

	// A viewer sees the incident but may not act on it, nor read the audit
	// log.
	v, vcsrf := f.signIn(t, RoleViewer)
	resp2, body := f.get(t, v, "/ui/incidents/"+id)
	if resp2.StatusCode != 200 || strings.Contains(body, `id="kill-sessions"`) || !strings.Contains(body, "may read but not act") {
		t.Errorf("incident page for a viewer: %s", resp2.Status)
	}
	if resp := f.form(t, v, kill, url.Values{"csrf": {vcsrf}}, f.srv.URL); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer kill: %s", resp.Status)
	}
	if resp, _ := f.get(t, v, "/ui/audit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer audit page: %s", resp.Status)
	}
	if resp, body := f.get(t, v, "/ui/incidents?status=bogus"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown status") {
		t.Errorf("bad filter: %s", resp.Status)
	}
	if resp, _ := f.get(t, v, "/ui/incidents/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing incident: %s", resp.Status)
	}
}

func TestConsolePagesRender(t *testing.T) {
	f := setup(t)
	id := f.incident(t)
	c, _ := f.signIn(t, RoleAdmin)
	for _, p := range []struct{ path, want string }{
		{"/ui/", "Open incidents"},
		// The chart's table: the fixture's one high alert, in its bucket.
		{"/ui/", "<td>0</td><td>1</td><td>0</td><td>0</td><td>0</td>"},
		{"/ui/incidents", "replayed"},
		{"/ui/incidents?status=any&rule=sigma.0e8d", `<option value="session.hijack">`},
		{"/ui/incidents/" + id, "Timeline of dana@example.com"},
		{"/ui/identities", "dana@example.com"},
		{"/ui/identities?q=dana", "Matching"},
		{"/ui/identities/dana@example.com", "Risk history"},
		{"/ui/actions", "outbox"},
		{"/ui/audit", "Hash chain intact"},
		{"/ui/static/console.css", "--critical"},
	} {
		resp, body := f.get(t, c, p.path)
		if resp.StatusCode != 200 || !strings.Contains(body, p.want) {
			t.Errorf("%s: %s, want %q in\n%.400s", p.path, resp.Status, p.want, body)
		}
	}
	if resp, _ := f.get(t, c, "/ui/static/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("static directory listing: %s", resp.Status)
	}
	if resp, _ := f.get(t, c, "/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("/: %s", resp.Status)
	}
	// Console pages are counted in the metrics like API routes.
	req, _ := http.NewRequest("GET", f.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[RoleViewer])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `vigil_http_requests_total{code="200",route="GET /ui/incidents/{id}"}`) {
		t.Errorf("console routes missing from the metrics")
	}
}

func TestOverviewAPI(t *testing.T) {
	f := setup(t)
	code, body, _ := f.do(t, "GET", "/v1/overview", RoleViewer, "")
	if code != 200 || body["events"] != float64(10) || body["identities_at_risk_total"] != float64(1) {
		t.Errorf("overview: %d %v", code, body)
	}
	code, body, _ = f.do(t, "GET", "/v1/identities?q=dana", RoleViewer, "")
	if list, _ := body["identities"].([]any); code != 200 || len(list) != 1 {
		t.Errorf("search: %d %v", code, body)
	}
	if code, _, _ := f.do(t, "GET", "/v1/overview", RoleIngest, ""); code != http.StatusForbidden {
		t.Errorf("overview with an ingest token: %d", code)
	}
}

// FuzzSafeNext: whatever a sign-in link says, the redirect after it stays
// on the console.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/ui/incidents?status=any", "//evil.example/ui/", "/ui/\\evil", "https://evil.example/ui/", "/ui/%0d%0aSet-Cookie:x", "", "/ui//evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/ui/") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
	})
}

func TestConsolePaging(t *testing.T) {
	f := setup(t)
	at := time.Now()
	for i := range 205 {
		inc := &event.Incident{ID: fmt.Sprintf("inc-%03d", i), Identity: "dana@example.com", Opened: at, Updated: at.Add(time.Duration(i%7) * time.Second),
			Severity: event.SeverityHigh, Summary: fmt.Sprintf("story %03d", i)}
		if err := f.st.SaveIncident(context.Background(), inc); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := f.signIn(t, RoleViewer)
	seen := map[string]int{}
	path := "/ui/incidents?status=open&severity=high"
	pages := 0
	for path != "" && pages < 5 {
		pages++
		resp, body := f.get(t, c, path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		for _, m := range regexp.MustCompile(`story (\d{3})`).FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		path = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
			if !strings.Contains(path, "severity=high") {
				t.Errorf("the next page lost the filters: %s", path)
			}
		}
	}
	if pages != 2 || len(seen) != 205 {
		t.Errorf("%d pages, %d incidents seen", pages, len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("story %s shown %d times", id, n)
		}
	}
	if resp, _ := f.get(t, c, "/ui/incidents?before=yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad cursor: %s", resp.Status)
	}
}

func TestConsoleMachineIncident(t *testing.T) {
	f := setup(t)
	now := time.Now()
	var alerts []event.Alert
	for i, rule := range []string{"nhi.anomalous_origin", "nhi.new_resource"} {
		alerts = append(alerts, event.Alert{ID: fmt.Sprintf("al-m%d", i), Time: now.Add(time.Duration(i) * time.Second), Rule: rule, Severity: event.SeverityHigh,
			Identity: "svc-ci-deploy", IdentityKind: event.KindService, Incident: "inc-m", Session: "AKIAUC3NQX7DIUFI7WAD", Summary: "key used from a new origin"})
	}
	if err := f.st.SaveAlerts(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SaveIncident(context.Background(), &event.Incident{ID: "inc-m", Identity: "svc-ci-deploy", Opened: now, Updated: now,
		Severity: event.SeverityHigh, Rules: []string{"nhi.anomalous_origin"}, Summary: "key used from a new origin"}); err != nil {
		t.Fatal(err)
	}
	c, csrf := f.signIn(t, RoleResponder)
	_, page := f.get(t, c, "/ui/incidents/inc-m")
	if !strings.Contains(page, `id="cut-off"`) || strings.Contains(page, `id="kill-sessions"`) || strings.Contains(page, `id="suspend"`) {
		t.Errorf("a machine's incident should offer to cut off its credentials, not to kill sessions or suspend")
	}
	if !strings.Contains(page, "aws deactivate_key AKIAUC3NQX7DIUFI7WAD") {
		t.Errorf("the page does not say what cutting off does")
	}
	f.resp.calls = nil
	if resp := f.form(t, c, "/ui/incidents/inc-m/cut-off", url.Values{"csrf": {csrf}}, f.srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cut off: %s", resp.Status)
	}
	// Two alerts name one key: it is deactivated once; a user has no role
	// sessions to revoke.
	want := "aws deactivate_key svc-ci-deploy token:responder-token AKIAUC3NQX7DIUFI7WAD user=svc-ci-deploy"
	if strings.Join(f.resp.calls, "|") != want {
		t.Errorf("calls %q, want %q", f.resp.calls, want)
	}
	// A person's incident has no credentials to cut off.
	id := f.incident(t)
	if resp := f.form(t, c, "/ui/incidents/"+id+"/cut-off", url.Values{"csrf": {csrf}}, f.srv.URL); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("cut off on a person's incident: %s", resp.Status)
	}
}

func TestConsoleRefusedSignInIsLoggedWithoutTheToken(t *testing.T) {
	f := setup(t)
	var logs strings.Builder
	var mu sync.Mutex
	s := New(Deps{Tokens: f.st, Audit: f.st, Data: f.st, Ingest: f.ing, Identities: fakeIdentities{}, Live: f.live, Respond: f.resp,
		Log: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), nil))})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	guess := f.tokens[RoleAdmin][:len(f.tokens[RoleAdmin])-4] + "AAAA"
	resp, err := http.PostForm(srv.URL+"/ui/login", url.Values{"token": {guess}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(logs.String(), "console sign-in refused") {
		t.Errorf("%s; log:\n%s", resp.Status, logs.String())
	}
	if strings.Contains(logs.String(), guess[21:]) {
		t.Errorf("the log holds the guessed secret:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
