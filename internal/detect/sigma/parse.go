package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseFile parses every rule in one Sigma file: one rule, several YAML
// documents (a correlation rule with the rules it refers to), or a rule
// collection using action: global / reset / repeat. Each rule comes back
// with its detection compiled; each document that cannot be used is a
// Problem naming the file and line. name is used in problems and in the
// alert id of rules without an id.
func ParseFile(name string, data []byte) ([]*Rule, []Problem) {
	var (
		rules    []*Rule
		problems []Problem
		global   *yaml.Node
		prev     *yaml.Node
		docIdx   int
	)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := decodeSafely(dec, &n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, msg := yamlErrorLine(err)
			problems = append(problems, Problem{File: name, Line: line, Reason: "invalid YAML: " + msg})
			break // the decoder cannot resume after a syntax error
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		m := n.Content[0]
		if m.Kind == yaml.ScalarNode && m.Tag == "!!null" {
			continue // an empty document ("---" at the end)
		}
		if m.Kind != yaml.MappingNode {
			problems = append(problems, Problem{File: name, Line: m.Line, Reason: "a Sigma document must be a mapping"})
			continue
		}
		if err := checkKeys(m); err != nil {
			problems = append(problems, problemAt(name, err, m.Line))
			continue
		}
		action, err := optString(m, "action")
		if err != nil {
			problems = append(problems, problemAt(name, err, m.Line))
			continue
		}
		body := without(m, "action")
		switch action {
		case "global":
			global = body
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			if prev == nil {
				problems = append(problems, Problem{File: name, Line: m.Line, Reason: "action: repeat with no document before it"})
				continue
			}
			body = merge(prev, body)
		case "":
		default:
			problems = append(problems, Problem{File: name, Line: m.Line, Reason: fmt.Sprintf("unknown action %q (want global, reset or repeat)", action)})
			continue
		}
		if global != nil && action != "repeat" {
			body = merge(global, body)
		}
		prev = body
		r, err := buildRule(name, body, docIdx)
		docIdx++
		if err != nil {
			p := problemAt(name, err, m.Line)
			if r != nil {
				p.RuleID, p.Title = r.ID, r.Title
			}
			problems = append(problems, p)
			continue
		}
		rules = append(rules, r)
	}
	return rules, problems
}

// decodeSafely decodes one document; a panic in the YAML library on
// hostile input becomes an error.
func decodeSafely(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("YAML parser failed: %v", p)
		}
	}()
	return dec.Decode(n)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlErrorLine splits the YAML library's "yaml: line N: msg" errors.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		// The library dates these parser errors by the enclosing block or
		// flow collection, counting lines from 0.
		if strings.HasPrefix(msg, "did not find expected") {
			n++
			msg = fmt.Sprintf("%s (in the collection that starts at line %d)", msg, n)
		}
		return n, msg
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

func problemAt(file string, err error, line int) Problem {
	var le *lineError
	if errors.As(err, &le) {
		return Problem{File: file, Line: le.line, Reason: le.msg}
	}
	return Problem{File: file, Line: line, Reason: err.Error()}
}

