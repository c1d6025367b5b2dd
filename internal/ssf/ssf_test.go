package ssf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// Receivers and their bearer tokens in every test.
const (
	tokenA = "token-for-receiver-a-0123456789"
	tokenB = "token-for-receiver-b-0123456789"
)

var testTokens = map[string]string{tokenA: "receiver-a", tokenB: "receiver-b"}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a transmitter served over HTTP, backed by a SQLite store.
type harness struct {
	t     *testing.T
	tr    *Transmitter
	store Store
	srv   *httptest.Server
	cfg   Config
}

// newHarness starts a transmitter; edit adjusts its Config (Issuer, Store,
// Authorize and Insecure are set already).
func newHarness(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, store: openTestStore(t)}
	var handler http.Handler = http.NotFoundHandler()
	var mu sync.Mutex
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hd := handler
		mu.Unlock()
		hd.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	h.cfg = Config{
		Issuer:    h.srv.URL,
		Store:     h.store,
		Authorize: BearerTokens(testTokens),
		Insecure:  true,
		Algorithm: ES256, // fast to generate; the receiver test uses RS256
	}
	if edit != nil {
		edit(&h.cfg)
	}
	h.open()
	mu.Lock()
	handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.tr.Handler().ServeHTTP(w, r) })
	mu.Unlock()
	return h
}

// open (re)creates the transmitter on the harness's store, as a restart would.
func (h *harness) open() {
	h.t.Helper()
	tr, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := tr.Open(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.tr = tr
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d %q: %v", r.status, r.body, err)
	}
}

// do sends a request to the transmitter; body may be a string or a value
// to encode as JSON.
func (h *harness) do(method, path, token string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// createStream creates a stream for receiver A and returns its configuration.
func (h *harness) createStream(req map[string]any) streamJSON {
	h.t.Helper()
	if req == nil {
		req = map[string]any{}
	}
	resp := h.do("POST", "/ssf/stream", tokenA, req)
	if resp.status != http.StatusCreated {
		h.t.Fatalf("create stream: %d %s", resp.status, resp.body)
	}
	var s streamJSON
	resp.json(h.t, &s)
	return s
}

func pollStream(events ...string) map[string]any {
	return map[string]any{"events_requested": events, "delivery": map[string]any{"method": DeliveryPoll}}
}

// pollSETs polls a stream and returns the SETs by jti.
func (h *harness) pollSETs(stream string, req map[string]any) (map[string]string, bool) {
	h.t.Helper()
	if req == nil {
		req = map[string]any{}
	}
	if _, ok := req["returnImmediately"]; !ok {
		req["returnImmediately"] = true
	}
	resp := h.do("POST", "/ssf/poll/"+stream, tokenA, req)
	if resp.status != http.StatusOK {
		h.t.Fatalf("poll: %d %s", resp.status, resp.body)
	}
	var pr pollResponse
	resp.json(h.t, &pr)
	return pr.Sets, pr.MoreAvailable
}

// receiver is an SSF receiver as written from the specifications: it
// discovers the transmitter, fetches its keys, and checks every SET.
type receiver struct {
	t       *testing.T
	issuer  string
	aud     string
	client  *http.Client
	meta    metadata
	keys    jose.JSONWebKeySet
	seenJTI map[string]bool
}

func newReceiver(t *testing.T, h *harness, aud string) *receiver {
	t.Helper()
	r := &receiver{t: t, issuer: h.cfg.Issuer, aud: aud, client: h.srv.Client(), seenJTI: map[string]bool{}}
	r.getJSON(r.issuer+"/.well-known/ssf-configuration", &r.meta)
	if r.meta.Issuer != r.issuer {
		t.Fatalf("metadata issuer %q, want the issuer it was fetched from, %q", r.meta.Issuer, r.issuer)
	}
	r.refreshKeys()
	return r
}

func (r *receiver) getJSON(url string, v any) {
	r.t.Helper()
	resp, err := r.client.Get(url)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		r.t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		r.t.Fatalf("GET %s: %v", url, err)
	}
}

func (r *receiver) refreshKeys() {
	r.t.Helper()
	r.keys = jose.JSONWebKeySet{}
	r.getJSON(r.meta.JWKSURI, &r.keys)
	for _, k := range r.keys.Keys {
		if !k.IsPublic() {
			r.t.Fatalf("JWKS publishes a private key (kid %s)", k.KeyID)
		}
	}
}

// set is a verified SET's claims.
type set struct {
	Iss    string                    `json:"iss"`
	Aud    json.RawMessage           `json:"aud"`
	Iat    int64                     `json:"iat"`
	JTI    string                    `json:"jti"`
	Txn    string                    `json:"txn"`
	SubID  map[string]any            `json:"sub_id"`
	Events map[string]map[string]any `json:"events"`
}

// verify checks one SET the way a receiver must (RFC 8417, SSF 1.0 §4)
// and returns its event type and claims.
func (r *receiver) verify(token string) (string, set, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return "", set{}, err
	}
	if len(jws.Signatures) != 1 {
		return "", set{}, fmt.Errorf("%d signatures", len(jws.Signatures))
	}
	hdr := jws.Signatures[0].Protected
	if typ, _ := hdr.ExtraHeaders["typ"].(string); typ != "secevent+jwt" {
		return "", set{}, fmt.Errorf("typ header %q, want secevent+jwt", typ)
	}
	keys := r.keys.Key(hdr.KeyID)
	if hdr.KeyID == "" || len(keys) != 1 {
		return "", set{}, fmt.Errorf("kid %q is not in the JWKS", hdr.KeyID)
	}
	if keys[0].Algorithm != hdr.Algorithm {
		return "", set{}, fmt.Errorf("alg %s, but the JWKS says %s", hdr.Algorithm, keys[0].Algorithm)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return "", set{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return "", set{}, err
	}
	for _, banned := range []string{"sub", "exp"} {
		if _, ok := raw[banned]; ok {
			return "", set{}, fmt.Errorf("SET has a %q claim", banned)
		}
	}
	var s set
	if err := json.Unmarshal(payload, &s); err != nil {
		return "", set{}, err
	}
	if s.Iss != r.issuer {
		return "", set{}, fmt.Errorf("iss %q, want %q", s.Iss, r.issuer)
	}
	if !sameStringSet(s.Aud, []string{r.aud}) {
		return "", set{}, fmt.Errorf("aud %s, want %q", s.Aud, r.aud)
	}
	if s.JTI == "" || r.seenJTI[s.JTI] {
		return "", set{}, fmt.Errorf("jti %q empty or seen before", s.JTI)
	}
	r.seenJTI[s.JTI] = true
	if s.Iat == 0 || s.SubID == nil {
		return "", set{}, fmt.Errorf("iat or sub_id missing")
	}
	if len(s.Events) != 1 {
		return "", set{}, fmt.Errorf("%d events in one SET, want 1", len(s.Events))
	}
	for typ := range s.Events {
		return typ, s, nil
	}
	panic("unreachable")
}

