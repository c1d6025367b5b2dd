package detect

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
)

const dana = "dana.reyes@example.com"

func TestSessionHijack(t *testing.T) {
	sess := "102AiTMsession"
	est := login(after(0), dana, sess, home, mac)
	tests := []struct {
		name string
		next event.Event
		want []string
	}{
		{"cookie replayed from another device, network and client", sso(after(time.Minute), dana, sess, "Salesforce", hosting, evil), []string{"session.hijack/critical"}},
		{"the cookie in another browser on a network the person uses", sso(after(time.Minute), dana, sess, "Salesforce", home2, newPC), []string{"session.hijack/high"}},
		{"same device, VPN switched on", sso(after(time.Minute), dana, sess, "Salesforce", vpn, mac), nil},
		{"same device, DHCP renewal", sso(after(time.Minute), dana, sess, "Salesforce", home2, mac), nil},
		{"same device, browser updated", sso(after(time.Minute), dana, sess, "Salesforce", home, mac2), nil},
		{"another session entirely", sso(after(time.Minute), dana, "other", "Salesforce", hosting, evil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), history(dana), one(est, tt.next))
			if diff := cmp.Diff(tt.want, fired(alerts, RuleSessionHijack)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			for _, a := range alerts {
				if a.Rule != RuleSessionHijack {
					continue
				}
				if a.Identity != dana || a.Session != sess || len(a.Evidence.Events) != 2 || len(a.Evidence.Baseline) < 2 {
					t.Errorf("alert = %+v", a)
				}
				if !strings.Contains(a.Summary, "dt:dt-mac-1") || !strings.Contains(a.Summary, "Chrome/macOS") {
					t.Errorf("summary %q does not say where the session was established", a.Summary)
				}
			}
		})
	}
}

