package sigma

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is sourcetest's -update flag (one flag per test binary).
func update() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestBadRules compiles each rule file under testdata/bad, all of which
// are unusable, and compares the problems with the golden file beside it.
func TestBadRules(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad rules: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rules, problems := ParseFile(filepath.Base(f), data)
			_, more := NewSet(rules)
			problems = append(problems, more...)
			if len(problems) == 0 {
				t.Fatal("no problem reported")
			}
			var b strings.Builder
			for _, p := range problems {
				b.WriteString(p.Error())
				b.WriteByte('\n')
			}
			golden := strings.TrimSuffix(f, ".yml") + ".golden"
			if update() {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRuleMetadata(t *testing.T) {
	src := `title: Meta
id: 0b1c2d3e-0000-4000-8000-000000000001
name: meta_rule
status: test
description: d
author: [a, b]
references: [https://example.com]
tags: [attack.t1078, attack.initial-access]
level: HIGH
logsource:
    product: Okta
    service: okta
detection:
    sel:
        eventType: x
    condition: sel
---
title: No id
logsource: {product: okta}
detection:
    sel: {eventType: y}
    condition: sel
`
	rules, ps := ParseFile("dir/meta.yml", []byte(src))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	r := rules[0]
	got := []any{r.Title, r.ID, r.Name, r.Status, r.Author, r.Tags, r.Level, r.Logsource.Product, r.AlertID, r.Line, rules[1].AlertID, rules[1].Level, rules[1].Line}
	want := []any{"Meta", "0b1c2d3e-0000-4000-8000-000000000001", "meta_rule", "test", "a, b",
		[]string{"attack.t1078", "attack.initial-access"}, LevelHigh, "okta",
		"sigma.0b1c2d3e-0000-4000-8000-000000000001", 1, "sigma.dir/meta#1", DefaultLevel, 18}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCollectionRepeat(t *testing.T) {
	src := `title: base
id: r1
logsource: {product: okta, service: okta}
detection:
    sel: {eventType: a}
    condition: sel
---
action: repeat
title: repeated
id: r2
detection:
    sel: {eventType: b}
`
	s := mustSet(t, map[string]string{"c.yml": src})
	m := s.NewMatcher()
	for _, c := range []struct{ typ, want string }{{"a", "r1"}, {"b", "r2"}} {
		e := oktaEvent(`{"eventType":"` + c.typ + `"}`)
		if got := matchIDs(m, &e); !cmp.Equal(got, []string{c.want}) {
			t.Errorf("eventType %s: got %v, want [%s]", c.typ, got, c.want)
		}
	}
}

func TestLoadSkipsTestFiles(t *testing.T) {
	s, ps := LoadDir("testdata/rules")
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	for _, r := range s.Rules() {
		if IsTestFile(r.File) {
			t.Errorf("loaded a test file as a rule: %s", r.File)
		}
	}
	if s.Rule("okta_login_failure") == nil || s.Rule("sigma.6f1c1d2e-0000-4000-8000-000000000001") == nil {
		t.Error("Rule lookup by name or alert id failed")
	}
}
