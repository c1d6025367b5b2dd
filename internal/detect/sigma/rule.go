package sigma

import (
	"fmt"
	"strings"
	"time"
)

// Level is a Sigma rule's criticality.
type Level string

// The Sigma levels, lowest first.
const (
	LevelInformational Level = "informational"
	LevelLow           Level = "low"
	LevelMedium        Level = "medium"
	LevelHigh          Level = "high"
	LevelCritical      Level = "critical"
)

// DefaultLevel is the level of a rule that names none.
const DefaultLevel = LevelMedium

func parseLevel(s string) (Level, bool) {
	switch l := Level(strings.ToLower(strings.TrimSpace(s))); l {
	case LevelInformational, LevelLow, LevelMedium, LevelHigh, LevelCritical:
		return l, true
	}
	return "", false
}

// Logsource is a rule's logsource block. Values are lower-cased.
type Logsource struct {
	Category   string `json:"category,omitempty"`
	Product    string `json:"product,omitempty"`
	Service    string `json:"service,omitempty"`
	Definition string `json:"definition,omitempty"`
}

func (l Logsource) String() string {
	var parts []string
	for _, kv := range [][2]string{{"product", l.Product}, {"service", l.Service}, {"category", l.Category}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+": "+kv[1])
		}
	}
	if len(parts) == 0 {
		return "(any)"
	}
	return strings.Join(parts, ", ")
}

// Rule is one compiled Sigma rule: a detection rule (Correlation is nil)
// or a correlation rule.
type Rule struct {
	// ID is the rule's id as written (a UUID in SigmaHQ rules); Name its
	// optional unique name, by which correlation rules may refer to it.
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Title string `json:"title"`
	// AlertID is Vigil's stable alert rule id: "sigma.<id>", or for a rule
	// without an id "sigma.<file path without extension>" (plus "#<n>" for
	// the n-th rule of a multi-document file).
	AlertID     string    `json:"alert_id"`
	Level       Level     `json:"level"`
	Status      string    `json:"status,omitempty"`
	Description string    `json:"description,omitempty"`
	Author      string    `json:"author,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	References  []string  `json:"references,omitempty"`
	Logsource   Logsource `json:"logsource,omitzero"`
	// File and Line say where the rule's document starts.
	File string `json:"file"`
	Line int    `json:"line"`
	// Correlation is set for correlation rules.
	Correlation *Correlation `json:"correlation,omitempty"`
	// Standalone is false for rules that only feed correlation rules (the
	// Sigma default, generate: false): their matches are not alerts.
	Standalone bool `json:"standalone"`

	det     *detection // detection rules
	idx     int        // position in Set.rules
	needs   []string   // fields correlation rules read from this rule's matches
	needIdx []int      // their indices in det.fields
	// feeds lists the correlation rules that refer to this rule.
	feeds []*Rule
}

// IsCorrelation reports whether r is a correlation rule.
func (r *Rule) IsCorrelation() bool { return r.Correlation != nil }

// CorrelationType is one of the four Sigma correlation types.
type CorrelationType string

// Correlation types.
const (
	EventCount      CorrelationType = "event_count"
	ValueCount      CorrelationType = "value_count"
	Temporal        CorrelationType = "temporal"
	TemporalOrdered CorrelationType = "temporal_ordered"
)

// Correlation is the correlation section of a correlation rule.
type Correlation struct {
	Type CorrelationType `json:"type"`
	// Rules are the referenced rules' ids or names, as written.
	Rules   []string      `json:"rules"`
	GroupBy []string      `json:"group_by,omitempty"`
	Window  time.Duration `json:"timespan"`
	// Bounds is the count condition (event_count, value_count, and
	// temporal with a numeric condition).
	Bounds Bounds `json:"condition,omitzero"`
	// Field is what value_count counts distinct values of.
	Field string `json:"field,omitempty"`
	// Aliases maps an alias to the field it stands for in each referenced
	// rule (by rule name).
	Aliases  map[string]map[string]string `json:"aliases,omitempty"`
	Generate bool                         `json:"generate,omitempty"`

	refs []*Rule  // resolved Rules, in order
	expr *condAST // temporal: boolean condition over rule names, when given
	line int      // of the correlation block, for problems
}

// Bounds is a correlation condition: each set bound must hold.
type Bounds struct {
	Gt, Gte, Lt, Lte, Eq *int64
}

// IsZero reports whether no bound is set.
func (b Bounds) IsZero() bool {
	return b.Gt == nil && b.Gte == nil && b.Lt == nil && b.Lte == nil && b.Eq == nil
}

// Holds reports whether n satisfies every bound.
func (b Bounds) Holds(n int64) bool {
	return (b.Gt == nil || n > *b.Gt) && (b.Gte == nil || n >= *b.Gte) &&
		(b.Lt == nil || n < *b.Lt) && (b.Lte == nil || n <= *b.Lte) && (b.Eq == nil || n == *b.Eq)
}

// upper reports whether a bound caps the count from above, so that it can
// only be judged once the window has closed.
func (b Bounds) upper() bool { return b.Lt != nil || b.Lte != nil || b.Eq != nil }

// minimum is the smallest count that can satisfy the lower bounds.
func (b Bounds) minimum() int64 {
	m := int64(1)
	if b.Gt != nil && *b.Gt+1 > m {
		m = *b.Gt + 1
	}
	if b.Gte != nil && *b.Gte > m {
		m = *b.Gte
	}
	return m
}

func (b Bounds) String() string {
	var parts []string
	add := func(op string, v *int64) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s %d", op, *v))
		}
	}
	add(">", b.Gt)
	add(">=", b.Gte)
	add("<", b.Lt)
	add("<=", b.Lte)
	add("=", b.Eq)
	return strings.Join(parts, " and ")
}

// Problem is a rule, or a file, that could not be used, and why.
type Problem struct {
	File string `json:"file"`
	// Line is where the problem is, or where the rule starts; 0 when
	// unknown.
	Line   int    `json:"line,omitempty"`
	RuleID string `json:"rule_id,omitempty"`
	Title  string `json:"title,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	switch {
	case p.RuleID != "" && p.Title != "":
		fmt.Fprintf(&b, "rule %s (%s): ", p.RuleID, p.Title)
	case p.RuleID != "":
		fmt.Fprintf(&b, "rule %s: ", p.RuleID)
	case p.Title != "":
		fmt.Fprintf(&b, "rule %q: ", p.Title)
	}
	b.WriteString(p.Reason)
	return b.String()
}

// lineError is an error at a line of the file being parsed.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func errAt(line int, format string, args ...any) error {
	return &lineError{line: line, msg: fmt.Sprintf(format, args...)}
}
