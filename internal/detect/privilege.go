package detect

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// adminGrant is privilege.admin_grant: an administrator role or an
// administrator-equivalent policy granted — Okta privilege grants, Entra
// "Add member to role" with an administrator role, CloudTrail policies
// with AdministratorAccess or Allow *:* on *, Azure Owner or User Access
// Administrator, Workspace admin roles. Higher when the granting identity
// is risky or has never granted a role before.
type adminGrant struct{}

func (adminGrant) rule() string { return RuleAdminGrant }

func (adminGrant) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || ev.Category != event.CategoryPrivilege || ev.Activity != event.ActivityGrant ||
		ev.Outcome.Result == event.ResultFailure {
		return
	}
	role, top := adminRole(ev)
	if role == "" {
		return
	}
	sev := event.SeverityMedium
	if top {
		sev = event.SeverityHigh
	}
	var why []string
	r := x.riskOf(st)
	if r >= x.cfg().RiskyScore || st.sessionHijacked(ev) {
		why = append(why, fmt.Sprintf("the granting identity is at risk (%.0f)", r))
	}
	if x.learned(st) && st.Profile.Grants == 0 {
		why = append(why, "it has never granted a role before")
	}
	if len(why) > 0 {
		sev = raise(sev)
	}
	to := grantee(ev)
	summary := fmt.Sprintf("%s granted %s to %s", st.ID, role, to)
	if len(why) > 0 {
		summary += "; " + strings.Join(why, " and ")
	}
	x.alert(RuleAdminGrant, sev, 0.8, st, summary+".", []event.EventRef{event.Ref(ev)},
		event.Comparison{What: "roles granted by this identity before", Baseline: fmt.Sprint(st.Profile.Grants), Observed: role + " to " + to},
		event.Comparison{What: "risk of the granting identity", Baseline: fmt.Sprintf("risky from %.0f", x.cfg().RiskyScore), Observed: fmt.Sprintf("%.0f", r)})
}

func raise(s event.Severity) event.Severity {
	switch s {
	case event.SeverityLow:
		return event.SeverityMedium
	case event.SeverityMedium:
		return event.SeverityHigh
	}
	return event.SeverityCritical
}

// topRoles are the roles that own the tenant.
var topRoles = []string{"super admin", "super administrator", "organization administrator", "org admin",
	"global administrator", "company administrator", "privileged role administrator",
	"privileged authentication administrator", "administratoraccess", "owner", "user access administrator",
	"_seed_admin_role", "iamfullaccess"}

// adminRole returns the administrator role or policy ev grants and whether
// it is a tenant-owning one, or "" when ev grants no administrator rights.
func adminRole(ev *event.Event) (role string, top bool) {
	name := ev.Resource.Name
	if name == "" {
		name = ev.Resource.ID
	}
	lower := strings.ToLower(name)
	isTop := func() bool {
		for _, r := range topRoles {
			if strings.Contains(lower, r) {
				return true
			}
		}
		return false
	}
	switch ev.Source {
	case event.SourceOkta:
		switch ev.VendorType {
		case "user.account.privilege.grant", "group.privilege.grant", "iam.resourceset.bindings.add":
			if name == "" {
				name = "an administrator role"
			}
			return name, isTop() || strings.Contains(lower, "super")
		}
		return "", false
	case event.SourceCloudTrail:
		switch {
		case strings.HasSuffix(lower, "/administratoraccess") || lower == "administratoraccess" || strings.HasSuffix(lower, "/iamfullaccess"):
			return name, true
		case strings.HasPrefix(ev.VendorType, "Put") && strings.HasSuffix(ev.VendorType, "Policy") ||
			ev.VendorType == "CreatePolicyVersion":
			if allowsEverything(ev.Raw) {
				return "an inline policy allowing * on *", true
			}
		}
		return "", false
	}
	if strings.Contains(lower, "admin") || isTop() {
		return name, isTop()
	}
	return "", false
}

// allowsEverything reports whether a CloudTrail Put*Policy record's policy
// document has a statement that allows every action on every resource.
func allowsEverything(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(raw)
	if err != nil {
		return false
	}
	if d := field.Get(v, "detail"); field.IsObject(d) { // EventBridge envelope
		v = d
	}
	doc := field.Str(v, "requestParameters", "policyDocument")
	if doc == "" {
		return false
	}
	if u, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(u), "{") {
		doc = u
	}
	var q fastjson.Parser
	d, err := q.Parse(doc)
	if err != nil {
		return false
	}
	st := field.Get(d, "Statement")
	stmts := field.Array(d, "Statement")
	if stmts == nil && field.IsObject(st) {
		stmts = []*fastjson.Value{st}
	}
	for _, s := range stmts {
		if !strings.EqualFold(field.Str(s, "Effect"), "Allow") {
			continue
		}
		if anyStar(field.Get(s, "Action")) && anyStar(field.Get(s, "Resource")) {
			return true
		}
	}
	return false
}

func anyStar(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	if v.Type() == fastjson.TypeString {
		s := string(v.GetStringBytes())
		return s == "*" || s == "*:*"
	}
	for _, x := range field.Array(v) {
		if s := string(x.GetStringBytes()); s == "*" || s == "*:*" {
			return true
		}
	}
	return false
}

// grantee names who received the grant.
func grantee(ev *event.Event) string {
	for _, t := range ev.Targets {
		if isUserTarget(t) || strings.EqualFold(t.Type, "group") || strings.EqualFold(t.Type, "serviceprincipal") || strings.EqualFold(t.Type, "role") {
			if t.ID != "" {
				return t.ID
			}
			if t.Name != "" {
				return t.Name
			}
		}
	}
	return "an unnamed principal"
}
