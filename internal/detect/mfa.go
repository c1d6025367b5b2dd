package detect

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// mfaState is an identity's recent push denials and the last burst.
type mfaState struct {
	Denies  []int64          // Unix nanoseconds, within the window
	Refs    []event.EventRef // of the denials in Denies
	BurstAt int64            // when the last burst alerted, 0 if none
	// The attacker's context: where the pushes were requested from.
	BurstAddr   netip.Addr
	BurstASN    uint32
	BurstPrefix netip.Prefix
	BurstRefs   []event.EventRef
	Escalated   bool // the critical follow-up fired for this burst
}

// mfaFatigue is mfa.fatigue: repeated push denials or timeouts in a short
// window (default 5 in 10 minutes), critical when a success follows from
// the same attacker context: the user gave in.
type mfaFatigue struct{}

func (mfaFatigue) rule() string { return RuleMFAFatigue }

func (mfaFatigue) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil {
		return
	}
	cfg := x.cfg()
	m := &st.MFA
	t := ev.Time.UnixNano()
	switch {
	case isPushDenial(ev):
		cut := t - int64(cfg.MFAWindow)
		keep := 0
		for i, d := range m.Denies {
			if d >= cut {
				m.Denies[keep], m.Refs[keep] = d, m.Refs[i]
				keep++
			}
		}
		m.Denies, m.Refs = append(m.Denies[:keep], t), append(m.Refs[:keep], event.Ref(ev))
		if len(m.Denies) > 2*cfg.MFAThreshold { // bounded memory
			m.Denies, m.Refs = m.Denies[1:], m.Refs[1:]
		}
		if len(m.Denies) < cfg.MFAThreshold || m.BurstAt != 0 && t-m.BurstAt < int64(cfg.MFAWindow) {
			return
		}
		m.BurstAt, m.Escalated = t, false
		m.BurstAddr, m.BurstASN, m.BurstPrefix = ev.Network.IP, ev.Network.ASN, baseline.PrefixOf(ev.Network.IP)
		m.BurstRefs = append([]event.EventRef(nil), m.Refs...)
		span := time.Duration(t - m.Denies[0])
		x.alert(RuleMFAFatigue, event.SeverityHigh, 0.8, st,
			fmt.Sprintf("%s denied or ignored %d MFA pushes in %s, requested from %s.",
				st.ID, len(m.Denies), roundDur(span), netLabel(event.Ref(ev))),
			m.BurstRefs,
			event.Comparison{What: "push denials and timeouts", Baseline: fmt.Sprintf("fewer than %d in %s", cfg.MFAThreshold, cfg.MFAWindow), Observed: fmt.Sprintf("%d in %s", len(m.Denies), roundDur(span))})
	case m.BurstAt != 0 && !m.Escalated && t-m.BurstAt <= int64(cfg.MFASuccessWithin) && isAuthSuccess(ev):
		sameNet := ev.Network.IP.IsValid() && (ev.Network.IP == m.BurstAddr || m.BurstPrefix.IsValid() && m.BurstPrefix.Contains(ev.Network.IP)) ||
			ev.Network.ASN != 0 && ev.Network.ASN == m.BurstASN
		dl, _ := baseline.DeviceLabel(ev)
		newDevice := !dl.IsZero() && !st.Profile.Devices.HasLabel(dl)
		if !sameNet && !newDevice {
			return // the user signing in from their own device and network
		}
		m.Escalated = true
		refs := append(append([]event.EventRef(nil), m.BurstRefs...), event.Ref(ev))
		x.alert(RuleMFAFatigue, event.SeverityCritical, 0.95, st,
			fmt.Sprintf("%s approved MFA %s after a push-fatigue burst; the sign-in came from the attacker's context %s.",
				st.ID, roundDur(time.Duration(t-m.BurstAt)), netLabel(event.Ref(ev))),
			refs,
			event.Comparison{What: "network of the success", Baseline: "burst from " + netLabel(m.BurstRefs[len(m.BurstRefs)-1]), Observed: netLabel(event.Ref(ev))},
			event.Comparison{What: "device", Baseline: st.Profile.Devices.Describe(3), Observed: event.DeviceLabel(ev)})
	}
}

// isPushDenial reports a push the user rejected or let time out: Okta's
// deny_push, a failed push verification, Entra's failed strong
// authentication (500121).
func isPushDenial(ev *event.Event) bool {
	if ev.Activity == event.ActivityMFADeny {
		return true
	}
	if ev.Outcome.Result != event.ResultFailure {
		return false
	}
	if ev.Category == event.CategoryMFA && (strings.Contains(ev.Auth.Method, "push") ||
		strings.Contains(strings.ToLower(ev.Outcome.Reason), "timeout") || strings.Contains(strings.ToLower(ev.Outcome.Reason), "reject")) {
		return true
	}
	return ev.Source == event.SourceEntra && ev.Outcome.Code == "500121"
}

// isAuthSuccess reports a successful sign-in or factor verification.
func isAuthSuccess(ev *event.Event) bool {
	if ev.Outcome.Result != event.ResultSuccess {
		return false
	}
	switch ev.Activity {
	case event.ActivityMFAVerify, event.ActivityLogin, event.ActivitySSO:
		return true
	}
	return false
}
