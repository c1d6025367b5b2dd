package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// planner places the attacks and look-alikes in the attack phase (the
// last week, or the last third of a shorter run), each with people and
// machines of its own so that nothing else disturbs it.
type planner struct {
	o    *Org
	rng  *rand.Rand
	days []int // working days of the attack phase
	next int
	n    int
	// adminTokenLookalike is the administrator of the group-membership
	// look-alike, who also creates a routine API token.
	adminTokenLookalike *Person
}

// attacker is the context an attacker acts from.
type attacker struct {
	net *Network
	ip  netip.Addr
	dev Device
}

func (pl *planner) attacker(net *Network, victim *Device) *attacker {
	rng := pl.rng
	// A browser family and system the victim does not use.
	var ix []int
	for i, t := range uaTemplates {
		if t.browser != victim.Family && t.os != victim.OSFamily && t.os != "macOS" {
			ix = append(ix, i)
		}
	}
	t := uaTemplates[ix[rng.IntN(len(ix))]]
	dev := Device{Browser: t.oktaBrowser, OS: t.oktaOS, DTHash: hexString(rng, 64), Family: t.browser,
		OSFamily: t.os, entraOS: t.entraOS, version: t.v0 + 1}
	dev.UA = strings.ReplaceAll(t.format, "%d", strconv.Itoa(dev.version))
	return &attacker{net: net, ip: hostIn(net.Prefix, rng.Uint64()), dev: dev}
}

func (a *attacker) details(prefix string, m map[string]any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	m[prefix+"ip"] = a.ip.String()
	if a.net.ASN != 0 {
		m[prefix+"asn"] = a.net.ASN
		m[prefix+"as_org"] = a.net.Org
	}
	m[prefix+"network_kind"] = string(a.net.Kind)
	m[prefix+"city"] = a.net.Place.City
	if a.dev.DTHash != "" {
		m[prefix+"dt_hash"] = a.dev.DTHash
		m[prefix+"ua_family"] = a.dev.Family
		m[prefix+"user_agent"] = a.dev.UA
	}
	return m
}

// day returns the next scenario day, round robin over the attack phase's
// working days.
func (pl *planner) day() int {
	d := pl.days[pl.next%len(pl.days)]
	pl.next++
	return d
}

// person reserves a person for a scenario: never a helpdesk agent (they
// are needed for resets). The predicates are tried in order; small
// organizations fall through to the later, looser ones.
func (pl *planner) person(what string, oks ...func(*Person) bool) (*Person, error) {
	o := pl.o
	perm := pl.rng.Perm(len(o.People))
	for _, ok := range oks {
		for _, i := range perm {
			p := &o.People[i]
			if p.reserved || p.Roles.Has(RoleHelpdesk) || !ok(p) {
				continue
			}
			p.reserved = true
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s left for the scenarios (more people needed)", ErrConfig, what)
}

// plain people have no administrative role and no VPN habit.
func plain(p *Person) bool {
	return p.Roles&(RoleOktaAdmin|RoleCloudAdmin) == 0 && !p.VPN && !p.PrivacyVPN
}

// regular people also do nothing special in AWS.
func regular(p *Person) bool { return plain(p) && p.Roles == 0 }

// promote gives p roles before generation, so that their whole history
// has them.
func promote(p *Person, r Role) {
	p.Roles |= r
	if p.permSet == nil || r.Has(RoleAnalyst) || r.Has(RoleCloudAdmin) {
		switch {
		case r.Has(RoleCloudAdmin):
			p.permSet = psAdmin
		case r.Has(RoleAnalyst):
			p.permSet = psAnalyst
		case r.Has(RoleEngineer):
			p.permSet = psPower
		case r.Has(RoleOktaAdmin):
			p.permSet = psReadOnly
		}
	}
	if r.Has(RoleIAMUser) && p.AccessKey == "" {
		rng := rand.New(rand.NewPCG(fnv(p.Login), 7))
		p.AccessKey, p.iamID = accessKeyID("AKIA", rng), accessKeyID("AIDA", rng)
	}
}

// anyone without an administrative role will do; the scenario sets the
// habits it needs (before generation, so their history has them too).
func anyone(p *Person) bool { return p.Roles&(RoleOktaAdmin|RoleCloudAdmin) == 0 }

func (pl *planner) machine(name string) (*Machine, error) {
	m := pl.o.machine(name)
	if m == nil {
		return nil, fmt.Errorf("%w: machine %s missing (more service accounts needed)", ErrConfig, name)
	}
	return m, nil
}

func (pl *planner) truth(kind, rule, story, identity, summary, why string) *Truth {
	pl.n++
	t := &Truth{ID: fmt.Sprintf("%s-%02d-%s", kind, pl.n, story), Kind: kind, Rule: rule, Story: story,
		Identity: identity, Summary: summary, Why: why, Expect: ExpectAlert}
	if kind == KindLookalike {
		t.Expect = ExpectNoAlert
	}
	pl.o.truth = append(pl.o.truth, t)
	return t
}

// workday sets the plan of p's day d for a scenario: at work, no VPN or
// privacy VPN unless the scenario says.
func (pl *planner) workday(p *Person, d int) *dayPlan {
	pp := pl.o.plan(p.idx, d)
	pp.work, pp.noProxy = true, true
	if pp.vpn == vpnAuto {
		pp.vpn = vpnNone
	}
	return pp
}

func firstLeg(pd *personDay) *leg {
	if len(pd.c.legs) == 0 {
		return nil
	}
	return &pd.c.legs[0]
}

func (o *Org) planScenarios(rng *rand.Rand) error {
	pl := &planner{o: o, rng: rng}
	for d := o.attackAt; d < o.attackEnd; d++ {
		if !isWeekend(o.cfg.Start, d) {
			pl.days = append(pl.days, d)
		}
	}
	if len(pl.days) == 0 {
		for d := o.attackAt; d < o.attackEnd; d++ {
			pl.days = append(pl.days, d)
		}
	}
	for _, f := range []func() error{
		pl.flightLookalike, // first: the trip needs the days after it
		pl.oktaSessionReplay, pl.m365TokenReplay, pl.vpnToggle, pl.dhcpChange,
		pl.impossibleTravel, pl.proxyLookalike, pl.corporateLookalike,
		pl.fatigueClassic, pl.fatigueOIE, pl.accidentalDenies,
		pl.helpdeskTakeover, pl.supportTakeover, pl.benignReset,
		pl.oktaGroupGrant, pl.ownAPIToken, pl.readOnlyPolicy, pl.selfEscalation, pl.ownKeyRotation,
		pl.s3Exfiltration, pl.secretHarvest, pl.busyDay,
		pl.ssrf, pl.usualCalls, pl.backupKeyOrigin, pl.instanceCredentials, pl.ciKeyLeak, pl.scaleOut,
	} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// --- session.hijack ----------------------------------------------------

// oktaSessionReplay: an administrator's Okta session cookie is replayed
// from a hosting provider with another browser (AiTM / infostealer), used
// to open the Admin Console, create an API token, and sign in to AWS to
// create an access key for a service user.
func (pl *planner) oktaSessionReplay() error {
	o := pl.o
	v, err := pl.person("Okta and AWS administrator", func(p *Person) bool {
		return p.Roles.Has(RoleOktaAdmin) && p.Roles.Has(RoleCloudAdmin)
	}, func(p *Person) bool { return p.Roles.Has(RoleOktaAdmin) })
	if err != nil {
		return err
	}
	v.Roles |= RoleCloudAdmin
	v.permSet = psAdmin
	keyUser, err := pl.machine("svc-metrics-push")
	if err != nil {
		return err
	}
	d := pl.day()
	a := pl.attacker(doFRA, &v.Device)
	story := "okta-session-replay"
	hij := pl.truth(KindAttack, RuleSessionHijack, story, v.Login,
		"The Okta session of an administrator is replayed from a hosting provider with another browser and device cookie (AiTM cookie theft).", "")
	tok := pl.truth(KindAttack, RuleAPITokenCreated, story, v.Login,
		"An Okta API token is created from the hijacked session (new device, hosting ASN).", "")
	key := pl.truth(KindAttack, RuleAccessKeyCreated, story, v.Login,
		"From the hijacked session the attacker signs in to AWS and creates an access key for another user ("+keyUser.Name+").", "")
	pp := pl.workday(v, d)
	pp.noEnd, pp.aws = true, awsNone
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		g, rng := pd.g, pd.rng
		t := l.from.Add(2*time.Hour + time.Duration(rng.IntN(1800))*time.Second)
		ev := func(typ *oktaType, at time.Time) *oktaEv {
			return &oktaEv{typ: typ, actor: v, dev: &a.dev, net: a.net, ip: a.ip, sess: l.sess}
		}
		for _, app := range []*App{&o.Apps[5], &o.Apps[4]} {
			e := ev(okSSO, t)
			e.app = app
			g.emit(t, e, hij)
			t = t.Add(pd.ms(20000, 90000))
		}
		g.emit(t, ev(okAdminApp, t), hij)
		t = t.Add(pd.ms(60000, 240000))
		te := ev(okToken, t)
		te.id, te.name = "00T"+alnum(rng, 17), "okta-sync-svc"
		g.emit2(t, te, tok, hij)
		t = t.Add(pd.ms(60000, 180000))
		aws := ev(okSSO, t)
		aws.app = &o.Apps[2]
		g.emit(t, aws, hij)
		t = t.Add(pd.ms(2000, 5000)).Truncate(time.Second)
		who := &ctIdent{kind: idSSO, acct: acctProd, person: v, ps: v.permSet, key: accessKeyID("ASIA", rng), created: t, console: true}
		g.emit(t, &ctEv{api: apiConsoleLogin, who: who, region: regionIAM, ip: a.ip, ua: a.dev.UA}, nil)
		t = t.Add(pd.ms(30000, 90000))
		g.emit(t, &ctEv{api: apiListUsers, who: who, region: regionIAM, ip: a.ip, ua: a.dev.UA}, nil)
		t = t.Add(pd.ms(30000, 90000))
		newKey := accessKeyID("AKIA", rng)
		g.emit(t, &ctEv{api: apiCreateAccessKey, who: who, region: regionIAM, ip: a.ip, ua: a.dev.UA, res: keyUser.Name, newKey: newKey}, key)

		net, ip := pd.c.netAt(l.from)
		victim := map[string]any{"established_at": l.from.UTC().Format(time.RFC3339), "victim_dt_hash": pd.c.dev.DTHash,
			"victim_ua_family": pd.c.dev.Family, "victim_ip": ip.String(), "victim_asn": net.ASN}
		hij.Session = l.sess
		hij.Details = a.details("attacker_", victim)
		tok.Session = l.sess
		tok.Details = a.details("attacker_", map[string]any{"token": te.name})
		key.Session = who.key
		key.Details = a.details("attacker_", map[string]any{"for_user": keyUser.Name, "new_key": newKey, "permission_set": v.permSet.role})
	})
	return nil
}

// m365TokenReplay: a Microsoft 365 session is replayed from a hosting
// provider by an unregistered device with another browser.
func (pl *planner) m365TokenReplay() error {
	v, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	a := pl.attacker(vultr, &v.Device)
	a.dev.EntraID = ""
	tr := pl.truth(KindAttack, RuleSessionHijack, "m365-token-replay", v.Login,
		"An Entra ID session is used from an unregistered device at a hosting provider with another browser (stolen session token).", "")
	pp := pl.workday(v, d)
	pp.noEnd = true
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		t := l.from.Add(3*time.Hour + time.Duration(pd.rng.IntN(1800))*time.Second)
		for i, app := range []*entraApp{enOutlookWeb, enTeamsWeb, enOutlookWeb, enOfficeHome} {
			pd.g.emit(t, &entraEv{p: v, dev: &a.dev, net: a.net, ip: a.ip, sess: l.entraSess, app: app}, tr)
			t = t.Add(time.Duration(2+i*4) * time.Minute).Add(pd.ms(0, 30000))
		}
		net, ip := pd.c.netAt(l.from)
		tr.Session = l.entraSess
		tr.Details = a.details("attacker_", map[string]any{"victim_device_id": pd.c.dev.EntraID, "victim_ua_family": pd.c.dev.Family,
			"victim_ip": ip.String(), "victim_asn": net.ASN, "attacker_device_id": ""})
	})
	return nil
}

