package sigma

import (
	"bytes"
	"math"
	"strconv"
)

// The rule index. For each rule, Vigil derives from its condition a set of
// clauses that every matching event satisfies; each clause is an OR of
// atoms: "the field's value, read from the normalized event, is one of
// these" (fast atoms, used to index rules by value so that most events
// find no candidate at all) or "the raw record contains this text" (a
// literal, checked before the record is parsed). Clauses are necessary,
// never sufficient: a rule that passes them is evaluated in full.

// atom is one alternative of a clause.
type atom struct {
	fast int    // index of the bucket's fast accessor, or -1 for a literal
	key  string // fast: the folded, trimmed value
	lit  *lit
}

// clause holds when any of its atoms does.
type clause []atom

// allFast reports whether every atom reads the same fast accessor, and
// which.
func (c clause) allFast() (int, bool) {
	if len(c) == 0 {
		return -1, false
	}
	id := c[0].fast
	for _, a := range c {
		if a.fast < 0 || a.fast != id {
			return -1, false
		}
	}
	return id, true
}

// score ranks clauses for the index and for or-ing: fast clauses first,
// then those whose shortest literal is longest, fewer atoms first.
func (c clause) score() int {
	if _, ok := c.allFast(); ok {
		return 1<<20 - len(c)
	}
	minLen := 1 << 16
	for _, a := range c {
		n := 8 // a fast atom among literals
		if a.lit != nil {
			n = len(a.lit.s)
		}
		if n < minLen {
			minLen = n
		}
	}
	return minLen*64 - len(c)
}

func bestClause(cls []clause) clause {
	var best clause
	for _, c := range cls {
		if best == nil || c.score() > best.score() {
			best = c
		}
	}
	return best
}

// necessity derives clauses for one rule bound to one log.
type necessity struct {
	d      *detection
	bind   []*resolver
	fastID func(r *resolver) int // the bucket's index for r's accessor
}

func (n *necessity) cond(c *cond) []clause {
	switch c.op {
	case opIdent:
		return n.sel(n.d.sels[c.id])
	case opAnd:
		var out []clause
		for _, k := range c.kids {
			out = append(out, n.cond(k)...)
		}
		return out
	case opOr:
		branches := make([][]clause, len(c.kids))
		for i, k := range c.kids {
			branches[i] = n.cond(k)
		}
		return orClauses(branches)
	case opOf:
		branches := make([][]clause, len(c.ids))
		for i, id := range c.ids {
			branches[i] = n.sel(n.d.sels[id])
		}
		if c.n == 0 || c.n >= len(c.ids) {
			var out []clause
			for _, b := range branches {
				out = append(out, b...)
			}
			return out
		}
		return orClauses(branches)
	}
	return nil // not: nothing is necessary
}

// orClauses: of branches or-ed, one clause from each, or-ed, is necessary;
// a branch with none makes nothing necessary.
func orClauses(branches [][]clause) []clause {
	var u clause
	for _, b := range branches {
		best := bestClause(b)
		if best == nil {
			return nil
		}
		u = append(u, best...)
	}
	if u == nil {
		return nil
	}
	return []clause{u}
}

func (n *necessity) sel(s *selection) []clause {
	if len(s.alts) == 1 {
		return n.conj(s.alts[0])
	}
	branches := make([][]clause, len(s.alts))
	for i, conj := range s.alts {
		branches[i] = n.conj(conj)
	}
	return orClauses(branches)
}

func (n *necessity) conj(items []*item) []clause {
	var out []clause
	for _, it := range items {
		out = append(out, n.item(it)...)
	}
	return out
}

func (n *necessity) item(it *item) []clause {
	if it.neq {
		return nil
	}
	var res *resolver
	if it.field >= 0 {
		res = n.bind[it.field]
	}
	var out []clause
	var union clause
	for _, g := range it.groups {
		var atoms clause
		for _, p := range g {
			a, ok := n.atom(res, p)
			if !ok {
				atoms = nil
				break
			}
			atoms = append(atoms, a)
		}
		if atoms == nil {
			if !it.all {
				return nil
			}
			continue
		}
		if it.all {
			out = append(out, atoms)
		} else {
			union = append(union, atoms...)
		}
	}
	if !it.all && union != nil {
		out = append(out, union)
	}
	return out
}

// atom returns what an event matching p must have, if anything cheap.
// res is nil for keywords (searched in the whole record).
func (n *necessity) atom(res *resolver, p *pattern) (atom, bool) {
	switch p.kind {
	case patGlob:
		// A fast accessor that canonicalizes numbers cannot stand for text.
		if res != nil && res.fast != nil && !res.fastNum && p.g.shape == shapeExact {
			return atom{fast: n.fastID(res), key: string(foldAppend(nil, bytes.TrimSpace(p.g.lit)))}, true
		}
		if res == nil || res.literal {
			if l := bestLit(p.g.literalRuns()); l != nil {
				return atom{fast: -1, lit: l}, true
			}
		}
	case patNum:
		if p.num != math.Trunc(p.num) || math.Abs(p.num) > 1e15 {
			return atom{}, false
		}
		s := strconv.FormatInt(int64(p.num), 10)
		if res != nil && res.fast != nil && res.fastNum {
			return atom{fast: n.fastID(res), key: s}, true
		}
		// A number is written as digits in the record, as a JSON number or
		// inside a string.
		if res != nil && res.literal && len(s) >= minLit {
			return atom{fast: -1, lit: newLit([]byte(s))}, true
		}
	case patBool:
		if res != nil && res.literal {
			if p.b {
				return atom{fast: -1, lit: newLit(trueBytes)}, true
			}
			return atom{fast: -1, lit: newLit(falseBytes)}, true
		}
	}
	return atom{}, false
}
