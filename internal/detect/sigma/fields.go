package sigma

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// resolver finds the values of one rule field in an event of one log.
type resolver struct {
	name string
	// paths are tried in order; the first that yields a value wins (all
	// of them with union).
	paths []fpath
	union bool
	// derive, when set, computes the values instead.
	derive func(c *evalCtx, dst []value) []value
	// fallback is tried when no path yields a value.
	fallback func(c *evalCtx, name string, dst []value) []value
	// fast reads the field's value from the normalized event without
	// parsing the record, for the rule index; ok is false when the event
	// cannot tell (then every rule indexed on the field is a candidate).
	fast func(e *event.Event) (v string, ok bool)
	// fastName names the accessor, so that fields sharing one share an
	// index; fastNum: the accessor gives integers in canonical form, so
	// numeric rule values may use the index too.
	fastName string
	fastNum  bool
	// literal is true when every value is text found verbatim in the raw
	// record, so that the raw pre-filter may look for it.
	literal bool
}

// fpath is a dotted field path.
type fpath struct {
	full   string
	segs   []string
	starts []int // byte offset of each segment in full
}

func newPath(s string) fpath {
	p := fpath{full: s, segs: strings.Split(s, ".")}
	off := 0
	for _, seg := range p.segs {
		p.starts = append(p.starts, off)
		off += len(seg) + 1
	}
	return p
}

func (r *resolver) values(c *evalCtx, dst []value) []value {
	if r.derive != nil {
		return r.derive(c, dst)
	}
	n := len(dst)
	for i := range r.paths {
		dst = c.walkRoots(&r.paths[i], dst)
		if len(dst) > n && !r.union {
			return dst
		}
	}
	if len(dst) == n && r.fallback != nil {
		dst = r.fallback(c, r.name, dst)
	}
	return dst
}

// walkRoots resolves p from the record's root, then from the second root.
func (c *evalCtx) walkRoots(p *fpath, dst []value) []value {
	n := len(dst)
	dst = walk(c.root, p, 0, dst, 0)
	if len(dst) == n && c.alt != nil {
		dst = walk(c.alt, p, 0, dst, 0)
	}
	return dst
}

// walk resolves p from segment i of v: keys matched exactly, then without
// regard to case, then as dotted keys ("a.b" as one key); arrays are
// searched element by element; a numeric segment indexes an array. The
// values at the end are appended (an array's elements one by one; an empty
// array as itself).
func walk(v *fastjson.Value, p *fpath, i int, dst []value, depth int) []value {
	for i < len(p.segs) {
		if v == nil || depth > maxDepth {
			return dst
		}
		seg := p.segs[i]
		switch v.Type() {
		case fastjson.TypeArray:
			a, _ := v.Array()
			if n, err := strconv.Atoi(seg); err == nil {
				if n < 0 || n >= len(a) {
					return dst
				}
				v = a[n]
				i++
				continue
			}
			for _, x := range a {
				dst = walk(x, p, i, dst, depth+1)
			}
			return dst
		case fastjson.TypeObject:
			x := field.Get(v, seg)
			if x == nil {
				for j := i + 1; j < len(p.segs) && x == nil; j++ {
					if x = field.Get(v, p.full[p.starts[i]:p.starts[j]+len(p.segs[j])]); x != nil {
						i = j
					}
				}
				if x == nil {
					return dst
				}
			}
			v = x
			i++
			depth++
		default:
			return dst
		}
	}
	if v == nil {
		return dst
	}
	if v.Type() == fastjson.TypeArray {
		a, _ := v.Array()
		if len(a) == 0 {
			return append(dst, value{v: v})
		}
		for _, x := range a {
			dst = append(dst, value{v: x})
		}
		return dst
	}
	return append(dst, value{v: v})
}

// spec is one entry of a log's field mapping.
type spec struct {
	// paths on the raw record, tried in order (all with union).
	paths  []string
	union  bool
	derive func(c *evalCtx, dst []value) []value
	// literal: derive's values are verbatim record text.
	literal  bool
	fast     func(e *event.Event) (string, bool)
	fastName string
	fastNum  bool
}