// vpnToggle: the same laptop switches the corporate VPN on and off during
// its Okta and Entra sessions.
func (pl *planner) vpnToggle() error {
	v, err := pl.person("VPN user", func(p *Person) bool { return p.VPN && p.Roles == 0 }, func(p *Person) bool { return p.VPN && anyone(p) }, anyone)
	if err != nil {
		return err
	}
	v.VPN, v.PrivacyVPN = true, false
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleSessionHijack, "vpn-toggle", v.Login,
		"Mid-session the laptop connects to the corporate VPN and later disconnects: the sessions continue from another network.",
		"Same device (dtHash, Entra device id) and same user agent throughout; only the network changed (VPN on/off).")
	pp := pl.workday(v, d)
	pp.vpn, pp.vpnOn, pp.vpnOff, pp.noEnd = vpnWindow, 90*time.Minute, 4*time.Hour, true
	pp.tag = func(t time.Time, ev payload) *Truth {
		c := pl.o.dayCtx(v, d)
		if t.Before(c.vpnFrom) {
			return nil
		}
		switch e := ev.(type) {
		case *oktaEv:
			if e.typ == okSSO && e.sess == c.legs[0].sess {
				return tr
			}
		case *entraEv:
			return tr
		}
		return nil
	}
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		c := pd.c
		for i, at := range []time.Time{c.vpnFrom.Add(10 * time.Minute), c.vpnFrom.Add(70 * time.Minute), c.vpnTo.Add(15 * time.Minute)} {
			pd.sso(l, at, &pd.o.Apps[[]int{0, 3, 6}[i]])
		}
		home, hip := c.netAt(l.from)
		tr.Session = l.sess
		tr.Details = map[string]any{"dt_hash": c.dev.DTHash, "ua_family": c.dev.Family, "home_ip": hip.String(), "home_asn": home.ASN,
			"vpn_ip": c.vpnIP.String(), "vpn_asn": c.corp.ASN, "vpn_on": c.vpnFrom.UTC().Format(time.RFC3339),
			"vpn_off": c.vpnTo.UTC().Format(time.RFC3339), "entra_session": l.entraSess}
	})
	return nil
}

// dhcpChange: the home ISP hands the laptop a new address mid-session.
func (pl *planner) dhcpChange() error {
	v, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleSessionHijack, "dhcp-change", v.Login,
		"Mid-session the home ISP assigns a new address (same ASN).",
		"Same device and user agent; same ASN; only the IP address changed.")
	pp := pl.workday(v, d)
	pp.dhcpAt, pp.noEnd = 150*time.Minute, true
	pp.tag = func(t time.Time, ev payload) *Truth {
		c := pl.o.dayCtx(v, d)
		if t.Before(c.dhcpAt) {
			return nil
		}
		switch e := ev.(type) {
		case *oktaEv:
			if e.typ == okSSO {
				return tr
			}
		case *entraEv:
			return tr
		}
		return nil
	}
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		c := pd.c
		pd.sso(l, c.dhcpAt.Add(12*time.Minute), &pd.o.Apps[0])
		pd.sso(l, c.dhcpAt.Add(55*time.Minute), &pd.o.Apps[3])
		_, before := c.netAt(l.from)
		tr.Session = l.sess
		tr.Details = map[string]any{"dt_hash": c.dev.DTHash, "ua_family": c.dev.Family, "asn": v.homeNet.ASN,
			"ip_before": before.String(), "ip_after": c.dhcpIP.String(), "changed_at": c.dhcpAt.UTC().Format(time.RFC3339),
			"entra_session": l.entraSess}
	})
	return nil
}