func TestMetadata(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.do("GET", "/.well-known/ssf-configuration", "", nil)
	if resp.status != 200 || resp.header.Get("Content-Type") != "application/json" {
		t.Fatalf("metadata: %d %s", resp.status, resp.header.Get("Content-Type"))
	}
	var got metadata
	resp.json(t, &got)
	iss := h.srv.URL
	want := metadata{
		SpecVersion:              "1_0",
		Issuer:                   iss,
		JWKSURI:                  iss + "/ssf/jwks.json",
		DeliveryMethodsSupported: []string{"urn:ietf:rfc:8935", "urn:ietf:rfc:8936"},
		ConfigurationEndpoint:    iss + "/ssf/stream",
		StatusEndpoint:           iss + "/ssf/status",
		AddSubjectEndpoint:       iss + "/ssf/subjects:add",
		RemoveSubjectEndpoint:    iss + "/ssf/subjects:remove",
		VerificationEndpoint:     iss + "/ssf/verify",
		AuthorizationSchemes:     []authScheme{{SpecURN: "urn:ietf:rfc:6750"}},
		DefaultSubjects:          "ALL",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("metadata (-want +got):\n%s", d)
	}

	t.Run("issuer with a path", func(t *testing.T) {
		tr, err := New(Config{Issuer: "https://vigil.example.com/tenant1/", Store: openTestStore(t), Authorize: BearerTokens(testTokens)})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		tr.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/ssf-configuration/tenant1", nil))
		var m metadata
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
			t.Fatalf("metadata under the issuer path: %d %s", rec.Code, rec.Body)
		}
		if m.Issuer != "https://vigil.example.com/tenant1" || m.ConfigurationEndpoint != "https://vigil.example.com/tenant1/ssf/stream" {
			t.Errorf("issuer %q, configuration endpoint %q", m.Issuer, m.ConfigurationEndpoint)
		}
		rec = httptest.NewRecorder()
		tr.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/tenant1/ssf/jwks.json", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("JWKS before Open: %d, want 503", rec.Code)
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	store := openTestStore(t)
	auth := BearerTokens(testTokens)
	for name, cfg := range map[string]Config{
		"no store":         {Issuer: "https://x.example", Authorize: auth},
		"no authorizer":    {Issuer: "https://x.example", Store: store},
		"http issuer":      {Issuer: "http://x.example", Store: store, Authorize: auth},
		"relative issuer":  {Issuer: "/x", Store: store, Authorize: auth},
		"issuer query":     {Issuer: "https://x.example/?a=b", Store: store, Authorize: auth},
		"issuer userinfo":  {Issuer: "https://u:p@x.example", Store: store, Authorize: auth},
		"algorithm":        {Issuer: "https://x.example", Store: store, Authorize: auth, Algorithm: "HS256"},
		"default subjects": {Issuer: "https://x.example", Store: store, Authorize: auth, DefaultSubjects: "SOME"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
}

func TestStreamManagement(t *testing.T) {
	h := newHarness(t, nil)

	t.Run("authentication", func(t *testing.T) {
		for _, tc := range []struct{ method, path, token string }{
			{"POST", "/ssf/stream", ""},
			{"GET", "/ssf/stream", ""},
			{"GET", "/ssf/stream", "wrong-token"},
			{"PATCH", "/ssf/stream", tokenA[:len(tokenA)-1]},
			{"PUT", "/ssf/stream", "Bearer"},
			{"DELETE", "/ssf/stream?stream_id=x", ""},
			{"GET", "/ssf/status?stream_id=x", ""},
			{"POST", "/ssf/status", "nope"},
			{"POST", "/ssf/subjects:add", ""},
			{"POST", "/ssf/subjects:remove", ""},
			{"POST", "/ssf/verify", "nope"},
			{"POST", "/ssf/poll/x", ""},
		} {
			resp := h.do(tc.method, tc.path, tc.token, "{}")
			if resp.status != http.StatusUnauthorized || !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with token %q: %d, WWW-Authenticate %q; want 401 with a Bearer challenge",
					tc.method, tc.path, tc.token, resp.status, resp.header.Get("WWW-Authenticate"))
			}
		}
		req, _ := http.NewRequest("GET", h.srv.URL+"/ssf/stream", nil)
		req.Header.Set("Authorization", "Basic "+tokenA)
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("Basic scheme: %d, want 401", resp.StatusCode)
		}
	})

	var push streamJSON
	t.Run("create push", func(t *testing.T) {
		push = h.createStream(map[string]any{
			"events_requested": []string{EventSessionRevoked, "urn:example:unknown", EventRiskLevelChange},
			"delivery": map[string]any{"method": DeliveryPush, "endpoint_url": "https://receiver.example/events",
				"authorization_header": "Bearer receiver-secret-xyz"},
			"description": "Okta",
		})
		want := streamJSON{
			StreamID:                push.StreamID,
			Iss:                     h.srv.URL,
			Aud:                     "receiver-a",
			EventsSupported:         SupportedEvents,
			EventsRequested:         []string{EventSessionRevoked, "urn:example:unknown", EventRiskLevelChange},
			EventsDelivered:         []string{EventSessionRevoked, EventRiskLevelChange},
			Delivery:                deliveryJSON{Method: DeliveryPush, EndpointURL: "https://receiver.example/events"},
			MinVerificationInterval: 5,
			Description:             "Okta",
		}
		if d := cmp.Diff(want, push); d != "" {
			t.Errorf("created stream (-want +got):\n%s", d)
		}
		if len(push.StreamID) < 16 {
			t.Errorf("stream id %q is short", push.StreamID)
		}
		resp := h.do("GET", "/ssf/stream?stream_id="+push.StreamID, tokenA, nil)
		if bytes.Contains(resp.body, []byte("receiver-secret-xyz")) || bytes.Contains(resp.body, []byte("authorization_header")) {
			t.Errorf("stream configuration returns the push authorization header: %s", resp.body)
		}
	})

	var poll streamJSON
	t.Run("create without delivery polls", func(t *testing.T) {
		poll = h.createStream(map[string]any{"events_requested": []string{EventCredentialChange}})
		want := deliveryJSON{Method: DeliveryPoll, EndpointURL: h.srv.URL + "/ssf/poll/" + poll.StreamID}
		if d := cmp.Diff(want, poll.Delivery); d != "" {
			t.Errorf("delivery (-want +got):\n%s", d)
		}
	})

	t.Run("read and list", func(t *testing.T) {
		var one streamJSON
		h.do("GET", "/ssf/stream?stream_id="+push.StreamID, tokenA, nil).json(t, &one)
		if d := cmp.Diff(push, one); d != "" {
			t.Errorf("read (-created +read):\n%s", d)
		}
		var all []streamJSON
		h.do("GET", "/ssf/stream", tokenA, nil).json(t, &all)
		if len(all) != 2 || all[0].StreamID != push.StreamID || all[1].StreamID != poll.StreamID {
			t.Errorf("list = %+v, want the two streams in creation order", all)
		}
		resp := h.do("GET", "/ssf/stream", tokenB, nil)
		if resp.status != 200 || strings.TrimSpace(string(resp.body)) != "[]" {
			t.Errorf("another receiver's list: %d %s, want 200 []", resp.status, resp.body)
		}
		if resp := h.do("GET", "/ssf/stream?stream_id="+push.StreamID, tokenB, nil); resp.status != 404 {
			t.Errorf("another receiver reading the stream: %d, want 404", resp.status)
		}
		if resp := h.do("DELETE", "/ssf/stream?stream_id="+push.StreamID, tokenB, nil); resp.status != 404 {
			t.Errorf("another receiver deleting the stream: %d, want 404", resp.status)
		}
	})

	t.Run("update", func(t *testing.T) {
		var got streamJSON
		resp := h.do("PATCH", "/ssf/stream", tokenA, map[string]any{
			"stream_id":        push.StreamID,
			"iss":              h.srv.URL,
			"aud":              []string{"receiver-a"},
			"events_delivered": push.EventsDelivered, // the value before the update
			"events_requested": []string{EventCredentialChange},
		})
		if resp.status != 200 {
			t.Fatalf("PATCH: %d %s", resp.status, resp.body)
		}
		resp.json(t, &got)
		if d := cmp.Diff([]string{EventCredentialChange}, got.EventsDelivered); d != "" {
			t.Errorf("events_delivered after PATCH (-want +got):\n%s", d)
		}
		if got.Description != "Okta" || got.Delivery.Method != DeliveryPush {
			t.Errorf("PATCH changed what it did not name: %+v", got)
		}
		for name, body := range map[string]map[string]any{
			"aud":              {"stream_id": push.StreamID, "aud": "someone-else"},
			"iss":              {"stream_id": push.StreamID, "iss": "https://evil.example"},
			"events_delivered": {"stream_id": push.StreamID, "events_delivered": []string{EventSessionRevoked}},
			"no stream_id":     {"description": "x"},
		} {
			if resp := h.do("PATCH", "/ssf/stream", tokenA, body); resp.status != 400 {
				t.Errorf("PATCH with wrong %s: %d %s, want 400", name, resp.status, resp.body)
			}
		}
	})

	t.Run("replace", func(t *testing.T) {
		var got streamJSON
		resp := h.do("PUT", "/ssf/stream", tokenA, map[string]any{
			"stream_id":        push.StreamID,
			"events_requested": []string{EventSessionRevoked, EventCredentialChange, EventRiskLevelChange},
		})
		if resp.status != 200 {
			t.Fatalf("PUT: %d %s", resp.status, resp.body)
		}
		resp.json(t, &got)
		if got.Description != "" || got.Delivery.Method != DeliveryPoll || len(got.EventsDelivered) != 3 {
			t.Errorf("PUT should clear the description and delivery (→ poll) and deliver all three: %+v", got)
		}
		stored, err := h.store.Stream(context.Background(), push.StreamID)
		if err != nil || stored.Delivery.AuthorizationHeader != "" {
			t.Errorf("PUT without delivery kept the authorization header (err %v)", err)
		}
	})

	t.Run("status", func(t *testing.T) {
		var st statusJSON
		h.do("GET", "/ssf/status?stream_id="+push.StreamID, tokenA, nil).json(t, &st)
		if st.Status != StatusEnabled {
			t.Errorf("new stream status %q, want enabled", st.Status)
		}
		resp := h.do("POST", "/ssf/status", tokenA, statusJSON{StreamID: push.StreamID, Status: StatusPaused, Reason: "maintenance"})
		resp.json(t, &st)
		if resp.status != 200 || st != (statusJSON{StreamID: push.StreamID, Status: StatusPaused, Reason: "maintenance"}) {
			t.Errorf("update status: %d %+v", resp.status, st)
		}
		h.do("GET", "/ssf/status?stream_id="+push.StreamID, tokenA, nil).json(t, &st)
		if st.Status != StatusPaused || st.Reason != "maintenance" {
			t.Errorf("status after update: %+v", st)
		}
		if resp := h.do("POST", "/ssf/status", tokenA, statusJSON{StreamID: push.StreamID, Status: "sleeping"}); resp.status != 400 {
			t.Errorf("invalid status: %d, want 400", resp.status)
		}
		if resp := h.do("GET", "/ssf/status", tokenA, nil); resp.status != 400 {
			t.Errorf("status without stream_id: %d, want 400", resp.status)
		}
	})

	t.Run("delete", func(t *testing.T) {
		resp := h.do("DELETE", "/ssf/stream?stream_id="+push.StreamID, tokenA, nil)
		if resp.status != 204 || len(resp.body) != 0 {
			t.Fatalf("DELETE: %d %s", resp.status, resp.body)
		}
		if resp := h.do("GET", "/ssf/stream?stream_id="+push.StreamID, tokenA, nil); resp.status != 404 {
			t.Errorf("read after delete: %d, want 404", resp.status)
		}
		if resp := h.do("DELETE", "/ssf/stream?stream_id="+push.StreamID, tokenA, nil); resp.status != 404 {
			t.Errorf("second delete: %d, want 404", resp.status)
		}
	})

	t.Run("stream limit", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.MaxStreamsPerReceiver = 1 })
		h.createStream(nil)
		if resp := h.do("POST", "/ssf/stream", tokenA, "{}"); resp.status != http.StatusConflict {
			t.Errorf("stream over the limit: %d, want 409", resp.status)
		}
	})
}

