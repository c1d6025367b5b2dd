package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
)

// CheckResult is one rule (or one unusable file or document) as
// "vigil rules check" reports it.
type CheckResult struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	ID      string `json:"id,omitempty"`
	Title   string `json:"title,omitempty"`
	AlertID string `json:"alert_id,omitempty"`
	// Status is "compiled" or "unsupported".
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	Level  Level  `json:"level,omitempty"`
	// Kind is "detection" or "correlation".
	Kind string `json:"kind,omitempty"`
	// Logs are the Vigil logs a detection rule applies to.
	Logs []string `json:"logs,omitempty"`
	// Standalone is false for rules that only feed correlations.
	Standalone bool `json:"standalone,omitempty"`
}

// Status values of CheckResult.
const (
	StatusCompiled    = "compiled"
	StatusUnsupported = "unsupported"
)

// Check loads every rule under fsys and reports each as compiled or
// unsupported with the reason, in file and line order.
func Check(fsys fs.FS) []CheckResult {
	set, problems := Load(fsys)
	var out []CheckResult
	for _, r := range set.Rules() {
		cr := CheckResult{File: r.File, Line: r.Line, ID: r.ID, Title: r.Title, AlertID: r.AlertID,
			Status: StatusCompiled, Level: r.Level, Kind: "detection", Standalone: r.Standalone}
		if r.Correlation != nil {
			cr.Kind = "correlation"
		} else {
			cr.Logs = logsFor(r.Logsource)
		}
		out = append(out, cr)
	}
	for _, p := range problems {
		out = append(out, CheckResult{File: p.File, Line: p.Line, ID: p.RuleID, Title: p.Title,
			Status: StatusUnsupported, Reason: p.Reason})
	}
	slices.SortStableFunc(out, func(a, b CheckResult) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return out
}

// logsFor names the Vigil logs a logsource selects.
func logsFor(ls Logsource) []string {
	var out []string
	for _, l := range staticLogs {
		if l.matches(ls) {
			out = append(out, l.name)
		}
	}
	if ocsfLog.matches(ls) {
		out = append(out, ocsfLog.name)
	}
	if (ls.Product == "" || ls.Product == "gcp") && ls.Category == "" {
		switch {
		case strings.HasPrefix(ls.Service, "google_workspace."):
			out = append(out, "Google Workspace "+strings.TrimPrefix(ls.Service, "google_workspace."))
		case ls.Service == "":
			out = append(out, "Google Workspace (every application)")
		}
	}
	return out
}

// TestResult is one case of a rule test.
type TestResult struct {
	File string `json:"file"` // the .tests.yml file
	Line int    `json:"line,omitempty"`
	// Rule is the rule under test (its alert id), when known.
	Rule  string `json:"rule,omitempty"`
	Title string `json:"title,omitempty"`
	// Case names the case: "match[0]", "no_match[1]", "streams[0] name".
	Case   string `json:"case"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail,omitempty"`
}

// RunTests loads the rules under fsys and runs every rule-test file
// (<rule>.tests.yml beside <rule>.yml) against them. Records may be in any
// format Vigil reads. Each case is one result; a test file that cannot be
// read or names a rule that did not compile gives a failed result.
func RunTests(fsys fs.FS) []TestResult {
	set, problems := Load(fsys)
	var files []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsTestFile(p) {
			files = append(files, p)
		}
		return nil
	})
	var out []TestResult
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			out = append(out, TestResult{File: f, Case: "read", Detail: err.Error()})
			continue
		}
		out = append(out, runTestFile(set, problems, f, data)...)
	}
	return out
}

// testBlock is one block of a test file.
type testBlock struct {
	line    int
	rule    string
	source  event.Source
	match   []testRecord
	noMatch []testRecord
	streams []testStream
}

type testRecord struct {
	line int
	raw  []byte
}

type testStream struct {
	line   int
	name   string
	events []testRecord
	hits   int
}