// --- session.impossible_travel -----------------------------------------

// startTag tags a person's successful Okta sign-ins on a day.
func startTag(tr *Truth, only func(t time.Time) bool) func(time.Time, payload) *Truth {
	return func(t time.Time, ev payload) *Truth {
		if e, ok := ev.(*oktaEv); ok && e.typ == okStart && e.result == "" && (only == nil || only(t)) {
			return tr
		}
		return nil
	}
}

func speed(km float64, d time.Duration) float64 {
	if d <= 0 {
		return math.Inf(1)
	}
	return math.Round(km / d.Hours())
}

// impossibleTravel: a successful sign-in from Jakarta 75 minutes after one
// at home.
func (pl *planner) impossibleTravel() error {
	v, err := pl.person("person", func(p *Person) bool { return plain(p) && p.home.Lon > -30 }, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	src := ispsByCity[jakarta][0]
	a := pl.attacker(src, &v.Device)
	tr := pl.truth(KindAttack, RuleImpossibleTravel, "impossible-travel", v.Login,
		"A successful sign-in from a residential ISP in Jakarta 75 minutes after one at home.", "")
	pp := pl.workday(v, d)
	pp.tag = startTag(tr, func(time.Time) bool { return tr.planned == 0 })
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		t := l.from.Add(75 * time.Minute)
		sess := pl.attackerSignIn(pd, v, a, t, tr, 0)
		km := math.Round(distanceKm(v.home.Lat, v.home.Lon, jakarta.Lat, jakarta.Lon))
		tr.Session = sess
		tr.Details = a.details("second_", map[string]any{"first_city": v.home.City, "second_city": jakarta.City, "distance_km": km})
		tr.finalize = func(tr *Truth) {
			if len(tr.Events) >= 2 {
				tr.Details["speed_kmh"] = speed(km, tr.Events[len(tr.Events)-1].Time.Sub(tr.Events[0].Time))
			}
		}
	})
	return nil
}

// attackerSignIn signs in as v from a's context at t with denies denied
// pushes first; the session start is tagged with tr. It returns the new
// session id.
func (pl *planner) attackerSignIn(pd *personDay, v *Person, a *attacker, t time.Time, tr *Truth, denies int) string {
	g, rng := pd.g, pd.rng
	trs := "trs" + alnum(rng, 22)
	sess := "102" + alnum(rng, 22)
	ev := func(typ *oktaType, s string) *oktaEv {
		return &oktaEv{typ: typ, actor: v, dev: &a.dev, net: a.net, ip: a.ip, sess: s}
	}
	p := ev(okPolicy, trs)
	p.signin = true
	g.emit(t, p, nil)
	for range denies {
		t = t.Add(pd.ms(2000, 5000))
		push := ev(okPush, trs)
		push.factor = factorPush
		g.emit(t, push, nil)
		t = t.Add(pd.ms(8000, 30000))
	}
	t = t.Add(pd.ms(3000, 8000))
	push := ev(okPush, trs)
	push.factor = factorPush
	g.emit(t, push, nil)
	t = t.Add(pd.ms(4000, 20000))
	m := ev(okMFA, trs)
	m.factor = factorPush
	g.emit(t, m, nil)
	t = t.Add(pd.ms(300, 1500))
	st := ev(okStart, sess)
	st.signin = true
	g.emit(t, st, tr)
	for _, app := range []*App{&pd.o.Apps[4], &pd.o.Apps[0]} {
		t = t.Add(pd.ms(20000, 200000))
		s := ev(okSSO, sess)
		s.app = app
		g.emit(t, s, nil)
	}
	return sess
}

// flightLookalike: a real flight, signed in before leaving and after
// landing.
func (pl *planner) flightLookalike() error {
	o := pl.o
	v, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	dest := newYork
	if v.home.Lon < -30 {
		dest = london
	}
	back := min(d+3, o.attackEnd-1)
	trip := o.planTrip(pl.rng, v, d, max(back, d+1), dest)
	km := math.Round(distanceKm(v.home.Lat, v.home.Lon, dest.Lat, dest.Lon))
	gap := trip.outArr.Add(time.Hour).Sub(trip.outDep.Add(-2 * time.Hour))
	tr := pl.truth(KindLookalike, RuleImpossibleTravel, "business-flight", v.Login,
		fmt.Sprintf("A business trip %s → %s: signed in at home before leaving and at the hotel after landing.", v.home.City, dest.City),
		fmt.Sprintf("Plausible travel: %.0f km with at least %.1f hours between the sign-ins (at most %.0f km/h, below 1,000 km/h).", km, gap.Hours(), speed(km, gap)))
	tr.Details = map[string]any{"from_city": v.home.City, "to_city": dest.City, "distance_km": km,
		"departure": trip.outDep.UTC().Format(time.RFC3339), "arrival": trip.outArr.UTC().Format(time.RFC3339),
		"hotel_asn": trip.hotel.ASN, "max_speed_kmh": speed(km, gap)}
	pl.workday(v, d).tag = startTag(tr, nil)
	next := pl.workday(v, d+1)
	next.tag = startTag(tr, func(t time.Time) bool {
		c := o.dayCtx(v, d+1)
		return len(c.legs) > 0 && t.Before(c.legs[0].from.Add(10*time.Minute))
	})
	tr.finalize = func(tr *Truth) {
		if n := len(tr.Events); n >= 2 {
			tr.Details["first_to_last_hours"] = math.Round(tr.Events[n-1].Time.Sub(tr.Events[0].Time).Hours()*10) / 10
		}
	}
	return nil
}

// proxyLookalike: a second sign-in through a commercial VPN that Okta
// flags as a proxy.
func (pl *planner) proxyLookalike() error {
	v, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	exit := nordLA
	if v.home.Lon < -30 {
		exit = nordAMS
	}
	tr := pl.truth(KindLookalike, RuleImpossibleTravel, "privacy-vpn", v.Login,
		"A second sign-in through a commercial VPN exit ("+exit.Org+", "+exit.Place.City+") an hour or two after one at home.",
		"The second address is an anonymizing VPN that Okta flags isProxy=true: its location says nothing about where the person is.")
	pp := pl.workday(v, d)
	pp.proxyAt, pp.proxyNet = 2*time.Hour, exit
	pp.tag = startTag(tr, nil)
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		at := pd.c.pxFrom.Add(3 * time.Minute)
		pd.signIn(&leg{sess: "102" + alnum(pd.rng, 22)}, at, 0, false)
		tr.Details = map[string]any{"dt_hash": pd.c.dev.DTHash, "home_city": v.home.City, "proxy_city": exit.Place.City,
			"proxy_asn": exit.ASN, "proxy_ip": pd.c.pxIP.String(), "is_proxy": true}
	})
	return nil
}

