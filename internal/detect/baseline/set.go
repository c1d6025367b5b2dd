package baseline

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Entry is one remembered value: the hash of its label, the label itself
// (for evidence, and to rehash on restore), how often and when last it was
// seen.
type Entry struct {
	Key   uint64
	Label string
	Count uint32
	Last  uint32 // Unix seconds
}

// Set remembers up to a few values with counts. When full, the least used
// value (fewest sightings, then oldest) makes room: habits stay, one-offs
// go.
type Set struct {
	E []Entry
}

// Has reports whether the value with this key is remembered.
func (s *Set) Has(key uint64) bool {
	_, ok := s.Get(key)
	return ok
}

// Get returns the entry for key.
func (s *Set) Get(key uint64) (Entry, bool) {
	for _, e := range s.E {
		if e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// Touch records a sighting of label at t, remembering at most capacity
// values.
func (s *Set) Touch(label string, t int64, capacity int) {
	s.touch(Key(label), label, Label{}, t, capacity)
}

// TouchLabel is Touch for a label in parts; the string is built only if
// the value is new.
func (s *Set) TouchLabel(l Label, t int64, capacity int) {
	s.touch(l.Key(), "", l, t, capacity)
}

// HasLabel reports whether the label is remembered.
func (s *Set) HasLabel(l Label) bool { return s.Has(l.Key()) }

func (s *Set) touch(key uint64, label string, parts Label, t int64, capacity int) {
	for i := range s.E {
		if s.E[i].Key == key {
			s.E[i].Count++
			if uint32(t) > s.E[i].Last {
				s.E[i].Last = uint32(t)
			}
			return
		}
	}
	if label == "" {
		label = parts.String()
	}
	e := Entry{Key: key, Label: label, Count: 1, Last: uint32(t)}
	if len(s.E) < capacity {
		if s.E == nil {
			s.E = make([]Entry, 0, 2)
		}
		s.E = append(s.E, e)
		return
	}
	worst := 0
	for i := range s.E {
		if s.E[i].Count < s.E[worst].Count || s.E[i].Count == s.E[worst].Count && s.E[i].Last < s.E[worst].Last {
			worst = i
		}
	}
	s.E[worst] = e
}

// Vouch records that people vouched for label at t: it is remembered with
// at least min sightings, a habit rather than a one-off the next new value
// evicts.
func (s *Set) Vouch(label string, t int64, min uint32, capacity int) {
	s.Touch(label, t, capacity)
	k := Key(label)
	for i := range s.E {
		if s.E[i].Key == k && s.E[i].Count < min {
			s.E[i].Count = min
		}
	}
}

// Rehash recomputes keys from labels: the hash seed is per process, so a
// restored set must be rehashed before use.
func (s *Set) Rehash() {
	for i := range s.E {
		s.E[i].Key = Key(s.E[i].Label)
	}
}

// Len returns the number of remembered values.
func (s *Set) Len() int { return len(s.E) }

// Describe lists the remembered values, most used first, for evidence:
// "Chrome/macOS (41×, last 2026-03-01)".
func (s *Set) Describe(max int) string {
	if len(s.E) == 0 {
		return "none"
	}
	es := append([]Entry(nil), s.E...)
	sort.Slice(es, func(i, j int) bool {
		if es[i].Count != es[j].Count {
			return es[i].Count > es[j].Count
		}
		return es[i].Label < es[j].Label
	})
	var b strings.Builder
	for i, e := range es {
		if i == max {
			fmt.Fprintf(&b, ", … %d more", len(es)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d×, last %s)", e.Label, e.Count, time.Unix(int64(e.Last), 0).UTC().Format("2006-01-02"))
	}
	return b.String()
}
