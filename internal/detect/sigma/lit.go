package sigma

import (
	"bytes"
)

// The raw-record pre-filter. Before a candidate rule costs a JSON parse,
// Vigil checks that the raw record contains, ignoring ASCII case, some
// text that any match would have to contain: "core.user_auth.login_failed"
// for a rule on that legacyEventType, "okta admin console" for one whose
// selection needs that target. The check is exact (never drops a record
// that could match) because literals are taken only from ASCII characters
// that JSON never needs to escape, from values read verbatim out of the
// record, and because a record that escapes an ASCII character as \u00XX
// skips the pre-filter.

// minLit is the shortest literal worth searching for.
const minLit = 3

// lit is one literal to search for.
type lit struct {
	s      []byte // lower-case ASCII
	anchor int    // index in s of the byte searched for first (the rarest)
	lo, up byte   // the anchor byte in lower and upper case
}

// litSafe reports whether c can be searched for in raw JSON as is: printable
// ASCII that JSON never escapes (not the quote, backslash or slash, which
// some encoders escape) and that wildcards do not stand for.
func litSafe(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '/'
}

// bestLit returns the longest safe run in the given literal parts, or nil
// when none is at least minLit long.
func bestLit(parts [][]byte) *lit {
	var best []byte
	for _, p := range parts {
		start := 0
		for i := 0; i <= len(p); i++ {
			if i == len(p) || !litSafe(p[i]) {
				if i-start > len(best) {
					best = p[start:i]
				}
				start = i + 1
			}
		}
	}
	if len(best) < minLit {
		return nil
	}
	return newLit(best)
}

func newLit(b []byte) *lit {
	l := &lit{s: foldAppend(nil, b)}
	rank := 1 << 30
	for i, c := range l.s {
		if r := byteRank(c); r < rank {
			rank, l.anchor = r, i
		}
	}
	l.lo = l.s[l.anchor]
	l.up = l.lo
	if 'a' <= l.lo && l.lo <= 'z' {
		l.up = l.lo - 'a' + 'A'
	}
	return l
}

// byteRank estimates how common a byte is in JSON log records (lower is
// rarer): the anchor of a literal is its rarest byte, so that few places
// need checking.
func byteRank(c byte) int {
	switch {
	case c == '"' || c == ':' || c == ',' || c == ' ':
		return 100
	case c == 'e' || c == 't' || c == 'a' || c == 'o' || c == 'i' || c == 'n' || c == 's' || c == 'r':
		return 90
	case c == '.' || c == '-' || c == '0' || c == '1' || c == '2':
		return 80
	case c == 'l' || c == 'c' || c == 'd' || c == 'u' || c == 'h' || c == 'm' || c == 'p':
		return 70
	case c >= '3' && c <= '9':
		return 60
	case c == 'g' || c == 'f' || c == 'y' || c == 'w' || c == 'b' || c == 'v':
		return 50
	case c == 'k' || c == 'x':
		return 40
	case c == 'j' || c == 'q' || c == 'z':
		return 30
	}
	return 10 // punctuation: _ @ # = + ( ) [ ] …
}

// in reports whether the literal occurs in b, ignoring ASCII case.
func (l *lit) in(b []byte) bool {
	n := len(l.s)
	if len(b) < n {
		return false
	}
	// Candidate anchor positions run from l.anchor to len(b)-n+l.anchor.
	last := len(b) - n + l.anchor
	i := l.anchor
	nextLo, nextUp := -2, -2 // -2: not searched yet; -1: none left
	for i <= last {
		if nextLo != -1 && nextLo < i {
			nextLo = indexFrom(b, l.lo, i)
		}
		p := nextLo
		if l.up != l.lo {
			if nextUp != -1 && nextUp < i {
				nextUp = indexFrom(b, l.up, i)
			}
			if p < 0 || (nextUp >= 0 && nextUp < p) {
				p = nextUp
			}
		}
		if p < 0 || p > last {
			return false
		}
		if equalFoldASCII(b[p-l.anchor:p-l.anchor+n], l.s) {
			return true
		}
		i = p + 1
	}
	return false
}

func indexFrom(b []byte, c byte, from int) int {
	if from >= len(b) {
		return -1
	}
	j := bytes.IndexByte(b[from:], c)
	if j < 0 {
		return -1
	}
	return from + j
}

// equalFoldASCII compares b with the lower-case ASCII s.
func equalFoldASCII(b, s []byte) bool {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// escapesASCII reports whether raw JSON escapes an ASCII character as
// \u00XX, which would hide it from the pre-filter.
func escapesASCII(b []byte) bool {
	for {
		i := bytes.Index(b, []byte(`\u00`))
		if i < 0 {
			return false
		}
		// An odd run of backslashes before u makes it an escape.
		k := 0
		for j := i; j >= 0 && b[j] == '\\'; j-- {
			k++
		}
		if k%2 == 1 && i+5 < len(b) && b[i+4] >= '0' && b[i+4] <= '7' {
			return true
		}
		b = b[i+4:]
	}
}
