package sigma

import (
	"os"
	"testing"
)

// TestRuleFiles runs the rule tests under testdata/rules: each rule file
// there exercises one feature, with positive and negative records in its
// .tests.yml.
func TestRuleFiles(t *testing.T) {
	res := RunTests(os.DirFS("testdata/rules"))
	if len(res) < 20 {
		t.Errorf("only %d test cases ran", len(res))
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s:%d %s %s: %s", r.File, r.Line, r.Rule, r.Case, r.Detail)
		}
	}
	for _, c := range Check(os.DirFS("testdata/rules")) {
		if c.Status != StatusCompiled {
			t.Errorf("%s:%d: %s", c.File, c.Line, c.Reason)
		}
	}
}
