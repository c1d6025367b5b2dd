package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

type ingested struct {
	src    event.Source
	origin string
	body   string
}

type fakeIngest struct {
	mu   sync.Mutex
	got  []ingested
	fail bool
}

func (f *fakeIngest) Ingest(_ context.Context, src event.Source, origin string, body io.Reader, _ time.Time) (IngestResult, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return IngestResult{}, err
	}
	if f.fail {
		return IngestResult{}, errors.New("disk on fire at /var/lib/vigil with secret xyz")
	}
	f.mu.Lock()
	f.got = append(f.got, ingested{src, origin, string(b)})
	f.mu.Unlock()
	return IngestResult{Read: 1, Stored: 1}, nil
}

type fakeIdentities struct{}

func (fakeIdentities) Identity(_ context.Context, id string) (IdentityView, error) {
	if id != "dana@example.com" {
		return IdentityView{}, store.ErrNotFound
	}
	return IdentityView{ID: id, Risk: 42, Level: event.SeverityMedium, Sessions: []SessionView{{ID: "102abc"}}}, nil
}

func (f fakeIdentities) Baseline(ctx context.Context, id string) (IdentityView, error) {
	return f.Identity(ctx, id)
}

type fakeRespond struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeRespond) Manual(_ context.Context, req respond.Request) (respond.Action, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := req.Connector + " " + req.Kind + " " + req.Identity + " " + req.DecidedBy
	if req.Target != "" {
		call += " " + req.Target
	}
	for k, v := range req.Params {
		call += " " + k + "=" + v
	}
	f.calls = append(f.calls, call)
	return respond.Action{ID: "act-" + req.Connector, Connector: req.Connector, Kind: req.Kind, Identity: req.Identity, DecidedBy: req.DecidedBy, State: respond.StatePending}, nil
}

func (f *fakeRespond) Connectors() map[string][]string {
	return map[string][]string{"okta": {respond.KindClearSessions, respond.KindSuspendUser}, "google": {respond.KindSignOut}, "slack": {respond.KindNotify},
		"aws": {respond.KindDeactivateKey, respond.KindRevokeRoleTokens}}
}

type fixture struct {
	clock  *clock
	live   *fakeLive
	srv    *httptest.Server
	st     *sqlite.Store
	ing    *fakeIngest
	resp   *fakeRespond
	tokens map[string]string // role → token
}

