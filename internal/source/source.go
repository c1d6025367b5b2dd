// Package source turns vendor log records into normalized events. Each
// format has its own sub-package; this package cuts streams into records
// (Scanner), unwraps the envelopes vendors deliver records in, and picks the
// decoder for each record by looking at it (Set).
package source

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/azureactivity"
	"github.com/vigil-zt/vigil/internal/source/cloudtrail"
	"github.com/vigil-zt/vigil/internal/source/entra"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/source/gworkspace"
	"github.com/vigil-zt/vigil/internal/source/ocsf"
	"github.com/vigil-zt/vigil/internal/source/okta"
)

// Decoder decodes one vendor format. A decoder is used by one goroutine at
// a time (it may keep caches).
type Decoder interface {
	Source() event.Source
	// Detect reports whether the record is in this decoder's format.
	Detect(v *fastjson.Value) bool
	// Decode appends the record's events (usually one) to dst. Errors name
	// the field at fault.
	Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error)
}

var (
	_ Decoder = (*azureactivity.Decoder)(nil)
	_ Decoder = (*cloudtrail.Decoder)(nil)
	_ Decoder = (*entra.Decoder)(nil)
	_ Decoder = (*gworkspace.Decoder)(nil)
	_ Decoder = (*ocsf.Decoder)(nil)
	_ Decoder = (*okta.Decoder)(nil)
)

// decoders returns a fresh decoder of every format, in detection order:
// the most specific signatures first.
func decoders() []Decoder {
	return []Decoder{
		cloudtrail.New(),
		okta.New(),
		entra.New(),
		azureactivity.New(),
		gworkspace.New(),
		ocsf.New(), // generic, last
	}
}

// Sources lists the formats Vigil reads.
func Sources() []event.Source {
	var out []event.Source
	for _, d := range decoders() {
		out = append(out, d.Source())
	}
	return out
}

// Record is one vendor record and what it decoded to.
type Record struct {
	// Raw is the record as read; for an element of an envelope (a
	// CloudTrail Records file, a Graph page, an Event Hubs batch) it is
	// the element in compact form.
	Raw []byte
	// Elem is the index within its envelope, or -1.
	Elem   int
	Source event.Source
	Events []event.Event
	// Err is why the record could not be decoded; it is then quarantined.
	Err error
}

// Set decodes records, detecting each record's format unless one was
// forced. Not safe for concurrent use: give each goroutine its own Set.
type Set struct {
	p    fastjson.Parser
	decs []Decoder
	only Decoder
}

// ErrUnknownSource is returned by NewSet for a source name it does not know.
var ErrUnknownSource = errors.New("unknown source")

// NewSet returns a Set. With only set, every record is decoded as that
// format; otherwise each record's format is detected.
func NewSet(only event.Source) (*Set, error) {
	s := &Set{decs: decoders()}
	if only != "" {
		i := slices.IndexFunc(s.decs, func(d Decoder) bool { return d.Source() == only })
		if i < 0 {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownSource, only, joinSources(Sources()))
		}
		s.only = s.decs[i]
	}
	return s, nil
}

func joinSources(ss []event.Source) string {
	var b strings.Builder
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(s))
	}
	return b.String()
}

// Decode decodes the record in raw and appends one Record per vendor record
// to dst: several when raw is an envelope. raw is not retained except as
// Record.Raw, which aliases it for unwrapped records.
func (s *Set) Decode(dst []Record, raw []byte) []Record {
	v, err := s.p.ParseBytes(raw)
	if err != nil {
		return append(dst, Record{Raw: raw, Elem: -1, Err: field.ParseError(raw)})
	}
	if d := s.detect(v); d != nil {
		return s.decodeOne(dst, d, v, raw, -1)
	}
	if elems, ok := envelope(v); ok {
		for i, el := range elems {
			d := s.detect(el)
			if d == nil {
				d = s.only
			}
			dst = s.decodeOne(dst, d, el, el.MarshalTo(nil), i)
		}
		return dst
	}
	return s.decodeOne(dst, s.only, v, raw, -1)
}