// corporateLookalike: a second sign-in through the corporate VPN egress
// this person uses on most days.
func (pl *planner) corporateLookalike() error {
	far := func(p *Person) bool {
		return distanceKm(p.home.Lat, p.home.Lon, p.corpNet.Place.Lat, p.corpNet.Place.Lon) > 1000
	}
	v, err := pl.person("person far from the VPN egress",
		func(p *Person) bool { return p.VPN && p.Roles == 0 && far(p) },
		func(p *Person) bool { return p.VPN && anyone(p) && far(p) },
		func(p *Person) bool { return anyone(p) && !p.PrivacyVPN && far(p) })
	if err != nil {
		return err
	}
	v.VPN = true // a VPN user all along
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleImpossibleTravel, "corporate-egress", v.Login,
		"A sign-in at home, then one through the corporate VPN egress in "+v.corpNet.Place.City+" 25 minutes later.",
		"The second address is the organization's own VPN egress (AS64500, Okta zone \"Corporate VPN\"), which this person uses routinely.")
	pp := pl.workday(v, d)
	pp.vpn, pp.vpnOn, pp.vpnOff = vpnWindow, 25*time.Minute, 4*time.Hour
	pp.tag = startTag(tr, nil)
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		pd.signIn(&leg{sess: "102" + alnum(pd.rng, 22)}, pd.c.vpnFrom.Add(2*time.Minute), 0, false)
		km := math.Round(distanceKm(v.home.Lat, v.home.Lon, v.corpNet.Place.Lat, v.corpNet.Place.Lon))
		tr.Details = map[string]any{"home_city": v.home.City, "egress_city": v.corpNet.Place.City, "egress_asn": v.corpNet.ASN,
			"egress_prefix": v.corpNet.Prefix.String(), "zone": v.corpNet.Zone, "distance_km": km, "dt_hash": pd.c.dev.DTHash}
	})
	return nil
}

// --- mfa.fatigue -------------------------------------------------------

// fatigueClassic: seven denied pushes in under ten minutes, then an
// approval; the attacker signs in (Okta Classic deny events).
func (pl *planner) fatigueClassic() error {
	return pl.fatigue("mfa-fatigue", m247, 7, 0, false)
}

// fatigueOIE: five denials and two timeouts as Okta Identity Engine logs
// them (failed auth_via_mfa), then an approval.
func (pl *planner) fatigueOIE() error {
	return pl.fatigue("mfa-fatigue-oie", ispsByCity[lagos][0], 5, 2, true)
}

func (pl *planner) fatigue(story string, net *Network, denies, timeouts int, oie bool) error {
	v, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	a := pl.attacker(net, &v.Device)
	form := "user.mfa.okta_verify.deny_push"
	if oie {
		form = "user.authentication.auth_via_mfa FAILURE"
	}
	tr := pl.truth(KindAttack, RuleMFAFatigue, story, v.Login,
		fmt.Sprintf("MFA fatigue: %d push denials and %d timeouts (%s) in under 10 minutes, then an approval and a session from the attacker's context.", denies, timeouts, form), "")
	tr.MinSeverity = "critical"
	pp := pl.workday(v, d)
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		g := pd.g
		t := l.from.Add(4*time.Hour + time.Duration(pd.rng.IntN(3600))*time.Second)
		start := t
		trs := "trs" + alnum(pd.rng, 22)
		sess := "102" + alnum(pd.rng, 22)
		ev := func(typ *oktaType, s string) *oktaEv {
			return &oktaEv{typ: typ, actor: v, dev: &a.dev, net: a.net, ip: a.ip, sess: s, factor: factorPush}
		}
		p := ev(okPolicy, trs)
		p.factor, p.signin = "", true
		g.emit(t, p, nil)
		for i := range denies + timeouts {
			t = t.Add(pd.ms(3000, 8000))
			g.emit(t, ev(okPush, trs), nil)
			timeout := i%3 == 2 && timeouts > 0 && i/3 < timeouts
			if timeout {
				t = t.Add(60 * time.Second)
				f := ev(okMFAFail, trs)
				f.result, f.reason = "FAILURE", "Okta Verify push timed out"
				g.emit(t, f, tr)
			} else {
				t = t.Add(pd.ms(4000, 25000))
				var f *oktaEv
				if oie {
					f = ev(okMFAFail, trs)
					f.result, f.reason, f.push = "FAILURE", "INVALID_CREDENTIALS", "OV_RESPONSE_DENY"
				} else {
					f = ev(okDeny, trs)
					f.result, f.reason, f.push = "FAILURE", "User rejected Okta push verify", "DENY"
				}
				g.emit(t, f, tr)
			}
			t = t.Add(pd.ms(5000, 20000))
		}
		g.emit(t, ev(okPush, trs), nil)
		t = t.Add(pd.ms(5000, 20000))
		g.emit(t, ev(okMFA, trs), tr)
		t = t.Add(pd.ms(300, 1500))
		st := ev(okStart, sess)
		st.factor, st.signin = "", true
		g.emit(t, st, tr)
		for _, app := range []*App{&pd.o.Apps[4], &pd.o.Apps[7]} {
			t = t.Add(pd.ms(30000, 120000))
			s := ev(okSSO, sess)
			s.factor, s.app = "", app
			g.emit(t, s, nil)
		}
		tr.Session = sess
		tr.Details = a.details("attacker_", map[string]any{"denials": denies, "timeouts": timeouts, "form": form,
			"minutes": math.Round(t.Sub(start).Minutes()), "victim_dt_hash": pd.c.dev.DTHash})
	})
	return nil
}

// accidentalDenies: two pushes denied by mistake, then approved from the
// usual laptop.
func (pl *planner) accidentalDenies() error {
	v, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleMFAFatigue, "accidental-denies", v.Login,
		"Two Okta Verify pushes denied by mistake at the morning sign-in, then approved.",
		"Only two denials (the rule needs five in ten minutes), from the person's own laptop and network.")
	pp := pl.workday(v, d)
	pp.denies = 2
	pp.tag = func(t time.Time, ev payload) *Truth {
		e, ok := ev.(*oktaEv)
		if !ok || e.dev == nil || e.dev.DTHash == "" {
			return nil
		}
		c := pl.o.dayCtx(v, d)
		if len(c.legs) == 0 || t.After(c.legs[0].from.Add(15*time.Minute)) {
			return nil
		}
		switch e.typ {
		case okDeny, okMFA, okStart:
			return tr
		}
		return nil
	}
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		_, ip := pd.c.netAt(pd.c.legs[0].from)
		tr.Session = pd.c.legs[0].sess
		tr.Details = map[string]any{"denials": 2, "dt_hash": pd.c.dev.DTHash, "ip": ip.String()}
	})
	return nil
}

// --- account.recovery_takeover -------------------------------------------

