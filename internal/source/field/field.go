// Package field reads fields out of parsed JSON records the way vendor
// exports need: keys matched exactly first and then without regard to case
// (real exports lower-case some keys), numbers and booleans accepted where a
// string is expected and the other way round, and vendors' many timestamp
// layouts. Decoders report problems as *Error, which names the field.
package field

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// Error is a problem with one field of a record.
type Error struct {
	Field string // dotted path, as the vendor spells it
	Msg   string
}

func (e *Error) Error() string { return e.Field + ": " + e.Msg }

// Errorf returns an *Error for the field at path.
func Errorf(path string, format string, args ...any) error {
	return &Error{Field: path, Msg: fmt.Sprintf(format, args...)}
}

// ErrMissing is wrapped by errors about required fields that are absent.
var ErrMissing = errors.New("missing")

// Missing returns an error for a required field that is absent or empty.
func Missing(path string) error {
	return fmt.Errorf("%w required field %s", ErrMissing, path)
}

// Get returns the value at path, or nil. Each key is matched exactly and, when
// that fails, case-insensitively. Numeric keys index arrays.
func Get(v *fastjson.Value, path ...string) *fastjson.Value {
	for _, k := range path {
		if v == nil {
			return nil
		}
		switch v.Type() {
		case fastjson.TypeObject:
			v = key(v, k)
		case fastjson.TypeArray:
			n, err := strconv.Atoi(k)
			a, _ := v.Array()
			if err != nil || n < 0 || n >= len(a) {
				return nil
			}
			v = a[n]
		default:
			return nil
		}
	}
	return v
}

func key(v *fastjson.Value, k string) *fastjson.Value {
	if x := v.Get(k); x != nil {
		return x
	}
	o, _ := v.Object()
	var found *fastjson.Value
	o.Visit(func(name []byte, x *fastjson.Value) {
		if found == nil && EqualFold(name, k) {
			found = x
		}
	})
	return found
}

// Has reports whether the path exists (even with a null value).
func Has(v *fastjson.Value, path ...string) bool { return Get(v, path...) != nil }

// Bytes returns the text of the value at path without copying: the string's
// contents, or the literal of a number or boolean. Null, absent, objects and
// arrays give nil. The result is valid until the parser is reused.
func Bytes(v *fastjson.Value, path ...string) []byte {
	v = Get(v, path...)
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b
	case fastjson.TypeNumber:
		return []byte(v.String())
	case fastjson.TypeTrue:
		return []byte("true")
	case fastjson.TypeFalse:
		return []byte("false")
	}
	return nil
}

// Str is Bytes as a new string.
func Str(v *fastjson.Value, path ...string) string { return string(Bytes(v, path...)) }

// Float returns the number at path; numeric strings count.
func Float(v *fastjson.Value, path ...string) (float64, bool) {
	v = Get(v, path...)
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return f, err == nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		f, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		return f, err == nil
	}
	return 0, false
}

// Int returns the integer at path; numeric strings count.
func Int(v *fastjson.Value, path ...string) (int64, bool) {
	v = Get(v, path...)
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64()
		return n, err == nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Bool returns the boolean at path; "true"/"false" strings (any case) count.
func Bool(v *fastjson.Value, path ...string) (val, ok bool) {
	v = Get(v, path...)
	if v == nil {
		return false, false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		switch {
		case EqualFold(b, "true"):
			return true, true
		case EqualFold(b, "false"):
			return false, true
		}
	}
	return false, false
}

// BoolPtr is Bool as a pointer, nil when absent or not a boolean.
func BoolPtr(v *fastjson.Value, path ...string) *bool {
	b, ok := Bool(v, path...)
	if !ok {
		return nil
	}
	return &b
}

// Array returns the array at path, or nil.
func Array(v *fastjson.Value, path ...string) []*fastjson.Value {
	v = Get(v, path...)
	if v == nil || v.Type() != fastjson.TypeArray {
		return nil
	}
	a, _ := v.Array()
	return a
}

// IsObject reports whether v is a JSON object.
func IsObject(v *fastjson.Value) bool { return v != nil && v.Type() == fastjson.TypeObject }

// First returns the first of bs that is not empty, or nil.
func First(bs ...[]byte) []byte {
	for _, b := range bs {
		if len(b) > 0 {
			return b
		}
	}
	return nil
}

// ParseError turns a parser failure into a message that gives the position
// and never echoes record contents (records can hold secrets). It re-checks
// the input with encoding/json, whose syntax errors carry an offset.
func ParseError(b []byte) error {
	var x any
	err := json.Unmarshal(b, &x)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(b, se.Offset)
		return fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, sanitize(se.Error()))
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %s", sanitize(err.Error()))
	}
	return errors.New("invalid JSON")
}

// sanitize keeps encoding/json's message but drops quoted input beyond one
// character, which is all its syntax errors quote.
func sanitize(s string) string {
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// position turns encoding/json's offset (bytes read up to and including
// the offending one) into a 1-based line and column of that byte.
func position(b []byte, off int64) (line, col int) {
	if off > 0 {
		off--
	}
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	line, col = 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