// DecodeAs decodes raw as the given source, without detection: for records
// whose source is known (stored events).
func (s *Set) DecodeAs(dst []Record, src event.Source, raw []byte) []Record {
	i := slices.IndexFunc(s.decs, func(d Decoder) bool { return d.Source() == src })
	if i < 0 {
		return append(dst, Record{Raw: raw, Elem: -1, Err: fmt.Errorf("%w %q", ErrUnknownSource, src)})
	}
	v, err := s.p.ParseBytes(raw)
	if err != nil {
		return append(dst, Record{Raw: raw, Elem: -1, Err: field.ParseError(raw)})
	}
	return s.decodeOne(dst, s.decs[i], v, raw, -1)
}

// detect returns the decoder whose format v is in, or nil.
func (s *Set) detect(v *fastjson.Value) Decoder {
	if v.Type() != fastjson.TypeObject {
		return nil
	}
	if s.only != nil {
		if s.only.Detect(v) {
			return s.only
		}
		return nil
	}
	for _, d := range s.decs {
		if d.Detect(v) {
			return d
		}
	}
	return nil
}

// decodeOne decodes v with d; a nil d means no format matched.
func (s *Set) decodeOne(dst []Record, d Decoder, v *fastjson.Value, raw []byte, elem int) []Record {
	r := Record{Raw: raw, Elem: elem}
	switch {
	case v.Type() != fastjson.TypeObject:
		r.Err = fmt.Errorf("record is a JSON %s, not an object", v.Type())
		return append(dst, r)
	case d == nil:
		r.Err = unrecognized(v)
		return append(dst, r)
	}
	r.Source = d.Source()
	r.Events, r.Err = d.Decode(nil, v)
	if r.Err != nil {
		r.Err = fmt.Errorf("%s: %w", d.Source(), r.Err)
		r.Events = nil
	}
	for i := range r.Events {
		r.Events[i].Raw = raw
	}
	return append(dst, r)
}

// ErrUnrecognized is wrapped by the error for records of no known format.
var ErrUnrecognized = errors.New("unrecognized record")

func unrecognized(v *fastjson.Value) error {
	o, _ := v.Object()
	var keys []string
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if len(keys) < 8 && len(k) <= 40 {
			keys = append(keys, string(k))
		}
	})
	if len(keys) == 0 {
		return fmt.Errorf("%w: empty object", ErrUnrecognized)
	}
	return fmt.Errorf("%w: no decoder (%s) matches an object with keys %s", ErrUnrecognized,
		joinSources(Sources()), strings.Join(keys, ", "))
}

// envelope returns the records inside the containers vendors deliver them
// in: a JSON array, CloudTrail delivery files and Event Hubs batches
// ({"Records"|"records": [...]}), Microsoft Graph pages ({"value": [...]}),
// Admin SDK Reports responses ({"items": [...]}), and Okta event hooks
// ({"data": {"events": [...]}}).
func envelope(v *fastjson.Value) ([]*fastjson.Value, bool) {
	if v.Type() == fastjson.TypeArray {
		a, _ := v.Array()
		return a, true
	}
	if v.Type() != fastjson.TypeObject {
		return nil, false
	}
	for _, k := range []string{"Records", "value"} {
		if a := field.Get(v, k); a != nil && a.Type() == fastjson.TypeArray {
			return mustArray(a), true
		}
	}
	if a := field.Get(v, "items"); a != nil && a.Type() == fastjson.TypeArray &&
		strings.HasPrefix(field.Str(v, "kind"), "admin#reports#") {
		return mustArray(a), true
	}
	if a := field.Get(v, "data", "events"); a != nil && a.Type() == fastjson.TypeArray {
		return mustArray(a), true
	}
	return nil, false
}

func mustArray(v *fastjson.Value) []*fastjson.Value {
	a, _ := v.Array()
	return a
}