func TestSessionHijackWithoutFingerprints(t *testing.T) {
	// Entra sign-ins often carry no device id: the client family stands in,
	// and a network change must come with it.
	entra := func(at time.Time, n net, d device) event.Event {
		e := ev(at, event.SourceEntra, "NonInteractiveUserSignInLogs", event.CategoryAuthentication, event.ActivityTokenRefresh, dana, n, d)
		e.Session = event.Session{ID: "entra-sess-1"}
		return e
	}
	pc := device{ua: "Mozilla/5.0 (Windows NT 10.0) Edge/126", browser: "Edge", os: "Windows"}
	script := device{ua: "python-requests/2.31", browser: "python-requests"}
	alerts, _ := run(t, DefaultConfig(), one(entra(after(0), home, pc), entra(after(time.Minute), hosting, script)))
	if diff := cmp.Diff([]string{"session.hijack/high"}, fired(alerts, RuleSessionHijack)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if alerts[0].Confidence >= 0.9 {
		t.Errorf("confidence %v: a family-only comparison should be less sure", alerts[0].Confidence)
	}
	alerts, _ = run(t, DefaultConfig(), one(entra(after(0), home, pc), entra(after(time.Minute), home, script)))
	if len(alerts) != 0 {
		t.Fatalf("client change on the same network: %v", fired(alerts, ""))
	}
}

func TestImpossibleTravel(t *testing.T) {
	cfg := DefaultConfig()
	corp := cfg
	corp.CorporateEgress = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	vpnHabit := func() []event.Event {
		var out []event.Event
		for i := 0; i < 4; i++ {
			out = append(out, login(after(time.Duration(i)*time.Hour), dana, "v"+itoa(i), vpn, mac))
		}
		return out
	}
	tests := []struct {
		name  string
		cfg   Config
		hist  []event.Event
		first event.Event
		next  event.Event
		want  []string
	}{
		{"Lisbon then Sydney two hours later", cfg, nil, login(after(5*time.Hour), dana, "a", home, mac), login(after(7*time.Hour), dana, "b", sydney, evil), []string{"session.impossible_travel/high"}},
		{"Lisbon then Berlin five hours later (a flight)", cfg, nil, login(after(5*time.Hour), dana, "a", home, mac), login(after(10*time.Hour), dana, "b", berlin, mac), nil},
		{"Lisbon then a flagged anonymizer", cfg, nil, login(after(5*time.Hour), dana, "a", home, mac), login(after(5*time.Hour+10*time.Minute), dana, "b", tor, mac), nil},
		{"Lisbon then the corporate VPN (configured)", corp, nil, login(after(5*time.Hour), dana, "a", home, mac), login(after(5*time.Hour+10*time.Minute), dana, "b", vpn, mac), nil},
		{"Lisbon then a VPN egress this person always uses", cfg, vpnHabit(), login(after(5*time.Hour), dana, "a", home, mac), login(after(5*time.Hour+10*time.Minute), dana, "b", vpn, mac), nil},
		{"failed sign-in far away is not travel", cfg, nil, login(after(5*time.Hour), dana, "a", home, mac), func() event.Event {
			e := login(after(6*time.Hour), dana, "b", sydney, evil)
			e.Outcome.Result = event.ResultFailure
			return e
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, tt.cfg, history(dana), tt.hist, one(tt.first, tt.next))
			if diff := cmp.Diff(tt.want, fired(alerts, RuleImpossibleTravel)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			if tt.want != nil {
				a := alerts[len(alerts)-1]
				if !strings.Contains(a.Summary, "Sydney") || !strings.Contains(a.Evidence.Baseline[0].Observed, "km/h") {
					t.Errorf("alert = %+v", a)
				}
			}
		})
	}
}

func deny(at time.Time, who string, n net) event.Event {
	e := ev(at, event.SourceOkta, "user.mfa.okta_verify.deny_push", event.CategoryMFA, event.ActivityMFADeny, who, n, device{})
	e.Outcome.Result = event.ResultFailure
	return e
}

func TestMFAFatigue(t *testing.T) {
	burst := func(n int, every time.Duration) []event.Event {
		var out []event.Event
		for i := 0; i < n; i++ {
			out = append(out, deny(after(time.Duration(i)*every), dana, hosting))
		}
		return out
	}
	verify := func(at time.Time, n net, d device) event.Event {
		e := ev(at, event.SourceOkta, "user.authentication.auth_via_mfa", event.CategoryMFA, event.ActivityMFAVerify, dana, n, d)
		return e
	}
	tests := []struct {
		name string
		evs  []event.Event
		want []string
	}{
		{"five denials in eight minutes", burst(5, 2*time.Minute), []string{"mfa.fatigue/high"}},
		{"then the user gives in to the attacker", append(burst(6, time.Minute), verify(after(10*time.Minute), hosting, evil)), []string{"mfa.fatigue/high", "mfa.fatigue/critical"}},
		{"two accidental denials, then success", append(burst(2, time.Minute), verify(after(3*time.Minute), home, mac)), nil},
		{"denials spread over hours", burst(6, 20*time.Minute), nil},
		{"burst, then the user on their own device and network", append(burst(5, time.Minute), verify(after(10*time.Minute), home, mac)), []string{"mfa.fatigue/high"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), history(dana), tt.evs)
			if diff := cmp.Diff(tt.want, fired(alerts, RuleMFAFatigue)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecoveryTakeover(t *testing.T) {
	reset := func(at time.Time, by string, kind event.Kind) event.Event {
		e := ev(at, event.SourceOkta, "user.mfa.factor.reset_all", event.CategoryMFA, event.ActivityMFARemove, by, vpn, device{})
		e.Actor.Kind = kind
		e.Targets = []event.Target{{Type: "User", ID: dana}}
		return e
	}
	enroll := func(at time.Time, n net, d device) event.Event {
		e := ev(at, event.SourceOkta, "user.mfa.factor.activate", event.CategoryMFA, event.ActivityMFAEnroll, dana, n, d)
		return e
	}
	admin := func(at time.Time, n net, d device) event.Event {
		e := ev(at, event.SourceOkta, "user.session.access_admin_app", event.CategoryAuthentication, event.ActivitySSO, dana, n, d)
		return e
	}
	tests := []struct {
		name string
		evs  []event.Event
		want []string
	}{
		{"helpdesk reset, enrollment from a new device and network, admin console",
			one(reset(after(0), "helpdesk1@example.com", event.KindHuman), enroll(after(20*time.Minute), hosting, evil), admin(after(40*time.Minute), hosting, evil)),
			[]string{"account.recovery_takeover/medium", "account.recovery_takeover/critical"}},
		{"vendor support reset, then a new session and an API token",
			func() []event.Event {
				tok := ev(after(3*time.Hour), event.SourceOkta, "system.api_token.create", event.CategoryCredential, event.ActivityTokenCreate, dana, hosting, evil)
				return one(reset(after(0), "system@okta.com", event.KindVendorSupport), login(after(2*time.Hour), dana, "x", hosting, evil), tok)
			}(),
			[]string{"account.recovery_takeover/medium", "account.recovery_takeover/critical"}},
		{"reset, then re-enrollment from the usual device and network",
			one(reset(after(0), "helpdesk1@example.com", event.KindHuman), enroll(after(20*time.Minute), home, mac), admin(after(40*time.Minute), home, mac)),
			nil},
		{"reset, new device much later than the window",
			one(reset(after(0), "helpdesk1@example.com", event.KindHuman), enroll(after(30*time.Hour), hosting, evil)),
			nil},
		{"new device without any reset",
			one(enroll(after(20*time.Minute), hosting, evil), admin(after(40*time.Minute), hosting, evil)),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), history(dana), tt.evs)
			if diff := cmp.Diff(tt.want, fired(alerts, RuleRecoveryTakeover)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			for _, a := range alerts {
				if a.Rule == RuleRecoveryTakeover && a.Identity != dana {
					t.Errorf("alert about %s, want the victim %s", a.Identity, dana)
				}
				if a.Severity == event.SeverityCritical && len(a.Evidence.Events) != 3 {
					t.Errorf("critical alert evidence has %d events, want the three steps", len(a.Evidence.Events))
				}
			}
		})
	}
}

func TestAdminGrant(t *testing.T) {
	const admin = "eli.novak@example.com"
	grantOkta := func(at time.Time, role string) event.Event {
		e := ev(at, event.SourceOkta, "user.account.privilege.grant", event.CategoryPrivilege, event.ActivityGrant, admin, home, mac)
		e.Resource = event.Resource{Type: "role", Name: role}
		e.Targets = []event.Target{{Type: "User", ID: "maya.chen@example.com"}}
		return e
	}
	attach := func(at time.Time, policy string) event.Event {
		e := ev(at, event.SourceCloudTrail, "AttachUserPolicy", event.CategoryPrivilege, event.ActivityGrant, admin, home, awsCLI)
		e.Resource = event.Resource{Service: "iam.amazonaws.com", Type: "policy", ID: "arn:aws:iam::aws:policy/" + policy, Name: policy}
		e.Targets = []event.Target{{Type: "User", ID: "ci-artifacts"}}
		return e
	}
	inline := func(at time.Time, doc string) event.Event {
		e := ev(at, event.SourceCloudTrail, "PutUserPolicy", event.CategoryPrivilege, event.ActivityGrant, admin, home, awsCLI)
		e.Raw = []byte(`{"eventName":"PutUserPolicy","requestParameters":{"userName":"ci-artifacts","policyName":"x","policyDocument":` + doc + `}}`)
		e.Targets = []event.Target{{Type: "User", ID: "ci-artifacts"}}
		return e
	}
	member := ev(after(0), event.SourceOkta, "group.user_membership.add", event.CategoryPrivilege, event.ActivityGrant, admin, home, mac)
	member.Resource = event.Resource{Type: "group", Name: "Engineering"}
	// A grant that is not an administrator role: the admin has granted
	// roles before.
	priorGrant := member
	priorGrant.Time = t0.Add(time.Hour)
	tests := []struct {
		name string
		hist []event.Event
		ev   event.Event
		want []string
	}{
		{"super administrator by an admin who grants roles", one(priorGrant), grantOkta(after(0), "Super administrator"), []string{"privilege.admin_grant/high"}},
		{"super administrator by someone who never granted a role", nil, grantOkta(after(0), "Super administrator"), []string{"privilege.admin_grant/critical"}},
		{"AdministratorAccess attached", one(priorGrant), attach(after(0), "AdministratorAccess"), []string{"privilege.admin_grant/high"}},
		{"ReadOnlyAccess attached", one(priorGrant), attach(after(0), "ReadOnlyAccess"), nil},
		{"inline policy allowing everything (URL-encoded, as CloudTrail writes it)", one(priorGrant),
			inline(after(0), `"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"`),
			[]string{"privilege.admin_grant/high"}},
		{"inline policy allowing s3 reads", one(priorGrant),
			inline(after(0), `"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":\"*\"}]}"`), nil},
		{"ordinary group membership", one(priorGrant), member, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), history(admin), tt.hist, one(tt.ev))
			if diff := cmp.Diff(tt.want, fired(alerts, RuleAdminGrant)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentialCreated(t *testing.T) {
	token := func(at time.Time, sess string, n net, d device, forWhom string) event.Event {
		e := ev(at, event.SourceOkta, "system.api_token.create", event.CategoryCredential, event.ActivityTokenCreate, dana, n, d)
		e.Session.ID = sess
		if forWhom != "" {
			e.Targets = []event.Target{{Type: "User", ID: forWhom}}
		}
		return e
	}
	key := ev(after(0), event.SourceCloudTrail, "CreateAccessKey", event.CategoryCredential, event.ActivityKeyCreate, dana, home, awsCLI)
	key.Targets = []event.Target{{Type: "User", ID: "ci-artifacts"}}
	tests := []struct {
		name string
		evs  []event.Event
		rule string
		want []string
	}{
		{"routine token of one's own", one(token(after(0), "s", home, mac, "")), RuleAPITokenCreated, []string{"credential.api_token_created/low"}},
		{"access key for another user", one(key), RuleAccessKeyCreated, []string{"credential.access_key_created/medium"}},
		{"token from a hijacked session for another user",
			one(login(after(0), dana, "s1", home, mac), token(after(time.Minute), "s1", hosting, evil, "svc-backup@example.com")),
			RuleAPITokenCreated, []string{"credential.api_token_created/critical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), history(dana), tt.evs)
			if diff := cmp.Diff(tt.want, fired(alerts, tt.rule)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// reads is n S3 reads by identity who in the hour starting at.
func reads(who string, at time.Time, n int, bucket string) []event.Event {
	var out []event.Event
	for i := 0; i < n; i++ {
		e := ev(at.Add(time.Duration(i)*time.Hour/time.Duration(n+1)), event.SourceCloudTrail, "GetObject", event.CategoryDataAccess, event.ActivityRead, who, vpc, sdkGo)
		e.Actor = event.Principal{ID: who, Kind: event.KindService, Type: "AssumedRole"}
		e.Session.AccessKeyID = "ASIAEXAMPLE"
		e.Resource = event.Resource{Service: "s3.amazonaws.com", Type: "object", Name: "k" + itoa(i), Container: bucket}
		out = append(out, e)
	}
	return out
}

// machineHistory is ten days of a machine role reading a bucket 20 times
// an hour during working hours.
func machineHistory(who string) []event.Event {
	var out []event.Event
	for day := 0; day < 10; day++ {
		for h := 8; h < 18; h++ {
			out = append(out, reads(who, t0.Add(time.Duration(day*24+h-8)*time.Hour), 20, "reports")...)
		}
	}
	return out
}

func TestVolumeSpike(t *testing.T) {
	const role = "role/report-exporter"
	tests := []struct {
		name string
		evs  []event.Event
		want []string
	}{
		{"twenty times the usual hour", reads(role, after(2*time.Hour), 400, "reports"), []string{"activity.volume_spike/medium", "activity.volume_spike/high"}},
		{"six times the usual hour", reads(role, after(2*time.Hour), 120, "reports"), []string{"activity.volume_spike/medium"}},
		{"a busy hour, three times the usual", reads(role, after(2*time.Hour), 60, "reports"), nil},
		{"a usual hour", reads(role, after(2*time.Hour), 22, "reports"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), machineHistory(role), tt.evs)
			if diff := cmp.Diff(tt.want, fired(alerts, RuleVolumeSpike)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			if tt.want != nil && !strings.Contains(alerts[len(alerts)-1].Evidence.Baseline[0].Baseline, "median 20") {
				t.Errorf("baseline evidence %q", alerts[len(alerts)-1].Evidence.Baseline[0].Baseline)
			}
		})
	}
	// A person who rarely downloads anything: a few dozen files is below
	// the minimum count.
	var hist []event.Event
	for d := 0; d < 10; d++ {
		hist = append(hist, reads(dana, t0.Add(time.Duration(d)*24*time.Hour), 3, "drive")...)
	}
	alerts, _ := run(t, DefaultConfig(), hist, reads(dana, after(0), 40, "drive"))
	if len(fired(alerts, RuleVolumeSpike)) != 0 {
		t.Errorf("40 reads fired: %v", fired(alerts, ""))
	}
}

func TestNHI(t *testing.T) {
	const role = "role/report-exporter"
	call := func(at time.Time, svc, name string, n net, d device) event.Event {
		e := ev(at, event.SourceCloudTrail, name, event.CategoryAPIActivity, event.ActivityList, role, n, d)
		e.Actor = event.Principal{ID: role, Kind: event.KindService, Type: "AssumedRole"}
		e.Resource = event.Resource{Service: svc}
		e.Session.AccessKeyID = "ASIAEXAMPLE"
		return e
	}
	early := reads(role, t0.Add(time.Hour), 3, "reports")
	tests := []struct {
		name string
		evs  []event.Event
		want []string
	}{
		{"first call to IAM", one(call(after(0), "iam.amazonaws.com", "ListUsers", vpc, sdkGo)), []string{"nhi.new_resource/high"}},
		{"a new bucket", reads(role, after(0), 1, "payroll"), []string{"nhi.new_resource/medium"}},
		{"its usual bucket from its usual network", reads(role, after(0), 5, "reports"), nil},
		{"aws-cli from a hosting provider", one(call(after(0), "s3.amazonaws.com", "ListBuckets", hosting, awsCLI)), []string{"nhi.anomalous_origin/high"}},
		{"its SDK from another address in its VPC", one(call(after(0), "s3.amazonaws.com", "ListBuckets", vpcOther, sdkGo)), nil},
		{"its SDK from a new public network", one(call(after(0), "s3.amazonaws.com", "ListBuckets", hosting, sdkGo)), []string{"nhi.anomalous_origin/medium"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _ := run(t, DefaultConfig(), machineHistory(role), tt.evs)
			got := append(fired(alerts, RuleNHINewResource), fired(alerts, RuleNHIAnomalousOrigin)...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
	// Before the learning period nothing is new.
	alerts, _ := run(t, DefaultConfig(), early, one(call(t0.Add(2*time.Hour), "iam.amazonaws.com", "ListUsers", hosting, awsCLI)))
	if len(alerts) != 0 {
		t.Errorf("fired while learning: %v", fired(alerts, ""))
	}
}

func TestImpossibleTravelSharedEgress(t *testing.T) {
	// Five colleagues sign in through the same egress: it is the
	// organization's, and a hop to it is not travel.
	var colleagues []event.Event
	for i := 0; i < 5; i++ {
		colleagues = append(colleagues, login(after(time.Duration(i)*time.Minute), "c"+itoa(i)+"@example.com", "c"+itoa(i), vpn, mac))
	}
	hop := one(login(after(5*time.Hour), dana, "a", home, mac), login(after(5*time.Hour+10*time.Minute), dana, "b", vpn, mac))
	alerts, _ := run(t, DefaultConfig(), history(dana), colleagues, hop)
	if got := fired(alerts, RuleImpossibleTravel); len(got) != 0 {
		t.Errorf("hop to a shared egress: %v", got)
	}
	cfg := DefaultConfig()
	cfg.SharedNetwork = 0
	alerts, _ = run(t, cfg, history(dana), colleagues, hop)
	if got := fired(alerts, RuleImpossibleTravel); len(got) != 1 {
		t.Errorf("with shared egress detection off: %v", got)
	}
}

func TestProxyFlagCarriesAcrossSources(t *testing.T) {
	// Okta flags an exit of a commercial VPN; an Entra sign-in from the
	// same network is from an anonymizer too, and is not travel.
	flagged := login(after(5*time.Hour), "someone@example.com", "z", tor, mac)
	entraVPN := ev(after(5*time.Hour+20*time.Minute), event.SourceEntra, "SignInLogs", event.CategoryAuthentication, event.ActivityLogin, dana, tor, mac)
	entraVPN.Network.Proxy = false
	alerts, _ := run(t, DefaultConfig(), history(dana), one(flagged, login(after(5*time.Hour+10*time.Minute), dana, "a", home, mac), entraVPN))
	if got := fired(alerts, RuleImpossibleTravel); len(got) != 0 {
		t.Errorf("sign-in from a flagged network: %v", got)
	}
}

func TestRecoveryIgnoresTheVictimsOwnSession(t *testing.T) {
	// After the reset the real user keeps working in a session they had
	// before (and signs in elsewhere from home); the intruder then sets a
	// password from a new device and network, and opens the admin console
	// from there. The victim's own admin-console visit is not the third
	// step.
	reset := ev(after(0), event.SourceOkta, "user.account.reset_password", event.CategoryAccountChange, event.ActivityPasswordReset, "helpdesk1@example.com", vpn, device{})
	reset.Targets = []event.Target{{Type: "User", ID: dana}}
	own := sso(after(5*time.Minute), dana, "old", "Slack", home, mac)
	ownLogin := login(after(6*time.Minute), dana, "old2", home, mac)
	ownAdmin := ev(after(7*time.Minute), event.SourceOkta, "user.session.access_admin_app", event.CategoryAuthentication, event.ActivitySSO, dana, home, mac)
	seen := ev(after(8*time.Minute), event.SourceOkta, "policy.evaluate_sign_on", event.CategoryAuthentication, event.ActivityPolicyEvaluate, dana, hosting, evil)
	pw := ev(after(9*time.Minute), event.SourceOkta, "user.account.update_password", event.CategoryAccountChange, event.ActivityPasswordChange, dana, hosting, evil)
	ownAdmin2 := ownAdmin
	ownAdmin2.Time, ownAdmin2.VendorID = after(10*time.Minute), "own-admin-2"
	admin := ev(after(11*time.Minute), event.SourceOkta, "user.session.access_admin_app", event.CategoryAuthentication, event.ActivitySSO, dana, hosting, evil)
	alerts, _ := run(t, DefaultConfig(), history(dana), one(reset, own, ownLogin, ownAdmin, seen, pw, ownAdmin2, admin))
	got := fired(alerts, RuleRecoveryTakeover)
	if diff := cmp.Diff([]string{"account.recovery_takeover/medium", "account.recovery_takeover/critical"}, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for _, a := range alerts {
		if a.Rule == RuleRecoveryTakeover && a.Severity == event.SeverityCritical && !a.Time.Equal(after(11*time.Minute)) {
			t.Errorf("third step at %v, want the intruder's admin console at %v", a.Time, after(11*time.Minute))
		}
	}
}

func TestRevokedSessionReuse(t *testing.T) {
	sess := "102stolen"
	e := New(DefaultConfig())
	feed := func(evs ...event.Event) []event.Alert {
		var out []event.Alert
		for i := range evs {
			out = append(out, e.Process(&evs[i])...)
		}
		return out
	}
	feed(history(dana)...)
	feed(login(after(0), dana, sess, home, mac))
	e.Revoked(dana, after(time.Minute), "act-123 okta clear_sessions")
	// A new sign-in after the revocation is the user coming back: fine.
	if got := feed(login(after(2*time.Minute), dana, "fresh", home, mac)); len(got) != 0 {
		t.Fatalf("new session: %v", fired(got, ""))
	}
	// The revoked session used again: critical, once.
	got := feed(sso(after(3*time.Minute), dana, sess, "Slack", hosting, evil), sso(after(4*time.Minute), dana, sess, "Jira", hosting, evil))
	if diff := cmp.Diff([]string{"session.used_after_revocation/critical"}, fired(got, RuleRevokedReuse)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// Specific credentials: an access key deactivated, then used.
	key := ev(after(10*time.Minute), event.SourceCloudTrail, "ListBuckets", event.CategoryAPIActivity, event.ActivityList, "svc-backup", hosting, awsCLI)
	key.Session.AccessKeyID = "AKIAEXAMPLEKEY"
	e.Revoked("svc-backup", after(9*time.Minute), "act-9 aws deactivate_key", "AKIAEXAMPLEKEY")
	if got := feed(key); len(fired(got, RuleRevokedReuse)) != 1 {
		t.Errorf("deactivated key used: %v", fired(got, ""))
	}
}