func TestDeliveredEvents(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requested []string
		want      []string
	}{
		{"none requested", nil, []string{}},
		{"unknown only", []string{"urn:example:x"}, []string{}},
		{"one", []string{EventRiskLevelChange}, []string{EventRiskLevelChange}},
		{"all, supported order", []string{EventRiskLevelChange, EventSessionRevoked, EventCredentialChange},
			[]string{EventSessionRevoked, EventCredentialChange, EventRiskLevelChange}},
		{"repeats and unknown", []string{EventSessionRevoked, "x", EventSessionRevoked, EventVerification},
			[]string{EventSessionRevoked}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, deliveredEvents(tc.requested)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestReceiverVerifiesSETs is the receiver's view: discover, fetch keys,
// and check every SET of each event type.
func TestReceiverVerifiesSETs(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Algorithm = RS256 })
	ctx := context.Background()
	s := h.createStream(pollStream(SupportedEvents...))
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	events := []Event{
		{Type: EventSessionRevoked, Subject: EmailSubject("jane@example.com"), Time: at,
			InitiatingEntity: InitiatedByPolicy, ReasonAdmin: map[string]string{"en": "Vigil: impossible travel"}},
		{Type: EventSessionRevoked, Time: at, Txn: "incident-42", Subject: Subject{Format: FormatComplex,
			User:    &Subject{Format: FormatIssSub, Iss: "https://acme.okta.com", Sub: "00u1"},
			Session: &Subject{Format: FormatOpaque, ID: "sess-77"}}},
		{Type: EventCredentialChange, Subject: EmailSubject("svc@example.com"), Time: at,
			CredentialType: "x509", ChangeType: ChangeRevoke, FriendlyName: "AKIA…1234"},
		{Type: EventRiskLevelChange, Subject: IssSubSubject("https://acme.okta.com", "00u1"), Time: at,
			Principal: "USER", CurrentLevel: RiskHigh, PreviousLevel: RiskLow, RiskReason: "impossible_travel"},
	}
	for _, ev := range events {
		if err := h.tr.Emit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	sets, more := h.pollSETs(s.StreamID, nil)
	if len(sets) != len(events) || more {
		t.Fatalf("polled %d SETs (more %v), want %d", len(sets), more, len(events))
	}

	r := newReceiver(t, h, "receiver-a")
	if len(r.keys.Keys) != 1 || r.keys.Keys[0].Algorithm != RS256 || r.keys.Keys[0].Use != "sig" {
		t.Fatalf("JWKS = %+v, want one RS256 signing key", r.keys.Keys)
	}
	got := map[string][]set{}
	for jti, tok := range sets {
		typ, claims, err := r.verify(tok)
		if err != nil {
			t.Fatalf("SET %s: %v", jti, err)
		}
		if claims.JTI != jti {
			t.Errorf("poll key %s holds SET with jti %s", jti, claims.JTI)
		}
		got[typ] = append(got[typ], claims)
	}
	ts := float64(at.Unix())

	var emailSub, complexSub set
	for _, c := range got[EventSessionRevoked] {
		if c.SubID["format"] == "email" {
			emailSub = c
		} else {
			complexSub = c
		}
	}
	if d := cmp.Diff(map[string]any{"format": "email", "email": "jane@example.com"}, emailSub.SubID); d != "" {
		t.Errorf("email sub_id (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]any{"event_timestamp": ts, "initiating_entity": "policy",
		"reason_admin": map[string]any{"en": "Vigil: impossible travel"}}, emailSub.Events[EventSessionRevoked]); d != "" {
		t.Errorf("session-revoked claims (-want +got):\n%s", d)
	}
	wantComplex := map[string]any{"format": "complex",
		"user":    map[string]any{"format": "iss_sub", "iss": "https://acme.okta.com", "sub": "00u1"},
		"session": map[string]any{"format": "opaque", "id": "sess-77"}}
	if d := cmp.Diff(wantComplex, complexSub.SubID); d != "" {
		t.Errorf("complex sub_id (-want +got):\n%s", d)
	}
	if complexSub.Txn != "incident-42" || emailSub.Txn == "" || emailSub.Txn == complexSub.Txn {
		t.Errorf("txn: %q and %q; want the given one and a fresh one", complexSub.Txn, emailSub.Txn)
	}

	if len(got[EventCredentialChange]) != 1 || len(got[EventRiskLevelChange]) != 1 {
		t.Fatalf("SETs by type: %v", got)
	}
	if d := cmp.Diff(map[string]any{"event_timestamp": ts, "credential_type": "x509", "change_type": "revoke",
		"friendly_name": "AKIA…1234"}, got[EventCredentialChange][0].Events[EventCredentialChange]); d != "" {
		t.Errorf("credential-change claims (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]any{"event_timestamp": ts, "principal": "USER", "current_level": "HIGH",
		"previous_level": "LOW", "risk_reason": "impossible_travel"}, got[EventRiskLevelChange][0].Events[EventRiskLevelChange]); d != "" {
		t.Errorf("risk-level-change claims (-want +got):\n%s", d)
	}

	t.Run("tampered SET fails", func(t *testing.T) {
		for _, tok := range sets {
			parts := strings.Split(tok, ".")
			parts[1] = parts[1][:len(parts[1])-2] + "AA"
			if _, _, err := r.verify(strings.Join(parts, ".")); err == nil {
				t.Error("a SET with a changed payload verified")
			}
			break
		}
	})
}

func TestPushDelivery(t *testing.T) {
	type hit struct {
		contentType, auth, accept string
		token                     string
	}
	var (
		mu    sync.Mutex
		hits  []hit
		plan  = []int{503, 503, 202} // the first SET: two failures, then accepted
		after = map[int]int{3: 400}  // the 4th request: permanent rejection
		done  = make(chan struct{}, 16)
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(hits)
		hits = append(hits, hit{r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("Accept"), string(body)})
		mu.Unlock()
		defer func() { done <- struct{}{} }()
		status := 202
		if n < len(plan) {
			status = plan[n]
		}
		if s, ok := after[n]; ok {
			status = s
		}
		if status == 400 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			io.WriteString(w, `{"err":"invalid_audience","description":"aud is not ours"}`)
			return
		}
		if status == 503 {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
	}))
	defer rcv.Close()

	h := newHarness(t, func(c *Config) {
		c.RetryBase = 5 * time.Millisecond
		c.RetryMax = 20 * time.Millisecond
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := h.createStream(map[string]any{
		"events_requested": []string{EventSessionRevoked},
		"delivery": map[string]any{"method": DeliveryPush, "endpoint_url": rcv.URL + "/caep",
			"authorization_header": "Bearer push-secret"},
	})
	ran := make(chan error, 1)
	go func() { ran <- h.tr.Run(ctx) }()

	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("receiver got %d requests, waited for %d more", len(hits), n)
			}
		}
	}
	if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: EmailSubject("a@example.com")}); err != nil {
		t.Fatal(err)
	}
	wait(3)
	if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: EmailSubject("b@example.com")}); err != nil {
		t.Fatal(err)
	}
	wait(1)
	// Let the transmitter record the rejection.
	deadline := time.Now().Add(5 * time.Second)
	var failed []QueuedSET
	for time.Now().Before(deadline) {
		var err error
		if failed, err = h.tr.Failed(ctx, s.StreamID, 10); err != nil {
			t.Fatal(err)
		}
		if len(failed) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run returned %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 4 {
		t.Fatalf("receiver got %d requests, want 4 (503, 503, 202, 400)", len(hits))
	}
	r := newReceiver(t, h, "receiver-a")
	for i, hit := range hits {
		if hit.contentType != "application/secevent+jwt" || hit.auth != "Bearer push-secret" || hit.accept != "application/json" {
			t.Errorf("push %d: Content-Type %q, Authorization %q, Accept %q", i, hit.contentType, hit.auth, hit.accept)
		}
	}
	if hits[0].token != hits[1].token || hits[1].token != hits[2].token {
		t.Error("retries sent a different SET; a retry must resend the same jti and signature")
	}
	if _, c, err := r.verify(hits[2].token); err != nil || c.SubID["email"] != "a@example.com" {
		t.Errorf("delivered SET: %v %v", c.SubID, err)
	}
	if _, c, err := r.verify(hits[3].token); err != nil || c.SubID["email"] != "b@example.com" {
		t.Errorf("rejected SET: %v %v", c.SubID, err)
	}
	if pending, _ := h.store.Pending(ctx, s.StreamID, 10); len(pending) != 0 {
		t.Errorf("%d SETs still pending; the delivered one is deleted and the rejected one failed", len(pending))
	}
	if len(failed) != 1 || failed[0].Attempts != 1 || !strings.Contains(failed[0].LastError, "invalid_audience: aud is not ours") {
		t.Fatalf("failed SETs = %+v, want the rejected one with the receiver's error", failed)
	}
	if strings.Contains(failed[0].LastError, "push-secret") {
		t.Error("the recorded error holds the authorization header")
	}
}

