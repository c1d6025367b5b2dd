package sigma

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// value is one value of a field in an event: a JSON value of the raw
// record, or text a mapping derived (v nil).
type value struct {
	v *fastjson.Value
	s []byte
}

// evalCtx is what evaluating rules against one event needs. The matcher
// owns one and reuses its buffers.
type evalCtx struct {
	e    *event.Event
	root *fastjson.Value // the record (CloudTrail: the EventBridge detail)
	alt  *fastjson.Value // a second root tried after root (Entra Monitor: properties)
	wsEv *fastjson.Value // Workspace: the event of the activity this Event is
	bind []*resolver     // the rule's fields, resolved for this log

	vals, vals2 []value
	fold, text  []byte
	text2       []byte
	keyBuf      []byte
	// dbuf holds derived values; it only grows while one event is
	// evaluated, so values pointing into it stay valid.
	dbuf []byte
}

// text returns the text string patterns are matched against: a string's
// contents, a number's literal, true or false, an object's or array's
// compact JSON. Null has none.
func (c *evalCtx) textOf(v value, buf *[]byte) ([]byte, bool) {
	if v.v == nil {
		return v.s, true
	}
	switch v.v.Type() {
	case fastjson.TypeString:
		return v.v.GetStringBytes(), true
	case fastjson.TypeTrue:
		return trueBytes, true
	case fastjson.TypeFalse:
		return falseBytes, true
	case fastjson.TypeNull:
		return nil, false
	}
	*buf = v.v.MarshalTo((*buf)[:0])
	return *buf, true
}

var (
	trueBytes  = []byte("true")
	falseBytes = []byte("false")
)

