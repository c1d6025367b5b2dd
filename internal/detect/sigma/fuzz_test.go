package sigma

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// fuzzEvents are events of each log, for fuzzed rules to be evaluated on.
var fuzzEvents = []string{
	`{"uuid":"f","eventType":"user.session.start","displayMessage":"m","actor":{"alternateId":"a@b.c"},"target":[{"displayName":"x"}],"n":5,"b":true,"z":null,"arr":[]}`,
	`{"a":"\u0061","deep":{"x":[1,"two",{"three":3}]}}`,
}

// FuzzParse feeds arbitrary bytes to the rule parser and compiler, and
// evaluates whatever compiles: malformed rules must give problems, never
// a panic.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/rules", "testdata/bad"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("title: x\nlogsource: {product: okta}\ndetection:\n  s: {a|re: '('}\n  condition: s\n"))
	f.Add([]byte("title: x\nlogsource: {product: okta}\ndetection:\n  s: [&a {x: 1}, *a]\n  condition: 1 of s*\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		timer := time.AfterFunc(5*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("slow input:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer timer.Stop()
		rules, problems := ParseFile("fuzz.yml", data)
		for _, p := range problems {
			if p.Reason == "" {
				t.Errorf("problem without a reason: %+v", p)
			}
		}
		s, _ := NewSet(rules)
		m := s.NewMatcher()
		c := s.NewCorrelator()
		for i, raw := range fuzzEvents {
			e := oktaEvent(raw)
			c.Observe(&e, int64(i), m.Match(&e))
		}
		c.Flush()
	})
}

// FuzzCondition feeds arbitrary condition expressions to the parser.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"sel", "a and not (b or c)", "1 of sel_* and not 1 of filter*", "all of them", "((((a))))", "not not not a", "a |", "3 of x*"} {
		f.Add(s)
	}
	names := []string{"a", "b", "c", "sel", "sel_x", "filter_y", "_z"}
	f.Fuzz(func(t *testing.T, src string) {
		ast, err := parseCondition(src, 1)
		if err != nil {
			return
		}
		c, err := ast.resolve(names, 1)
		if err != nil {
			return
		}
		c.eval(func(i int) bool { return i%2 == 0 })
	})
}
