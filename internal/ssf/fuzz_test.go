package ssf

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"unicode/utf8"
)

// FuzzParseStreamRequest feeds arbitrary bodies to the stream configuration
// parser: it must never panic, and whatever it accepts must be safe to
// store, apply and show back to the receiver.
func FuzzParseStreamRequest(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"events_requested":["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]}`,
		`{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r.example/e","authorization_header":"Bearer x"},"description":"d"}`,
		`{"delivery":{"method":"urn:ietf:rfc:8936"}}`,
		`{"stream_id":"abc","aud":["a","b"],"iss":"https://x","events_delivered":[],"min_verification_interval":5}`,
		`{"delivery":null,"events_requested":null,"description":null}`,
		`{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://u:p@r.example"}}`,
		`{"description":"\xff\xfe"}`,
		`[]`, `null`, `{"a":1} x`, `{"events_requested":[1]}`,
	} {
		f.Add([]byte(seed), false)
	}
	tr, err := New(Config{Issuer: "https://vigil.example", Store: openTestStore(f), Authorize: BearerTokens(nil)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, insecure bool) {
		req, err := parseStreamRequest(body, insecure)
		if err != nil {
			if req != nil {
				t.Fatal("error with a request")
			}
			return
		}
		if req.EventsRequested != nil && len(*req.EventsRequested) > maxEventsRequested {
			t.Fatalf("%d events requested accepted", len(*req.EventsRequested))
		}
		if req.Description != nil && (len(*req.Description) > maxDescription || !utf8.ValidString(*req.Description)) {
			t.Fatalf("description of %d bytes accepted", len(*req.Description))
		}
		if d := req.Delivery; d != nil {
			switch d.Method {
			case DeliveryPush:
				u, err := url.Parse(d.EndpointURL)
				if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || insecure && u.Scheme == "http") {
					t.Fatalf("push endpoint %q accepted", d.EndpointURL)
				}
				for i := 0; i < len(d.AuthorizationHeader); i++ {
					if c := d.AuthorizationHeader[i]; c < 0x20 || c > 0x7e {
						t.Fatalf("authorization header byte %#x accepted", c)
					}
				}
			case DeliveryPoll:
				if d.AuthorizationHeader != "" {
					t.Fatal("poll delivery with an authorization header accepted")
				}
			default:
				t.Fatalf("delivery method %q accepted", d.Method)
			}
		}
		s := Stream{ID: "s1", Audience: []string{"r"}}
		_ = tr.checkTransmitterSupplied(req, s)
		if err := tr.applyStreamRequest(&s, req, false); err != nil {
			return
		}
		if s.Delivery.Method != DeliveryPush && s.Delivery.Method != DeliveryPoll {
			t.Fatalf("applied stream has delivery method %q", s.Delivery.Method)
		}
		out, err := json.Marshal(tr.streamView(s))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("authorization_header")) {
			t.Fatal("stream view shows the authorization header")
		}
	})
}

// FuzzParseSubject feeds arbitrary subjects to the add/remove subject
// parser and to matching.
func FuzzParseSubject(f *testing.F) {
	for _, seed := range []string{
		`{"format":"email","email":"a@example.com"}`,
		`{"format":"complex","user":{"format":"email","email":"a@example.com"},"session":{"format":"opaque","id":"s"}}`,
		`{"format":"complex","user":{"format":"complex","x":{}}}`,
		`{"format":"aliases","identifiers":[{"format":"email","email":"a@b"}]}`,
		`"x"`, `null`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	ref := docOf(Subject{Format: FormatComplex, User: &Subject{Format: FormatEmail, Email: "a@example.com"}})
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, canon, err := parseSubject(raw)
		if err != nil {
			return
		}
		again, canon2, err := parseSubject(canon)
		if err != nil || !bytes.Equal(canon, canon2) {
			t.Fatalf("canonical form %s does not parse to itself (%v)", canon, err)
		}
		if subjectsMatch(doc, ref) != subjectsMatch(ref, doc) || !subjectsMatch(doc, again) {
			t.Fatalf("matching is not symmetric or reflexive for %s", canon)
		}
	})
}
