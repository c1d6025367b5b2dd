package field

import (
	"bytes"
	"net/netip"
	"unicode/utf8"
)

// Strings interns the strings a stream of records repeats (event types,
// logins, user agents, addresses), so that decoding a million records does
// not allocate the same text a million times. Not safe for concurrent use:
// each decoder owns one.
type Strings struct {
	m   map[string]string
	buf []byte // scratch for Lower and Copy
}

const (
	internMaxLen     = 256   // longer strings are rarely repeated
	internMaxEntries = 65536 // bound on memory; the table restarts when full
)

// Get returns b as a string, reusing an earlier identical string when there
// is one.
func (s *Strings) Get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		return string(b)
	}
	if x, ok := s.m[string(b)]; ok {
		return x
	}
	if s.m == nil || len(s.m) >= internMaxEntries {
		s.m = make(map[string]string, 1024)
	}
	x := string(b)
	s.m[x] = x
	return x
}

// Lower returns b lower-cased, as strings.ToLower would, and interned.
// Vendors compare logins, principal names and resource ids without regard
// to case, so the same identity must get the same ID however a record
// spells it. ASCII text (nearly all of it) is lower-cased in a scratch
// buffer and text with other letters rune by rune, so that nothing is
// allocated when the result is already interned.
func (s *Strings) Lower(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			s.buf = AppendLower(s.buf[:0], b)
			return s.Get(s.buf)
		}
	}
	return s.Get(b)
}

// Copy returns the first four of bs as strings that share one allocation.
// It is for values that are new in every record (event, token and request
// ids): interning them would only churn the table that keeps repeated
// strings, and copying them one by one would cost an allocation each.
// Missing values are empty strings.
func (s *Strings) Copy(bs ...[]byte) (out [4]string) {
	bs = bs[:min(len(bs), len(out))]
	s.buf = s.buf[:0]
	for _, b := range bs {
		s.buf = append(s.buf, b...)
	}
	all := string(s.buf)
	off := 0
	for i, b := range bs {
		out[i] = all[off : off+len(b)]
		off += len(b)
	}
	return out
}

// Addr parses an IP address as vendors write it: plain ("198.51.100.7",
// "2001:db8::1"), IPv4-mapped IPv6 (returned as IPv4), bracketed
// ("[2001:db8::1]") or with a port ("198.51.100.7:51234",
// "[2001:db8::1]:443"); a zone is dropped. Anything else ("AWS Internal",
// "ec2.amazonaws.com", "redacted", empty) gives the zero Addr, and so do
// the unspecified addresses 0.0.0.0 and ::, which Azure writes for its own
// services and no source means as a client's address.
//
// Addresses repeat, so the text is interned and parsed as the interned
// string: nothing is allocated for an address seen before. Text that
// cannot be an address is rejected before parsing, and each form is
// parsed by the one parser that accepts it, because a failed parse
// allocates its error.
func (s *Strings) Addr(b []byte) netip.Addr {
	b = bytes.TrimSpace(b)
	colons := bytes.Count(b, []byte{':'})
	if len(b) == 0 || !(b[0] >= '0' && b[0] <= '9' || b[0] == '[' || colons > 0) {
		return netip.Addr{}
	}
	str := s.Get(b)
	var a netip.Addr
	switch {
	case str[0] == '[' && str[len(str)-1] == ']':
		a, _ = netip.ParseAddr(str[1 : len(str)-1])
	case str[0] == '[' || colons == 1:
		ap, _ := netip.ParseAddrPort(str)
		a = ap.Addr()
	default:
		a, _ = netip.ParseAddr(str)
	}
	a = a.Unmap().WithZone("")
	if a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// FirstAddr returns the address of the first of bs that holds one, by
// the rules of Addr.
func (s *Strings) FirstAddr(bs ...[]byte) netip.Addr {
	for _, b := range bs {
		if a := s.Addr(b); a.IsValid() {
			return a
		}
	}
	return netip.Addr{}
}