func runTestFile(set *Set, problems []Problem, file string, data []byte) []TestResult {
	fail := func(line int, format string, args ...any) []TestResult {
		return []TestResult{{File: file, Line: line, Case: "file", Detail: fmt.Sprintf(format, args...)}}
	}
	blocks, err := parseTestFile(data)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return fail(le.line, "%s", le.msg)
		}
		return fail(0, "%v", err)
	}
	ruleFile := ""
	base := strings.TrimSuffix(strings.TrimSuffix(file, path.Ext(file)), ".tests")
	for _, ext := range []string{".yml", ".yaml"} {
		for _, r := range set.Rules() {
			if r.File == base+ext {
				ruleFile = r.File
			}
		}
		for _, p := range problems {
			if p.File == base+ext {
				ruleFile = p.File
			}
		}
	}
	var out []TestResult
	for _, b := range blocks {
		r, err := testTarget(set, problems, ruleFile, b)
		if err != nil {
			out = append(out, TestResult{File: file, Line: b.line, Rule: b.rule, Case: "rule", Detail: err.Error()})
			continue
		}
		out = append(out, runBlock(set, file, r, b)...)
	}
	return out
}

// testTarget finds the rule a block tests: the one it names, else the one
// rule of the sibling rule file (or its outermost correlation rule).
func testTarget(set *Set, problems []Problem, ruleFile string, b testBlock) (*Rule, error) {
	if b.rule != "" {
		if r := set.Rule(b.rule); r != nil {
			return r, nil
		}
		for _, p := range problems {
			if p.RuleID == b.rule {
				return nil, fmt.Errorf("rule %s is unsupported: %s", b.rule, p.Reason)
			}
		}
		return nil, fmt.Errorf("rule %q is not loaded", b.rule)
	}
	if ruleFile == "" {
		return nil, errors.New("no rule file beside the test file (want <name>.yml for <name>.tests.yml) and no rule: key")
	}
	var in, corr []*Rule
	for _, r := range set.Rules() {
		if r.File == ruleFile {
			in = append(in, r)
			if r.Correlation != nil {
				corr = append(corr, r)
			}
		}
	}
	// The outermost correlation: one no other correlation refers to.
	var outer []*Rule
	for _, r := range corr {
		if len(r.feeds) == 0 {
			outer = append(outer, r)
		}
	}
	switch {
	case len(in) == 1:
		return in[0], nil
	case len(outer) == 1:
		return outer[0], nil
	case len(in) == 0:
		for _, p := range problems {
			if p.File == ruleFile {
				return nil, fmt.Errorf("%s is unsupported: %s", ruleFile, p.Reason)
			}
		}
		return nil, fmt.Errorf("%s holds no usable rule", ruleFile)
	}
	return nil, fmt.Errorf("%s holds %d rules: name one with rule:", ruleFile, len(in))
}

func runBlock(set *Set, file string, r *Rule, b testBlock) []TestResult {
	var out []TestResult
	res := func(line int, c string, pass bool, detail string) {
		out = append(out, TestResult{File: file, Line: line, Rule: r.AlertID, Title: r.Title, Case: c, Pass: pass, Detail: detail})
	}
	dec, err := source.NewSet(b.source)
	if err != nil {
		res(b.line, "source", false, err.Error())
		return out
	}
	if r.Correlation != nil && (len(b.match) > 0 || len(b.noMatch) > 0) {
		res(b.line, "match", false, "a correlation rule is tested with streams:, not match:/no_match:")
		return out
	}
	m := set.NewMatcher()
	for i, rec := range b.match {
		name := fmt.Sprintf("match[%d]", i)
		evs, err := decodeRecord(dec, rec.raw)
		if err != nil {
			res(rec.line, name, false, err.Error())
			continue
		}
		hit := false
		for j := range evs {
			if matchesRule(m, &evs[j], r) {
				hit = true
			}
		}
		detail := ""
		if !hit {
			detail = fmt.Sprintf("the rule did not match the %s record", describe(evs))
		}
		res(rec.line, name, hit, detail)
	}
	for i, rec := range b.noMatch {
		name := fmt.Sprintf("no_match[%d]", i)
		evs, err := decodeRecord(dec, rec.raw)
		if err != nil {
			res(rec.line, name, false, err.Error())
			continue
		}
		hit := false
		for j := range evs {
			if matchesRule(m, &evs[j], r) {
				hit = true
			}
		}
		detail := ""
		if hit {
			detail = fmt.Sprintf("the rule matched the %s record", describe(evs))
		}
		res(rec.line, name, !hit, detail)
	}
	for i, st := range b.streams {
		name := fmt.Sprintf("streams[%d]", i)
		if st.name != "" {
			name += " " + st.name
		}
		var evs []event.Event
		var derr error
		for _, rec := range st.events {
			e, err := decodeRecord(dec, rec.raw)
			if err != nil {
				derr = fmt.Errorf("event at line %d: %w", rec.line, err)
				break
			}
			evs = append(evs, e...)
		}
		if derr != nil {
			res(st.line, name, false, derr.Error())
			continue
		}
		got := countHits(set, r, evs)
		detail := ""
		if got != st.hits {
			detail = fmt.Sprintf("want %d hits of the rule, got %d", st.hits, got)
		}
		res(st.line, name, got == st.hits, detail)
	}
	return out
}

