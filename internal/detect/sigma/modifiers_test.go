package sigma

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
)

// oktaEvent wraps a raw record as an Okta event, as the decoder would.
func oktaEvent(raw string) event.Event {
	v := fastjson.MustParse(raw)
	return event.Event{
		Source: event.SourceOkta, Log: "system", VendorID: string(v.GetStringBytes("uuid")),
		VendorType: string(v.GetStringBytes("eventType")), Message: string(v.GetStringBytes("displayMessage")),
		Raw: []byte(raw),
	}
}

// detectionRule compiles a rule with the given detection block (indented
// by four spaces) on the Okta log.
func detectionRule(t *testing.T, detection string) *Set {
	t.Helper()
	src := "title: t\nid: r\nlogsource:\n    product: okta\n    service: okta\ndetection:\n" + detection
	return mustSet(t, map[string]string{"r.yml": src})
}

func TestModifiers(t *testing.T) {
	const base = `"uuid":"e1","eventType":"user.session.start"`
	tests := []struct {
		name      string
		detection string
		record    string
		want      bool
	}{
		{"exact ignores case", "    sel:\n        eventType: User.Session.START\n", `{` + base + `}`, true},
		{"exact is whole value", "    sel:\n        eventType: user.session\n", `{` + base + `}`, false},
		{"field name any case", "    sel:\n        EVENTTYPE: user.session.start\n", `{` + base + `}`, true},
		{"star", "    sel:\n        eventType: 'user.*.start'\n", `{` + base + `}`, true},
		{"question mark", "    sel:\n        eventType: 'user.sessio?.start'\n", `{` + base + `}`, true},
		{"question mark is one character", "    sel:\n        eventType: 'user.sessi?.start'\n", `{` + base + `}`, false},
		{"escaped star is plain", `    sel:
        x: 'a\*b'
`, `{` + base + `,"x":"a*b"}`, true},
		{"escaped star is not a wildcard", `    sel:
        x: 'a\*b'
`, `{` + base + `,"x":"axxb"}`, false},
		{"backslash before a letter is itself", `    sel:
        x: 'C:\Windows\\*'
`, `{` + base + `,"x":"C:\\Windows\\System32"}`, true},
		{"escaped star after a backslash is plain", `    sel:
        x: 'C:\Windows\*'
`, `{` + base + `,"x":"C:\\Windows\\System32"}`, false},
		{"double backslash is one", `    sel:
        x: 'a\\b'
`, `{` + base + `,"x":"a\\b"}`, true},
		{"contains", "    sel:\n        x|contains: MIDDLE\n", `{` + base + `,"x":"the middle part"}`, true},
		{"startswith", "    sel:\n        x|startswith: the\n", `{` + base + `,"x":"the middle part"}`, true},
		{"startswith misses", "    sel:\n        x|startswith: middle\n", `{` + base + `,"x":"the middle part"}`, false},
		{"endswith", "    sel:\n        x|endswith: PART\n", `{` + base + `,"x":"the middle part"}`, true},
		{"contains all", "    sel:\n        x|contains|all: [the, part]\n", `{` + base + `,"x":"the middle part"}`, true},
		{"contains all needs each", "    sel:\n        x|contains|all: [the, absent]\n", `{` + base + `,"x":"the middle part"}`, false},
		{"list is or", "    sel:\n        x: [a, b, c]\n", `{` + base + `,"x":"b"}`, true},
		{"cased", "    sel:\n        x|cased: Abc\n", `{` + base + `,"x":"abc"}`, false},
		{"cased matches case", "    sel:\n        x|cased: Abc\n", `{` + base + `,"x":"Abc"}`, true},
		{"unicode folds", "    sel:\n        x: ÉCOLE\n", `{` + base + `,"x":"école"}`, true},
		{"kelvin sign is not k", "    sel:\n        x: k\n", `{` + base + `,"x":"\u212a"}`, false},
		{"number equals number", "    sel:\n        n: 50053\n", `{` + base + `,"n":50053}`, true},
		{"number equals numeric string", "    sel:\n        n: 50053\n", `{` + base + `,"n":"50053"}`, true},
		{"number equals float form", "    sel:\n        n: 0\n", `{` + base + `,"n":0.0}`, true},
		{"number differs", "    sel:\n        n: 50053\n", `{` + base + `,"n":"50054"}`, false},
		{"string matches number text", "    sel:\n        n: '50053'\n", `{` + base + `,"n":50053}`, true},
		{"bool true", "    sel:\n        b: true\n", `{` + base + `,"b":true}`, true},
		{"bool true vs string", "    sel:\n        b: true\n", `{` + base + `,"b":"TRUE"}`, true},
		{"bool false vs true", "    sel:\n        b: false\n", `{` + base + `,"b":true}`, false},
		{"string true vs bool", "    sel:\n        b: 'true'\n", `{` + base + `,"b":true}`, true},
		{"string false vs bool", "    sel:\n        b: 'false'\n", `{` + base + `,"b":false}`, true},
		{"null matches absent", "    sel:\n        z: null\n", `{` + base + `}`, true},
		{"null matches null", "    sel:\n        z: null\n", `{` + base + `,"z":null}`, true},
		{"null not a value", "    sel:\n        z: null\n", `{` + base + `,"z":"x"}`, false},
		{"empty string", "    sel:\n        z: ''\n", `{` + base + `,"z":""}`, true},
		{"empty string not absent", "    sel:\n        z: ''\n", `{` + base + `}`, false},
		{"exists true", "    sel:\n        z|exists: true\n", `{` + base + `,"z":null}`, true},
		{"exists false", "    sel:\n        z|exists: false\n", `{` + base + `}`, true},
		{"exists false but present", "    sel:\n        z|exists: false\n", `{` + base + `,"z":1}`, false},
		{"gt", "    sel:\n        n|gt: 10\n", `{` + base + `,"n":11}`, true},
		{"gt equal", "    sel:\n        n|gt: 10\n", `{` + base + `,"n":10}`, false},
		{"gte numeric string", "    sel:\n        n|gte: 10\n", `{` + base + `,"n":"10"}`, true},
		{"lt", "    sel:\n        n|lt: 10\n", `{` + base + `,"n":9.5}`, true},
		{"lte not number", "    sel:\n        n|lte: 10\n", `{` + base + `,"n":"ten"}`, false},
		{"re is case-sensitive", "    sel:\n        x|re: '^Ab+c$'\n", `{` + base + `,"x":"abbc"}`, false},
		{"re matches", "    sel:\n        x|re: '^Ab+c$'\n", `{` + base + `,"x":"Abbc"}`, true},
		{"re i", "    sel:\n        x|re|i: '^ab+c$'\n", `{` + base + `,"x":"ABBC"}`, true},
		{"re m", "    sel:\n        x|re|m: '^two$'\n", `{` + base + `,"x":"one\ntwo\nthree"}`, true},
		{"re without m", "    sel:\n        x|re: '^two$'\n", `{` + base + `,"x":"one\ntwo\nthree"}`, false},
		{"re s", "    sel:\n        x|re|s: 'one.two'\n", `{` + base + `,"x":"one\ntwo"}`, true},
		{"re without s", "    sel:\n        x|re: 'one.two'\n", `{` + base + `,"x":"one\ntwo"}`, false},
		{"cidr v4", "    sel:\n        ip|cidr: 10.0.0.0/8\n", `{` + base + `,"ip":"10.1.2.3"}`, true},
		{"cidr v4 outside", "    sel:\n        ip|cidr: 10.0.0.0/8\n", `{` + base + `,"ip":"11.1.2.3"}`, false},
		{"cidr with port", "    sel:\n        ip|cidr: 192.0.2.0/24\n", `{` + base + `,"ip":"192.0.2.7:443"}`, true},
		{"cidr v6", "    sel:\n        ip|cidr: '2001:db8::/32'\n", `{` + base + `,"ip":"2001:db8::1"}`, true},
		{"cidr list", "    sel:\n        ip|cidr: [10.0.0.0/8, 192.168.0.0/16]\n", `{` + base + `,"ip":"192.168.4.4"}`, true},
		{"cidr not address", "    sel:\n        ip|cidr: 10.0.0.0/8\n", `{` + base + `,"ip":"AWS Internal"}`, false},
		{"base64", "    sel:\n        x|base64: 'secret'\n", `{` + base + `,"x":"c2VjcmV0"}`, true},
		{"base64 contains", "    sel:\n        x|base64|contains: 'secret'\n", `{` + base + `,"x":"xxc2VjcmV0yy"}`, true},
		{"base64offset offset 0", "    sel:\n        x|base64offset|contains: 'password'\n", `{` + base + `,"x":"cGFzc3dvcmQ="}`, true},
		{"base64offset offset 1", "    sel:\n        x|base64offset|contains: 'password'\n", `{` + base + `,"x":"eHBhc3N3b3Jk"}`, true},
		{"base64offset offset 2", "    sel:\n        x|base64offset|contains: 'password'\n", `{` + base + `,"x":"eHhwYXNzd29yZA=="}`, true},
		{"base64offset miss", "    sel:\n        x|base64offset|contains: 'password'\n", `{` + base + `,"x":"c2VjcmV0"}`, false},
		{"utf16le base64", "    sel:\n        x|utf16le|base64: 'ab'\n", `{` + base + `,"x":"YQBiAA=="}`, true},
		{"windash slash", "    sel:\n        x|windash|contains: ' -enc '\n", `{` + base + `,"x":"powershell /enc abc"}`, true},
		{"windash en dash", "    sel:\n        x|windash|contains: ' -enc '\n", `{` + base + `,"x":"powershell \u2013enc abc"}`, true},
		{"windash all", "    sel:\n        x|windash|contains|all: [' -a ', ' -b ']\n", `{` + base + `,"x":"cmd /a /b "}`, true},
		{"windash all needs each", "    sel:\n        x|windash|contains|all: [' -a ', ' -c ']\n", `{` + base + `,"x":"cmd /a /b "}`, false},
		{"fieldref", "    sel:\n        a|fieldref: b\n", `{` + base + `,"a":"Dana","b":"dana"}`, true},
		{"fieldref differs", "    sel:\n        a|fieldref: b\n", `{` + base + `,"a":"dana","b":"sam"}`, false},
		{"fieldref endswith", "    sel:\n        arn|fieldref|endswith: user\n", `{` + base + `,"arn":"arn:aws:iam::1:user/dana","user":"dana"}`, true},
		{"fieldref cased", "    sel:\n        a|fieldref|cased: b\n", `{` + base + `,"a":"Dana","b":"dana"}`, false},
		{"neq", "    sel:\n        x|neq: a\n", `{` + base + `,"x":"b"}`, true},
		{"neq equal", "    sel:\n        x|neq: a\n", `{` + base + `,"x":"A"}`, false},
		{"neq absent", "    sel:\n        x|neq: a\n", `{` + base + `}`, false},
		{"nested array path", "    sel:\n        target.displayName: Okta Admin Console\n", `{` + base + `,"target":[{"displayName":"x"},{"displayName":"Okta Admin Console"}]}`, true},
		{"array index", "    sel:\n        target.1.displayName: x\n", `{` + base + `,"target":[{"displayName":"y"},{"displayName":"x"}]}`, true},
		{"array of strings", "    sel:\n        tags: b\n", `{` + base + `,"tags":["a","b"]}`, true},
		{"empty array is []", "    sel:\n        tags: '[]'\n", `{` + base + `,"tags":[]}`, true},
		{"dotted key", "    sel:\n        a.b.c: 1\n", `{` + base + `,"a":{"b.c":1}}`, true},
		{"object by JSON text", "    sel:\n        obj|contains: '\"role\":\"admin\"'\n", `{` + base + `,"obj":{"role":"admin"}}`, true},
		{"escaped JSON string", "    sel:\n        x|contains: 'say \"hi\"'\n", `{` + base + `,"x":"they say \"hi\" now"}`, true},
		{"unicode escape", "    sel:\n        x: admin\n", `{` + base + `,"x":"\u0061dmin"}`, true},
		{"keywords", "    keywords:\n        - 'suspicious'\n", `{` + base + `,"deep":{"x":["a","very SUSPICIOUS thing"]}}`, true},
		{"keywords miss", "    keywords:\n        - 'suspicious'\n", `{` + base + `,"deep":{"x":["a"]}}`, false},
		{"keywords all", "    keywords:\n        '|all':\n            - alpha\n            - beta\n", `{` + base + `,"a":"alpha","b":"beta"}`, true},
		{"keywords all needs each", "    keywords:\n        '|all':\n            - alpha\n            - gamma\n", `{` + base + `,"a":"alpha","b":"beta"}`, false},
		{"expand without placeholder", "    sel:\n        x|expand: plain\n", `{` + base + `,"x":"plain"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cond := "    condition: sel\n"
			if strings.HasPrefix(tt.detection, "    keywords") {
				cond = "    condition: keywords\n"
			}
			s := detectionRule(t, tt.detection+cond)
			e := oktaEvent(tt.record)
			got := len(s.NewMatcher().Match(&e)) > 0
			if got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	sels := `    sel_a:
        a: 1
    sel_b:
        b: 1
    filter_c:
        c: 1
    _hidden:
        d: 1
`
	tests := []struct {
		cond   string
		record string
		want   bool
	}{
		{"sel_a and sel_b", `{"a":1,"b":1}`, true},
		{"sel_a and sel_b", `{"a":1}`, false},
		{"sel_a or sel_b", `{"b":1}`, true},
		{"sel_a and not filter_c", `{"a":1,"c":1}`, false},
		{"sel_a and not filter_c", `{"a":1}`, true},
		{"not sel_a", `{}`, true},
		{"not not sel_a", `{"a":1}`, true},
		{"sel_a or sel_b and filter_c", `{"a":1}`, true},
		{"(sel_a or sel_b) and filter_c", `{"a":1}`, false},
		{"(sel_a or sel_b) and filter_c", `{"b":1,"c":1}`, true},
		{"1 of sel_*", `{"b":1}`, true},
		{"any of sel_*", `{"b":1}`, true},
		{"all of sel_*", `{"b":1}`, false},
		{"all of sel_*", `{"a":1,"b":1}`, true},
		{"2 of them", `{"a":1,"c":1}`, true},
		{"2 of them", `{"a":1,"d":1}`, false},
		{"all of them", `{"a":1,"b":1,"c":1}`, true},
		{"1 of sel_* and not 1 of filter*", `{"a":1,"c":1}`, false},
		{"1 of sel_* and not 1 of filter*", `{"a":1}`, true},
		{"sel_a AND NOT filter_c", `{"a":1}`, true},
		{"_hidden", `{"d":1}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond+" "+tt.record, func(t *testing.T) {
			s := detectionRule(t, sels+"    condition: "+tt.cond+"\n")
			e := oktaEvent(tt.record)
			got := len(s.NewMatcher().Match(&e)) > 0
			if got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("condition list is or", func(t *testing.T) {
		s := detectionRule(t, sels+"    condition:\n        - sel_a and sel_b\n        - filter_c\n")
		e := oktaEvent(`{"c":1}`)
		if len(s.NewMatcher().Match(&e)) != 1 {
			t.Error("no match")
		}
	})
}
