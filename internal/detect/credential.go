package detect

import (
	"fmt"
	"strings"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// credentialCreated is credential.api_token_created and
// credential.access_key_created: every API token and access key created
// is recorded (low); it is worse when created for someone else, from a
// risky session, or from a device and network the creator never used.
type credentialCreated struct{}

func (credentialCreated) rule() string { return RuleAPITokenCreated } // also RuleAccessKeyCreated

func (credentialCreated) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || ev.Outcome.Result == event.ResultFailure {
		return
	}
	var rule, what string
	switch ev.Activity {
	case event.ActivityTokenCreate:
		rule, what = RuleAPITokenCreated, "an API token"
	case event.ActivityKeyCreate:
		rule, what = RuleAccessKeyCreated, "an access key"
	default:
		return
	}
	if x.e.disabled[rule] {
		return
	}
	var why []string
	forOther := ""
	for _, t := range ev.Targets {
		if isUserTarget(t) && t.ID != "" && t.ID != st.ID {
			forOther = t.ID
			break
		}
	}
	if forOther != "" {
		why = append(why, "for "+forOther)
	}
	r := x.riskOf(st)
	risky := r >= x.cfg().RiskyScore || st.sessionHijacked(ev) || st.Recovery != nil && st.Recovery.Step2 != nil
	if risky {
		why = append(why, fmt.Sprintf("from a risky session (identity risk %.0f)", r))
	}
	newOrigin := false
	if x.learned(st) {
		dl, _ := baseline.DeviceLabel(ev)
		newDev := !dl.IsZero() && !st.Profile.Devices.HasLabel(dl)
		newNet := ev.Network.IP.IsValid() && st.Profile.Network(&ev.Network) <= baseline.NetCountry
		if newDev && newNet {
			newOrigin = true
			why = append(why, "from a device and network this identity never used")
		}
	}
	sev := event.SeverityLow
	switch {
	case risky && forOther != "":
		sev = event.SeverityCritical
	case risky || forOther != "" && newOrigin:
		sev = event.SeverityHigh
	case forOther != "" || newOrigin:
		sev = event.SeverityMedium
	}
	summary := fmt.Sprintf("%s created %s", st.ID, what)
	if len(why) > 0 {
		summary += " " + strings.Join(why, ", ")
	}
	conf := 0.5
	if sev.Rank() >= event.SeverityHigh.Rank() {
		conf = 0.85
	}
	x.alert(rule, sev, conf, st, summary+".", []event.EventRef{event.Ref(ev)},
		event.Comparison{What: "tokens and keys created by this identity before", Baseline: fmt.Sprint(st.Profile.TokenMade), Observed: what},
		event.Comparison{What: "origin", Baseline: st.Profile.Devices.Describe(2), Observed: event.DeviceLabel(ev) + " " + netLabel(event.Ref(ev))})
}
