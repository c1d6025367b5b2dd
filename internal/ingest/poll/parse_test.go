package poll

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLinkRel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   string
		ok     bool
	}{
		{"okta, one header per link", []string{
			`<https://x.okta.com/api/v1/logs?limit=2&since=2026-01-01T00%3A00%3A00.000Z>; rel="self"`,
			`<https://x.okta.com/api/v1/logs?limit=2&after=1700000000000_2>; rel="next"`,
		}, "https://x.okta.com/api/v1/logs?limit=2&after=1700000000000_2", true},
		{"one header, comma separated", []string{`<https://a/1>; rel="self", <https://a/2>; rel="next"`}, "https://a/2", true},
		{"unquoted rel", []string{`<https://a/2>; rel=next`}, "https://a/2", true},
		{"several rels", []string{`<https://a/2>; rel="last next"`}, "https://a/2", true},
		{"case", []string{`<https://a/2>; REL="Next"`}, "https://a/2", true},
		{"spaces", []string{`  < https://a/2 >  ;  rel = "next"  `}, "https://a/2", true},
		{"comma and semicolon in a quoted title", []string{`<https://a/1>; title="a, b; c"; rel="self", <https://a/2>; rel="next"`}, "https://a/2", true},
		{"escaped quote", []string{`<https://a/1>; title="say \"next\"", <https://a/2>; rel="next"`}, "https://a/2", true},
		{"first rel counts", []string{`<https://a/1>; rel="self"; rel="next"`}, "", false},
		{"no next", []string{`<https://a/1>; rel="self"`}, "", false},
		{"junk before a good link", []string{`garbage, <https://a/2>; rel="next"`}, "https://a/2", true},
		{"junk after the target", []string{`<https://a/1> junk; rel="next", <https://a/2>; rel="next"`}, "https://a/2", true},
		{"unterminated target", []string{`<https://a/1; rel="next"`}, "", false},
		{"unterminated quote", []string{`<https://a/1>; rel="next`}, "", false},
		{"empty", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := linkRel(tc.values, "next")
			if got != tc.want || ok != tc.ok {
				t.Errorf("linkRel = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzLinkRel(f *testing.F) {
	f.Add(`<https://x.okta.com/api/v1/logs?after=1_2>; rel="next"`, "https://x/y")
	f.Add(`<https://a/1>; rel="self", <https://a/2>; rel="next"`, "")
	f.Add(`<a>; title="x\"y, z"; rel=next, <b>`, "b")
	f.Add(`<<>>;;;rel=="next",,,`, "<")
	f.Fuzz(func(t *testing.T, header, target string) {
		got, ok := linkRel([]string{header}, "next")
		if ok && (strings.Contains(got, ">") || got != strings.TrimSpace(got)) {
			t.Fatalf("target %q", got)
		}
		// A well-formed next link is found whatever precedes it in
		// another header value.
		if strings.ContainsAny(target, "<>") || target != strings.TrimSpace(target) || len(header)+len(target) > maxLinkHeader/2 {
			return
		}
		v := "<" + target + `>; rel="next"`
		if _, hit := linkRel([]string{header}, "next"); hit {
			return
		}
		got, ok = linkRel([]string{header, v}, "next")
		if !ok || got != target {
			t.Fatalf("after %q: linkRel = %q, %v; want %q", header, got, ok, target)
		}
	})
}

func TestParseGraphPage(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want graphPage
		bad  bool
	}{
		{"page", `{"@odata.context":"x","value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"https://g/v1.0/auditLogs/signIns?$skiptoken=a"}`,
			graphPage{Value: []json.RawMessage{json.RawMessage(`{"id":"1"}`), json.RawMessage(`{"id":"2"}`)}, NextLink: "https://g/v1.0/auditLogs/signIns?$skiptoken=a"}, false},
		{"last page", `{"value":[]}`, graphPage{Value: []json.RawMessage{}}, false},
		{"no value", `{"error":{"code":"x"}}`, graphPage{}, true},
		{"value not an array", `{"value":{}}`, graphPage{}, true},
		{"not json", `<html>`, graphPage{}, true},
		{"next link not a string", `{"value":[],"@odata.nextLink":1}`, graphPage{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseGraphPage([]byte(tc.body))
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v, want error %v", err, tc.bad)
			}
			if diff := cmp.Diff(tc.want, got); !tc.bad && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseGraphPage(f *testing.F) {
	f.Add([]byte(`{"value":[{"id":"1","createdDateTime":"2026-01-01T00:00:00Z"}],"@odata.nextLink":"https://g/x?$skiptoken=a"}`))
	f.Add([]byte(`{"value":[]}`))
	f.Add([]byte(`{"value":[null,1,"x",[]],"@odata.nextLink":""}`))
	f.Add([]byte(`{"Value":[{}],"@odata.NEXTLINK":"n","value":[{"a":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseGraphPage(body)
		if err != nil {
			return
		}
		for i, v := range p.Value {
			if !json.Valid(v) {
				t.Fatalf("element %d is not JSON: %q", i, v)
			}
		}
		// What was read reads back the same.
		again, err := json.Marshal(map[string]any{"value": p.Value, "@odata.nextLink": p.NextLink})
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseGraphPage(again)
		if err != nil || len(q.Value) != len(p.Value) || q.NextLink != p.NextLink {
			t.Fatalf("round trip: %v, %d elements (want %d), next %q (want %q)", err, len(q.Value), len(p.Value), q.NextLink, p.NextLink)
		}
	})
}

func TestVendorText(t *testing.T) {
	desc := "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the value.\r\nTrace ID: abc\r\nCorrelation ID: def"
	if got, want := firstSentence(desc), "AADSTS7000215: Invalid client secret provided."; got != want {
		t.Errorf("firstSentence = %q, want %q", got, want)
	}
	long := strings.Repeat("é", 300)
	if got := vendorText(long); len(got) > 204 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "é") {
		t.Errorf("vendorText(long) = %q", got)
	}
	if got := vendorText("a\x00b\x1bc"); got != "abc" {
		t.Errorf("control characters kept: %q", got)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: time.Minute}
	for i := range 40 {
		step := min(time.Minute, time.Second<<min(i, 30))
		if d := b.next(); d < step/2 || d > step {
			t.Fatalf("wait %d = %v, want within [%v, %v]", i, d, step/2, step)
		}
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Errorf("after reset: %v", d)
	}
}

func TestStatusErrorClasses(t *testing.T) {
	for status, want := range map[int]error{
		401: ErrAuth, 403: ErrAuth, 400: ErrRejected, 404: ErrRejected, 302: ErrRejected,
		408: nil, 429: nil, 500: nil, 503: nil,
	} {
		err := &StatusError{Op: "GET /x", Status: status}
		if got := err.Unwrap(); got != want {
			t.Errorf("%d unwraps to %v, want %v", status, got, want)
		}
		if permanent(err) != (want != nil) {
			t.Errorf("%d permanent = %v", status, permanent(err))
		}
	}
}