// checkKeys rejects a mapping that defines a key twice, which YAML forbids
// and which would silently drop a selection or a field.
func checkKeys(m *yaml.Node) error {
	seen := make(map[string]bool, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode {
			return errAt(k.Line, "mapping keys must be strings")
		}
		if seen[k.Value] {
			return errAt(k.Line, "key %q defined twice", k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// without returns m less key (m itself when key is absent).
func without(m *yaml.Node, key string) *yaml.Node {
	if get(m, key) == nil {
		return m
	}
	out := *m
	out.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &out
}

// merge returns base with over's keys laid on top, mappings merged
// recursively: how rule collections combine a global document with each
// rule.
func merge(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := *over
	out.Content = nil
	done := make(map[string]bool)
	for i := 0; i+1 < len(base.Content); i += 2 {
		k, v := base.Content[i], base.Content[i+1]
		if ov := get(over, k.Value); ov != nil {
			v = merge(v, ov)
		}
		done[k.Value] = true
		out.Content = append(out.Content, k, v)
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		if !done[over.Content[i].Value] {
			out.Content = append(out.Content, over.Content[i], over.Content[i+1])
		}
	}
	if out.Line == 0 {
		out.Line = base.Line
	}
	return &out
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// scalarString returns a scalar's text; any scalar counts (a number used
// as an id or a tag is still text).
func scalarString(n *yaml.Node, what string) (string, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", errAt(n.Line, "%s: want a string", what)
	}
	return n.Value, nil
}

func optString(m *yaml.Node, key string) (string, error) {
	n := get(m, key)
	if isNull(n) {
		return "", nil
	}
	return scalarString(n, key)
}

// stringList reads a list of strings, or a single string as a list of one.
func stringList(n *yaml.Node, what string) ([]string, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		s, err := scalarString(n, what)
		return []string{s}, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n.Line, "%s: want a list of strings", what)
	}
	out := make([]string, 0, len(n.Content))
	for _, x := range n.Content {
		s, err := scalarString(x, what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// buildRule turns one rule document into a Rule. On error the returned
// Rule, if any, carries the id and title for the problem report.
func buildRule(file string, m *yaml.Node, docIdx int) (*Rule, error) {
	r := &Rule{File: file, Line: m.Line, Standalone: true}
	var err error
	if r.Title, err = optString(m, "title"); err != nil {
		return nil, err
	}
	if r.ID, err = optString(m, "id"); err != nil {
		return nil, err
	}
	if r.Title == "" {
		return r, errAt(m.Line, "missing title")
	}
	if r.Name, err = optString(m, "name"); err != nil {
		return r, err
	}
	if r.Status, err = optString(m, "status"); err != nil {
		return r, err
	}
	if r.Description, err = optString(m, "description"); err != nil {
		return r, err
	}
	authors, err := stringList(get(m, "author"), "author")
	if err != nil {
		return r, err
	}
	r.Author = strings.Join(authors, ", ")
	if r.References, err = stringList(get(m, "references"), "references"); err != nil {
		return r, err
	}
	if r.Tags, err = stringList(get(m, "tags"), "tags"); err != nil {
		return r, err
	}
	lvl, err := optString(m, "level")
	if err != nil {
		return r, err
	}
	r.Level = DefaultLevel
	if lvl != "" {
		l, ok := parseLevel(lvl)
		if !ok {
			return r, errAt(get(m, "level").Line, "unknown level %q (want informational, low, medium, high or critical)", lvl)
		}
		r.Level = l
	}
	r.AlertID = alertID(file, r.ID, docIdx)

	det, corr := get(m, "detection"), get(m, "correlation")
	switch {
	case det != nil && corr != nil:
		return r, errAt(m.Line, "a rule has either detection or correlation, not both")
	case corr != nil:
		c, err := parseCorrelation(corr)
		if err != nil {
			return r, err
		}
		gen := get(m, "generate")
		if gen == nil {
			gen = get(corr, "generate")
		}
		if !isNull(gen) {
			if gen.Kind != yaml.ScalarNode || gen.Tag != "!!bool" {
				return r, errAt(gen.Line, "generate: want true or false")
			}
			c.Generate = gen.Value == "true" || gen.Value == "True" || gen.Value == "TRUE"
		}
		r.Correlation = c
	case det != nil:
		ls := get(m, "logsource")
		if isNull(ls) {
			return r, errAt(m.Line, "missing logsource")
		}
		if r.Logsource, err = parseLogsource(ls); err != nil {
			return r, err
		}
		if r.det, err = compileDetection(det); err != nil {
			return r, err
		}
	default:
		return r, errAt(m.Line, "missing detection")
	}
	return r, nil
}

// alertID is Vigil's stable alert rule id for a Sigma rule.
func alertID(file, id string, docIdx int) string {
	if id != "" {
		return "sigma." + id
	}
	base := strings.TrimSuffix(file, path.Ext(file))
	if docIdx > 0 {
		return fmt.Sprintf("sigma.%s#%d", base, docIdx)
	}
	return "sigma." + base
}

func parseLogsource(n *yaml.Node) (Logsource, error) {
	var ls Logsource
	if n.Kind != yaml.MappingNode {
		return ls, errAt(n.Line, "logsource: want a mapping")
	}
	if err := checkKeys(n); err != nil {
		return ls, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if isNull(v) {
			continue
		}
		s, err := scalarString(v, "logsource."+k)
		if err != nil {
			return ls, err
		}
		s = strings.ToLower(strings.TrimSpace(s))
		switch k {
		case "category":
			ls.Category = s
		case "product":
			ls.Product = s
		case "service":
			ls.Service = s
		case "definition":
			ls.Definition = s
		}
	}
	return ls, nil
}

var timespanRE = regexp.MustCompile(`^(\d{1,9})([smhdwMy])$`)

// parseTimespan reads a Sigma timespan: a number and s, m, h, d (also w
// for weeks, M for 30-day months and y for 365-day years).
func parseTimespan(s string) (time.Duration, bool) {
	m := timespanRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{
		"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
		"w": 7 * 24 * time.Hour, "M": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
	}[m[2]]
	if n <= 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

func parseCorrelation(n *yaml.Node) (*Correlation, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n.Line, "correlation: want a mapping")
	}
	if err := checkKeys(n); err != nil {
		return nil, err
	}
	c := &Correlation{line: n.Line}
	typ, err := optString(n, "type")
	if err != nil {
		return nil, err
	}
	switch t := CorrelationType(typ); t {
	case EventCount, ValueCount, Temporal, TemporalOrdered:
		c.Type = t
	case "":
		return nil, errAt(n.Line, "correlation: missing type")
	default:
		return nil, errAt(get(n, "type").Line, "correlation type %q is not supported (supported: event_count, value_count, temporal, temporal_ordered)", typ)
	}
	if c.Rules, err = stringList(get(n, "rules"), "correlation.rules"); err != nil {
		return nil, err
	}
	if len(c.Rules) == 0 {
		return nil, errAt(n.Line, "correlation: missing rules")
	}
	if c.GroupBy, err = stringList(get(n, "group-by"), "correlation.group-by"); err != nil {
		return nil, err
	}
	ts, err := optString(n, "timespan")
	if err != nil {
		return nil, err
	}
	if ts == "" {
		ts, _ = optString(n, "timeframe") // the name before Sigma 2
	}
	if ts == "" {
		return nil, errAt(n.Line, "correlation: missing timespan")
	}
	var ok bool
	if c.Window, ok = parseTimespan(ts); !ok {
		return nil, errAt(n.Line, "correlation: timespan %q is not a number followed by s, m, h or d", ts)
	}
	if al := get(n, "aliases"); !isNull(al) {
		if al.Kind != yaml.MappingNode {
			return nil, errAt(al.Line, "correlation.aliases: want a mapping")
		}
		c.Aliases = make(map[string]map[string]string)
		for i := 0; i+1 < len(al.Content); i += 2 {
			name, per := al.Content[i].Value, al.Content[i+1]
			if per.Kind != yaml.MappingNode {
				return nil, errAt(per.Line, "correlation.aliases.%s: want a mapping of rule name to field", name)
			}
			c.Aliases[name] = make(map[string]string)
			for j := 0; j+1 < len(per.Content); j += 2 {
				f, err := scalarString(per.Content[j+1], "correlation.aliases."+name)
				if err != nil {
					return nil, err
				}
				c.Aliases[name][per.Content[j].Value] = f
			}
		}
	}
	cond := get(n, "condition")
	switch {
	case isNull(cond):
	case cond.Kind == yaml.MappingNode:
		if err := checkKeys(cond); err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(cond.Content); i += 2 {
			k, v := cond.Content[i].Value, cond.Content[i+1]
			if k == "field" {
				fs, err := stringList(v, "correlation.condition.field")
				if err != nil {
					return nil, err
				}
				if len(fs) != 1 {
					return nil, errAt(v.Line, "correlation.condition.field: counting several fields is not supported")
				}
				c.Field = fs[0]
				continue
			}
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				return nil, errAt(v.Line, "correlation.condition.%s: want an integer", k)
			}
			x, err := strconv.ParseInt(v.Value, 0, 64)
			if err != nil {
				return nil, errAt(v.Line, "correlation.condition.%s: %v", k, err)
			}
			switch k {
			case "gt":
				c.Bounds.Gt = &x
			case "gte":
				c.Bounds.Gte = &x
			case "lt":
				c.Bounds.Lt = &x
			case "lte":
				c.Bounds.Lte = &x
			case "eq":
				c.Bounds.Eq = &x
			default:
				return nil, errAt(cond.Content[i].Line, "correlation.condition: unknown operator %q (want gt, gte, lt, lte, eq or field)", k)
			}
		}
	case cond.Kind == yaml.ScalarNode && (c.Type == Temporal || c.Type == TemporalOrdered):
		ast, err := parseCondition(cond.Value, cond.Line)
		if err != nil {
			return nil, err
		}
		c.expr = ast
	default:
		return nil, errAt(cond.Line, "correlation.condition: want a mapping of gt, gte, lt, lte, eq")
	}
	switch c.Type {
	case EventCount, ValueCount:
		if c.Bounds.IsZero() {
			return nil, errAt(n.Line, "correlation: %s needs a condition (gt, gte, lt, lte or eq)", c.Type)
		}
	}
	if c.Type == ValueCount && c.Field == "" {
		return nil, errAt(n.Line, "correlation: value_count needs condition.field")
	}
	return c, nil
}