func TestPushGivesUp(t *testing.T) {
	var n int
	var mu sync.Mutex
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer rcv.Close()
	h := newHarness(t, func(c *Config) {
		c.RetryBase, c.RetryMax, c.MaxAttempts = time.Millisecond, 2*time.Millisecond, 3
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := h.createStream(map[string]any{"events_requested": []string{EventSessionRevoked},
		"delivery": map[string]any{"method": DeliveryPush, "endpoint_url": rcv.URL}})
	go h.tr.Run(ctx)
	if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: OpaqueSubject("u1")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		failed, _ := h.tr.Failed(ctx, s.StreamID, 1)
		if len(failed) == 1 {
			if failed[0].Attempts != 3 || !strings.Contains(failed[0].LastError, "gave up after 3 attempts: receiver answered 502") {
				t.Errorf("failed SET: %+v", failed[0])
			}
			mu.Lock()
			defer mu.Unlock()
			if n != 3 {
				t.Errorf("receiver got %d pushes, want 3", n)
			}
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the SET never failed")
}

func TestBackoff(t *testing.T) {
	tr, err := New(Config{Issuer: "https://x.example", Store: openTestStore(t), Authorize: BearerTokens(nil),
		RetryBase: time.Second, RetryMax: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		attempts   int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, time.Second}, {2, 0, 2 * time.Second}, {4, 0, 8 * time.Second}, {7, 0, time.Minute}, {60, 0, time.Minute},
		{1, 30 * time.Second, 30 * time.Second}, {1, time.Hour, time.Minute},
	} {
		if got := tr.backoff(tc.attempts, tc.retryAfter); got != tc.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tc.attempts, tc.retryAfter, got, tc.want)
		}
	}
}

func TestPollAckAndMoreAvailable(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	s := h.createStream(pollStream(EventSessionRevoked))
	for i := range 5 {
		if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: OpaqueSubject(fmt.Sprint("u", i))}); err != nil {
			t.Fatal(err)
		}
	}
	r := newReceiver(t, h, "receiver-a")
	order := []string{}
	collect := func(sets map[string]string) []string {
		var jtis []string
		for jti, tok := range sets {
			_, c, err := r.verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			jtis = append(jtis, jti)
			order = append(order, c.SubID["id"].(string))
		}
		return jtis
	}

	sets, more := h.pollSETs(s.StreamID, map[string]any{"maxEvents": 2})
	if len(sets) != 2 || !more {
		t.Fatalf("first poll: %d SETs, more %v; want 2 and more", len(sets), more)
	}
	first := collect(sets)
	// Not acknowledged: the same SETs come again.
	again, _ := h.pollSETs(s.StreamID, map[string]any{"maxEvents": 2})
	for jti := range again {
		if _, ok := sets[jti]; !ok {
			t.Errorf("unacknowledged poll returned new SET %s before the old ones", jti)
		}
	}
	sets, more = h.pollSETs(s.StreamID, map[string]any{"maxEvents": 2, "ack": first})
	if len(sets) != 2 || !more {
		t.Fatalf("second poll: %d SETs, more %v", len(sets), more)
	}
	second := collect(sets)
	// Report an error for one of them instead of acknowledging it.
	sets, more = h.pollSETs(s.StreamID, map[string]any{"maxEvents": 10, "ack": second[:1],
		"setErrs": map[string]any{second[1]: map[string]string{"err": "invalid_key", "description": "unknown kid"}}})
	if len(sets) != 1 || more {
		t.Fatalf("third poll: %d SETs, more %v; want the last one", len(sets), more)
	}
	last := collect(sets)
	if d := cmp.Diff([]string{"u0", "u1", "u2", "u3", "u4"}, slices.Sorted(slices.Values(order))); d != "" {
		t.Errorf("subjects seen (-want +got):\n%s", d)
	}
	sets, more = h.pollSETs(s.StreamID, map[string]any{"ack": last})
	if len(sets) != 0 || more {
		t.Errorf("after acknowledging everything: %d SETs, more %v", len(sets), more)
	}
	failed, _ := h.tr.Failed(ctx, s.StreamID, 10)
	if len(failed) != 1 || failed[0].JTI != second[1] || failed[0].LastError != "receiver reported invalid_key: unknown kid" {
		t.Errorf("failed = %+v, want the SET reported in setErrs", failed)
	}

	t.Run("maxEvents 0 only acknowledges", func(t *testing.T) {
		if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: OpaqueSubject("u9")}); err != nil {
			t.Fatal(err)
		}
		if sets, _ := h.pollSETs(s.StreamID, map[string]any{"maxEvents": 0, "returnImmediately": false}); len(sets) != 0 {
			t.Errorf("maxEvents 0 returned %d SETs", len(sets))
		}
	})
}

