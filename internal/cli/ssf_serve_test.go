package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

// pushReceiver is a Shared Signals receiver written from the specs (SSF
// 1.0, RFC 8935, RFC 8417): it accepts pushed SETs and verifies each one
// against the transmitter's published keys.
type pushReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	auth   string
	mu     sync.Mutex
	tokens []string
	got    chan struct{}
}

func newPushReceiver(t *testing.T) *pushReceiver {
	r := &pushReceiver{t: t, auth: "Bearer receiver-own-secret", got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		if q.Header.Get("Authorization") != r.auth || q.Header.Get("Content-Type") != "application/secevent+jwt" {
			http.Error(w, `{"err":"authentication_failed"}`, http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(q.Body)
		r.mu.Lock()
		r.tokens = append(r.tokens, string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		r.got <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// set is a verified Security Event Token's claims.
type set struct {
	Iss    string                    `json:"iss"`
	Aud    any                       `json:"aud"`
	Jti    string                    `json:"jti"`
	Txn    string                    `json:"txn"`
	Sub    *string                   `json:"sub"`
	Exp    *int64                    `json:"exp"`
	SubID  map[string]any            `json:"sub_id"`
	Events map[string]map[string]any `json:"events"`
}

// verified checks every SET received against the JWKS the transmitter's
// metadata points to.
func (r *pushReceiver) verified(issuer, audience string) []set {
	t := r.t
	t.Helper()
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, issuer+"/.well-known/ssf-configuration", &meta)
	if meta.Issuer != issuer {
		t.Fatalf("metadata issuer %q, want %q", meta.Issuer, issuer)
	}
	var jwks jose.JSONWebKeySet
	getJSON(t, meta.JWKSURI, &jwks)
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []set
	for _, tok := range r.tokens {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil {
			t.Fatalf("SET does not parse: %v", err)
		}
		h := jws.Signatures[0].Header
		if typ, _ := h.ExtraHeaders["typ"].(string); typ != "secevent+jwt" {
			t.Errorf("SET typ %q, want secevent+jwt", typ)
		}
		keys := jwks.Key(h.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %q is not in the published JWKS", h.KeyID)
		}
		payload, err := jws.Verify(keys[0])
		if err != nil {
			t.Fatalf("SET signature does not verify against the JWKS: %v", err)
		}
		var s set
		if err := json.Unmarshal(payload, &s); err != nil {
			t.Fatal(err)
		}
		if s.Iss != issuer || s.Aud != audience || s.Jti == "" || s.Sub != nil || s.Exp != nil || len(s.Events) != 1 {
			t.Errorf("SET claims: %s", payload)
		}
		out = append(out, s)
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeSharedSignals: a receiver registers a push stream with a
// receiver token; a session hijack is streamed in; the receiver gets, as
// SETs it verifies against the published JWKS, the playbook's request to
// end the victim's sessions, the announcement that Vigil ended them in
// Okta, and the victim's risk level change — all about the victim, tied
// by the incident as txn.
func TestServeSharedSignals(t *testing.T) {
	dir := t.TempDir()
	okta := oktaadmin.New(t)
	const victim = "victim00001@example.com"
	okta.AddUser(oktaadmin.User{ID: "00uvictim00001", Login: victim, Sessions: 2})
	db := filepath.Join(dir, "vigil.db")
	ingestTok := newToken(t, db, "pipeline", "ingest")
	recvTok := newToken(t, db, "okta-prod", "receiver")
	viewer := newToken(t, db, "analyst", "viewer")
	admin := newToken(t, db, "root", "admin")

	addr := freeAddr(t)
	issuer := "http://" + addr
	svc := startServiceOn(t, db, addr, fmt.Sprintf(`
server:
  public_url: %s
ssf:
  enabled: true
  allow_http: true
connectors:
%s  - name: receivers
    type: ssf
playbooks:
  - name: stolen-session
    rules: [session.hijack]
    actions: [okta.clear_sessions, receivers.signal]
    mode: enforce
`, issuer, oktaConnector(t, okta.URL())))

	recv := newPushReceiver(t)
	// Only receiver tokens manage streams; receiver tokens do nothing else.
	if code, _ := svc.call(t, "GET", "/ssf/stream", viewer, nil); code != http.StatusUnauthorized {
		t.Errorf("a viewer token on /ssf/stream: %d, want 401", code)
	}
	if code, _ := svc.call(t, "GET", "/v1/incidents", recvTok, nil); code != http.StatusForbidden {
		t.Errorf("a receiver token on /v1/incidents: %d, want 403", code)
	}
	body := fmt.Sprintf(`{"events_requested": [
		"https://schemas.openid.net/secevent/caep/event-type/session-revoked",
		"https://schemas.openid.net/secevent/caep/event-type/risk-level-change"],
		"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": %q, "authorization_header": %q}}`, recv.srv.URL, recv.auth)
	code, resp := svc.call(t, "POST", "/ssf/stream", recvTok, strings.NewReader(body))
	if code != http.StatusCreated {
		t.Fatalf("create stream: %d %s", code, resp)
	}
	if strings.Contains(string(resp), "receiver-own-secret") {
		t.Errorf("the stream's push secret was echoed: %s", resp)
	}

	now := time.Now()
	for _, rec := range [][]byte{
		oktaRecord(victim, "102victim", "dt-home", "198.51.100.7", 3243, "Chrome", now.Add(-time.Minute)),
		oktaRecord(victim, "102victim", "dt-attacker", "45.155.205.233", 49505, "python-requests", now),
	} {
		if code, b := svc.call(t, "POST", "/v1/ingest/okta", ingestTok, bytes.NewReader(rec)); code != 200 {
			t.Fatalf("ingest: %d %s", code, b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := okta.WaitDeliveries(ctx, vendortest.KindClearSessions, "00uvictim00001", 1); err != nil {
		t.Fatalf("no revocation: %v\n%s", err, svc.stderr.String())
	}
	// request, announcement, risk change
	for range 3 {
		select {
		case <-recv.got:
		case <-ctx.Done():
			t.Fatalf("the receiver got %d SETs, want 3\n%s", len(recv.tokens), svc.stderr.String())
		}
	}
	sets := recv.verified(issuer, "okta-prod")
	var asked, announced, risk int
	txns := map[string]bool{}
	for _, s := range sets {
		if s.SubID["format"] != "email" || s.SubID["email"] != victim {
			t.Errorf("SET about %v, want the victim", s.SubID)
		}
		txns[s.Txn] = true
		for typ, ev := range s.Events {
			switch {
			case strings.HasSuffix(typ, "/session-revoked") && ev["initiating_entity"] == "policy":
				reason, _ := ev["reason_admin"].(map[string]any)
				if msg, _ := reason["en"].(string); strings.Contains(msg, "asks receivers") {
					asked++
				} else if strings.Contains(msg, "through okta") {
					announced++
				} else {
					t.Errorf("session-revoked reason: %v", ev)
				}
			case strings.HasSuffix(typ, "/risk-level-change"):
				if ev["principal"] != "USER" || ev["current_level"] == nil {
					t.Errorf("risk-level-change: %v", ev)
				}
				risk++
			default:
				t.Errorf("unexpected event %s: %v", typ, ev)
			}
		}
	}
	if asked != 1 || announced != 1 || risk != 1 {
		t.Errorf("got %d requests, %d announcements and %d risk changes; want one each", asked, announced, risk)
	}
	if len(txns) != 1 || txns[""] {
		t.Errorf("txn values %v: the SETs of one incident share its id", txns)
	}

	// Key rotation goes through the running service and is audited; the
	// new key is published.
	code, resp = svc.call(t, "POST", "/v1/ssf/rotate-key", admin, nil)
	if code != 200 || !strings.Contains(string(resp), `"kid"`) {
		t.Fatalf("rotate: %d %s", code, resp)
	}
	var rotated struct{ Kid string }
	json.Unmarshal(resp, &rotated)
	var jwks jose.JSONWebKeySet
	getJSON(t, issuer+"/ssf/jwks.json", &jwks)
	if len(jwks.Key(rotated.Kid)) != 1 || len(jwks.Keys) != 2 {
		t.Errorf("after rotation the JWKS has %d keys, the new one %v", len(jwks.Keys), len(jwks.Key(rotated.Kid)) == 1)
	}
	code, resp = svc.call(t, "GET", "/v1/audit", admin, nil)
	if code != 200 || !strings.Contains(string(resp), `"ssf.POST stream"`) || !strings.Contains(string(resp), `"ssf.rotate-key"`) {
		t.Errorf("audit log lacks the stream creation or the rotation: %d %s", code, resp)
	}
}
