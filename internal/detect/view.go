package detect

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/risk"
)

// IdentityInfo is what the engine knows about an identity, for people.
type IdentityInfo struct {
	ID       string
	Kind     event.Kind
	Risk     float64
	Level    event.Severity
	Since    time.Time
	Learned  bool
	Devices  []baseline.Entry
	Networks []baseline.Entry // prefixes, then ASNs
	Sessions []SessionInfo
}

// SessionInfo is a session the engine remembers.
type SessionInfo struct {
	ID          string
	Established time.Time
	LastUsed    time.Time
	Device      string
	Network     string
	Hijacked    bool
	Cleared     bool
}

// View returns what the engine knows about id at now, and whether it
// knows id at all.
func (e *Engine) View(id string, now time.Time) (IdentityInfo, bool) {
	st := e.ids[id]
	if st == nil {
		return IdentityInfo{}, false
	}
	r := e.cfg.Risk.Value(st.Risk, now)
	info := IdentityInfo{ID: st.ID, Kind: st.Kind, Risk: r, Level: risk.Level(r), Learned: st.Profile.Learned(e.cfg.Baseline, now),
		Devices: append([]baseline.Entry(nil), st.Profile.Devices.E...)}
	if st.Profile.Events > 0 {
		info.Since = st.Profile.Since()
	}
	info.Networks = append(append(info.Networks, st.Profile.Prefixes.E...), st.Profile.ASNs.E...)
	for i := range st.Sessions {
		s := &st.Sessions[i]
		ref := s.ref("", st.ID)
		info.Sessions = append(info.Sessions, SessionInfo{ID: s.Key, Established: ref.Time, LastUsed: time.Unix(0, s.Last).UTC(),
			Device: ref.Device, Network: netLabel(ref), Hijacked: s.Hijacked, Cleared: s.Cleared})
	}
	return info, true
}

// Incident returns the incident with id, or nil.
func (e *Engine) Incident(id string) *event.Incident { return e.incidents.Get(id) }

// PruneIncidents forgets incidents quiet for longer than the incident
// window at now (a service keeps them in its store).
func (e *Engine) PruneIncidents(now time.Time) int { return e.incidents.Prune(now) }

// RiskHalfLife is how long an identity's risk takes to halve without
// alerts.
func (e *Engine) RiskHalfLife() time.Duration { return e.cfg.Risk.HalfLife }

// RiskEntry is an identity's risk at a time.
type RiskEntry struct {
	ID    string
	Kind  event.Kind
	Risk  float64
	Level event.Severity
}

// AtRisk returns the identities whose risk at now is at least min, highest
// first, at most limit of them, and how many there are in all.
func (e *Engine) AtRisk(now time.Time, min float64, limit int) ([]RiskEntry, int) {
	var out []RiskEntry
	for _, st := range e.ids {
		if st.Risk.R == 0 {
			continue
		}
		if r := e.cfg.Risk.Value(st.Risk, now); r >= min {
			out = append(out, RiskEntry{ID: st.ID, Kind: st.Kind, Risk: r, Level: risk.Level(r)})
		}
	}
	slices.SortFunc(out, func(a, b RiskEntry) int {
		return cmp.Or(cmp.Compare(b.Risk, a.Risk), strings.Compare(a.ID, b.ID))
	})
	n := len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, n
}

// Search returns the identities whose id contains q (case-insensitive),
// sorted, at most limit, with their risk at now.
func (e *Engine) Search(q string, now time.Time, limit int) []RiskEntry {
	q = strings.ToLower(q)
	var out []RiskEntry
	for id, st := range e.ids {
		if strings.Contains(id, q) {
			r := e.cfg.Risk.Value(st.Risk, now)
			out = append(out, RiskEntry{ID: id, Kind: st.Kind, Risk: r, Level: risk.Level(r)})
		}
	}
	slices.SortFunc(out, func(a, b RiskEntry) int { return strings.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