// vlog is one of Vigil's logs as Sigma sees it: the logsource it answers
// to and how rule field names map onto its raw records.
type vlog struct {
	name                       string // for docs and problems
	product, service, category string
	specs                      map[string]spec // lower-case Sigma field name → mapping
	// roots sets the evaluation roots for a parsed record.
	roots func(c *evalCtx, v *fastjson.Value)
	// fallback looks up fields no path finds (Workspace parameters, Entra
	// modified properties); its values must be verbatim record text.
	fallback func(c *evalCtx, name string, dst []value) []value
	// stripProps: a rule field "properties.x" is also looked up as "x"
	// (Entra: Monitor exports nest the Graph resource in properties).
	stripProps bool
	// kv maps "<prefix><name>" to the value of the entry keyed name in an
	// array of key/value objects (Entra additionalDetails).
	kv []kvSpec
}

type kvSpec struct{ prefix, array, key, value string }

// resolver builds the resolver of a rule field for this log.
func (l *vlog) resolver(name string) *resolver {
	key := strings.ToLower(name)
	r := &resolver{name: name, literal: true}
	sp, ok := l.specs[key]
	if !ok {
		sp, ok = vigilSpecs[key]
	}
	if !ok {
		for _, kv := range l.kv {
			if len(key) > len(kv.prefix) && strings.HasPrefix(key, kv.prefix) {
				k := name[len(kv.prefix):]
				return &resolver{name: name, literal: true, derive: func(c *evalCtx, dst []value) []value {
					return keyValue(c, kv.array, kv.key, kv.value, k, dst)
				}}
			}
		}
	}
	if ok {
		r.union, r.fast, r.fastName, r.fastNum = sp.union, sp.fast, sp.fastName, sp.fastNum
		if sp.derive != nil {
			r.derive, r.literal = sp.derive, sp.literal
			return r
		}
		for _, p := range sp.paths {
			r.paths = append(r.paths, newPath(p))
		}
	} else {
		r.paths = []fpath{newPath(name)}
	}
	if l.stripProps && len(key) > len("properties.") && strings.HasPrefix(key, "properties.") {
		r.paths = append(r.paths, newPath(name[len("properties."):]))
	}
	if !ok {
		r.fallback = l.fallback
	}
	return r
}

// matches reports whether a rule's logsource selects this log: every
// attribute the rule names must be the log's.
func (l *vlog) matches(ls Logsource) bool {
	return (ls.Product == "" || ls.Product == l.product) &&
		(ls.Service == "" || ls.Service == l.service) &&
		(ls.Category == "" || ls.Category == l.category)
}

// derived appends text that is not in the record.
func derived(c *evalCtx, dst []value, parts ...string) []value {
	start := len(c.dbuf)
	for _, p := range parts {
		c.dbuf = append(c.dbuf, p...)
	}
	return append(dst, value{s: c.dbuf[start:len(c.dbuf):len(c.dbuf)]})
}

// keyValue finds, in the array of {keyField: k, valueField: v} objects at
// arr (under either root), the values whose key is k.
func keyValue(c *evalCtx, arr, keyField, valueField, k string, dst []value) []value {
	for _, root := range [2]*fastjson.Value{c.root, c.alt} {
		if root == nil {
			continue
		}
		found := false
		for _, kv := range field.Array(root, arr) {
			if field.EqualFold(field.Bytes(kv, keyField), k) {
				if x := field.Get(kv, valueField); x != nil {
					dst = append(dst, value{v: x})
					found = true
				}
			}
		}
		if found {
			return dst
		}
	}
	return dst
}

// trimmedString appends a string value trimmed of spaces (as derived text
// of the record's own bytes, so still verbatim).
func trimmedString(x *fastjson.Value, dst []value) []value {
	if x == nil {
		return dst
	}
	if x.Type() == fastjson.TypeString {
		return append(dst, value{s: bytes.TrimSpace(x.GetStringBytes())})
	}
	return append(dst, value{v: x})
}
