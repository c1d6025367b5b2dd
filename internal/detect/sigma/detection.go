package sigma

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// detection is a compiled detection section.
type detection struct {
	names  []string     // search identifiers, in the order written
	sels   []*selection // by the same index
	cond   *cond        // the conditions, or-ed
	fields []string     // field names the detection (and correlations) read, by index
}

// selection is an OR of AND-lists: a map is one AND-list, a list of maps
// several, a keyword list one item.
type selection struct {
	alts [][]*item
}

// item is one field of a selection (field|modifiers: values), or a list of
// keywords (field -1).
type item struct {
	field int
	// groups holds one group per value written; a transformation such as
	// windash makes several variants of a value, any of which may match.
	groups [][]*pattern
	all    bool // |all: every value must match
	neq    bool // |neq: the field has a value and none matches
}

type patKind uint8

const (
	patGlob   patKind = iota // strings, and numbers and booleans under string modifiers
	patNum                   // a number, compared numerically
	patBool                  // a boolean
	patNull                  // null: absent or JSON null
	patExists                // |exists: true/false
	patCmp                   // |gt, |gte, |lt, |lte
	patRegex                 // |re
	patCIDR                  // |cidr
	patRef                   // |fieldref
)

type cmpOp uint8

const (
	cmpGt cmpOp = iota + 1
	cmpGte
	cmpLt
	cmpLte
)

// pattern is one compiled value.
type pattern struct {
	kind  patKind
	g     *glob
	num   float64
	text  string // the value as written
	b     bool
	cmp   cmpOp
	re    *regexp.Regexp
	pfx   netip.Prefix
	ref   int       // patRef: field index of the referenced field
	shape globShape // patRef: exact, prefix, suffix or contains
	cased bool
}

// fieldIndex returns the index of a field name, adding it.
func (d *detection) fieldIndex(name string) int {
	for i, f := range d.fields {
		if f == name {
			return i
		}
	}
	d.fields = append(d.fields, name)
	return len(d.fields) - 1
}

// compileDetection compiles a detection mapping.
func compileDetection(n *yaml.Node) (*detection, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n.Line, "detection: want a mapping")
	}
	if err := checkKeys(n); err != nil {
		return nil, err
	}
	d := &detection{}
	var conds []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "condition":
			if v.Kind == yaml.SequenceNode {
				conds = append(conds, v.Content...)
			} else {
				conds = append(conds, v)
			}
			continue
		case "timeframe":
			return nil, errAt(k.Line, "detection.timeframe belongs to the old aggregation syntax; write a correlation rule")
		}
		sel, err := d.compileSelection(k.Value, v)
		if err != nil {
			return nil, err
		}
		d.names = append(d.names, k.Value)
		d.sels = append(d.sels, sel)
	}
	if len(conds) == 0 {
		return nil, errAt(n.Line, "detection: missing condition")
	}
	var all []*cond
	for _, c := range conds {
		s, err := scalarString(c, "condition")
		if err != nil {
			return nil, err
		}
		ast, err := parseCondition(s, c.Line)
		if err != nil {
			return nil, err
		}
		rc, err := ast.resolve(d.names, c.Line)
		if err != nil {
			return nil, err
		}
		all = append(all, rc)
	}
	d.cond = all[0]
	if len(all) > 1 {
		d.cond = &cond{op: opOr, kids: all}
	}
	return d, nil
}

func (d *detection) compileSelection(name string, n *yaml.Node) (*selection, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	s := &selection{}
	switch {
	case isNull(n):
		return nil, errAt(n.Line, "selection %q is empty", name)
	case n.Kind == yaml.MappingNode:
		conj, err := d.compileMap(n)
		if err != nil {
			return nil, err
		}
		s.alts = append(s.alts, conj)
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, errAt(n.Line, "selection %q is an empty list", name)
		}
		maps := 0
		for _, x := range n.Content {
			if x.Kind == yaml.MappingNode {
				maps++
			}
		}
		switch maps {
		case len(n.Content):
			for _, x := range n.Content {
				conj, err := d.compileMap(x)
				if err != nil {
					return nil, err
				}
				s.alts = append(s.alts, conj)
			}
		case 0:
			it, err := d.compileItem("", nil, n.Content, n.Line)
			if err != nil {
				return nil, err
			}
			s.alts = append(s.alts, []*item{it})
		default:
			return nil, errAt(n.Line, "selection %q mixes maps and keywords in one list", name)
		}
	case n.Kind == yaml.ScalarNode:
		it, err := d.compileItem("", nil, []*yaml.Node{n}, n.Line)
		if err != nil {
			return nil, err
		}
		s.alts = append(s.alts, []*item{it})
	default:
		return nil, errAt(n.Line, "selection %q: want a map, a list of maps or a list of keywords", name)
	}
	return s, nil
}

