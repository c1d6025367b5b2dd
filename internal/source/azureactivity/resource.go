package azureactivity

import (
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// resource reads an ARM resource id:
// /subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}…],
// where extension resources repeat /providers/… and the last provider
// names what was touched. Everything is lower-cased: Resource Manager
// compares ids case-insensitively and writes the same one in any case
// ("/SUBSCRIPTIONS/…/PROVIDERS/MICROSOFT.STORAGE/…"), which would split
// one resource's history in two.
func (d *Decoder) resource(id []byte) event.Resource {
	if len(id) == 0 {
		return event.Resource{}
	}
	var seg [48][2]int // start and end of each segment; deeper ids are cut
	n := 0
	for i := 0; i < len(id) && n < len(seg); {
		for i < len(id) && id[i] == '/' {
			i++
		}
		j := i
		for j < len(id) && id[j] != '/' {
			j++
		}
		if j > i {
			seg[n] = [2]int{i, j}
			n++
		}
		i = j
	}
	if n == 0 {
		return event.Resource{} // "/" names nothing
	}
	s := func(k int) []byte { return id[seg[k][0]:seg[k][1]] }
	r := event.Resource{ID: d.s.Lower(id)}
	prov := -1
	for k := 0; k+1 < n; k++ {
		switch {
		case field.EqualFold(s(k), "resourcegroups") && r.Container == "":
			r.Container = d.s.Lower(s(k + 1))
		case field.EqualFold(s(k), "providers"):
			prov = k
		}
	}
	switch {
	case prov >= 0:
		ns := s(prov + 1)
		r.Service = d.s.Lower(ns)
		d.buf = field.AppendLower(d.buf[:0], ns)
		rest := n - prov - 2
		for k := prov + 2; k < n; k += 2 {
			d.buf = append(d.buf, '/')
			d.buf = field.AppendLower(d.buf, s(k))
		}
		r.Type = d.s.Get(d.buf)
		if rest > 0 && rest%2 == 0 {
			r.Name = d.s.Lower(s(n - 1))
		}
	case r.Container != "":
		r.Service, r.Type, r.Name = "microsoft.resources", "microsoft.resources/resourcegroups", r.Container
		r.Container = ""
	case n == 2 && field.EqualFold(s(0), "subscriptions"):
		r.Service, r.Type, r.Name = "microsoft.resources", "microsoft.resources/subscriptions", d.s.Lower(s(1))
	default:
		r.Name = d.s.Lower(s(n - 1))
	}
	return r
}