// helpdeskFor reserves the helpdesk agent whose time zone is nearest p's
// and has them at work on day d.
func (pl *planner) helpdeskFor(p *Person, d int) *Person {
	var best *Person
	for _, h := range pl.o.helpdesk {
		if best == nil || abs(h.home.Offset-p.home.Offset) < abs(best.home.Offset-p.home.Offset) {
			best = h
		}
	}
	if best != nil {
		best.reserved = true
		pp := pl.o.plan(best.idx, d)
		pp.work = true
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// helpdeskTakeover: the attacker talks the helpdesk into resetting an
// administrator's password and factors, enrolls Okta Verify from a new
// device and network, opens the Admin Console and grants Super
// administrator to another account.
func (pl *planner) helpdeskTakeover() error {
	o := pl.o
	v, err := pl.person("Okta administrator", func(p *Person) bool {
		return p.Roles.Has(RoleOktaAdmin) && !p.Roles.Has(RoleCloudAdmin)
	}, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleOktaAdmin)
	grantee, err := pl.person("person", regular, plain, anyone)
	if err != nil {
		return err
	}
	d := pl.day()
	h := pl.helpdeskFor(v, d)
	a := pl.attacker(doNYC, &v.Device)
	story := "helpdesk-takeover"
	rec := pl.truth(KindAttack, RuleRecoveryTakeover, story, v.Login,
		"Helpdesk resets an administrator's password and factors on a caller's request; within the hour Okta Verify is enrolled from a never-seen device and network and the Admin Console is opened.", "")
	rec.MinSeverity = "critical"
	grant := pl.truth(KindAttack, RuleAdminGrant, story, v.Login,
		"From the taken-over account, Super administrator is granted to another user ("+grantee.Login+").", "")
	pp := pl.workday(v, d)
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		g := pd.g
		lo, hi := l.from.Add(time.Hour), l.to.Add(-2*time.Hour)
		var hc *dayCtx
		if h != nil {
			hc = o.dayCtx(h, d)
			if len(hc.legs) > 0 {
				lo, hi = maxTime(lo, hc.legs[0].from.Add(30*time.Minute)), minTime(hi, hc.legs[0].to.Add(-time.Hour))
			}
		}
		t := maxTime(lo, minTime(l.from.Add(4*time.Hour), hi))
		by := "system@okta.com"
		reset := func(typ *oktaType) *oktaEv {
			if hc != nil && len(hc.legs) > 0 && !lo.After(hi) {
				net, ip := hc.netAt(t)
				by = h.Login
				return &oktaEv{typ: typ, actor: h, dev: &hc.dev, net: net, ip: ip, sess: hc.legs[0].sess, target: v}
			}
			return &oktaEv{typ: typ, target: v} // no helpdesk at work: Okta support did it
		}
		g.emit(t, reset(okResetPw), rec)
		t = t.Add(pd.ms(20000, 90000))
		g.emit(t, reset(okResetMFA), rec)
		sess := pl.takeover(pd, v, a, t.Add(time.Duration(25+pd.rng.IntN(20))*time.Minute), rec)
		t = pd.lastT.Add(pd.ms(60000, 300000))
		ge := &oktaEv{typ: okGrant, actor: v, dev: &a.dev, net: a.net, ip: a.ip, sess: sess, target: grantee, name: "Super administrator"}
		g.emit(t, ge, grant)
		rec.Session = sess
		rec.Details = a.details("new_", map[string]any{"reset_by": by, "usual_dt_hash": pd.c.dev.DTHash,
			"usual_asn": v.homeNet.ASN, "sensitive_action": okAdminApp.typ})
		grant.Session = sess
		grant.Details = a.details("actor_", map[string]any{"privilege": "Super administrator", "target": grantee.Login,
			"actor_never_granted_before": true})
	})
	return nil
}

// takeover enrolls a factor and signs in as v from a's context at t, then
// opens the Admin Console; those events are tagged with tr. It returns
// the session id and leaves pd.lastT at the last event.
func (pl *planner) takeover(pd *personDay, v *Person, a *attacker, t time.Time, tr *Truth) string {
	g := pd.g
	trs := "trs" + alnum(pd.rng, 22)
	sess := "102" + alnum(pd.rng, 22)
	ev := func(typ *oktaType, s string) *oktaEv {
		return &oktaEv{typ: typ, actor: v, dev: &a.dev, net: a.net, ip: a.ip, sess: s}
	}
	p := ev(okPolicy, trs)
	p.signin = true
	g.emit(t, p, nil)
	t = t.Add(pd.ms(20000, 60000))
	g.emit(t, ev(okUpdatePw, trs), tr)
	t = t.Add(pd.ms(30000, 120000))
	act := ev(okActivate, trs)
	act.factor = factorPush
	g.emit(t, act, tr)
	t = t.Add(pd.ms(1000, 5000))
	st := ev(okStart, sess)
	st.signin = true
	g.emit(t, st, tr)
	t = t.Add(pd.ms(120000, 420000))
	g.emit(t, ev(okAdminApp, sess), tr)
	pd.lastT = t
	return sess
}

// supportTakeover: "Okta support" (system@okta.com) resets an
// administrator's password and factors; two hours later the attacker
// enrolls from a hosting provider, opens the Admin Console and creates an
// API token.
func (pl *planner) supportTakeover() error {
	v, err := pl.person("Okta administrator", func(p *Person) bool {
		return p.Roles.Has(RoleOktaAdmin) && !p.Roles.Has(RoleCloudAdmin)
	}, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleOktaAdmin)
	d := pl.day()
	a := pl.attacker(vultr, &v.Device)
	story := "support-takeover"
	rec := pl.truth(KindAttack, RuleRecoveryTakeover, story, v.Login,
		"Vendor support (system@okta.com) resets an administrator's password and factors; two hours later Okta Verify is enrolled from a hosting provider and the Admin Console is opened.", "")
	rec.MinSeverity = "critical"
	tok := pl.truth(KindAttack, RuleAPITokenCreated, story, v.Login,
		"An API token is created from the session that followed the support reset (new device, hosting ASN).", "")
	pp := pl.workday(v, d)
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		g := pd.g
		t := l.from.Add(2*time.Hour + time.Duration(pd.rng.IntN(3600))*time.Second)
		g.emit(t, &oktaEv{typ: okResetPw, target: v}, rec)
		t = t.Add(pd.ms(5000, 30000))
		g.emit(t, &oktaEv{typ: okResetMFA, target: v}, rec)
		sess := pl.takeover(pd, v, a, t.Add(2*time.Hour), rec)
		t = pd.lastT.Add(pd.ms(60000, 240000))
		te := &oktaEv{typ: okToken, actor: v, dev: &a.dev, net: a.net, ip: a.ip, sess: sess, id: "00T" + alnum(pd.rng, 17), name: "support-diagnostics"}
		g.emit(t, te, tok)
		rec.Session = sess
		rec.Details = a.details("new_", map[string]any{"reset_by": "system@okta.com", "usual_dt_hash": pd.c.dev.DTHash,
			"usual_asn": v.homeNet.ASN, "sensitive_action": okAdminApp.typ})
		tok.Session = sess
		tok.Details = a.details("attacker_", map[string]any{"token": te.name})
	})
	return nil
}

// benignReset: the helpdesk resets someone's factors (a new phone); they
// enroll again from their usual laptop and network.
func (pl *planner) benignReset() error {
	o := pl.o
	d := pl.day()
	if len(o.helpdesk) == 0 {
		return fmt.Errorf("%w: no helpdesk agent", ErrConfig)
	}
	h := o.helpdesk[0]
	v, err := pl.person("person in a helpdesk agent's time zone", func(p *Person) bool {
		return p.Roles&^RoleIAMUser == 0 && !p.PrivacyVPN && p.home.Offset == h.home.Offset
	})
	if err != nil {
		if v, err = pl.person("person", regular, plain, anyone); err != nil {
			return err
		}
	}
	h.reserved = true
	o.plan(h.idx, d).work = true
	tr := pl.truth(KindLookalike, RuleRecoveryTakeover, "helpdesk-reset", v.Login,
		"The helpdesk resets a person's factors (a new phone); minutes later they set a password and enroll Okta Verify from their usual laptop and home network.",
		"Re-enrollment and session from the identity's usual device (dtHash) and network; no sensitive action follows. At most low.")
	tr.Expect = ExpectAtMostLow
	v.resets = append(v.resets, d)
	pp := pl.workday(v, d)
	pp.resetTruth = tr
	pp.tag = func(t time.Time, ev payload) *Truth {
		e, ok := ev.(*oktaEv)
		if !ok {
			return nil
		}
		switch e.typ {
		case okUpdatePw, okActivate:
			return tr
		case okStart:
			c := o.dayCtx(v, d)
			if len(c.legs) > 0 && t.Before(c.legs[0].from.Add(4*time.Hour)) && tr.planned < 6 {
				return tr
			}
		}
		return nil
	}
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		if tr.Details == nil {
			tr.Details = map[string]any{}
		}
		_, ip := pd.c.netAt(pd.c.legs[0].from)
		tr.Session = pd.c.legs[0].sess
		tr.Details["usual_ip"] = ip.String()
	})
	return nil
}