func matchesRule(m *Matcher, e *event.Event, r *Rule) bool {
	for _, x := range m.Match(e) {
		if x.Rule == r {
			return true
		}
	}
	return false
}

// countHits runs a stream through a matcher and a correlator and counts
// the rule's matches (detection) or hits (correlation).
func countHits(set *Set, r *Rule, evs []event.Event) int {
	m := set.NewMatcher()
	c := set.NewCorrelator()
	n := 0
	count := func(hs []Hit) {
		for _, h := range hs {
			if h.Rule == r {
				n++
			}
		}
	}
	for i := range evs {
		ms := m.Match(&evs[i])
		if r.Correlation == nil {
			for _, x := range ms {
				if x.Rule == r {
					n++
				}
			}
		}
		count(c.Observe(&evs[i], int64(i), ms))
	}
	count(c.Flush())
	return n
}

func describe(evs []event.Event) string {
	if len(evs) == 0 {
		return "empty"
	}
	return fmt.Sprintf("%s %s", evs[0].Source, evs[0].VendorType)
}

// decodeRecord decodes one test record into events.
func decodeRecord(dec *source.Set, raw []byte) ([]event.Event, error) {
	var evs []event.Event
	for _, r := range dec.Decode(nil, raw) {
		if r.Err != nil {
			return nil, fmt.Errorf("record does not decode: %v", r.Err)
		}
		evs = append(evs, r.Events...)
	}
	if len(evs) == 0 {
		return nil, errors.New("record holds no event")
	}
	return evs, nil
}

// parseTestFile reads a rule-test file: one block (rule, source, match,
// no_match, streams) or tests: a list of them.
func parseTestFile(data []byte) (blocks []testBlock, err error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := decodeSafely(dec, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		return nil, errAt(line, "invalid YAML: %s", msg)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errAt(1, "a rule-test file is a mapping (match:, no_match:, streams: or tests:)")
	}
	top := doc.Content[0]
	if err := checkKeys(top); err != nil {
		return nil, err
	}
	if tests := get(top, "tests"); tests != nil {
		if len(top.Content) != 2 {
			return nil, errAt(top.Line, "tests: is a list of blocks and stands alone")
		}
		if tests.Kind != yaml.SequenceNode {
			return nil, errAt(tests.Line, "tests: want a list")
		}
		for _, t := range tests.Content {
			b, err := parseTestBlock(t)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		}
		return blocks, nil
	}
	b, err := parseTestBlock(top)
	if err != nil {
		return nil, err
	}
	return []testBlock{b}, nil
}

func parseTestBlock(n *yaml.Node) (testBlock, error) {
	b := testBlock{line: n.Line}
	if n.Kind != yaml.MappingNode {
		return b, errAt(n.Line, "a test block is a mapping")
	}
	if err := checkKeys(n); err != nil {
		return b, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "rule":
			b.rule, err = scalarString(v, "rule")
		case "source":
			var s string
			if s, err = scalarString(v, "source"); err == nil {
				b.source = event.Source(s)
			}
		case "match":
			b.match, err = parseRecords(v, "match")
		case "no_match":
			b.noMatch, err = parseRecords(v, "no_match")
		case "streams":
			if v.Kind != yaml.SequenceNode {
				return b, errAt(v.Line, "streams: want a list")
			}
			for _, s := range v.Content {
				st, err := parseStream(s)
				if err != nil {
					return b, err
				}
				b.streams = append(b.streams, st)
			}
		case "name", "description":
		default:
			return b, errAt(k.Line, "unknown key %q (want rule, source, match, no_match, streams)", k.Value)
		}
		if err != nil {
			return b, err
		}
	}
	if len(b.match)+len(b.noMatch)+len(b.streams) == 0 {
		return b, errAt(n.Line, "a test block needs match:, no_match: or streams:")
	}
	return b, nil
}