func TestVerificationEvent(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	h := newHarness(t, func(c *Config) { c.Now = clk.now })
	s := h.createStream(pollStream()) // verification is sent whatever the stream requested
	resp := h.do("POST", "/ssf/verify", tokenA, verifyRequest{StreamID: s.StreamID, State: "c3RhdGUtMQ=="})
	if resp.status != 204 {
		t.Fatalf("verify: %d %s", resp.status, resp.body)
	}
	if resp := h.do("POST", "/ssf/verify", tokenA, verifyRequest{StreamID: s.StreamID}); resp.status != 429 || resp.header.Get("Retry-After") == "" {
		t.Errorf("second verify at once: %d (Retry-After %q), want 429", resp.status, resp.header.Get("Retry-After"))
	}
	clk.advance(6 * time.Second)
	if resp := h.do("POST", "/ssf/verify", tokenA, verifyRequest{StreamID: s.StreamID}); resp.status != 204 {
		t.Errorf("verify after the interval: %d", resp.status)
	}
	if resp := h.do("POST", "/ssf/verify", tokenB, verifyRequest{StreamID: s.StreamID}); resp.status != 404 {
		t.Errorf("verify by another receiver: %d, want 404", resp.status)
	}
	sets, _ := h.pollSETs(s.StreamID, nil)
	if len(sets) != 2 {
		t.Fatalf("%d SETs, want 2 verification events", len(sets))
	}
	r := newReceiver(t, h, "receiver-a")
	states := map[string]bool{}
	for _, tok := range sets {
		typ, c, err := r.verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if typ != EventVerification {
			t.Errorf("event type %s", typ)
		}
		if d := cmp.Diff(map[string]any{"format": "opaque", "id": s.StreamID}, c.SubID); d != "" {
			t.Errorf("verification sub_id (-want +got):\n%s", d)
		}
		state, _ := c.Events[EventVerification]["state"].(string)
		states[state] = true
	}
	if !states["c3RhdGUtMQ=="] || !states[""] {
		t.Errorf("states %v, want the one given and none", states)
	}
}

