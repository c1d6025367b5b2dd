package source

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
)

const oktaA = `{"uuid":"a-1","published":"2026-03-02T09:14:07.311Z","eventType":"user.session.start","actor":{"alternateId":"Dana@Example.com","type":"User"},"outcome":{"result":"SUCCESS"}}`
const oktaB = `{"uuid":"b-2","published":"2026-03-02T09:15:00Z","eventType":"user.session.end","actor":{"alternateId":"eli@example.com","type":"User"}}`

type gotRecord struct {
	Elem    int
	Source  event.Source
	Vendors []string
	Err     string
}

func decodeAll(t *testing.T, s *Set, raw string) []gotRecord {
	t.Helper()
	var out []gotRecord
	for _, r := range s.Decode(nil, []byte(raw)) {
		g := gotRecord{Elem: r.Elem, Source: r.Source}
		for _, e := range r.Events {
			g.Vendors = append(g.Vendors, e.VendorID)
			if string(e.Raw) != string(r.Raw) {
				t.Errorf("event raw %q differs from record raw %q", e.Raw, r.Raw)
			}
		}
		if r.Err != nil {
			g.Err = r.Err.Error()
		}
		out = append(out, g)
	}
	return out
}

func TestSetDecode(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []gotRecord
	}{
		{"single record", oktaA, []gotRecord{{-1, "okta", []string{"a-1"}, ""}}},
		{"array page", "[" + oktaA + "," + oktaB + "]", []gotRecord{{0, "okta", []string{"a-1"}, ""}, {1, "okta", []string{"b-2"}, ""}}},
		{"records envelope", `{"Records":[` + oktaA + `]}`, []gotRecord{{0, "okta", []string{"a-1"}, ""}}},
		{"lowercase records envelope", `{"records":[` + oktaB + `]}`, []gotRecord{{0, "okta", []string{"b-2"}, ""}}},
		{"graph page", `{"@odata.context":"x","value":[` + oktaA + `],"@odata.nextLink":"https://graph.microsoft.com/next"}`, []gotRecord{{0, "okta", []string{"a-1"}, ""}}},
		{"okta event hook", `{"eventType":"com.okta.event_hook","eventId":"e","data":{"events":[` + oktaA + `,` + oktaB + `]}}`, []gotRecord{{0, "okta", []string{"a-1"}, ""}, {1, "okta", []string{"b-2"}, ""}}},
		{"admin sdk response", `{"kind":"admin#reports#activities","items":[` + oktaB + `]}`, []gotRecord{{0, "okta", []string{"b-2"}, ""}}},
		{"empty envelope", `{"Records":[]}`, nil},
		{"scalar element", `[` + oktaA + `,7]`, []gotRecord{{0, "okta", []string{"a-1"}, ""}, {1, "", nil, "record is a JSON number, not an object"}}},
		{"invalid JSON", `{"uuid": "x",}`, []gotRecord{{-1, "", nil, "invalid JSON at line 1, column 14: invalid character '}' looking for beginning of object key string"}}},
		{"unrecognized", `{"hello":"world","n":1}`, []gotRecord{{-1, "", nil, "unrecognized record: no decoder (" + joinSources(Sources()) + ") matches an object with keys hello, n"}}},
		{"decoder error names the field", `{"uuid":"x","eventType":"user.session.start","published":"yesterday"}`, []gotRecord{{-1, "okta", nil, `okta: published: not a timestamp: "yesterday"`}}},
	}
	s, err := NewSet("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, decodeAll(t, s, tt.raw)); diff != "" {
				t.Errorf("records differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetEnvelopeElementRawIsCompact(t *testing.T) {
	s, _ := NewSet("")
	recs := s.Decode(nil, []byte("[\n  {\"uuid\": \"a\", \"published\": \"2026-01-01T00:00:00Z\", \"eventType\": \"user.session.end\"}\n]"))
	if len(recs) != 1 || recs[0].Err != nil {
		t.Fatalf("got %+v", recs)
	}
	if got, want := string(recs[0].Raw), `{"uuid":"a","published":"2026-01-01T00:00:00Z","eventType":"user.session.end"}`; got != want {
		t.Errorf("raw = %s, want %s", got, want)
	}
}

func TestNewSetForced(t *testing.T) {
	if _, err := NewSet("splunk"); !errors.Is(err, ErrUnknownSource) {
		t.Fatalf("NewSet(splunk) = %v, want ErrUnknownSource", err)
	}
	s, err := NewSet(event.SourceOkta)
	if err != nil {
		t.Fatal(err)
	}
	// Forced to Okta, a record Okta does not recognize still fails with
	// Okta's own field error rather than a detection error.
	recs := s.Decode(nil, []byte(`{"published":"2026-01-01T00:00:00Z"}`))
	if len(recs) != 1 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), "eventType") {
		t.Fatalf("got %+v", recs)
	}
}

func TestDecodeAs(t *testing.T) {
	s, _ := NewSet("")
	recs := s.DecodeAs(nil, event.SourceOkta, []byte(oktaA))
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Events[0].Actor.ID != "dana@example.com" {
		t.Fatalf("got %+v", recs)
	}
	recs = s.DecodeAs(nil, "nope", []byte(oktaA))
	if len(recs) != 1 || !errors.Is(recs[0].Err, ErrUnknownSource) {
		t.Fatalf("got %+v", recs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(oktaA))
	f.Add([]byte("[" + oktaA + "," + oktaB + "]"))
	f.Add([]byte(`{"Records":[` + oktaA + `,{}]}`))
	f.Add([]byte(`{"data":{"events":[1,"x",null]}}`))
	s, _ := NewSet("")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range s.Decode(nil, data) {
			if r.Err == nil && len(r.Events) == 0 {
				t.Fatal("record with neither events nor error")
			}
			if r.Err != nil && len(r.Events) > 0 {
				t.Fatal("record with both events and an error")
			}
		}
	})
}
