package detect

import (
	"fmt"
	"strings"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// sensitiveServices are the services a machine identity reaching for them
// for the first time most likely means misuse: identity, credentials,
// secrets, keys, the organization.
var sensitiveServices = []string{"iam.", "sts.", "secretsmanager.", "kms.", "organizations.", "ssm.", "sso.",
	"Microsoft.Authorization", "Microsoft.KeyVault", "Microsoft Graph"}

func sensitive(service string) bool {
	for _, s := range sensitiveServices {
		if strings.HasPrefix(service, s) || strings.Contains(service, s) {
			return true
		}
	}
	return false
}

// nhiNewResource is nhi.new_resource: a machine identity, after its
// learning period, calls a service or touches a resource it never touched
// before. Machines repeat themselves; a new reach is a changed program or
// a stolen credential exploring.
type nhiNewResource struct{}

func (nhiNewResource) rule() string { return RuleNHINewResource }

func (nhiNewResource) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || !isNonHuman(ev, st) || !x.learned(st) ||
		ev.Category != event.CategoryAPIActivity && ev.Category != event.CategoryDataAccess && ev.Category != event.CategoryCredential && ev.Category != event.CategoryPrivilege {
		return
	}
	svc := baseline.ServiceOf(ev)
	res := baseline.ResourceOf(ev)
	newSvc := svc != "" && !st.Profile.Services.Has(baseline.Key(svc))
	newRes := res != "" && !st.Profile.Resources.Has(baseline.Key(res))
	if !newSvc && !newRes {
		return
	}
	sev, what := event.SeverityMedium, "resource "+res
	if newSvc {
		what = "service " + svc
		if sensitive(svc) {
			sev = event.SeverityHigh
		}
	} else if ev.Resource.Type == "secret" || sensitive(svc) {
		sev = event.SeverityHigh
	}
	denied := ""
	if ev.Outcome.Result == event.ResultFailure {
		denied = " (denied: " + ev.Outcome.Code + ")"
	}
	x.alert(RuleNHINewResource, sev, 0.7, st,
		fmt.Sprintf("Machine identity %s called %s on %s, which it never touched in %s of history%s.",
			st.ID, ev.VendorType, what, span(ev.Time.Sub(st.Profile.Since())), denied),
		[]event.EventRef{event.Ref(ev)},
		event.Comparison{What: "services used", Baseline: st.Profile.Services.Describe(5), Observed: svc},
		event.Comparison{What: "resources touched", Baseline: fmt.Sprintf("%d known", st.Profile.Resources.Len()), Observed: res})
}

// nhiAnomalousOrigin is nhi.anomalous_origin: a machine credential used from
// a network or a client family it has never used (aws-sdk-go from the VPC
// for months, then aws-cli from a hosting provider). A new address in a
// network it uses is not new.
type nhiAnomalousOrigin struct{}

func (nhiAnomalousOrigin) rule() string { return RuleNHIAnomalousOrigin }

func (nhiAnomalousOrigin) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || !isNonHuman(ev, st) || !x.learned(st) {
		return
	}
	level := st.Profile.Network(&ev.Network)
	newNet := ev.Network.IP.IsValid() && level < baseline.NetASN
	al := baseline.AgentLabel(ev)
	newAgent := !al.IsZero() && !st.Profile.Agents.HasLabel(al)
	agent := al.String()
	if !newNet && !newAgent {
		return
	}
	sev := event.SeverityMedium
	var parts []string
	if newNet {
		parts = append(parts, "network "+netLabel(event.Ref(ev)))
	}
	if newAgent {
		parts = append(parts, "client "+agent)
	}
	if newNet && newAgent {
		sev = event.SeverityHigh
	}
	cred := ev.Session.AccessKeyID
	if cred == "" {
		cred = "its credential"
	}
	x.alert(RuleNHIAnomalousOrigin, sev, 0.75, st,
		fmt.Sprintf("Machine identity %s used %s from a never-used %s.", st.ID, cred, strings.Join(parts, " and ")),
		[]event.EventRef{event.Ref(ev)},
		event.Comparison{What: "networks", Baseline: st.Profile.Prefixes.Describe(3), Observed: netLabel(event.Ref(ev)) + " (" + level.String() + ")"},
		event.Comparison{What: "clients", Baseline: st.Profile.Agents.Describe(3), Observed: agent})
}