func (d *detection) compileMap(n *yaml.Node) ([]*item, error) {
	if err := checkKeys(n); err != nil {
		return nil, err
	}
	if len(n.Content) == 0 {
		return nil, errAt(n.Line, "empty map in selection")
	}
	var conj []*item
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		parts := strings.Split(k.Value, "|")
		var vals []*yaml.Node
		switch v.Kind {
		case yaml.ScalarNode:
			vals = []*yaml.Node{v}
		case yaml.SequenceNode:
			if len(v.Content) == 0 {
				return nil, errAt(v.Line, "%s: empty list of values", k.Value)
			}
			vals = v.Content
		default:
			return nil, errAt(v.Line, "%s: want a value or a list of values, not a map", k.Value)
		}
		it, err := d.compileItem(strings.TrimSpace(parts[0]), parts[1:], vals, k.Line)
		if err != nil {
			return nil, err
		}
		conj = append(conj, it)
	}
	return conj, nil
}

// modifiers is a parsed modifier chain.
type modifiers struct {
	shape      globShape // shapeExact (none), prefix (startswith), suffix (endswith), contains
	transforms []string  // windash, base64, base64offset, utf16le, utf16be, utf16, in order
	all, cased bool
	re         bool
	reFlags    string
	cidr       bool
	exists     bool
	fieldref   bool
	expand     bool
	neq        bool
	cmp        cmpOp
}

func parseModifiers(field string, mods []string, line int) (modifiers, error) {
	var m modifiers
	setShape := func(s globShape, name string) error {
		if m.shape != shapeExact && m.shape != s {
			return errAt(line, "%s: modifier %s conflicts with another of contains, startswith, endswith", field, name)
		}
		m.shape = s
		return nil
	}
	for _, raw := range mods {
		mod := strings.ToLower(strings.TrimSpace(raw))
		var err error
		switch mod {
		case "contains":
			err = setShape(shapeContains, mod)
		case "startswith":
			err = setShape(shapePrefix, mod)
		case "endswith":
			err = setShape(shapeSuffix, mod)
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "re":
			m.re = true
		case "i", "ignorecase", "m", "multiline", "s", "dotall":
			if !m.re {
				return m, errAt(line, "%s: modifier %s applies to re only", field, mod)
			}
			m.reFlags += mod[:1]
		case "cidr":
			m.cidr = true
		case "exists":
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "expand":
			m.expand = true
		case "neq":
			m.neq = true
		case "gt":
			m.cmp = cmpGt
		case "gte":
			m.cmp = cmpGte
		case "lt":
			m.cmp = cmpLt
		case "lte":
			m.cmp = cmpLte
		case "windash", "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide":
			m.transforms = append(m.transforms, mod)
		case "minute", "hour", "day", "week", "month", "year":
			return m, errAt(line, "%s: time modifier %s is not supported", field, mod)
		case "":
			return m, errAt(line, "%s: empty modifier", field)
		default:
			return m, errAt(line, "%s: unknown modifier %q", field, mod)
		}
		if err != nil {
			return m, err
		}
	}
	special := 0
	for _, b := range []bool{m.re, m.cidr, m.exists, m.cmp != 0} {
		if b {
			special++
		}
	}
	if special > 1 || (special == 1 && (m.shape != shapeExact || len(m.transforms) > 0 || m.fieldref)) {
		return m, errAt(line, "%s: modifiers %s cannot be combined", field, strings.Join(mods, "|"))
	}
	if m.fieldref && len(m.transforms) > 0 {
		return m, errAt(line, "%s: fieldref cannot be combined with %s", field, strings.Join(m.transforms, "|"))
	}
	return m, nil
}

