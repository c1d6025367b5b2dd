package cli

import (
	"github.com/vigil-zt/vigil/internal/detect"
)

// loadSigma loads Sigma rules for the engine.
func loadSigma(e *env, dir string) (detect.RuleMatcher, error) {
	return nil, usagef("--rules: Sigma rules are not wired in yet")
}
