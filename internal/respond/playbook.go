package respond

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/vigil-zt/vigil/internal/event"
)

// Playbook maps alerts to actions. An alert matches when every condition
// that is set holds.
type Playbook struct {
	Name string
	// Rules the alert's rule must be one of (empty: any). A trailing "*"
	// matches a prefix ("sigma.*").
	Rules []string
	// MinSeverity is the least alert severity.
	MinSeverity event.Severity
	// MinRisk is the least identity risk after the alert (0–100).
	MinRisk float64
	// Kinds the identity must be one of (human, service, admin,
	// vendor_support; empty: any).
	Kinds []event.Kind
	// Steps are the actions, in order.
	Steps []Step
	Mode  string // enforce, recommend or dry-run
}

// Step is one action of a playbook: a connector and what it does.
type Step struct {
	Connector string
	Kind      string
}

// Matches reports whether the playbook applies to an alert.
func (p *Playbook) Matches(a *event.Alert) bool {
	if len(p.Rules) > 0 && !slices.ContainsFunc(p.Rules, func(r string) bool { return ruleMatch(r, a.Rule) }) {
		return false
	}
	if p.MinSeverity != "" && a.Severity.Rank() < p.MinSeverity.Rank() {
		return false
	}
	if a.Risk < p.MinRisk {
		return false
	}
	if len(p.Kinds) > 0 && !slices.Contains(p.Kinds, a.IdentityKind) {
		return false
	}
	return true
}

func ruleMatch(pattern, rule string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(rule, prefix)
	}
	return pattern == rule
}

// ActionID derives an action's id from what it is for, so that the same
// incident never does the same thing to the same target twice.
func ActionID(incident, connector, kind, target string) string {
	h := sha256.New()
	for _, s := range []string{incident, connector, kind, target} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "act-" + hex.EncodeToString(h.Sum(nil)[:10])
}
