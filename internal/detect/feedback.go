package detect

import (
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// FalsePositive takes people's verdict that alerts were no attack back into
// the engine at t: each alert's weight leaves its identity's risk; the
// networks of the identity's own events in the evidence become its habits
// (a trip between two of them is no longer travel; they outlast one-off
// networks in the bounded profile); and a session an alert called
// hijacked is trusted again, so that later activity in it (a token
// created, a role granted) is not judged as done in a stolen session. The
// session stays marked as seen on the new device, so the same move does
// not alert twice; a move to a third device does. It returns the
// identities' risk after the verdict.
func (e *Engine) FalsePositive(alerts []event.Alert, t time.Time) map[string]float64 {
	out := map[string]float64{}
	for i := range alerts {
		a := &alerts[i]
		st := e.ids[a.Identity]
		if st == nil {
			continue
		}
		e.cfg.Risk.Lower(&st.Risk, t, a.Severity, a.Confidence)
		for _, r := range a.Evidence.Events {
			if r.Actor == "" || r.Actor == st.ID {
				st.Profile.VouchNetwork(r.IP, r.ASN, r.Country, t.Unix())
			}
		}
		if a.Session != "" {
			for j := range st.Sessions {
				if st.Sessions[j].Key == a.Session {
					st.Sessions[j].Cleared = true
				}
			}
		}
		out[a.Identity] = e.cfg.Risk.Value(st.Risk, t)
	}
	return out
}