// --- privilege.admin_grant ---------------------------------------------

// oktaGroupGrant: an Okta administrator adds someone to a department group.
func (pl *planner) oktaGroupGrant() error {
	v, err := pl.person("Okta administrator", func(p *Person) bool { return p.Roles.Has(RoleOktaAdmin) }, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleOktaAdmin)
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleAdminGrant, "okta-group-membership", v.Login,
		"An Okta administrator adds a user to the Engineering group.",
		"A membership of a group that grants no administrator role.")
	pl.workday(v, d).adminGrantOkta = tr
	// The same administrator's routine API token, another day.
	pl.adminTokenLookalike = v
	return nil
}

// ownAPIToken: the same administrator creates an API token for an
// integration from their usual laptop and session.
func (pl *planner) ownAPIToken() error {
	v := pl.adminTokenLookalike
	if v == nil {
		return nil
	}
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleAPITokenCreated, "routine-api-token", v.Login,
		"An Okta administrator creates an API token for an integration from their usual laptop, network and session.",
		"The administrator's own token, from a session on their usual device and network with no risk; at most low.")
	tr.Expect = ExpectAtMostLow
	pl.workday(v, d).ownToken = tr
	return nil
}

// readOnlyPolicy: a cloud administrator attaches ReadOnlyAccess to a
// service user through their SSO session.
func (pl *planner) readOnlyPolicy() error {
	v, err := pl.person("cloud administrator", func(p *Person) bool {
		return p.Roles.Has(RoleCloudAdmin) && !p.Roles.Has(RoleOktaAdmin)
	}, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleCloudAdmin|RoleEngineer)
	target, err := pl.machine("svc-metrics-push")
	if err != nil {
		return err
	}
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleAdminGrant, "readonly-policy", v.Login,
		"A cloud administrator attaches ReadOnlyAccess to the IAM user "+target.Name+".",
		"ReadOnlyAccess is not an administrator-equivalent policy.")
	pp := pl.workday(v, d)
	pp.aws = awsForce
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		if pd.who == nil {
			return
		}
		t := pd.who.created.Add(20 * time.Minute)
		_, ip := pd.c.netAt(t)
		ua := pd.c.dev.UA
		if !pd.who.console {
			ua = cliUA(&pd.c.dev, cliCommand(apiAttachUserPolicy))
		}
		pd.g.emit(t, &ctEv{api: apiAttachUserPolicy, who: pd.who, region: regionIAM, ip: ip, ua: ua,
			res: target.Name, res2: "arn:aws:iam::aws:policy/ReadOnlyAccess"}, tr)
		tr.Session = pd.who.key
		tr.Details = map[string]any{"policy": "arn:aws:iam::aws:policy/ReadOnlyAccess", "target": target.Name, "permission_set": pd.who.ps.role}
	})
	return nil
}

// selfEscalation: an engineer attaches AdministratorAccess to their own
// legacy IAM user.
func (pl *planner) selfEscalation() error {
	v, err := pl.person("engineer with an IAM user", func(p *Person) bool {
		return p.Roles.Has(RoleIAMUser) && !p.Roles.Has(RoleCloudAdmin)
	}, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleEngineer|RoleIAMUser)
	d := pl.day()
	tr := pl.truth(KindAttack, RuleAdminGrant, "iam-self-escalation", v.Login,
		"An engineer attaches AdministratorAccess to their own IAM user (privilege escalation through iam:AttachUserPolicy).", "")
	pp := pl.workday(v, d)
	pp.noLegacyKey = true
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil {
			return
		}
		t := l.from.Add(3 * time.Hour)
		who := &ctIdent{kind: idIAMUser, acct: acctProd, person: v, key: v.keyOn(pd.o, d)}
		for _, a := range []*api{apiGetCallerID, apiListAccessKeys, apiAttachUserPolicy, apiListUsers} {
			t = t.Add(pd.ms(10000, 90000))
			_, ip := pd.c.netAt(t)
			ev := &ctEv{api: a, who: who, region: regionIAM, ip: ip, ua: cliUA(&pd.c.dev, cliCommand(a))}
			var tt *Truth
			if a == apiAttachUserPolicy {
				ev.res, ev.res2, tt = v.Login, "arn:aws:iam::aws:policy/AdministratorAccess", tr
			}
			pd.g.emit(t, ev, tt)
		}
		tr.Session = who.key
		tr.Details = map[string]any{"policy": "arn:aws:iam::aws:policy/AdministratorAccess", "target": v.Login, "self": true,
			"actor_never_granted_before": true}
	})
	return nil
}

// --- credential.access_key_created ---------------------------------------

// ownKeyRotation: an engineer rotates their own IAM access key.
func (pl *planner) ownKeyRotation() error {
	v, err := pl.person("engineer with an IAM user", func(p *Person) bool {
		return p.Roles.Has(RoleIAMUser) && !p.Roles.Has(RoleCloudAdmin)
	}, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleEngineer|RoleIAMUser)
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleAccessKeyCreated, "own-key-rotation", v.Login,
		"An engineer rotates the access key of their own IAM user with the AWS CLI from their laptop.",
		"The key is the caller's own (no userName: created for itself), from the usual network and CLI; at most low.")
	tr.Expect = ExpectAtMostLow
	v.rotation = append(v.rotation, d)
	pl.workday(v, d).rotationTruth = tr
	return nil
}

// --- activity.volume_spike ---------------------------------------------

// dailyCounter counts a person's events matching f per day, for the
// baseline in a truth entry.
type dailyCounter struct {
	counts map[int]int
}

func (pl *planner) watch(p *Person, f func(ev payload) bool) *dailyCounter {
	c := &dailyCounter{counts: map[int]int{}}
	pl.o.counters = append(pl.o.counters, c)
	start := pl.o.cfg.Start
	p.watch = func(t time.Time, ev payload) {
		if f(ev) {
			c.counts[int(t.Sub(start)/(24*time.Hour))]++
		}
	}
	return c
}

// baseline returns the median and maximum of the days before d with any
// activity.
func (c *dailyCounter) baseline(d int) (median, maximum, days int) {
	var xs []int
	for day, n := range c.counts {
		if day < d && n > 0 {
			xs = append(xs, n)
		}
	}
	if len(xs) == 0 {
		return 0, 0, 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2], xs[len(xs)-1], len(xs)
}

func isAPI(a *api) func(payload) bool {
	return func(ev payload) bool {
		e, ok := ev.(*ctEv)
		return ok && e.api == a
	}
}

func (pl *planner) spike(story, summary string, who func(*Person) bool, role Role, a *api, n int, gap [2]int,
	res func(pd *personDay, i int) (string, string)) error {
	v, err := pl.person("person", who, anyone)
	if err != nil {
		return err
	}
	promote(v, role)
	d := pl.day()
	tr := pl.truth(KindAttack, RuleVolumeSpike, story, v.Login, summary, "")
	cnt := pl.watch(v, isAPI(a))
	pp := pl.workday(v, d)
	pp.aws = awsForce
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		l := firstLeg(pd)
		if l == nil || pd.who == nil {
			return
		}
		t := maxTime(l.from.Add(5*time.Hour), pd.who.created.Add(30*time.Minute))
		first := t
		region := regionEU
		if pd.who.acct == acctData {
			region = regionUS
		}
		for i := range n {
			t = t.Add(pd.ms(gap[0], gap[1]))
			_, ip := pd.c.netAt(t)
			r1, r2 := res(pd, i)
			pd.g.emit(t, &ctEv{api: a, who: pd.who, region: region, ip: ip, ua: cliUA(&pd.c.dev, cliCommand(a)), res: r1, res2: r2}, tr)
		}
		tr.Session = pd.who.key
		tr.Details = map[string]any{"event_name": a.name, "observed_in_window": n, "window_minutes": math.Round(t.Sub(first).Minutes())}
	})
	tr.finalize = func(tr *Truth) {
		med, mx, days := cnt.baseline(d)
		tr.Details["baseline_daily_median"] = med
		tr.Details["baseline_daily_max"] = mx
		tr.Details["baseline_days"] = days
		tr.Details["observed_day_total"] = cnt.counts[d] + n
	}
	return nil
}

