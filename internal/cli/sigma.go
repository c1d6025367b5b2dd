package cli

import (
	"fmt"

	"github.com/vigil-zt/vigil/internal/detect"
	"github.com/vigil-zt/vigil/internal/detect/sigma"
)

// loadSigma loads the Sigma rules in dir as an engine stage. Rules that
// cannot be used are reported on standard error and skipped; a directory
// where nothing compiles is an error.
func loadSigma(e *env, dir string) (detect.RuleMatcher, error) {
	set, problems := sigma.LoadDir(dir)
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "vigil: sigma: %v\n", p)
	}
	if set == nil || len(set.Rules()) == 0 {
		return nil, fmt.Errorf("--rules %s: no usable Sigma rule", dir)
	}
	fmt.Fprintf(e.stderr, "vigil: loaded %d Sigma rules from %s (%d not usable)\n", len(set.Rules()), dir, len(problems))
	return sigma.NewStage(set), nil
}
