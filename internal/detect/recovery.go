package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// recovery is a victim's account-recovery chain in progress.
type recovery struct {
	// Devices and Networks are what the victim used before the reset
	// (device labels, prefixes and ASNs): "never seen" means not in them,
	// even when the intruder has since been seen.
	Devices  []string
	Networks []string
	At       int64 // Unix nanoseconds of the reset
	By       string
	What     string // "factor reset by helpdesk@…", "self-service recovery"
	Reset    event.EventRef
	Step2    *event.EventRef // the enrollment or session from a new device and network
	Verb2    string          // what step 2 was: "enrolled a factor", "signed in"
	// Dev2 and Net2 are step 2's device and network: the sensitive action
	// must come from the intruder's context, not the victim's own session.
	Dev2   string
	Net2   netip.Prefix
	ASN2   uint32
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
		r := &recovery{At: ev.Time.UnixNano(), By: ev.Actor.ID, What: what, Reset: event.Ref(ev)}
		if old := v.Recovery; old != nil && ev.Time.UnixNano()-old.At < int64(x.cfg().RecoveryWindow) && old.Step2 == nil {
			// A second reset in the same episode (password, then factors):
			// keep what was known before the first.
			r.Devices, r.Networks, r.At = old.Devices, old.Networks, old.At
		} else {
			for _, e := range v.Profile.Devices.E {
				r.Devices = append(r.Devices, e.Label)
			}
			for _, set := range []*baseline.Set{&v.Profile.Prefixes, &v.Profile.ASNs} {
				for _, e := range set.E {
					r.Networks = append(r.Networks, e.Label)
				}
			}
		}
		v.Recovery = r
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
		// What follows a reset: a new password, a factor enrolled, a new
		// sign-in. Work in a session from before the reset says nothing.
		switch {
		case ev.Outcome.Result == event.ResultFailure:
			return
		case ev.Activity == event.ActivityMFAEnroll, ev.Activity == event.ActivityPasswordChange, ev.Activity == event.ActivityLogin:
		default:
			return
		}
		if !x.learned(st) {
			st.Recovery = nil // a new account has no usual device to compare with
			return
		}
		dev, _ := deviceOf(ev)
		newDevice := dev != "" && !slices.Contains(r.Devices, dev)
		newNetwork := ev.Network.IP.IsValid() && !slices.Contains(r.Networks, baseline.PrefixOf(ev.Network.IP).String()) &&
			(ev.Network.ASN == 0 || !slices.Contains(r.Networks, baseline.ASNLabel(ev.Network.ASN)))
		level := st.Profile.Network(&ev.Network)
		if !newDevice || !newNetwork {
			if ev.Activity != event.ActivityLogin {
				// The victim re-enrolled or set the password from their
				// usual device and network: a real recovery.
				st.Recovery = nil
			}
			return
		}
		ref := event.Ref(ev)
		r.Step2, r.Verb2 = &ref, verbOf(ev)
		r.Dev2, _ = deviceOf(ev)
		r.Net2, r.ASN2 = baseline.PrefixOf(ev.Network.IP), ev.Network.ASN
		x.alert(RuleRecoveryTakeover, event.SeverityMedium, 0.6, st,
			fmt.Sprintf("After a %s, %s %s from a device and network never seen for this identity (%s, %s).",
				r.What, st.ID, verbOf(ev), event.DeviceLabel(ev), netLabel(ref)),
			[]event.EventRef{r.Reset, ref},
			event.Comparison{What: "device", Baseline: fmt.Sprintf("%d devices used before the reset: %s", len(r.Devices), st.Profile.Devices.Describe(3)), Observed: event.DeviceLabel(ev) + " (never used before the reset)"},
			event.Comparison{What: "network", Baseline: st.Profile.Prefixes.Describe(3), Observed: netLabel(ref) + " (before the reset: " + level.String() + ")"})
		return
	}
	if r.Fired3 || !r.fromIntruder(ev) {
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
	switch ev.Activity {
	case event.ActivityMFAEnroll:
		return "enrolled a factor"
	case event.ActivityPasswordChange:
		return "set a new password"
	}
	return "signed in"
}

// fromIntruder reports whether ev comes from step 2's device or network.
func (r *recovery) fromIntruder(ev *event.Event) bool {
	if dev, _ := deviceOf(ev); dev != "" && dev == r.Dev2 {
		return true
	}
	if ev.Network.ASN != 0 && ev.Network.ASN == r.ASN2 {
		return true
	}
	return ev.Network.IP.IsValid() && r.Net2.IsValid() && r.Net2.Contains(ev.Network.IP)
}

// deviceOf returns e's device fingerprint or client family.
func deviceOf(e *event.Event) (string, bool) {
	l, strong := baseline.DeviceLabel(e)
	return l.String(), strong
}