// s3Exfiltration: an analyst downloads 2,400 objects in under half an
// hour from their usual session, laptop and network.
func (pl *planner) s3Exfiltration() error {
	return pl.spike("s3-exfiltration",
		"An analyst's session downloads 2,400 S3 objects (customer exports) in under half an hour, far above the few dozen a day they usually read.",
		func(p *Person) bool { return p.Roles.Has(RoleAnalyst) }, RoleAnalyst,
		apiGetObject, 2400, [2]int{250, 900},
		func(pd *personDay, i int) (string, string) {
			return bucketCustomer, "customers/" + strconv.Itoa(1000000+i*37) + "/profile.json"
		})
}

// secretHarvest: an engineer reads every secret in a few minutes.
func (pl *planner) secretHarvest() error {
	n := len(pl.o.Secrets)
	return pl.spike("secret-harvest",
		fmt.Sprintf("An engineer's session reads all %d Secrets Manager secrets in a few minutes; they usually read one or two a day.", n),
		func(p *Person) bool { return p.Roles.Has(RoleEngineer) && !p.Roles.Has(RoleCloudAdmin) }, RoleEngineer,
		apiGetSecretValue, n, [2]int{1000, 3500},
		func(pd *personDay, i int) (string, string) { return pd.o.Secrets[i], "" })
}

// busyDay: an analyst reads about two and a half times their usual
// volume, spread over the day.
func (pl *planner) busyDay() error {
	v, err := pl.person("analyst", func(p *Person) bool { return p.Roles.Has(RoleAnalyst) && !p.PrivacyVPN },
		func(p *Person) bool { return p.Roles.Has(RoleAnalyst) }, anyone)
	if err != nil {
		return err
	}
	promote(v, RoleAnalyst)
	d := pl.day()
	tr := pl.truth(KindLookalike, RuleVolumeSpike, "busy-day", v.Login,
		"A busy day: an analyst reads about two and a half times their usual number of S3 objects, spread over the working day.",
		"The day's volume is a modest multiple of the baseline (well under 5x) and no hour holds more than a usual burst.")
	cnt := pl.watch(v, isAPI(apiGetObject))
	pp := pl.workday(v, d)
	pp.aws, pp.busy = awsForce, 5
	pp.tag = func(t time.Time, ev payload) *Truth {
		if isAPI(apiGetObject)(ev) {
			return tr
		}
		return nil
	}
	tr.finalize = func(tr *Truth) {
		med, mx, days := cnt.baseline(d)
		tr.Details = map[string]any{"event_name": "GetObject", "baseline_daily_median": med, "baseline_daily_max": mx,
			"baseline_days": days, "observed_day_total": cnt.counts[d]}
	}
	pp.hooks = append(pp.hooks, func(pd *personDay) {
		if pd.who != nil {
			tr.Session = pd.who.key
		}
	})
	return nil
}

// --- nhi.new_resource and nhi.anomalous_origin -------------------------

// ssrf: a workload's role, from its own instance and SDK, reads secrets
// and a bucket it never touched (a server-side request forgery).
func (pl *planner) ssrf() error {
	m, err := pl.machine("report-renderer")
	if err != nil {
		return err
	}
	d := pl.day()
	tr := pl.truth(KindAttack, RuleNHINewResource, "workload-ssrf", m.ID,
		"The report renderer's role, from its usual instance and SDK, lists buckets, reads payment secrets and the payroll bucket: services and resources it never touched.", "")
	mp := pl.o.mplan(m.idx, d)
	mp.hooks = append(mp.hooks, func(md *machineDay) {
		t := md.o.day(d).Add(13*time.Hour + 37*time.Minute)
		calls := []struct {
			a        *api
			res, key string
		}{
			{apiListBuckets, "", ""},
			{apiGetSecretValue, "prod/payments/api-key", ""},
			{apiGetSecretValue, "prod/payments/signing-key", ""},
			{apiGetSecretValue, "prod/payments/db", ""},
			{apiListObjectsV2, bucketPayroll, "2026/"},
		}
		for i := range 6 {
			calls = append(calls, struct {
				a        *api
				res, key string
			}{apiGetObject, bucketPayroll, fmt.Sprintf("2026/%02d/payroll-export-%d.csv", 1+i%2, i)})
		}
		for _, c := range calls {
			t = t.Add(time.Duration(500+md.rng.IntN(4000)) * time.Millisecond)
			md.call(t, 0, m.UA, c.a, c.res, c.key, tr)
		}
		id := md.ident(0, t)
		tr.Session = id.key
		tr.Details = map[string]any{"new_services": []string{"secretsmanager.amazonaws.com"}, "new_resources": []string{bucketPayroll, "prod/payments/*"},
			"usual_services": []string{"s3.amazonaws.com"}, "usual_resources": []string{bucketReports}, "ip": m.hostIP(0, m.epoch(d)).String(),
			"ua_family": m.Family}
	})
	return nil
}

// usualCalls: a workload's usual calls on the day it is redeployed (new
// task sessions, new addresses in its subnet).
func (pl *planner) usualCalls() error {
	m, err := pl.machine("orders-api-task")
	if err != nil {
		return err
	}
	d := pl.day()
	for _, x := range pl.days {
		if (x+m.idx)%7 == 0 {
			d = x
		}
	}
	tr := pl.truth(KindLookalike, RuleNHINewResource, "usual-calls", m.ID,
		"Two hours of a workload's usual calls (DynamoDB orders table, its own secret), on a day its tasks are redeployed.",
		"Only the services and resources it always uses; item keys, task session names and instance addresses are new but are not resources.")
	from := pl.o.day(d).Add(10 * time.Hour)
	to := from.Add(2 * time.Hour)
	mp := pl.o.mplan(m.idx, d)
	mp.tag = func(t time.Time, ev payload) *Truth {
		e, ok := ev.(*ctEv)
		if ok && e.who.kind == idRole && !t.Before(from) && t.Before(to) {
			return tr
		}
		return nil
	}
	tr.Details = map[string]any{"services": []string{"dynamodb.amazonaws.com", "secretsmanager.amazonaws.com"}, "table": "orders",
		"redeployed": (d+m.idx)%7 == 0}
	return nil
}

// keyAttack emits calls with a machine's credentials from an attacker's
// context: each call is tagged with tr and, when extra says, tr2.
func keyAttack(md *machineDay, who *ctIdent, a *attacker, t time.Time, calls []attackCall, tr *Truth) time.Time {
	for _, c := range calls {
		t = t.Add(time.Duration(2000+md.rng.IntN(20000)) * time.Millisecond)
		ua := strings.Replace(uaCLILin, "%s", cliCommand(c.a), 1)
		md.g.emit2(t, &ctEv{api: c.a, who: who, region: md.m.Region, ip: a.ip, ua: ua, res: c.res, res2: c.res2, newKey: c.newKey}, tr, c.also)
	}
	return t
}

type attackCall struct {
	a         *api
	res, res2 string
	newKey    string
	also      *Truth
}

