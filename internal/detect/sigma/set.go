package sigma

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
)

// Set is a compiled, immutable set of Sigma rules. It is safe for
// concurrent use; each goroutine matches with its own Matcher.
type Set struct {
	rules []*Rule // usable rules: files in path order, documents in order
	dets  []*Rule // detection rules
	corrs []*Rule // correlation rules, each after the correlations it refers to
}

// IsTestFile reports whether a file name is a rule-test file
// (<rule>.tests.yml), which Load skips.
func IsTestFile(name string) bool {
	base := strings.ToLower(path.Base(name))
	return strings.HasSuffix(base, ".tests.yml") || strings.HasSuffix(base, ".tests.yaml")
}

func isRuleFile(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return (ext == ".yml" || ext == ".yaml") && !IsTestFile(name)
}

// Load parses and compiles every rule file (*.yml, *.yaml, but not
// *.tests.yml) under the root of fsys, in path order. Rules that cannot be
// used are reported as problems and left out; the set holds the rest.
func Load(fsys fs.FS) (*Set, []Problem) {
	rules, problems := parseTree(fsys)
	s, more := NewSet(rules)
	return s, append(problems, more...)
}

// LoadDir is Load of a directory, or of a single rule file.
func LoadDir(dir string) (*Set, []Problem) {
	fi, err := os.Stat(dir)
	if err != nil {
		return &Set{}, []Problem{{File: dir, Reason: err.Error()}}
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(dir)
		if err != nil {
			return &Set{}, []Problem{{File: dir, Reason: err.Error()}}
		}
		rules, problems := ParseFile(dir, data)
		s, more := NewSet(rules)
		return s, append(problems, more...)
	}
	return Load(os.DirFS(dir))
}

// parseTree parses every rule file under fsys.
func parseTree(fsys fs.FS) ([]*Rule, []Problem) {
	var (
		rules    []*Rule
		problems []Problem
	)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			problems = append(problems, Problem{File: p, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !isRuleFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			problems = append(problems, Problem{File: p, Reason: err.Error()})
			return nil
		}
		rs, ps := ParseFile(p, data)
		rules = append(rules, rs...)
		problems = append(problems, ps...)
		return nil
	})
	if err != nil {
		problems = append(problems, Problem{File: ".", Reason: err.Error()})
	}
	return rules, problems
}

// NewSet builds a Set from parsed rules: it rejects duplicate ids and
// names and logsources Vigil has no log for, resolves correlation rules
// to the rules they refer to, and works out which rules alert on their
// own.
func NewSet(rules []*Rule) (*Set, []Problem) {
	var problems []Problem
	reject := func(r *Rule, line int, format string, args ...any) {
		if line == 0 {
			line = r.Line
		}
		problems = append(problems, Problem{File: r.File, Line: line, RuleID: r.ID, Title: r.Title, Reason: fmt.Sprintf(format, args...)})
	}
	byID := make(map[string]*Rule)
	byName := make(map[string]*Rule)
	var kept []*Rule
	for _, r := range rules {
		if r.ID != "" {
			if o := byID[r.ID]; o != nil {
				reject(r, 0, "duplicate id, first defined at %s:%d", o.File, o.Line)
				continue
			}
		}
		if r.Name != "" {
			if o := byName[r.Name]; o != nil {
				reject(r, 0, "duplicate name %q, first defined at %s:%d", r.Name, o.File, o.Line)
				continue
			}
		}
		if r.det != nil && !knownLogsource(r.Logsource) {
			reject(r, 0, "logsource %s matches no log Vigil reads (Okta, AWS CloudTrail, Azure sign-in/audit/risk detection/activity logs, Google Workspace)", r.Logsource)
			continue
		}
		if r.ID != "" {
			byID[r.ID] = r
		}
		if r.Name != "" {
			byName[r.Name] = r
		}
		kept = append(kept, r)
	}

	// Resolve correlations until nothing changes: a correlation whose
	// references fail is dropped, which may fail correlations that refer
	// to it.
	bad := make(map[*Rule]bool)
	for changed := true; changed; {
		changed = false
		for _, r := range kept {
			if r.Correlation == nil || bad[r] {
				continue
			}
			if err := resolveRefs(r, byID, byName, bad); err != nil {
				reject(r, r.Correlation.line, "%v", err)
				bad[r] = true
				changed = true
			}
		}
	}
	// Order correlations so that each comes after those it refers to, and
	// reject cycles.
	s := &Set{}
	state := make(map[*Rule]int) // 1 visiting, 2 done
	var visit func(r *Rule) bool
	visit = func(r *Rule) bool {
		switch state[r] {
		case 1:
			return false
		case 2:
			return true
		}
		state[r] = 1
		for _, ref := range r.Correlation.refs {
			if ref.Correlation != nil && !visit(ref) {
				state[r] = 2
				return false
			}
		}
		state[r] = 2
		s.corrs = append(s.corrs, r)
		return true
	}
	for _, r := range kept {
		if r.Correlation != nil && !bad[r] && state[r] == 0 {
			if !visit(r) {
				reject(r, r.Correlation.line, "correlation rules refer to each other in a cycle")
				bad[r] = true
			}
		}
	}
	s.corrs = slices.DeleteFunc(s.corrs, func(r *Rule) bool { return bad[r] })

	for _, r := range kept {
		if bad[r] {
			continue
		}
		r.Standalone, r.feeds, r.needs = true, nil, nil
		s.rules = append(s.rules, r)
		if r.det != nil {
			s.dets = append(s.dets, r)
		}
	}
	// Referenced rules alert only when a correlation asks for it.
	generated := make(map[*Rule]bool)
	for _, c := range s.corrs {
		for _, ref := range c.Correlation.refs {
			ref.feeds = append(ref.feeds, c)
			if c.Correlation.Generate {
				generated[ref] = true
			}
		}
	}
	for _, r := range s.rules {
		if len(r.feeds) > 0 && !generated[r] {
			r.Standalone = false
		}
	}
	// The fields correlations read from detection matches.
	for _, c := range s.corrs {
		cc := c.Correlation
		for _, ref := range cc.refs {
			if ref.det == nil {
				continue
			}
			for _, g := range cc.GroupBy {
				ref.needs = appendUnique(ref.needs, cc.fieldFor(g, ref))
			}
			if cc.Type == ValueCount {
				ref.needs = appendUnique(ref.needs, cc.fieldFor(cc.Field, ref))
			}
		}
	}
	for _, r := range s.dets {
		r.needIdx = r.needIdx[:0]
		for _, f := range r.needs {
			r.needIdx = append(r.needIdx, r.det.fieldIndex(f))
		}
	}
	for i, r := range s.rules {
		r.idx = i
	}
	return s, problems
}