func setup(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, ing: &fakeIngest{}, resp: &fakeRespond{}, tokens: map[string]string{}, clock: &clock{}, live: &fakeLive{}}
	for _, role := range append(Roles, "revoked") {
		r := role
		if role == "revoked" {
			r = RoleAdmin
		}
		tok, rec, err := NewToken(role+"-token", r, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateToken(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = tok
	}
	st.RevokeToken(context.Background(), "revoked-token")
	s := New(Deps{Tokens: st, Audit: st, Data: st, Ingest: f.ing, Identities: fakeIdentities{}, Live: f.live, Respond: f.resp, Version: "test",
		MaxIngestBytes: 1024, Now: f.clock.now})
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, role, body string, hdr ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, m, resp.Header
}

func TestAuthAndRoles(t *testing.T) {
	f := setup(t)
	tests := []struct {
		name, method, path, role string
		want                     int
	}{
		{"health is public", "GET", "/v1/health", "", 200},
		{"no token", "GET", "/v1/incidents", "", 401},
		{"revoked token", "GET", "/v1/incidents", "revoked", 401},
		{"viewer reads", "GET", "/v1/incidents", RoleViewer, 200},
		{"viewer cannot act", "POST", "/v1/respond/kill-sessions", RoleViewer, 403},
		{"ingest token cannot read", "GET", "/v1/incidents", RoleIngest, 403},
		{"viewer cannot read the audit log", "GET", "/v1/audit", RoleViewer, 403},
		{"admin reads the audit log", "GET", "/v1/audit", RoleAdmin, 200},
		{"metrics need a token", "GET", "/metrics", "", 401},
		{"unknown incident", "GET", "/v1/incidents/nope", RoleViewer, 404},
		{"unknown identity", "GET", "/v1/identities/nobody", RoleViewer, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, hdr := f.do(t, tt.method, tt.path, tt.role, "{}")
			if code != tt.want {
				t.Errorf("%s %s as %q: %d %v, want %d", tt.method, tt.path, tt.role, code, body, tt.want)
			}
			if code == 401 && !strings.Contains(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// A token with the right id and a wrong secret is refused.
	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/incidents", nil)
	id := strings.Split(f.tokens[RoleAdmin], "_")[1]
	req.Header.Set("Authorization", "Bearer vgl_"+id+"_wrongsecret")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != 401 {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestIngest(t *testing.T) {
	f := setup(t)
	code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, `{"uuid":"x"}`)
	if code != 200 || body["stored"] != float64(1) {
		t.Fatalf("ingest: %d %v", code, body)
	}
	if len(f.ing.got) != 1 || f.ing.got[0].src != "okta" || f.ing.got[0].origin != "http:ingest-token" {
		t.Errorf("ingested %+v", f.ing.got)
	}
	f.do(t, "POST", "/v1/ingest/auto", RoleResponder, `{}`)
	if f.ing.got[1].src != "" {
		t.Errorf("auto: %+v", f.ing.got[1])
	}
	if code, body, _ := f.do(t, "POST", "/v1/ingest/splunk", RoleIngest, `{}`); code != 400 || !strings.Contains(body["error"].(string), "unknown source") {
		t.Errorf("unknown source: %d %v", code, body)
	}
	if code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, strings.Repeat("x", 2048)); code != 413 {
		t.Errorf("oversized body: %d %v", code, body)
	}
	code, body, _ = f.do(t, "GET", "/v1/ingest/okta", RoleIngest, "", "X-Okta-Verification-Challenge", "abc123")
	if code != 200 || body["verification"] != "abc123" {
		t.Errorf("okta verification: %d %v", code, body)
	}
	// Unexpected errors are logged with an id; their text is not shown.
	f.ing.fail = true
	code, body, _ = f.do(t, "POST", "/v1/ingest/okta", RoleIngest, `{}`)
	msg, _ := body["error"].(string)
	if code != 500 || !strings.Contains(msg, "error id") || strings.Contains(msg, "secret") || strings.Contains(msg, "/var/lib") {
		t.Errorf("internal error: %d %q", code, msg)
	}
}

func TestIncidentStatusIsAudited(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	inc := &event.Incident{ID: "inc-1", Identity: "dana@example.com", Opened: time.Now(), Updated: time.Now(), Severity: "high"}
	if err := f.st.SaveIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	code, body, _ := f.do(t, "POST", "/v1/incidents/inc-1/status", RoleResponder, `{"status":"false_positive","note":"travel was real"}`)
	if code != 200 {
		t.Fatalf("%d %v", code, body)
	}
	if code, _, _ := f.do(t, "POST", "/v1/incidents/inc-1/status", RoleResponder, `{"status":"maybe"}`); code != 400 {
		t.Errorf("bad status: %d", code)
	}
	if code, _, _ := f.do(t, "POST", "/v1/incidents/inc-1/status", RoleResponder, `{"status":"open","extra":1}`); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
	_, body, _ = f.do(t, "GET", "/v1/incidents/inc-1", RoleViewer, "")
	if body["incident"].(map[string]any)["status"] != "false_positive" {
		t.Errorf("incident %v", body)
	}
	_, body, _ = f.do(t, "GET", "/v1/audit", RoleAdmin, "")
	entries := body["entries"].([]any)
	e := entries[0].(map[string]any)
	if len(entries) != 1 || e["actor"] != "token:responder-token" || e["action"] != "incident.status" || e["target"] != "inc-1" {
		t.Errorf("audit %v", entries)
	}
	_, body, _ = f.do(t, "GET", "/v1/audit/verify", RoleAdmin, "")
	if body["ok"] != true || body["entries"] != float64(1) {
		t.Errorf("verify %v", body)
	}
}

func TestKillSessionsAndActions(t *testing.T) {
	f := setup(t)
	code, body, _ := f.do(t, "POST", "/v1/respond/kill-sessions", RoleResponder, `{"identity":"Dana@Example.com"}`)
	if code != 202 || len(body["actions"].([]any)) != 2 {
		t.Fatalf("%d %v", code, body)
	}
	want := []string{"google sign_out dana@example.com token:responder-token", "okta clear_sessions dana@example.com token:responder-token"}
	if strings.Join(f.resp.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %v", f.resp.calls)
	}
	if code, _, _ := f.do(t, "POST", "/v1/actions", RoleResponder, `{"connector":"okta","kind":"deactivate_key","identity":"x"}`); code != 400 {
		t.Errorf("unsupported action: %d", code)
	}
	if code, _, _ := f.do(t, "POST", "/v1/actions", RoleResponder, `{"connector":"okta","kind":"suspend_user","identity":"eli@example.com"}`); code != 202 {
		t.Errorf("manual action: %d", code)
	}
	_, body, _ = f.do(t, "GET", "/v1/audit", RoleAdmin, "")
	if n := len(body["entries"].([]any)); n != 2 {
		t.Errorf("%d audit entries, want 2", n)
	}
	code, body, _ = f.do(t, "GET", "/v1/identities/dana@example.com/sessions", RoleViewer, "")
	if code != 200 || len(body["sessions"].([]any)) != 1 {
		t.Errorf("sessions %d %v", code, body)
	}
	code, body, _ = f.do(t, "GET", "/metrics", RoleViewer, "")
	if code != 200 || !strings.Contains(body["raw"].(string), "vigil_http_requests_total") {
		t.Errorf("metrics %d", code)
	}
}

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// Log shippers send gzip; a body that inflates past its bound is refused
// (a zip bomb must not exhaust memory), and so are other encodings.
func TestIngestGzip(t *testing.T) {
	f := setup(t) // max_ingest_bytes 1024: decompressed at most 8 KiB
	rec := `{"uuid":"a","published":"2026-03-01T00:00:00Z"}` + "\n"
	code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, gz(t, rec), "Content-Encoding", "gzip")
	if code != 200 || len(f.ing.got) != 1 || f.ing.got[0].body != rec {
		t.Fatalf("gzip: %d %v %+v", code, body, f.ing.got)
	}
	exact := strings.Repeat("x", 8*1024)
	if code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, gz(t, exact), "Content-Encoding", "gzip"); code != 200 {
		t.Errorf("a body inflating to exactly the bound: %d %v", code, body)
	}
	bomb := gz(t, strings.Repeat("x", 8*1024+1))
	if len(bomb) > 1024 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	if code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, bomb, "Content-Encoding", "gzip"); code != 413 || !strings.Contains(fmt.Sprint(body["error"]), "decompressed body over 8192 bytes") {
		t.Errorf("bomb: %d %v", code, body)
	}
	if code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, rec, "Content-Encoding", "gzip"); code != 400 {
		t.Errorf("plain body labelled gzip: %d %v", code, body)
	}
	if code, body, _ := f.do(t, "POST", "/v1/ingest/okta", RoleIngest, rec, "Content-Encoding", "br"); code != 415 {
		t.Errorf("brotli: %d %v", code, body)
	}
}