func TestKeyRotation(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	h := newHarness(t, func(c *Config) { c.Now = clk.now; c.KeyGrace = 24 * time.Hour })
	ctx := context.Background()
	s := h.createStream(pollStream(EventSessionRevoked))
	emit := func(who string) string {
		t.Helper()
		if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: EmailSubject(who)}); err != nil {
			t.Fatal(err)
		}
		sets, _ := h.pollSETs(s.StreamID, nil)
		for jti, tok := range sets {
			h.pollSETs(s.StreamID, map[string]any{"ack": []string{jti}, "maxEvents": 0})
			return tok
		}
		t.Fatal("no SET")
		return ""
	}
	kid := func(tok string) string {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		return jws.Signatures[0].Protected.KeyID
	}

	old := emit("before@example.com")
	// A restart keeps the key: it is persisted, not regenerated.
	h.open()
	sameKey := emit("restart@example.com")
	if kid(old) != kid(sameKey) {
		t.Fatalf("restart changed the signing key: %s → %s", kid(old), kid(sameKey))
	}
	newKID, err := h.tr.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh := emit("after@example.com")
	if kid(fresh) != newKID || newKID == kid(old) {
		t.Fatalf("after rotation SETs are signed by %s, want the new key %s", kid(fresh), newKID)
	}

	clk.advance(23 * time.Hour)
	h.open() // a restart within the grace period keeps both
	r := newReceiver(t, h, "receiver-a")
	if len(r.keys.Keys) != 2 || r.keys.Keys[0].KeyID != newKID {
		t.Fatalf("JWKS during grace has %d keys (first %s), want the new key then the old", len(r.keys.Keys), r.keys.Keys[0].KeyID)
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if _, _, err := r.verify(tok); err != nil {
			t.Errorf("%s SET during grace: %v", name, err)
		}
	}

	clk.advance(2 * time.Hour)
	r.refreshKeys()
	if len(r.keys.Keys) != 1 || r.keys.Keys[0].KeyID != newKID {
		t.Fatalf("JWKS after grace: %+v, want only the new key", r.keys.Keys)
	}
	if _, _, err := r.verify(old); err == nil {
		t.Error("a SET signed by a key past its grace period still verifies")
	}
	h.open()
	keys, _ := h.store.Keys(ctx)
	if len(keys) != 1 {
		t.Errorf("store keeps %d keys after the grace period, want 1", len(keys))
	}
}

