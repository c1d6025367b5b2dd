package detect

import (
	"fmt"
	"slices"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// RuleRevokedReuse is the verification of a response: a session or
// credential Vigil revoked is used again.
const RuleRevokedReuse = "session.used_after_revocation"

// ResponseRules lists the rules that check responses rather than detect
// attacks.
var ResponseRules = []string{RuleRevokedReuse}

// revocation is what was revoked for an identity, and when.
type revocation struct {
	At   int64    // Unix nanoseconds
	Keys []string // session or credential keys; empty: every session established before At
	By   string   // the action that revoked
	Hits []string // keys already reported
}

// Revoked tells the engine that an identity's sessions (or the given
// session and credential keys) were revoked at t by action by. A later
// successful use of one of them raises a critical alert on the identity's
// incident: the revocation did not hold, or the attacker has another way
// in.
func (e *Engine) Revoked(identity string, t time.Time, by string, keys ...string) {
	st := e.identity(identity, event.KindUnknown)
	st.Revoked = &revocation{At: t.UnixNano(), Keys: keys, By: by}
}

// revokedReuse checks every event of an identity with a revocation.
type revokedReuse struct{}

func (revokedReuse) rule() string { return RuleRevokedReuse }

func (revokedReuse) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || st.Revoked == nil || ev.Outcome.Result != event.ResultSuccess || ev.Time.UnixNano() <= st.Revoked.At {
		return
	}
	r := st.Revoked
	key := ev.Session.Key()
	var established int64
	switch {
	case key == "":
		return
	case len(r.Keys) > 0:
		if !slices.Contains(r.Keys, key) && !slices.Contains(r.Keys, ev.Session.AccessKeyID) {
			return
		}
	default:
		// Every session established before the revocation is dead; a new
		// sign-in after it is not reuse.
		var known bool
		for i := range st.Sessions {
			if st.Sessions[i].Key == key {
				established, known = st.Sessions[i].At, true
				break
			}
		}
		if !known || established >= r.At {
			return
		}
	}
	if slices.Contains(r.Hits, key) {
		return
	}
	r.Hits = append(r.Hits, key)
	at := time.Unix(0, r.At).UTC()
	x.alert(RuleRevokedReuse, event.SeverityCritical, 0.95, st,
		fmt.Sprintf("%s's session %s was used %s after Vigil revoked it (%s): the revocation did not hold, or the attacker holds another credential.",
			st.ID, short(key), roundDur(ev.Time.Sub(at)), r.By),
		[]event.EventRef{event.Ref(ev)},
		event.Comparison{What: "revoked at", Baseline: at.Format(time.RFC3339), Observed: "used at " + ev.Time.Format(time.RFC3339)})
}