func parseStream(n *yaml.Node) (testStream, error) {
	st := testStream{line: n.Line, hits: 1}
	if n.Kind != yaml.MappingNode {
		return st, errAt(n.Line, "a stream is a mapping (name, events, hits)")
	}
	if err := checkKeys(n); err != nil {
		return st, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "name":
			st.name, err = scalarString(v, "name")
		case "events":
			st.events, err = parseRecords(v, "events")
		case "hits":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				return st, errAt(v.Line, "hits: want a whole number")
			}
			st.hits, err = strconv.Atoi(v.Value)
			if err == nil && st.hits < 0 {
				err = errAt(v.Line, "hits: want a whole number")
			}
		default:
			return st, errAt(k.Line, "unknown key %q in a stream (want name, events, hits)", k.Value)
		}
		if err != nil {
			return st, err
		}
	}
	if len(st.events) == 0 {
		return st, errAt(n.Line, "a stream needs events:")
	}
	return st, nil
}

// parseRecords reads a list of vendor records: YAML mappings (JSON is
// YAML, so records can be pasted as they are) or strings holding JSON.
func parseRecords(n *yaml.Node, what string) ([]testRecord, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n.Line, "%s: want a list of records", what)
	}
	var out []testRecord
	for _, x := range n.Content {
		var raw []byte
		switch {
		case x.Kind == yaml.ScalarNode && x.Tag == "!!str":
			raw = []byte(strings.TrimSpace(x.Value))
			if err := fastjson.ValidateBytes(raw); err != nil {
				return nil, errAt(x.Line, "%s: the record is not JSON: %v", what, err)
			}
		case x.Kind == yaml.MappingNode || x.Kind == yaml.SequenceNode:
			var err error
			if raw, err = nodeJSON(nil, x, 0); err != nil {
				return nil, err
			}
		default:
			return nil, errAt(x.Line, "%s: want a record (a mapping, or a string of JSON)", what)
		}
		out = append(out, testRecord{line: x.Line, raw: raw})
	}
	return out, nil
}

// nodeJSON writes a YAML node as JSON, keeping key order and types.
func nodeJSON(dst []byte, n *yaml.Node, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errAt(n.Line, "record nested too deeply")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, errAt(n.Line, "unresolved alias")
		}
		return nodeJSON(dst, n.Alias, depth+1)
	case yaml.MappingNode:
		if err := checkKeys(n); err != nil {
			return nil, err
		}
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, n.Content[i].Value)
			dst = append(dst, ':')
			var err error
			if dst, err = nodeJSON(dst, n.Content[i+1], depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, x := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = nodeJSON(dst, x, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return append(dst, "null"...), nil
		case "!!bool":
			return strconv.AppendBool(dst, parseBool(n.Value)), nil
		case "!!int", "!!float":
			if f, ok := parseNumber(n.Value); ok && !isBadFloat(f) {
				if x, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
					return strconv.AppendInt(dst, x, 10), nil
				}
				return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
			}
		}
		return appendJSONString(dst, n.Value), nil
	}
	return nil, errAt(n.Line, "unsupported YAML in a record")
}

func isBadFloat(f float64) bool { return f != f || f > 1.7e308 || f < -1.7e308 }

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, fmt.Sprintf(`\u%04x`, c)...)
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// PathFS returns a file system for a rules path: the directory itself, or
// for a single rule file its directory limited to that file and its
// .tests.yml sibling.
func PathFS(p string) (fs.FS, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return os.DirFS(p), nil
	}
	base := filepath.Base(p)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	allow := map[string]bool{base: true, stem + ".tests.yml": true, stem + ".tests.yaml": true}
	if IsTestFile(base) {
		rule := strings.TrimSuffix(stem, ".tests")
		allow[rule+".yml"], allow[rule+".yaml"] = true, true
	}
	return filterFS{fsys: os.DirFS(filepath.Dir(p)), allow: allow}, nil
}

// filterFS shows only the allowed files of a directory.
type filterFS struct {
	fsys  fs.FS
	allow map[string]bool
}

func (f filterFS) Open(name string) (fs.File, error) {
	if name != "." && !f.allow[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.fsys.Open(name)
}

func (f filterFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	all, err := fs.ReadDir(f.fsys, ".")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d fs.DirEntry) bool { return !f.allow[d.Name()] }), nil
}

var _ fs.ReadDirFS = filterFS{}
