package poll

import "strings"

// maxLinkHeader bounds what is parsed of the Link header values.
const maxLinkHeader = 64 << 10

// linkRel returns the target of the first link in the Link header values
// (RFC 8288) whose rel includes rel, case-insensitively. Okta sends one
// header per link (`<…>; rel="self"` and `<…>; rel="next"`); others list
// several in one value separated by commas. Malformed parts are skipped.
func linkRel(values []string, rel string) (string, bool) {
	total := 0
	for _, v := range values {
		total += len(v)
		if total > maxLinkHeader {
			return "", false
		}
		p := linkParser{s: v}
		for {
			target, rels, ok := p.next()
			if !ok {
				break
			}
			for _, r := range strings.Fields(rels) {
				if strings.EqualFold(r, rel) {
					return target, true
				}
			}
		}
	}
	return "", false
}

type linkParser struct {
	s string
	i int
}

// next parses one link-value and returns its target and rel parameter; ok
// is false when no more links can be read.
func (p *linkParser) next() (target, rel string, ok bool) {
	for {
		p.skip(" \t,")
		if p.i >= len(p.s) {
			return "", "", false
		}
		if p.s[p.i] != '<' {
			if !p.skipPast(',') {
				return "", "", false
			}
			continue
		}
		end := strings.IndexByte(p.s[p.i+1:], '>')
		if end < 0 {
			return "", "", false
		}
		target = strings.TrimSpace(p.s[p.i+1 : p.i+1+end])
		p.i += end + 2
		rel, good := p.params()
		if good {
			return target, rel, true
		}
	}
}

// params reads `; name=value` pairs up to the next comma outside quotes
// and returns the rel value; good is false when they were malformed (the
// link is then skipped).
func (p *linkParser) params() (rel string, good bool) {
	good = true
	for {
		p.skip(" \t")
		if p.i >= len(p.s) {
			return rel, good
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			return rel, good
		case ';':
			p.i++
		default:
			// junk after the target or a value: skip the rest of this link
			good = false
			if !p.skipPast(',') {
				p.i = len(p.s)
			}
			return rel, good
		}
		p.skip(" \t")
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune("=;, \t", rune(p.s[p.i])) {
			p.i++
		}
		name := p.s[start:p.i]
		p.skip(" \t")
		var val string
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			p.skip(" \t")
			if p.i < len(p.s) && p.s[p.i] == '"' {
				v, ok := p.quoted()
				if !ok {
					return rel, false
				}
				val = v
			} else {
				start := p.i
				for p.i < len(p.s) && !strings.ContainsRune(";, \t", rune(p.s[p.i])) {
					p.i++
				}
				val = p.s[start:p.i]
			}
		}
		// The first rel counts (RFC 8288 section 3.3).
		if strings.EqualFold(name, "rel") && rel == "" {
			rel = val
		}
	}
}

// quoted reads a quoted-string at p.i (backslash escapes allowed).
func (p *linkParser) quoted() (string, bool) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '\\':
			p.i++
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
			}
		case '"':
			p.i++
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

func (p *linkParser) skip(set string) {
	for p.i < len(p.s) && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

// skipPast moves past the next comma; false when there is none.
func (p *linkParser) skipPast(c byte) bool {
	j := strings.IndexByte(p.s[p.i:], c)
	if j < 0 {
		p.i = len(p.s)
		return false
	}
	p.i += j + 1
	return true
}