// compileItem compiles one field (or, with field "", a keyword list) and
// its values.
func (d *detection) compileItem(field string, mods []string, vals []*yaml.Node, line int) (*item, error) {
	what := field
	if what == "" {
		what = "keywords"
	}
	m, err := parseModifiers(what, mods, line)
	if err != nil {
		return nil, err
	}
	it := &item{field: -1, all: m.all, neq: m.neq}
	if field != "" {
		it.field = d.fieldIndex(field)
	} else {
		if m.exists || m.fieldref || m.cmp != 0 || m.cidr || m.neq {
			return nil, errAt(line, "keywords: modifiers %s need a field", strings.Join(mods, "|"))
		}
		if m.shape == shapeExact && !m.re {
			m.shape = shapeContains // a keyword is found anywhere in the record
		}
	}
	for _, v := range vals {
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode {
			return nil, errAt(v.Line, "%s: want a plain value, not a %s", what, kindName(v))
		}
		ps, err := d.compileValue(what, m, v)
		if err != nil {
			return nil, err
		}
		it.groups = append(it.groups, ps)
	}
	return it, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// compileValue compiles one value under the modifiers; transformations may
// turn one value into several (or-ed, or and-ed under |all).
func (d *detection) compileValue(what string, m modifiers, v *yaml.Node) ([]*pattern, error) {
	line := v.Line
	tag := v.Tag
	switch {
	case tag == "!!null":
		if m.exists || m.cmp != 0 || m.re || m.cidr || m.fieldref || m.shape != shapeExact || len(m.transforms) > 0 {
			return nil, errAt(line, "%s: null cannot take modifiers", what)
		}
		return []*pattern{{kind: patNull, text: "null"}}, nil
	case m.exists:
		if tag != "!!bool" {
			return nil, errAt(line, "%s: exists wants true or false", what)
		}
		return []*pattern{{kind: patExists, b: parseBool(v.Value), text: v.Value}}, nil
	case m.cmp != 0:
		if tag != "!!int" && tag != "!!float" {
			return nil, errAt(line, "%s: gt, gte, lt and lte want a number", what)
		}
		f, ok := parseNumber(v.Value)
		if !ok {
			return nil, errAt(line, "%s: %q is not a number", what, v.Value)
		}
		return []*pattern{{kind: patCmp, cmp: m.cmp, num: f, text: v.Value}}, nil
	case m.cidr:
		s := strings.TrimSpace(v.Value)
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return nil, errAt(line, "%s: %q is not a CIDR prefix", what, s)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		return []*pattern{{kind: patCIDR, pfx: pfx.Masked(), text: s}}, nil
	case m.re:
		expr := v.Value
		if m.reFlags != "" {
			expr = "(?" + m.reFlags + ")" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, errAt(line, "%s: invalid regular expression: %v", what, err)
		}
		return []*pattern{{kind: patRegex, re: re, text: v.Value}}, nil
	case m.fieldref:
		ref := strings.TrimSpace(v.Value)
		if ref == "" {
			return nil, errAt(line, "%s: fieldref needs a field name", what)
		}
		return []*pattern{{kind: patRef, ref: d.fieldIndex(ref), shape: m.shape, cased: m.cased, text: ref}}, nil
	}
	if m.expand && strings.Contains(unescapePercent(v.Value), "%") {
		return nil, errAt(line, "%s: placeholder %s needs expansion, which Vigil does not do (no placeholder values are configured)", what, v.Value)
	}
	// Numbers and booleans keep their type unless a string modifier applies.
	if m.shape == shapeExact && len(m.transforms) == 0 {
		switch tag {
		case "!!int", "!!float":
			if f, ok := parseNumber(v.Value); ok {
				return []*pattern{{kind: patNum, num: f, text: v.Value}}, nil
			}
		case "!!bool":
			return []*pattern{{kind: patBool, b: parseBool(v.Value), text: v.Value}}, nil
		}
	}
	src := v.Value
	if m.expand {
		src = unescapePercent(src)
	}
	vals := []string{src}
	for _, t := range m.transforms {
		var next []string
		for _, s := range vals {
			out, err := transform(t, s)
			if err != nil {
				return nil, errAt(line, "%s: %v", what, err)
			}
			next = append(next, out...)
		}
		vals = next
		if len(vals) > maxVariants {
			return nil, errAt(line, "%s: modifiers make more than %d variants", what, maxVariants)
		}
	}
	out := make([]*pattern, 0, len(vals))
	for _, s := range vals {
		switch m.shape {
		case shapeContains:
			s = "*" + s + "*"
		case shapePrefix:
			s += "*"
		case shapeSuffix:
			s = "*" + s
		}
		out = append(out, &pattern{kind: patGlob, g: parseGlob(s, m.cased), text: v.Value, cased: m.cased})
	}
	return out, nil
}

const maxVariants = 1024

func unescapePercent(s string) string { return strings.ReplaceAll(s, `\%`, "") }

func parseBool(s string) bool {
	b, _ := strconv.ParseBool(strings.ToLower(s))
	return b
}

// parseNumber reads a YAML number (decimal, 0x hex, 0o octal, floats).
func parseNumber(s string) (float64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return float64(n), true
	}
	if strings.HasPrefix(s, "0o") {
		if n, err := strconv.ParseInt(s[2:], 8, 64); err == nil {
			return float64(n), true
		}
	}
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), true
	case "-.inf":
		return math.Inf(-1), true
	case ".nan":
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// transform applies one value-transforming modifier.
func transform(mod, s string) ([]string, error) {
	if mod == "windash" {
		return windash(s)
	}
	if hasWildcard(s) {
		return nil, fmt.Errorf("%s cannot encode a value with wildcards", mod)
	}
	plain := unescapeGlob(s)
	switch mod {
	case "base64":
		return []string{escapeGlob(base64.StdEncoding.EncodeToString([]byte(plain)))}, nil
	case "base64offset":
		return base64Offsets(plain), nil
	case "utf16le", "wide":
		return []string{escapeGlob(string(utf16Bytes(plain, false, false)))}, nil
	case "utf16be":
		return []string{escapeGlob(string(utf16Bytes(plain, true, false)))}, nil
	case "utf16":
		return []string{escapeGlob(string(utf16Bytes(plain, false, true)))}, nil
	}
	return nil, fmt.Errorf("unknown modifier %s", mod)
}