func TestSubjects(t *testing.T) {
	ctx := context.Background()
	jane := map[string]any{"format": "email", "email": "jane@example.com"}
	janeSession := Subject{Format: FormatComplex, User: &Subject{Format: FormatEmail, Email: "jane@example.com"},
		Session: &Subject{Format: FormatOpaque, ID: "s1"}}

	t.Run("default ALL: removed subjects are excluded", func(t *testing.T) {
		h := newHarness(t, nil)
		s := h.createStream(pollStream(EventSessionRevoked))
		if resp := h.do("POST", "/ssf/subjects:remove", tokenA, map[string]any{"stream_id": s.StreamID, "subject": jane}); resp.status != 204 {
			t.Fatalf("remove subject: %d %s", resp.status, resp.body)
		}
		for _, sub := range []Subject{EmailSubject("jane@example.com"), janeSession, EmailSubject("joe@example.com")} {
			if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: sub}); err != nil {
				t.Fatal(err)
			}
		}
		sets, _ := h.pollSETs(s.StreamID, nil)
		if len(sets) != 1 {
			t.Fatalf("%d SETs, want only joe's", len(sets))
		}
		if resp := h.do("POST", "/ssf/subjects:add", tokenA, map[string]any{"stream_id": s.StreamID, "subject": jane, "verified": true}); resp.status != 200 {
			t.Fatalf("add subject: %d %s", resp.status, resp.body)
		}
		if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: janeSession}); err != nil {
			t.Fatal(err)
		}
		if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 2 {
			t.Errorf("after re-adding jane: %d SETs, want 2", len(sets))
		}
	})

	t.Run("default NONE: only added subjects", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.DefaultSubjects = SubjectsNone })
		s := h.createStream(pollStream(EventSessionRevoked))
		if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: EmailSubject("jane@example.com")}); err != nil {
			t.Fatal(err)
		}
		if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 0 {
			t.Fatalf("%d SETs before any subject was added", len(sets))
		}
		h.do("POST", "/ssf/subjects:add", tokenA, map[string]any{"stream_id": s.StreamID, "subject": jane})
		for _, sub := range []Subject{janeSession, EmailSubject("joe@example.com")} {
			if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: sub}); err != nil {
				t.Fatal(err)
			}
		}
		if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 1 {
			t.Errorf("%d SETs, want jane's session only", len(sets))
		}
		h.do("POST", "/ssf/subjects:remove", tokenA, map[string]any{"stream_id": s.StreamID, "subject": jane})
		subs, _ := h.store.Subjects(ctx, s.StreamID)
		if len(subs) != 0 {
			t.Errorf("subjects after remove: %q", subs)
		}
	})

	t.Run("bad subjects", func(t *testing.T) {
		h := newHarness(t, nil)
		s := h.createStream(nil)
		for name, sub := range map[string]any{
			"missing":         nil,
			"string":          "jane@example.com",
			"no format":       map[string]any{"email": "x@example.com"},
			"no identifier":   map[string]any{"format": "email"},
			"nested complex":  map[string]any{"format": "complex", "user": map[string]any{"format": "complex", "x": map[string]any{"format": "opaque", "id": "1"}}},
			"complex scalar":  map[string]any{"format": "complex", "user": "jane"},
			"complex no user": map[string]any{"format": "complex"},
		} {
			if resp := h.do("POST", "/ssf/subjects:add", tokenA, map[string]any{"stream_id": s.StreamID, "subject": sub}); resp.status != 400 {
				t.Errorf("%s: %d %s, want 400", name, resp.status, resp.body)
			}
		}
		if resp := h.do("POST", "/ssf/subjects:add", tokenA, map[string]any{"stream_id": "nope", "subject": jane}); resp.status != 404 {
			t.Errorf("unknown stream: %d, want 404", resp.status)
		}
	})
}