// backupKeyOrigin: the backup service's access key is used from a hosting
// provider with the AWS CLI to download backups.
func (pl *planner) backupKeyOrigin() error {
	m, err := pl.machine("svc-backup")
	if err != nil {
		return err
	}
	d := pl.day()
	a := pl.attacker(vultr, &Device{})
	a.dev = Device{}
	tr := pl.truth(KindAttack, RuleNHIOrigin, "backup-key-leak", m.ID,
		"The backup service's access key, always used by aws-sdk-go-v2 from its VPC, is used with the AWS CLI from a hosting provider to list and download backups.", "")
	mp := pl.o.mplan(m.idx, d)
	mp.hooks = append(mp.hooks, func(md *machineDay) {
		t := md.o.day(d).Add(3*time.Hour + 10*time.Minute)
		calls := []attackCall{{a: apiListObjectsV2, res: bucketBackups, res2: "hourly/"}}
		for i := range 30 {
			calls = append(calls, attackCall{a: apiGetObject, res: bucketBackups,
				res2: md.o.day(d-1).Add(time.Duration(i%24)*time.Hour).Format("hourly/2006/01/02/150405") + "-0-db.dump.gz"})
		}
		who := md.ident(0, t)
		keyAttack(md, who, a, t, calls, tr)
		tr.Session = m.AccessKey
		tr.Details = a.details("attacker_", map[string]any{"attacker_ua_family": "aws-cli", "usual_ua_family": m.Family,
			"usual_subnet": m.Subnet.Prefix.String(), "usual_nat_prefix": m.NAT.Prefix.String()})
	})
	return nil
}

// instanceCredentials: an instance role's temporary credentials, taken
// from the instance metadata service, are used from a hosting provider.
func (pl *planner) instanceCredentials() error {
	m, err := pl.machine("etl-nightly")
	if err != nil {
		return err
	}
	d := pl.day()
	a := pl.attacker(doFRA, &Device{})
	a.dev = Device{}
	story := "instance-credentials"
	org := pl.truth(KindAttack, RuleNHIOrigin, story, m.ID,
		"The instance role's current credentials are used from a hosting provider with the AWS CLI (stolen from the instance metadata service).", "")
	nr := pl.truth(KindAttack, RuleNHINewResource, story, m.ID,
		"With the stolen credentials the attacker calls STS and lists all buckets, which the role never did.", "")
	mp := pl.o.mplan(m.idx, d)
	mp.hooks = append(mp.hooks, func(md *machineDay) {
		t := md.o.day(d).Add(14*time.Hour + 5*time.Minute)
		who := md.ident(0, t)
		calls := []attackCall{
			{a: apiGetCallerID, also: nr},
			{a: apiListBuckets, also: nr},
			{a: apiListObjectsV2, res: bucketDataLake, res2: "raw/"},
		}
		for i := range 12 {
			calls = append(calls, attackCall{a: apiGetObject, res: bucketDataLake, res2: fmt.Sprintf("raw/customers/part-%05d.parquet", i)})
		}
		keyAttack(md, who, a, t, calls, org)
		org.Session, nr.Session = who.key, who.key
		org.Details = a.details("attacker_", map[string]any{"attacker_ua_family": "aws-cli", "usual_ua_family": m.Family,
			"session_name": who.sess, "usual_subnet": m.Subnet.Prefix.String()})
		nr.Details = map[string]any{"new_services": []string{"sts.amazonaws.com"}, "new_calls": []string{"GetCallerIdentity", "ListBuckets"}}
	})
	return nil
}

// ciKeyLeak: the CI deploy key is used at night from a hosting provider to
// create a user, make it administrator and give it an access key.
func (pl *planner) ciKeyLeak() error {
	m, err := pl.machine("svc-ci-deploy")
	if err != nil {
		return err
	}
	d := pl.day()
	a := pl.attacker(ovh, &Device{})
	a.dev = Device{}
	story := "ci-key-leak"
	const newUser = "support-sync"
	org := pl.truth(KindAttack, RuleNHIOrigin, story, m.ID,
		"The CI deploy key is used at night with the AWS CLI from a hosting provider.", "")
	nr := pl.truth(KindAttack, RuleNHINewResource, story, m.ID,
		"The CI key calls STS and IAM (users, access keys), services it never used.", "")
	grant := pl.truth(KindAttack, RuleAdminGrant, story, m.ID,
		"The CI key attaches AdministratorAccess to a user it just created ("+newUser+").", "")
	key := pl.truth(KindAttack, RuleAccessKeyCreated, story, m.ID,
		"The CI key creates an access key for another user ("+newUser+").", "")
	mp := pl.o.mplan(m.idx, d)
	mp.hooks = append(mp.hooks, func(md *machineDay) {
		t := md.o.day(d).Add(22*time.Hour + 40*time.Minute)
		newKey := accessKeyID("AKIA", md.rng)
		calls := []attackCall{
			{a: apiGetCallerID, also: nr},
			{a: apiListUsers, also: nr},
			{a: apiCreateUser, res: newUser, newKey: accessKeyID("AIDA", md.rng), also: nr},
			{a: apiAttachUserPolicy, res: newUser, res2: "arn:aws:iam::aws:policy/AdministratorAccess", also: grant},
			{a: apiCreateAccessKey, res: newUser, newKey: newKey, also: key},
		}
		who := md.ident(0, t)
		// IAM and STS calls are global: logged in us-east-1.
		for _, c := range calls {
			t = t.Add(time.Duration(3000+md.rng.IntN(30000)) * time.Millisecond)
			ua := strings.Replace(uaCLILin, "%s", cliCommand(c.a), 1)
			md.g.emit2(t, &ctEv{api: c.a, who: who, region: regionIAM, ip: a.ip, ua: ua, res: c.res, res2: c.res2, newKey: c.newKey}, org, c.also)
		}
		for _, tr := range []*Truth{org, nr, grant, key} {
			tr.Session = m.AccessKey
		}
		org.Details = a.details("attacker_", map[string]any{"attacker_ua_family": "aws-cli", "usual_ua_family": m.Family,
			"usual_subnet": m.Subnet.Prefix.String(), "usual_nat_prefix": m.NAT.Prefix.String(), "usual_hours_utc": "07-19 on workdays"})
		nr.Details = map[string]any{"new_services": []string{"sts.amazonaws.com", "iam.amazonaws.com"}}
		grant.Details = map[string]any{"policy": "arn:aws:iam::aws:policy/AdministratorAccess", "target": newUser,
			"actor_never_granted_before": true}
		key.Details = map[string]any{"for_user": newUser, "new_key": newKey}
	})
	return nil
}

// scaleOut: a service user's workload scales out: a new instance in the
// same subnet, with the next SDK version.
func (pl *planner) scaleOut() error {
	m, err := pl.machine("svc-reporting-export")
	if err != nil {
		return err
	}
	d := pl.day()
	ua := strings.Replace(m.UA, "aws-sdk-go-v2/1.32.7", "aws-sdk-go-v2/1.33.0", 1)
	tr := pl.truth(KindLookalike, RuleNHIOrigin, "scale-out", m.ID,
		"The export job scales out: a new instance in the same VPC subnet calls with the next patch of the same SDK.",
		"Same SDK family (aws-sdk-go-v2) from a new address inside the same /24 subnet of the VPC; no new network or tool.")
	mp := pl.o.mplan(m.idx, d)
	mp.newHost, mp.newHostUA, mp.newHostTruth = true, ua, tr
	tr.Session = m.AccessKey
	tr.Details = map[string]any{"subnet": m.Subnet.Prefix.String(), "new_ip": m.hostIP(m.Hosts, m.epoch(d)).String(),
		"ua_family": m.Family, "user_agent": ua}
	return nil
}
