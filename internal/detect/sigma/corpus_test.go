package sigma

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir is the shared SigmaHQ corpus, beside the repository.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "corpus", "sigma")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	return dir
}

// TestCorpusCompiles loads the SigmaHQ rules and requires at least 95% of
// them to compile, listing those that do not.
func TestCorpusCompiles(t *testing.T) {
	dir := corpusDir(t)
	set, problems := LoadDir(dir)
	total := len(set.Rules()) + len(problems)
	for _, p := range problems {
		t.Logf("unsupported: %v", p)
	}
	pct := 100 * float64(len(set.Rules())) / float64(total)
	t.Logf("%d of %d rules compile (%.1f%%)", len(set.Rules()), total, pct)
	if total < 150 {
		t.Errorf("only %d rules found", total)
	}
	if pct < 95 {
		t.Errorf("%.1f%% of the corpus compiles, want at least 95%%", pct)
	}
}