func appendUnique(s []string, x string) []string {
	if slices.Contains(s, x) {
		return s
	}
	return append(s, x)
}

// fieldFor returns the field a group-by (or counted) name stands for in
// events of the referenced rule: its alias for that rule, or itself.
func (c *Correlation) fieldFor(name string, ref *Rule) string {
	if m, ok := c.Aliases[name]; ok && ref.Name != "" {
		if f, ok := m[ref.Name]; ok {
			return f
		}
		if ref.ID != "" {
			if f, ok := m[ref.ID]; ok {
				return f
			}
		}
	}
	return name
}

// resolveRefs binds a correlation to the rules it names and checks that
// chained correlations group by what their inner correlations group by.
func resolveRefs(r *Rule, byID, byName map[string]*Rule, bad map[*Rule]bool) error {
	c := r.Correlation
	c.refs = c.refs[:0]
	for _, name := range c.Rules {
		ref := byID[name]
		if ref == nil {
			ref = byName[name]
		}
		switch {
		case ref == nil:
			return fmt.Errorf("correlation refers to rule %q, which is not loaded", name)
		case bad[ref]:
			return fmt.Errorf("correlation refers to rule %q, which cannot be used", name)
		case ref == r:
			return fmt.Errorf("correlation refers to itself")
		}
		if slices.Contains(c.refs, ref) {
			return fmt.Errorf("correlation names rule %q twice", name)
		}
		c.refs = append(c.refs, ref)
	}
	for _, ref := range c.refs {
		if ref.Correlation == nil {
			continue
		}
		for _, g := range c.GroupBy {
			if f := c.fieldFor(g, ref); !slices.Contains(ref.Correlation.GroupBy, f) {
				return fmt.Errorf("groups by %s, which the correlation %q it refers to does not group by", f, ruleLabel(ref))
			}
		}
		if c.Type == ValueCount {
			if f := c.fieldFor(c.Field, ref); !slices.Contains(ref.Correlation.GroupBy, f) {
				return fmt.Errorf("counts %s, which the correlation %q it refers to does not group by", f, ruleLabel(ref))
			}
		}
	}
	if c.expr != nil {
		names := make([]string, len(c.refs))
		for i := range c.refs {
			names[i] = c.Rules[i]
		}
		if _, err := c.expr.resolve(names, c.line); err != nil {
			return err
		}
	}
	if c.Type == TemporalOrdered && (c.expr != nil || !c.Bounds.IsZero()) {
		return fmt.Errorf("temporal_ordered takes no condition: all its rules must occur, in order")
	}
	if c.Type == Temporal && !c.Bounds.IsZero() && c.Bounds.upper() {
		return fmt.Errorf("temporal: a condition with an upper bound (lt, lte, eq) is not supported")
	}
	return nil
}

