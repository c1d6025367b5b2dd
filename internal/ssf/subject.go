package ssf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// subjectDoc is a subject identifier as a generic JSON object, so that
// receivers may add subjects in formats Vigil never sends (aliases, jwt_id,
// ip-addresses): they are kept and matched, they just never match.
type subjectDoc map[string]any

const maxSubjectMembers = 16

// parseSubject checks a receiver-supplied subject identifier and returns it
// with its canonical encoding (keys sorted, no insignificant space), which
// is what the Store keeps and compares.
func parseSubject(raw json.RawMessage) (subjectDoc, []byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil, errors.New("subject is required")
	}
	var doc subjectDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, errors.New("subject must be a JSON object")
	}
	if err := checkSubject(doc, false); err != nil {
		return nil, nil, err
	}
	canon, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, errors.New("subject cannot be encoded")
	}
	return doc, canon, nil
}

func checkSubject(doc subjectDoc, member bool) error {
	if doc == nil {
		return errors.New("subject must be a JSON object")
	}
	format, ok := doc["format"].(string)
	if !ok || format == "" || len(format) > 64 {
		return errors.New("subject needs a format")
	}
	if len(doc) < 2 {
		return fmt.Errorf("subject of format %q has no identifier", format)
	}
	if len(doc) > maxSubjectMembers+1 {
		return errors.New("subject has too many members")
	}
	if format != FormatComplex {
		return nil
	}
	if member {
		return errors.New("a complex subject's member must be a simple identifier")
	}
	for name, v := range doc {
		if name == "format" {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("complex subject member %q must be an object", name)
		}
		if err := checkSubject(m, true); err != nil {
			return fmt.Errorf("member %q: %w", name, err)
		}
	}
	return nil
}

// docOf turns a Subject into the generic form for matching.
func docOf(s Subject) subjectDoc {
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	var d subjectDoc
	if json.Unmarshal(b, &d) != nil {
		return nil
	}
	return d
}

// subjectsMatch reports whether two subject identifiers refer to the same
// principal, following SSF 1.0 §8.1.3.1: simple identifiers match when
// identical; complex subjects match when every member defined in both is
// identical. Vigil adds two rules the specification leaves open: complex
// subjects must share at least one member (so a subject {tenant: A} does not
// match every event that carries no tenant), and a simple identifier matches
// a complex subject with an identical member (so removing a user's email
// stops events about that user's sessions too).
func subjectsMatch(a, b subjectDoc) bool {
	ac, bc := a["format"] == FormatComplex, b["format"] == FormatComplex
	switch {
	case !ac && !bc:
		return sameJSON(a, b)
	case ac && bc:
		shared := 0
		for name, av := range a {
			if name == "format" {
				continue
			}
			bv, ok := b[name]
			if !ok {
				continue
			}
			if !sameJSON(av, bv) {
				return false
			}
			shared++
		}
		return shared > 0
	case ac:
		a, b = b, a
	}
	// a is simple, b complex.
	for name, bv := range b {
		if name != "format" && sameJSON(a, bv) {
			return true
		}
	}
	return false
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