// number returns a value as a number: JSON numbers, and strings that hold
// one.
func numberOf(v value) (float64, bool) {
	var b []byte
	if v.v == nil {
		b = v.s
	} else {
		switch v.v.Type() {
		case fastjson.TypeNumber:
			f, err := v.v.Float64()
			return f, err == nil
		case fastjson.TypeString:
			b = v.v.GetStringBytes()
		default:
			return 0, false
		}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !(b[0] >= '0' && b[0] <= '9' || b[0] == '-' || b[0] == '+' || b[0] == '.') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// isNullValue reports whether v is JSON null.
func isNullValue(v value) bool { return v.v != nil && v.v.Type() == fastjson.TypeNull }

// evalDetection evaluates a compiled detection against the event in c.
func (c *evalCtx) evalDetection(d *detection) bool {
	return d.cond.eval(func(i int) bool { return c.evalSelection(d.sels[i]) })
}

func (c *evalCtx) evalSelection(s *selection) bool {
	for _, conj := range s.alts {
		ok := true
		for _, it := range conj {
			if !c.evalItem(it) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c *evalCtx) evalItem(it *item) bool {
	if it.field < 0 {
		return c.evalKeywords(it)
	}
	c.vals = c.bind[it.field].values(c, c.vals[:0])
	vals := c.vals
	if it.neq {
		if len(vals) == 0 {
			return false
		}
		for _, g := range it.groups {
			if c.groupHolds(g, vals) {
				return false
			}
		}
		return true
	}
	if it.all {
		for _, g := range it.groups {
			if !c.groupHolds(g, vals) {
				return false
			}
		}
		return true
	}
	for _, g := range it.groups {
		if c.groupHolds(g, vals) {
			return true
		}
	}
	return false
}

// groupHolds reports whether any variant of one written value holds for
// the field's values.
func (c *evalCtx) groupHolds(g []*pattern, vals []value) bool {
	for _, p := range g {
		if c.patternHolds(p, vals) {
			return true
		}
	}
	return false
}

func (c *evalCtx) patternHolds(p *pattern, vals []value) bool {
	switch p.kind {
	case patNull:
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if isNullValue(v) {
				return true
			}
		}
		return false
	case patExists:
		return (len(vals) > 0) == p.b
	case patRef:
		return c.refHolds(p, vals)
	}
	for _, v := range vals {
		if c.valueMatches(p, v) {
			return true
		}
	}
	return false
}

// valueMatches compares one value with one pattern, by the typed rules in
// the package documentation.
func (c *evalCtx) valueMatches(p *pattern, v value) bool {
	switch p.kind {
	case patGlob:
		t, ok := c.textOf(v, &c.text)
		return ok && p.g.match(t, &c.fold)
	case patNum:
		if f, ok := numberOf(v); ok {
			return f == p.num
		}
		if v.v != nil && v.v.Type() != fastjson.TypeString {
			return false
		}
		t, _ := c.textOf(v, &c.text)
		return foldEqual(t, p.text)
	case patBool:
		if v.v != nil {
			switch v.v.Type() {
			case fastjson.TypeTrue:
				return p.b
			case fastjson.TypeFalse:
				return !p.b
			case fastjson.TypeString:
			default:
				return false
			}
		}
		t, _ := c.textOf(v, &c.text)
		t = bytes.TrimSpace(t)
		if p.b {
			return field.EqualFold(t, "true")
		}
		return field.EqualFold(t, "false")
	case patCmp:
		f, ok := numberOf(v)
		if !ok {
			return false
		}
		switch p.cmp {
		case cmpGt:
			return f > p.num
		case cmpGte:
			return f >= p.num
		case cmpLt:
			return f < p.num
		case cmpLte:
			return f <= p.num
		}
	case patRegex:
		t, ok := c.textOf(v, &c.text)
		return ok && p.re.Match(t)
	case patCIDR:
		t, ok := c.textOf(v, &c.text)
		if !ok {
			return false
		}
		a, ok := parseAddr(t)
		return ok && p.pfx.Contains(a)
	}
	return false
}

// parseAddr reads an address as vendors write it, with or without a port.
func parseAddr(b []byte) (netip.Addr, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	s := string(b)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

func foldEqual(b []byte, s string) bool {
	b = bytes.TrimSpace(b)
	if len(b) != len(s) && !needsFold(b) && !needsFold([]byte(s)) {
		return false
	}
	return string(foldAppend(nil, b)) == foldString(s)
}

// refHolds compares a field with the values of another field of the same
// event (|fieldref): equal, or with startswith, endswith, contains.
func (c *evalCtx) refHolds(p *pattern, vals []value) bool {
	c.vals2 = c.bind[p.ref].values(c, c.vals2[:0])
	for _, v := range vals {
		t, ok := c.textOf(v, &c.text)
		if !ok {
			continue
		}
		if !p.cased {
			c.fold = foldAppend(c.fold[:0], t)
			t = c.fold
		}
		for _, r := range c.vals2 {
			u, ok := c.textOf(r, &c.text2)
			if !ok {
				continue
			}
			if !p.cased {
				c.keyBuf = foldAppend(c.keyBuf[:0], u)
				u = c.keyBuf
			}
			var hit bool
			switch p.shape {
			case shapePrefix:
				hit = bytes.HasPrefix(t, u)
			case shapeSuffix:
				hit = bytes.HasSuffix(t, u)
			case shapeContains:
				hit = bytes.Contains(t, u)
			default:
				hit = bytes.Equal(t, u)
			}
			if hit {
				return true
			}
		}
	}
	return false
}

// evalKeywords matches keywords against every string, number and boolean
// in the record.
func (c *evalCtx) evalKeywords(it *item) bool {
	if it.all {
		for _, g := range it.groups {
			if !c.anyLeaf(c.root, g, 0) {
				return false
			}
		}
		return true
	}
	for _, g := range it.groups {
		if c.anyLeaf(c.root, g, 0) {
			return true
		}
	}
	return false
}

const maxDepth = 64

func (c *evalCtx) anyLeaf(v *fastjson.Value, g []*pattern, depth int) bool {
	if v == nil || depth > maxDepth {
		return false
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		found := false
		o.Visit(func(_ []byte, x *fastjson.Value) {
			if !found && c.anyLeaf(x, g, depth+1) {
				found = true
			}
		})
		return found
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if c.anyLeaf(x, g, depth+1) {
				return true
			}
		}
		return false
	case fastjson.TypeNull:
		return false
	}
	for _, p := range g {
		if c.valueMatches(p, value{v: v}) {
			return true
		}
	}
	return false
}
