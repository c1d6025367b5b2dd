package sigma

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Case folding. Sigma compares without regard to case unless told
// otherwise (|cased). Vigil folds ASCII letters, and other letters by
// Unicode's lower-casing, except that a non-ASCII character never folds to
// an ASCII one (the Kelvin sign stays apart from k, dotted İ from i): rules
// and vendor keys are ASCII, and this keeps the raw-record pre-filter exact.

// foldRune lower-cases r by the rule above.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	l := unicode.ToLower(r)
	if l < utf8.RuneSelf {
		return r
	}
	return l
}

// needsFold reports whether folding would change s.
func needsFold(s []byte) bool {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// foldAppend appends s folded to dst.
func foldAppend(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c) // invalid UTF-8 is kept byte for byte
		} else {
			dst = utf8.AppendRune(dst, foldRune(r))
		}
		i += n
	}
	return dst
}

// foldAppendString is foldAppend of a string, without converting it.
func foldAppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return foldAppend(dst, []byte(s[i:]))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func foldString(s string) string {
	if !needsFold([]byte(s)) {
		return s
	}
	return string(foldAppend(nil, []byte(s)))
}

// globShape is a pattern's form, so that the common ones skip the general
// matcher.
type globShape uint8

const (
	shapeExact globShape = iota
	shapePrefix
	shapeSuffix
	shapeContains
	shapeAny // "*": any value
	shapeGeneral
)

type globTokKind uint8

const (
	tokLit globTokKind = iota
	tokStar
	tokOne
)

type globTok struct {
	kind globTokKind
	lit  []byte
}

// glob is a Sigma string value: wildcards * and ?, with \ escaping them
// and itself.
type glob struct {
	shape globShape
	lit   []byte // exact, prefix, suffix, contains: the literal part
	toks  []globTok
	cased bool
	text  string // as written (after modifiers), for messages
}

// parseGlob parses a Sigma string value. Escapes follow the
// specification: \* and \? are the plain characters, \\ is one backslash,
// and a backslash before anything else is itself.
func parseGlob(s string, cased bool) *glob {
	g := &glob{cased: cased, text: s}
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			g.toks = append(g.toks, globTok{kind: tokLit, lit: cur})
			cur = nil
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			cur = append(cur, s[i+1])
			i++
		case c == '*':
			flush()
			if n := len(g.toks); n == 0 || g.toks[n-1].kind != tokStar {
				g.toks = append(g.toks, globTok{kind: tokStar})
			}
		case c == '?':
			flush()
			g.toks = append(g.toks, globTok{kind: tokOne})
		default:
			cur = append(cur, c)
		}
	}
	flush()
	if !cased {
		for i := range g.toks {
			if g.toks[i].kind == tokLit {
				g.toks[i].lit = foldAppend(nil, g.toks[i].lit)
			}
		}
	}
	t := g.toks
	kinds := make([]globTokKind, len(t))
	for i, x := range t {
		kinds[i] = x.kind
	}
	switch {
	case len(t) == 0:
		g.shape, g.lit = shapeExact, []byte{}
	case len(t) == 1 && t[0].kind == tokLit:
		g.shape, g.lit = shapeExact, t[0].lit
	case len(t) == 1 && t[0].kind == tokStar:
		g.shape = shapeAny
	case len(t) == 2 && t[0].kind == tokLit && t[1].kind == tokStar:
		g.shape, g.lit = shapePrefix, t[0].lit
	case len(t) == 2 && t[0].kind == tokStar && t[1].kind == tokLit:
		g.shape, g.lit = shapeSuffix, t[1].lit
	case len(t) == 3 && t[0].kind == tokStar && t[1].kind == tokLit && t[2].kind == tokStar:
		g.shape, g.lit = shapeContains, t[1].lit
	default:
		g.shape = shapeGeneral
	}
	return g
}

// hasWildcard reports whether s has an unescaped * or ?.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				i++
			}
		case '*', '?':
			return true
		}
	}
	return false
}

// unescapeGlob returns the plain text of a value without wildcards.
func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeGlob escapes plain text so that it matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// match reports whether s matches; scratch holds the folded copy of s.
func (g *glob) match(s []byte, scratch *[]byte) bool {
	if g.shape == shapeAny {
		return true
	}
	if !g.cased && needsFold(s) {
		*scratch = foldAppend((*scratch)[:0], s)
		s = *scratch
	}
	switch g.shape {
	case shapeExact:
		return string(s) == string(g.lit)
	case shapePrefix:
		return bytes.HasPrefix(s, g.lit)
	case shapeSuffix:
		return bytes.HasSuffix(s, g.lit)
	case shapeContains:
		return bytes.Contains(s, g.lit)
	}
	return globMatch(g.toks, s)
}

// globMatch matches tokens against s, backtracking only to the last star
// (linear for the usual patterns, never exponential).
func globMatch(toks []globTok, s []byte) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRune(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit:
				if bytes.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRune(s[starSi:])
		starSi += n
		ti, si = starTi+1, starSi
	}
}

// literalRuns returns the literal parts of the pattern (folded unless
// cased), for the raw-record pre-filter.
func (g *glob) literalRuns() [][]byte {
	var out [][]byte
	for _, t := range g.toks {
		if t.kind == tokLit {
			out = append(out, t.lit)
		}
	}
	return out
}
