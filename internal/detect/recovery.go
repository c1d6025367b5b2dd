package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// recovery is a victim's account-recovery chain in progress.
type recovery struct {
	At     int64 // Unix nanoseconds of the reset
	By     string
	What   string // "factor reset by helpdesk@…", "self-service recovery"
	Reset  event.EventRef
	Step2  *event.EventRef // the enrollment or session from a new device and network
	Verb2  string          // what step 2 was: "enrolled a factor", "signed in"
	Fired3 bool
}

// recoveryTakeover is account.recovery_takeover, the helpdesk
// social-engineering chain: (1) a factor or password reset done by someone
// else (helpdesk, administrator, vendor support) or by self-service
// recovery; (2) within 24 h a factor enrollment or a session from a device
// and network the victim has never used; (3) a sensitive action. Step 2
// alone is medium; the full chain is critical. Re-enrollment from the
// victim's usual device and network ends the chain quietly.
type recoveryTakeover struct{}

func (recoveryTakeover) rule() string { return RuleRecoveryTakeover }

func (recoveryTakeover) observe(x *ctx) {
	ev := x.ev
	if victim, what := resetVictim(ev); victim != "" {
		v := x.state(victim)
		v.Recovery = &recovery{At: ev.Time.UnixNano(), By: ev.Actor.ID, What: what, Reset: event.Ref(ev)}
		return
	}
	st := x.who
	if st == nil || st.Recovery == nil {
		return
	}
	r := st.Recovery
	t := ev.Time.UnixNano()
	if t-r.At > int64(x.cfg().RecoveryWindow) {
		st.Recovery = nil
		return
	}
	if r.Step2 == nil {
		if !(ev.Activity == event.ActivityMFAEnroll && ev.Outcome.Result != event.ResultFailure || isAuthSuccess(ev)) {
			return
		}
		if !x.learned(st) {
			st.Recovery = nil // a new account has no usual device to compare with
			return
		}
		dl, _ := baseline.DeviceLabel(ev)
		newDevice := !dl.IsZero() && !st.Profile.Devices.HasLabel(dl)
		level := st.Profile.Network(&ev.Network)
		newNetwork := ev.Network.IP.IsValid() && level <= baseline.NetCountry
		if !newDevice || !newNetwork {
			st.Recovery = nil // back on the usual device and network: a real recovery
			return
		}
		ref := event.Ref(ev)
		r.Step2, r.Verb2 = &ref, verbOf(ev)
		x.alert(RuleRecoveryTakeover, event.SeverityMedium, 0.6, st,
			fmt.Sprintf("After a %s, %s %s from a device and network never seen for this identity (%s, %s).",
				r.What, st.ID, verbOf(ev), event.DeviceLabel(ev), netLabel(ref)),
			[]event.EventRef{r.Reset, ref},
			event.Comparison{What: "device", Baseline: st.Profile.Devices.Describe(3), Observed: event.DeviceLabel(ev) + " (never seen)"},
			event.Comparison{What: "network", Baseline: st.Profile.Prefixes.Describe(3), Observed: netLabel(ref) + " (" + level.String() + ")"})
		return
	}
	if r.Fired3 {
		return
	}
	what := sensitiveAction(ev, st, r)
	if what == "" {
		return
	}
	r.Fired3 = true
	x.alert(RuleRecoveryTakeover, event.SeverityCritical, 0.95, st,
		fmt.Sprintf("Account takeover through recovery: %s, then %s from a new device and network, then %s.",
			r.What, r.Verb2, what),
		[]event.EventRef{r.Reset, *r.Step2, event.Ref(ev)},
		event.Comparison{What: "chain", Baseline: "reset " + r.Reset.Time.Format(time.RFC3339) + " by " + r.By,
			Observed: fmt.Sprintf("new device %s at %s; %s at %s", r.Step2.Device, r.Step2.Time.Format(time.RFC3339), what, ev.Time.Format(time.RFC3339))})
}

// resetVictim returns whose factors or password ev reset, when someone
// else did it or it was self-service recovery.
func resetVictim(ev *event.Event) (victim, what string) {
	switch ev.Activity {
	case event.ActivityMFARemove, event.ActivityPasswordReset, event.ActivityRecovery:
	default:
		return "", ""
	}
	if ev.Outcome.Result == event.ResultFailure {
		return "", ""
	}
	kind := "password reset"
	if ev.Activity == event.ActivityMFARemove {
		kind = "factor reset"
	}
	for _, t := range ev.Targets {
		if isUserTarget(t) && t.ID != "" && t.ID != ev.Actor.ID {
			by := ev.Actor.ID
			switch ev.Actor.Kind {
			case event.KindVendorSupport:
				by = "vendor support (" + ev.Actor.ID + ")"
			case "":
				by = "someone else"
			}
			return t.ID, kind + " by " + by
		}
	}
	if ev.Activity == event.ActivityRecovery && ev.Actor.ID != "" {
		return ev.Actor.ID, "self-service recovery"
	}
	return "", ""
}

func isUserTarget(t event.Target) bool {
	switch strings.ToLower(t.Type) {
	case "user", "appuser":
		return true
	}
	return strings.Contains(t.ID, "@")
}

// sensitiveAction names what ev did if it is what an intruder does with a
// taken-over account: open the admin console or a privileged app, create a
// token or key, grant privileges, change factors again, or read data in
// bulk.
func sensitiveAction(ev *event.Event, st *identity, r *recovery) string {
	switch {
	case ev.VendorType == "user.session.access_admin_app":
		return "opened the admin console"
	case ev.Activity == event.ActivitySSO && strings.Contains(strings.ToLower(ev.Resource.Name), "admin"):
		return "signed on to " + ev.Resource.Name
	case ev.Activity == event.ActivityTokenCreate:
		return "created an API token"
	case ev.Activity == event.ActivityKeyCreate:
		return "created an access key"
	case ev.Category == event.CategoryPrivilege && ev.Activity == event.ActivityGrant:
		return "granted privileges"
	case (ev.Activity == event.ActivityMFAEnroll || ev.Activity == event.ActivityMFARemove) && r.Step2 != nil && ev.Time.After(r.Step2.Time):
		return "changed factors again"
	case st.SpikeHour != 0 && st.SpikeHour == ev.Time.Unix()/3600 && ev.Category == event.CategoryDataAccess:
		return "read data in bulk"
	}
	return ""
}

func verbOf(ev *event.Event) string {
	if ev.Activity == event.ActivityMFAEnroll {
		return "enrolled a factor"
	}
	return "signed in"
}
