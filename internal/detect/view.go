package detect

import (
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
			Device: ref.Device, Network: netLabel(ref), Hijacked: s.Hijacked})
	}
	return info, true
}

// Incident returns the incident with id, or nil.
func (e *Engine) Incident(id string) *event.Incident { return e.incidents.Get(id) }

// PruneIncidents forgets incidents quiet for longer than the incident
// window at now (a service keeps them in its store).
func (e *Engine) PruneIncidents(now time.Time) int { return e.incidents.Prune(now) }
