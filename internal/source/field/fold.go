package field

import (
	"unicode"
	"unicode/utf8"
)

// The fold functions compare ASCII letters without regard to case and
// every other byte exactly: vendor keys, enum values and operation names
// are ASCII, and folding them byte by byte needs no allocation, unlike
// lower-casing a copy. They take strings and byte slices alike.

// IndexFold returns the index of the first instance of substr in s,
// ignoring ASCII case, or -1.
func IndexFold[T string | []byte](s T, substr string) int {
	n := len(substr)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n && lowerASCII(s[i+j]) == lowerASCII(substr[j]) {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

// EqualFold reports whether s and t are equal, ignoring ASCII case.
func EqualFold[T string | []byte](s T, t string) bool {
	return len(s) == len(t) && IndexFold(s, t) == 0
}

// HasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func HasPrefixFold[T string | []byte](s T, prefix string) bool {
	return len(s) >= len(prefix) && IndexFold(s[:len(prefix)], prefix) == 0
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// AppendLower appends b lower-cased to dst, as strings.ToLower would:
// ASCII in place, other letters by the Unicode rules, and invalid UTF-8
// as U+FFFD.
func AppendLower(dst, b []byte) []byte {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return appendLowerRunes(dst, b[i:])
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendLowerRunes(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		b = b[n:]
	}
	return dst
}