// base64Offsets returns the three encodings of plain as it would appear at
// each offset inside a longer base64 text, cut to the characters that do
// not depend on the neighbours.
func base64Offsets(plain string) []string {
	start := [3]int{0, 2, 3}
	end := [3]int{0, -3, -2}
	out := make([]string, 0, 3)
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + plain))
		e := len(enc) + end[(len(plain)+i)%3]
		if start[i] > e {
			continue
		}
		out = append(out, escapeGlob(enc[start[i]:e]))
	}
	return out
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// windash returns every variant of s with each dash or slash that starts a
// command-line flag (not after a word character, before one) spelled as
// -, /, en dash, em dash or horizontal bar.
func windash(s string) ([]string, error) {
	dashes := []string{"-", "/", "\u2013", "\u2014", "\u2015"}
	var pos []int
	for i := 0; i < len(s); i++ {
		if (s[i] == '-' || s[i] == '/') && (i == 0 || !isWordByte(s[i-1])) && i+1 < len(s) && isWordByte(s[i+1]) {
			pos = append(pos, i)
		}
	}
	if len(pos) > 4 {
		return nil, fmt.Errorf("windash: %d flags make too many variants", len(pos))
	}
	out := []string{""}
	prev := 0
	for _, p := range pos {
		var next []string
		for _, o := range out {
			for _, d := range dashes {
				next = append(next, o+s[prev:p]+d)
			}
		}
		out = next
		prev = p + 1
	}
	for i := range out {
		out[i] += s[prev:]
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
