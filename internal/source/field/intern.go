package field

// Strings interns the strings a stream of records repeats (event types,
// logins, user agents, addresses), so that decoding a million records does
// not allocate the same text a million times. Not safe for concurrent use:
// each decoder owns one.
type Strings struct {
	m map[string]string
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