func ruleLabel(r *Rule) string {
	switch {
	case r.Name != "":
		return r.Name
	case r.ID != "":
		return r.ID
	}
	return r.Title
}

// Rules returns the usable rules, detection and correlation, in load order.
func (s *Set) Rules() []*Rule { return s.rules }

// Rule returns the rule with the given id, name or alert id, or nil.
func (s *Set) Rule(key string) *Rule {
	for _, r := range s.rules {
		if r.ID == key || (r.Name != "" && r.Name == key) || r.AlertID == key {
			return r
		}
	}
	return nil
}

// HasCorrelations reports whether the set holds correlation rules, which
// need a Correlator.
func (s *Set) HasCorrelations() bool { return len(s.corrs) > 0 }

// Match is one detection rule that matched an event.
type Match struct {
	Rule *Rule
	// Fields holds the event's value of each field correlation rules
	// group by or count for this rule ("" when the event has none).
	Fields []FieldValue
}

// FieldValue is a field name and its value in one event.
type FieldValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// lookup returns the value of the named field.
func lookup(fs []FieldValue, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Matcher matches events against a Set's detection rules. It is stateless
// between events (correlation state lives in a Correlator) and not safe
// for concurrent use: give each goroutine its own.
type Matcher struct {
	set     *Set
	p       fastjson.Parser
	buckets map[bucketKey]*bucket
	stamp   []uint32
	gen     uint32
	cands   []int32
	out     []Match
	ctx     evalCtx
	// per event: the folded values of the bucket's fast accessors
	fastKey [][]byte
	fastOK  []bool
	escaped int8 // -1 unknown, 0 no, 1 yes: the raw record escapes ASCII
	// exhaustive evaluates every rule of the log, without index or
	// pre-filter: for tests that check the index drops no match.
	exhaustive bool
}

type bucketKey struct {
	src event.Source
	log string
}

// bucket is the rules that apply to one log, indexed.
type bucket struct {
	log   *vlog
	rules []*bound
	fasts []*fastIndex
	scan  []int32 // rules no fast clause indexes
}

type fastIndex struct {
	name string
	get  func(*event.Event) (string, bool)
	keys map[string][]int32
	all  []int32 // every rule indexed here
}

// bound is a rule bound to a log: its fields resolved, its pre-filter.
type bound struct {
	r    *Rule
	bind []*resolver
	gate []clause
}

// NewMatcher returns a Matcher for the set.
func (s *Set) NewMatcher() *Matcher {
	return &Matcher{set: s, buckets: make(map[bucketKey]*bucket)}
}

func (m *Matcher) bucket(e *event.Event) *bucket {
	k := bucketKey{e.Source, e.Log}
	if b, ok := m.buckets[k]; ok {
		return b
	}
	b := m.set.newBucket(route(e))
	if len(m.buckets) < 4096 { // Workspace application names are open-ended
		m.buckets[k] = b
	}
	return b
}

// newBucket binds and indexes the detection rules whose logsource selects
// l.
func (s *Set) newBucket(l *vlog) *bucket {
	b := &bucket{log: l}
	if l == nil {
		return b
	}
	for _, r := range s.dets {
		if !l.matches(r.Logsource) {
			continue
		}
		br := &bound{r: r, bind: make([]*resolver, len(r.det.fields))}
		for i, f := range r.det.fields {
			br.bind[i] = l.resolver(f)
		}
		n := &necessity{d: r.det, bind: br.bind, fastID: b.fastID}
		cls := n.cond(r.det.cond)
		idx := int32(len(b.rules))
		b.rules = append(b.rules, br)
		// Index on the fast clause with the fewest values; check the rest.
		best := -1
		for i, c := range cls {
			if _, ok := c.allFast(); ok && (best < 0 || len(c) < len(cls[best])) {
				best = i
			}
		}
		if best < 0 {
			b.scan = append(b.scan, idx)
		} else {
			fi := b.fasts[cls[best][0].fast]
			for _, a := range cls[best] {
				if l := fi.keys[a.key]; len(l) == 0 || l[len(l)-1] != idx {
					fi.keys[a.key] = append(l, idx)
				}
			}
			fi.all = append(fi.all, idx)
			cls = append(cls[:best:best], cls[best+1:]...)
		}
		// Fast clauses are cheaper to check than literals: first.
		sort.SliceStable(cls, func(i, j int) bool {
			_, fi := cls[i].allFast()
			_, fj := cls[j].allFast()
			return fi && !fj
		})
		br.gate = cls
	}
	return b
}

// fastID returns the index of r's fast accessor in the bucket, adding it.
func (b *bucket) fastID(r *resolver) int {
	for i, f := range b.fasts {
		if f.name == r.fastName {
			return i
		}
	}
	b.fasts = append(b.fasts, &fastIndex{name: r.fastName, get: r.fast, keys: make(map[string][]int32)})
	return len(b.fasts) - 1
}

// Match returns the detection rules e matches, in rule order. The slice
// is reused by the next call.
func (m *Matcher) Match(e *event.Event) []Match {
	m.out = m.out[:0]
	b := m.bucket(e)
	if len(b.rules) == 0 {
		return nil
	}
	if len(m.stamp) < len(b.rules) {
		m.stamp = make([]uint32, len(b.rules)+16)
		m.gen = 0
	}
	m.gen++
	if m.gen == 0 {
		clear(m.stamp)
		m.gen = 1
	}
	m.cands = m.cands[:0]
	if cap(m.fastKey) < len(b.fasts) {
		m.fastKey = make([][]byte, len(b.fasts))
		m.fastOK = make([]bool, len(b.fasts))
	}
	m.fastKey, m.fastOK = m.fastKey[:len(b.fasts)], m.fastOK[:len(b.fasts)]
	for i, f := range b.fasts {
		v, ok := f.get(e)
		m.fastOK[i] = ok
		if !ok {
			m.add(f.all)
			continue
		}
		m.fastKey[i] = foldAppendString(m.fastKey[i][:0], strings.TrimSpace(v))
		m.add(f.keys[string(m.fastKey[i])])
	}
	m.add(b.scan)
	if m.exhaustive {
		m.cands = m.cands[:0]
		for i := range b.rules {
			m.cands = append(m.cands, int32(i))
		}
	}
	if len(m.cands) == 0 {
		return nil
	}
	slices.Sort(m.cands)
	m.escaped = -1
	parsed := false
	for _, ci := range m.cands {
		br := b.rules[ci]
		if !m.exhaustive && !m.gateHolds(br, e) {
			continue
		}
		if !parsed {
			v, err := m.p.ParseBytes(e.Raw)
			if err != nil {
				return nil
			}
			m.ctx = evalCtx{
				e: e, vals: m.ctx.vals[:0], vals2: m.ctx.vals2[:0], fold: m.ctx.fold, text: m.ctx.text,
				text2: m.ctx.text2, keyBuf: m.ctx.keyBuf, dbuf: m.ctx.dbuf[:0],
			}
			m.ctx.root = v
			if b.log.roots != nil {
				b.log.roots(&m.ctx, v)
			}
			parsed = true
		}
		m.ctx.bind = br.bind
		if !m.ctx.evalDetection(br.r.det) {
			continue
		}
		mt := Match{Rule: br.r}
		if len(br.r.needs) > 0 {
			mt.Fields = make([]FieldValue, len(br.r.needs))
			for i, f := range br.r.needs {
				mt.Fields[i] = FieldValue{Name: f, Value: m.ctx.firstText(br.bind[br.r.needIdx[i]])}
			}
		}
		m.out = append(m.out, mt)
	}
	if len(m.out) == 0 {
		return nil
	}
	return m.out
}

func (m *Matcher) add(idx []int32) {
	for _, i := range idx {
		if m.stamp[i] != m.gen {
			m.stamp[i] = m.gen
			m.cands = append(m.cands, i)
		}
	}
}

// gateHolds checks a candidate's pre-filter clauses.
func (m *Matcher) gateHolds(br *bound, e *event.Event) bool {
	for _, cl := range br.gate {
		ok := false
		for _, a := range cl {
			if a.fast >= 0 {
				if !m.fastOK[a.fast] || string(m.fastKey[a.fast]) == a.key {
					ok = true
					break
				}
				continue
			}
			if m.escaped < 0 {
				m.escaped = 0
				if escapesASCII(e.Raw) {
					m.escaped = 1
				}
			}
			if m.escaped == 1 || a.lit.in(e.Raw) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// firstText returns the text of a field's first value, copied.
func (c *evalCtx) firstText(r *resolver) string {
	c.vals = r.values(c, c.vals[:0])
	for _, v := range c.vals {
		if t, ok := c.textOf(v, &c.text); ok {
			return string(t)
		}
	}
	return ""
}
