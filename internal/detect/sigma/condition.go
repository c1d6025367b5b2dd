package sigma

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// condOp is a node type of a parsed condition.
type condOp uint8

const (
	opIdent condOp = iota // a search identifier
	opAnd
	opOr
	opNot
	opOf // "1 of x*", "all of them", "N of x*"
)

// condAST is a parsed condition, its identifiers not yet resolved.
type condAST struct {
	op   condOp
	kids []*condAST
	name string // opIdent: the identifier; opOf: the pattern
	them bool   // opOf over "them"
	n    int    // opOf: at least n, 0 for all
}

const maxCondDepth = 64

type condParser struct {
	toks []condTok
	pos  int
	line int
	src  string
}

type condTok struct {
	text string
	col  int
}

// parseCondition parses a Sigma condition expression. Precedence, least
// binding first: or, and, not, "x of", parentheses.
func parseCondition(src string, line int) (*condAST, error) {
	toks, err := lexCondition(src, line)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errAt(line, "empty condition")
	}
	p := &condParser{toks: toks, line: line, src: src}
	ast, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.errf("unexpected %q", p.toks[p.pos].text)
	}
	return ast, nil
}

func lexCondition(src string, line int) ([]condTok, error) {
	var toks []condTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, condTok{string(c), i + 1})
			i++
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			toks = append(toks, condTok{src[i:j], i + 1})
			i = j
		case c == '|':
			return nil, errAt(line, "condition: aggregation expressions (| count() …) are not supported; write a correlation rule")
		default:
			return nil, errAt(line, "condition: unexpected character %q at column %d", c, i+1)
		}
	}
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '*' || c == '-' || c == '.' || c == '?'
}

func (p *condParser) errf(format string, args ...any) error {
	col := len(p.src) + 1
	if p.pos < len(p.toks) {
		col = p.toks[p.pos].col
	}
	return errAt(p.line, "condition %q, column %d: %s", p.src, col, fmt.Sprintf(format, args...))
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].text
	}
	return ""
}

func (p *condParser) keyword(k string) bool {
	if strings.EqualFold(p.peek(), k) {
		p.pos++
		return true
	}
	return false
}

func (p *condParser) or(depth int) (*condAST, error) {
	if depth > maxCondDepth {
		return nil, p.errf("nested too deeply")
	}
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = join(opOr, left, right)
	}
	return left, nil
}

func (p *condParser) and(depth int) (*condAST, error) {
	left, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		left = join(opAnd, left, right)
	}
	return left, nil
}

// join builds a flat n-ary node.
func join(op condOp, a, b *condAST) *condAST {
	if a.op == op {
		a.kids = append(a.kids, b)
		return a
	}
	return &condAST{op: op, kids: []*condAST{a, b}}
}

func (p *condParser) not(depth int) (*condAST, error) {
	if p.keyword("not") {
		if depth > maxCondDepth {
			return nil, p.errf("nested too deeply")
		}
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &condAST{op: opNot, kids: []*condAST{x}}, nil
	}
	return p.primary(depth)
}

func (p *condParser) primary(depth int) (*condAST, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, p.errf("unexpected end")
	case t == "(":
		p.pos++
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, p.errf("missing )")
		}
		p.pos++
		return x, nil
	case t == ")":
		return nil, p.errf("unexpected )")
	}
	low := strings.ToLower(t)
	if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1].text, "of") {
		n := 0
		switch low {
		case "all":
		case "any":
			n = 1
		default:
			v, err := strconv.Atoi(low)
			if err != nil || v < 1 {
				return nil, p.errf("%q of: want 1, any, all or a positive count", t)
			}
			n = v
		}
		p.pos += 2
		target := p.peek()
		if target == "" || target == "(" || target == ")" {
			return nil, p.errf("of: missing a search identifier pattern or them")
		}
		p.pos++
		return &condAST{op: opOf, n: n, name: target, them: strings.EqualFold(target, "them")}, nil
	}
	switch low {
	case "and", "or", "not", "of":
		return nil, p.errf("unexpected %q", t)
	case "near":
		return nil, p.errf("near is not supported; write a temporal correlation rule")
	}
	p.pos++
	return &condAST{op: opIdent, name: t}, nil
}

// cond is a condition with its identifiers resolved to indices.
type cond struct {
	op   condOp
	kids []*cond
	id   int   // opIdent
	ids  []int // opOf
	n    int   // opOf: at least n, 0 for all
}

// resolve binds the identifiers of a condition to the names given
// (selections, or the rules of a temporal correlation), by index.
func (a *condAST) resolve(names []string, line int) (*cond, error) {
	switch a.op {
	case opIdent:
		for i, n := range names {
			if n == a.name {
				return &cond{op: opIdent, id: i}, nil
			}
		}
		if strings.ContainsAny(a.name, "*?") {
			return nil, errAt(line, "condition: %q: patterns need \"1 of\" or \"all of\"", a.name)
		}
		return nil, errAt(line, "condition: unknown search identifier %q", a.name)
	case opOf:
		c := &cond{op: opOf, n: a.n}
		for i, n := range names {
			if a.them {
				if !strings.HasPrefix(n, "_") {
					c.ids = append(c.ids, i)
				}
				continue
			}
			if ok, _ := path.Match(a.name, n); ok {
				c.ids = append(c.ids, i)
			}
		}
		if len(c.ids) == 0 {
			return nil, errAt(line, "condition: no search identifier matches %q", a.name)
		}
		return c, nil
	}
	c := &cond{op: a.op}
	for _, k := range a.kids {
		x, err := k.resolve(names, line)
		if err != nil {
			return nil, err
		}
		c.kids = append(c.kids, x)
	}
	return c, nil
}

// eval evaluates the condition; leaf(i) tells whether identifier i holds.
func (c *cond) eval(leaf func(int) bool) bool {
	switch c.op {
	case opIdent:
		return leaf(c.id)
	case opAnd:
		for _, k := range c.kids {
			if !k.eval(leaf) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range c.kids {
			if k.eval(leaf) {
				return true
			}
		}
		return false
	case opNot:
		return !c.kids[0].eval(leaf)
	case opOf:
		need := c.n
		if need == 0 {
			need = len(c.ids)
		}
		got := 0
		for _, i := range c.ids {
			if leaf(i) {
				got++
				if got >= need {
					return true
				}
			}
		}
		return false
	}
	return false
}