func TestSubjectsMatch(t *testing.T) {
	doc := func(s string) subjectDoc {
		var d subjectDoc
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	const (
		email      = `{"format":"email","email":"jdoe@example.com"}`
		otherEmail = `{"format":"email","email":"x@example.com"}`
		tenant     = `{"format":"complex","tenant":{"format":"opaque","id":"t1"}}`
		tenantUser = `{"format":"complex","tenant":{"format":"opaque","id":"t1"},"user":{"format":"email","email":"jdoe@example.com"}}`
		userDevice = `{"format":"complex","user":{"format":"email","email":"jdoe@example.com"},"device":{"format":"ip-addresses","ip-addresses":["10.0.0.1"]}}`
		userOnly   = `{"format":"complex","user":{"format":"email","email":"jdoe@example.com"}}`
		groupA     = `{"format":"complex","user":{"format":"email","email":"jdoe@example.com"},"group":{"format":"did","url":"did:example:1"}}`
		groupB     = `{"format":"complex","user":{"format":"email","email":"jdoe@example.com"},"group":{"format":"did","url":"did:example:2"}}`
		deviceOnly = `{"format":"complex","device":{"format":"opaque","id":"d1"}}`
	)
	for _, tc := range []struct {
		name string
		a, b string
		want bool
	}{
		{"identical simple", email, email, true},
		{"different simple", email, otherEmail, false},
		{"member order is irrelevant", email, `{"email":"jdoe@example.com","format":"email"}`, true},
		{"less restrictive complex (spec example)", tenant, tenantUser, true},
		{"more restrictive complex (spec example)", userDevice, userOnly, true},
		{"conflicting member (spec example)", groupA, groupB, false},
		{"no shared member", tenant, deviceOnly, false},
		{"simple matches a complex member", email, tenantUser, true},
		{"complex matches a simple member", tenantUser, email, true},
		{"simple matches no complex member", otherEmail, tenantUser, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := subjectsMatch(doc(tc.a), doc(tc.b)); got != tc.want {
				t.Errorf("subjectsMatch = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEmitValidation(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	email := EmailSubject("a@example.com")
	for name, ev := range map[string]Event{
		"unknown type":              {Type: "urn:x", Subject: email},
		"verification is not mine":  {Type: EventVerification, Subject: email},
		"no subject":                {Type: EventSessionRevoked},
		"email without @":           {Type: EventSessionRevoked, Subject: EmailSubject("nobody")},
		"iss_sub without sub":       {Type: EventSessionRevoked, Subject: Subject{Format: FormatIssSub, Iss: "https://x"}},
		"empty complex":             {Type: EventSessionRevoked, Subject: Subject{Format: FormatComplex}},
		"complex in complex":        {Type: EventSessionRevoked, Subject: Subject{Format: FormatComplex, User: &Subject{Format: FormatComplex, User: &email}}},
		"bad initiating entity":     {Type: EventSessionRevoked, Subject: email, InitiatingEntity: "robot"},
		"credential without type":   {Type: EventCredentialChange, Subject: email, ChangeType: ChangeRevoke},
		"credential bad change":     {Type: EventCredentialChange, Subject: email, CredentialType: "password", ChangeType: "rotate"},
		"risk without principal":    {Type: EventRiskLevelChange, Subject: email, CurrentLevel: RiskHigh},
		"risk critical is not CAEP": {Type: EventRiskLevelChange, Subject: email, Principal: "USER", CurrentLevel: "CRITICAL"},
		"risk bad previous":         {Type: EventRiskLevelChange, Subject: email, Principal: "USER", CurrentLevel: RiskLow, PreviousLevel: "low"},
		"huge reason":               {Type: EventSessionRevoked, Subject: email, ReasonUser: map[string]string{"en": strings.Repeat("x", 2000)}},
	} {
		if err := h.tr.Emit(ctx, ev); err == nil {
			t.Errorf("%s: Emit accepted it", name)
		}
	}

	s := h.createStream(pollStream(EventRiskLevelChange))
	high, _ := RiskLevel("high")
	critical, _ := RiskLevel("CRITICAL")
	if err := h.tr.Emit(ctx, Event{Type: EventRiskLevelChange, Subject: email, Principal: "USER", CurrentLevel: critical, PreviousLevel: high}); err != nil {
		t.Fatal(err)
	}
	if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 0 {
		t.Errorf("high → critical (HIGH → HIGH) was sent")
	}
	for in, want := range map[string]string{"low": RiskLow, "Medium": RiskMedium, "high": RiskHigh, "critical": RiskHigh} {
		if got, ok := RiskLevel(in); !ok || got != want {
			t.Errorf("RiskLevel(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := RiskLevel("severe"); ok {
		t.Error("RiskLevel accepted severe")
	}

	t.Run("before Open", func(t *testing.T) {
		tr, err := New(h.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: email}); err != ErrNotOpen {
			t.Errorf("Emit before Open = %v, want ErrNotOpen", err)
		}
	})
}

func TestStatusGovernsDelivery(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	s := h.createStream(pollStream(EventSessionRevoked))
	emit := func() {
		t.Helper()
		if err := h.tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: OpaqueSubject("u")}); err != nil {
			t.Fatal(err)
		}
	}
	setStatus := func(status string) {
		t.Helper()
		if resp := h.do("POST", "/ssf/status", tokenA, statusJSON{StreamID: s.StreamID, Status: status}); resp.status != 200 {
			t.Fatalf("set status %s: %d %s", status, resp.status, resp.body)
		}
	}
	setStatus(StatusPaused)
	emit()
	if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 0 {
		t.Errorf("paused stream delivered %d SETs", len(sets))
	}
	setStatus(StatusEnabled)
	if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 1 {
		t.Errorf("re-enabled stream delivered %d SETs, want the one held while paused", len(sets))
	}
	setStatus(StatusDisabled)
	emit()
	if resp := h.do("POST", "/ssf/verify", tokenA, verifyRequest{StreamID: s.StreamID}); resp.status != 400 {
		t.Errorf("verify on a disabled stream: %d, want 400", resp.status)
	}
	setStatus(StatusEnabled)
	if sets, _ := h.pollSETs(s.StreamID, nil); len(sets) != 0 {
		t.Errorf("a disabled stream held %d SETs", len(sets))
	}
}

func TestBadInputs(t *testing.T) {
	h := newHarness(t, nil)
	s := h.createStream(pollStream(EventSessionRevoked))
	big := `{"description":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		contentType  string
		want         int
	}{
		{"oversized create", "POST", "/ssf/stream", big, "", 413},
		{"oversized poll", "POST", "/ssf/poll/" + s.StreamID, `{"ack":["` + strings.Repeat("a", 300<<10) + `"]}`, "", 413},
		{"invalid JSON", "POST", "/ssf/stream", `{"events_requested":`, "", 400},
		{"not an object", "POST", "/ssf/stream", `[1,2]`, "", 400},
		{"trailing data", "POST", "/ssf/stream", `{} {}`, "", 400},
		{"wrong type", "POST", "/ssf/stream", `{"events_requested":"all"}`, "", 400},
		{"unknown method", "POST", "/ssf/stream", `{"delivery":{"method":"urn:example:carrier-pigeon"}}`, "", 400},
		{"push without URL", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935"}}`, "", 400},
		{"push URL with credentials", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://u:p@r.example/"}}`, "", 400},
		{"header injection", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r.example/","authorization_header":"Bearer x\r\nX-Evil: 1"}}`, "", 400},
		{"poll URL not ours", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"https://elsewhere.example/"}}`, "", 400},
		{"not JSON", "POST", "/ssf/stream", `{}`, "text/plain", 415},
		{"unknown stream read", "GET", "/ssf/stream?stream_id=nope", "", "", 404},
		{"unknown stream patch", "PATCH", "/ssf/stream", `{"stream_id":"nope"}`, "", 404},
		{"unknown stream put", "PUT", "/ssf/stream", `{"stream_id":"nope"}`, "", 404},
		{"unknown stream delete", "DELETE", "/ssf/stream?stream_id=nope", "", "", 404},
		{"delete without id", "DELETE", "/ssf/stream", "", "", 400},
		{"unknown stream status", "GET", "/ssf/status?stream_id=nope", "", "", 404},
		{"unknown stream status update", "POST", "/ssf/status", `{"stream_id":"nope","status":"paused"}`, "", 404},
		{"unknown stream verify", "POST", "/ssf/verify", `{"stream_id":"nope"}`, "", 404},
		{"long state", "POST", "/ssf/verify", `{"stream_id":"` + s.StreamID + `","state":"` + strings.Repeat("s", 2000) + `"}`, "", 400},
		{"unknown stream poll", "POST", "/ssf/poll/nope", `{}`, "", 404},
		{"negative maxEvents", "POST", "/ssf/poll/" + s.StreamID, `{"maxEvents":-1}`, "", 400},
		{"huge maxEvents", "POST", "/ssf/poll/" + s.StreamID, `{"maxEvents":100000}`, "", 400},
		{"ack not array", "POST", "/ssf/poll/" + s.StreamID, `{"ack":"jti"}`, "", 400},
		{"invalid poll JSON", "POST", "/ssf/poll/" + s.StreamID, `{"ack":[`, "", 400},
		{"wrong method", "DELETE", "/ssf/status", "", "", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+tokenA)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			if tc.want == 405 {
				return // the mux answers these itself
			}
			var e struct{ Err, Description string }
			if json.Unmarshal(body, &e) != nil || e.Err == "" || e.Description == "" {
				t.Errorf("error body %q is not {err, description}", body)
			}
			if strings.Contains(string(body), "X-Evil") {
				t.Errorf("error quotes the rejected header: %s", body)
			}
		})
	}

	t.Run("push endpoints must be https", func(t *testing.T) {
		_, err := parseStreamRequest([]byte(`{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"http://r.example/"}}`), false)
		if err == nil {
			t.Error("an http push endpoint was accepted without Insecure")
		}
	})
	t.Run("poll on a push stream", func(t *testing.T) {
		p := h.createStream(map[string]any{"delivery": map[string]any{"method": DeliveryPush, "endpoint_url": "https://r.example/"}})
		if resp := h.do("POST", "/ssf/poll/"+p.StreamID, tokenA, "{}"); resp.status != 400 {
			t.Errorf("poll on a push stream: %d, want 400", resp.status)
		}
	})
}

func TestBearerTokens(t *testing.T) {
	auth := BearerTokens(testTokens)
	for header, want := range map[string]string{
		"Bearer " + tokenA:         "receiver-a",
		"bearer " + tokenB:         "receiver-b",
		"Bearer  " + tokenA + "  ": "receiver-a",
		"Bearer " + tokenA + "x":   "",
		"Bearer":                   "",
		"":                         "",
		"Token " + tokenA:          "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		got, err := auth(r)
		if got != want || (want == "" && err == nil) {
			t.Errorf("Authorization %q: %q, %v; want %q", header, got, err, want)
		}
	}
}
