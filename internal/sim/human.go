package sim

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// vpnMode overrides a person's corporate VPN habit for a day.
type vpnMode uint8

const (
	vpnAuto   vpnMode = iota // the person's habit
	vpnNone                  // no VPN today
	vpnWindow                // on from plan.vpnOn to plan.vpnOff after work starts
	vpnAllDay                // on before signing in
)

// awsMode overrides whether a person works in AWS on a day.
type awsMode uint8

const (
	awsAuto awsMode = iota
	awsForce
	awsNone
)

// dayPlan is what a scenario wants of one person's day.
type dayPlan struct {
	work           bool    // works this day (no day off, no sick day)
	vpn            vpnMode // corporate VPN override
	vpnOn, vpnOff  time.Duration
	noProxy        bool          // no privacy VPN today
	proxyAt        time.Duration // a privacy VPN from this long after work starts, for an hour
	proxyNet       *Network
	dhcpAt         time.Duration // the home address changes this long after work starts
	denies         int           // accidental push denials at the first sign-in
	aws            awsMode
	busy           int  // analysts: read bursts this day (0: usual)
	noEnd          bool // the session is not ended (stays valid all day)
	resetTruth     *Truth
	noLegacyKey    bool
	hooks          []func(pd *personDay)
	tag            func(t time.Time, ev payload) *Truth
	rotationTruth  *Truth
	adminGrantOkta *Truth // an Okta admin's non-admin group grant, tagged
	readOnlyGrant  *Truth // a cloud admin's ReadOnlyAccess grant, tagged
	ownToken       *Truth // an Okta admin's routine API token, tagged
}

func (o *Org) plan(idx, d int) *dayPlan {
	k := planKey{idx, d}
	pl := o.plans[k]
	if pl == nil {
		pl = &dayPlan{}
		o.plans[k] = pl
	}
	return pl
}

var noPlan = &dayPlan{}

// leg is a stretch of a day spent in one place, signed in to Okta once.
type leg struct {
	from, to  time.Time
	place     *Place
	net       *Network
	ip        netip.Addr
	sess      string // Okta externalSessionId
	entraSess string // Entra sessionId
	short     bool   // a brief check-in (evening after a flight, weekend)
	refreshed bool   // Microsoft 365 web apps are refreshing their tokens
}

// dayCtx is where a person is and what they use on one day. It is a pure
// function of the seed, the person, the day and the plans, so that the
// person's own day, a helpdesk reset and a scenario see the same answer.
type dayCtx struct {
	p        *Person
	d        int
	plan     *dayPlan
	working  bool
	legs     []leg
	dev      Device
	newDev   bool
	vpnFrom  time.Time
	vpnTo    time.Time
	vpnIP    netip.Addr
	corp     *Network
	pxFrom   time.Time
	pxTo     time.Time
	pxNet    *Network
	pxIP     netip.Addr
	dhcpAt   time.Time
	dhcpIP   netip.Addr
	homeNet  *Network
	travel   bool
	tripDest *Place
}

// netAt returns the network and address p uses at t.
func (c *dayCtx) netAt(t time.Time) (*Network, netip.Addr) {
	if !c.pxFrom.IsZero() && !t.Before(c.pxFrom) && t.Before(c.pxTo) {
		return c.pxNet, c.pxIP
	}
	if !c.vpnFrom.IsZero() && !t.Before(c.vpnFrom) && t.Before(c.vpnTo) {
		return c.corp, c.vpnIP
	}
	l := c.legAt(t)
	if l == nil {
		return c.homeNet, hostIn(c.homeNet.Prefix, fnv(c.p.Login))
	}
	if !c.dhcpAt.IsZero() && !t.Before(c.dhcpAt) && l.net == c.homeNet {
		return l.net, c.dhcpIP
	}
	return l.net, l.ip
}

func (c *dayCtx) legAt(t time.Time) *leg {
	for i := range c.legs {
		if !t.Before(c.legs[i].from) && !t.After(c.legs[i].to) {
			return &c.legs[i]
		}
	}
	if len(c.legs) == 0 {
		return nil
	}
	best := &c.legs[0]
	for i := range c.legs {
		if !t.Before(c.legs[i].from) {
			best = &c.legs[i]
		}
	}
	return best
}

// homeIP is p's home address on day d: it changes on DHCP lease days.
func (p *Person) homeIP(d int) netip.Addr {
	epoch := 0
	for _, x := range p.dhcp {
		if x <= d {
			epoch++
		}
	}
	return hostIn(p.homeNet.Prefix, fnv(p.Login)^uint64(epoch)*0x9e3779b97f4a7c15)
}

// deviceOn returns p's laptop on day d and whether it is new that day.
// Browsers update to the next major version halfway through.
func (o *Org) deviceOn(p *Person, d int) (Device, bool) {
	dev, isNew := p.Device, false
	for _, l := range p.laptops {
		if l.day <= d {
			dev, isNew = l.dev, l.day == d
		}
	}
	if d >= o.cfg.Days/2+p.idx%5 {
		dev = dev.updated()
	}
	return dev, isNew
}

func (p *Person) offOn(d int) bool {
	for _, s := range p.off {
		if d >= s.from && d <= s.to {
			return true
		}
	}
	return false
}

// dayCtx computes p's day d.
func (o *Org) dayCtx(p *Person, d int) *dayCtx {
	rng := dayRand(o.cfg.Seed, streamPersonCtx, p.idx, d)
	plan := o.plans[planKey{p.idx, d}]
	if plan == nil {
		plan = noPlan
	}
	c := &dayCtx{p: p, d: d, plan: plan, homeNet: p.homeNet, corp: p.corpNet}
	c.dev, c.newDev = o.deviceOn(p, d)
	home := p.home
	hip := p.homeIP(d)
	c.vpnIP = hostIn(c.corp.Prefix, uint64(fnv(p.Login)+uint64(d))%8)

	weekend := isWeekend(o.cfg.Start, d)
	c.working = plan.work || (!weekend && !p.offOn(d) && rng.IntN(100) >= 3)
	jitter := func(n int) time.Duration { return time.Duration(rng.IntN(2*n+1)-n) * time.Minute }

	var t *trip
	for i := range p.trips {
		if d >= p.trips[i].out && d <= p.trips[i].back {
			t = &p.trips[i]
		}
	}
	place := home
	if t != nil && d > t.out {
		place = t.dest
	}
	mid := o.localMidnight(d, place)
	ws := mid.Add(time.Duration(p.WorkStart)*time.Minute + jitter(20) + time.Duration(rng.IntN(60000))*time.Millisecond)
	we := ws.Add(time.Duration(p.WorkLen)*time.Minute + jitter(30))
	// Arrivals the day after a flight.
	avail := mid
	for i := range p.trips {
		tr := &p.trips[i]
		if d == tr.out+1 {
			avail = maxTime(avail, tr.outArr.Add(time.Hour))
		}
		if d == tr.back+1 {
			avail = maxTime(avail, tr.backArr.Add(time.Hour))
		}
	}
	add := func(from, to time.Time, pl *Place, net *Network, ip netip.Addr, short bool) {
		from = maxTime(from, avail)
		if to.Sub(from) < 20*time.Minute {
			return
		}
		c.legs = append(c.legs, leg{from: from, to: to, place: pl, net: net, ip: ip, short: short,
			sess: "102" + alnum(rng, 22), entraSess: guid(rng)})
	}
	hotelIP := func(tr *trip) netip.Addr { return hostIn(tr.hotel.Prefix, fnv(p.Login)^uint64(tr.out)) }
	switch {
	case !c.working && t == nil:
		if rng.IntN(100) < 5 { // a weekend glance at mail and chat
			from := mid.Add(time.Duration(10*60+rng.IntN(600)) * time.Minute)
			add(from, from.Add(time.Duration(20+rng.IntN(30))*time.Minute), home, p.homeNet, hip, true)
		}
	case t == nil:
		add(ws, we, home, p.homeNet, hip, false)
	case d == t.out:
		c.travel, c.tripDest = true, t.dest
		if c.working {
			add(ws, minTime(we, t.outDep.Add(-2*time.Hour)), home, p.homeNet, hip, false)
		}
		arr := t.outArr.Add(time.Hour)
		if arr.Before(o.localMidnight(d, t.dest).Add(22 * time.Hour)) {
			add(arr, arr.Add(time.Duration(30+rng.IntN(60))*time.Minute), t.dest, t.hotel, hotelIP(t), true)
		}
	case d < t.back:
		c.travel, c.tripDest = true, t.dest
		if c.working {
			add(ws, we, t.dest, t.hotel, hotelIP(t), false)
		}
	default: // the day back
		c.travel, c.tripDest = true, t.dest
		if c.working {
			add(ws, minTime(we, t.backDep.Add(-2*time.Hour)), t.dest, t.hotel, hotelIP(t), false)
		}
		arr := t.backArr.Add(time.Hour)
		if arr.Before(o.localMidnight(d, home).Add(22 * time.Hour)) {
			add(arr, arr.Add(time.Duration(30+rng.IntN(60))*time.Minute), home, p.homeNet, hip, true)
		}
	}
	if len(c.legs) == 0 {
		return c
	}
	first := c.legs[0]
	// The corporate VPN.
	mode := plan.vpn
	if mode == vpnAuto && p.VPN && !first.short {
		switch r := rng.IntN(100); {
		case c.travel && r < 70, !c.travel && r < 20:
			mode = vpnAllDay
		case !c.travel && r < 60:
			mode = vpnWindow
		}
	}
	switch mode {
	case vpnAllDay:
		c.vpnFrom, c.vpnTo = first.from.Add(-10*time.Minute), c.legs[len(c.legs)-1].to.Add(time.Minute)
	case vpnWindow:
		on, off := plan.vpnOn, plan.vpnOff
		if plan.vpn == vpnAuto {
			on = time.Duration(30+rng.IntN(180)) * time.Minute
			off = on + time.Duration(60+rng.IntN(240))*time.Minute
		}
		c.vpnFrom, c.vpnTo = first.from.Add(on), minTime(first.from.Add(off), first.to)
	}
	// A privacy VPN, now and then, for those who have one.
	if plan.proxyAt > 0 {
		c.pxFrom = first.from.Add(plan.proxyAt)
		c.pxTo = minTime(c.pxFrom.Add(time.Hour), first.to)
		c.pxNet = plan.proxyNet
		c.pxIP = hostIn(c.pxNet.Prefix, fnv(p.Login)^uint64(d)<<8)
	} else if p.PrivacyVPN && !plan.noProxy && !first.short && rng.IntN(100) < 10 {
		c.pxFrom = first.from.Add(time.Duration(60+rng.IntN(180)) * time.Minute)
		c.pxTo = minTime(c.pxFrom.Add(time.Duration(30+rng.IntN(90))*time.Minute), first.to)
		c.pxNet = nordLA
		if home.Lon > -30 {
			c.pxNet = nordAMS
		}
		c.pxIP = hostIn(c.pxNet.Prefix, fnv(p.Login)^uint64(d)<<8)
	}
	if plan.dhcpAt > 0 {
		c.dhcpAt = first.from.Add(plan.dhcpAt)
		c.dhcpIP = hostIn(p.homeNet.Prefix, fnv(p.Login)^uint64(d+1)*0x51ed2701)
	}
	return c
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// personDay generates one person's events of one day.
type personDay struct {
	g    *gen
	o    *Org
	c    *dayCtx
	p    *Person
	d    int
	rng  *rand.Rand
	plan *dayPlan
	who  *ctIdent // the day's AWS SSO credentials
	// lastT is the time of the last event a scenario step emitted.
	lastT time.Time
}

func (pd *personDay) emit(t time.Time, ev payload) {
	if pd.p.watch != nil {
		pd.p.watch(t, ev)
	}
	var tr *Truth
	if pd.plan.tag != nil {
		tr = pd.plan.tag(t, ev)
	}
	pd.g.emit(t, ev, tr)
}

func (pd *personDay) ms(lo, hi int) time.Duration {
	return time.Duration(lo+pd.rng.IntN(hi-lo+1)) * time.Millisecond
}

func (g *gen) personDay(p *Person, d int) {
	c := g.o.dayCtx(p, d)
	pd := &personDay{g: g, o: g.o, c: c, p: p, d: d, rng: dayRand(g.o.cfg.Seed, streamPersonAct, p.idx, d), plan: c.plan}
	for i := range c.legs {
		pd.leg(&c.legs[i], i == 0)
	}
	for _, h := range pd.plan.hooks {
		h(pd)
	}
}

func (pd *personDay) oktaEv(typ *oktaType, t time.Time, sess string) *oktaEv {
	net, ip := pd.c.netAt(t)
	return &oktaEv{typ: typ, actor: pd.p, dev: &pd.c.dev, net: net, ip: ip, sess: sess}
}

// leg generates a stretch of the day: sign-in, SSO to apps, Microsoft 365,
// AWS and administration.
func (pd *personDay) leg(l *leg, first bool) {
	p, rng := pd.p, pd.rng
	t := l.from
	reset := first && slices.Contains(p.resets, pd.d)
	if reset {
		if t2, ok := pd.helpdeskReset(l, pd.plan.resetTruth); ok {
			t = t2
			l.from = t
		} else {
			reset = false
		}
	}
	denies := 0
	if first {
		denies = pd.plan.denies
		if denies == 0 && rng.IntN(150) == 0 {
			denies = 1 // a push denied by mistake
		}
	}
	t = pd.signIn(l, t, denies, reset)
	if first && pd.c.newDev {
		t = t.Add(pd.ms(2000, 20000))
		pd.emit(t, pd.oktaEv(okDevEnroll, t, l.sess))
	}
	// Mail and chat first, then the day's apps.
	t = t.Add(time.Duration(30+rng.IntN(240)) * time.Second)
	pd.sso(l, t, &pd.o.Apps[7])
	n := 3 + rng.IntN(7)
	if l.short {
		n = rng.IntN(2)
	}
	times := pd.spread(t, l.to, n)
	awsAt := time.Time{}
	if !l.short && pd.wantsAWS(first) {
		awsAt = pd.within(t.Add(10*time.Minute), l.to.Add(-2*time.Hour))
	}
	for _, at := range times {
		a := pd.pickApp()
		if a.For == "aws" {
			continue
		}
		pd.sso(l, at, a)
	}
	if !awsAt.IsZero() {
		pd.aws(l, awsAt)
	}
	if !l.short {
		pd.admin(l, t)
		pd.legacyKey(l)
	}
	if !pd.plan.noEnd && !l.short && rng.IntN(100) < 30 {
		end := l.to.Add(time.Duration(rng.IntN(600)) * time.Second)
		pd.emit(end, pd.oktaEv(okEnd, end, l.sess))
	}
}

// within returns a random time in [a, b] (a when b is not after a).
func (pd *personDay) within(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(pd.rng.Int64N(int64(b.Sub(a)))))
}

// spread returns n sorted random times in (a, b).
func (pd *personDay) spread(a, b time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = pd.within(a.Add(time.Minute), b)
	}
	slices.SortFunc(out, func(x, y time.Time) int { return x.Compare(y) })
	return out
}

// signIn emits an Okta sign-in at t and returns when it completed.
func (pd *personDay) signIn(l *leg, t time.Time, denies int, enroll bool) time.Time {
	rng := pd.rng
	trs := "trs" + alnum(rng, 22)
	ev := pd.oktaEv(okPolicy, t, trs)
	ev.signin = true
	pd.emit(t, ev)
	if !enroll && rng.IntN(25) == 0 { // a mistyped password
		t = t.Add(pd.ms(3000, 9000))
		f := pd.oktaEv(okStartFail, t, trs)
		f.result, f.reason = "FAILURE", "INVALID_CREDENTIALS"
		pd.emit(t, f)
	}
	if enroll {
		// After a helpdesk reset: a new password and Okta Verify again.
		t = t.Add(pd.ms(20000, 60000))
		pd.emit(t, pd.oktaEv(okUpdatePw, t, trs))
		t = t.Add(pd.ms(30000, 120000))
		a := pd.oktaEv(okActivate, t, trs)
		a.factor = factorPush
		pd.emit(t, a)
	} else {
		for i := 0; i <= denies; i++ {
			t = t.Add(pd.ms(2000, 6000))
			push := pd.oktaEv(okPush, t, trs)
			push.factor = factorPush
			pd.emit(t, push)
			t = t.Add(pd.ms(3000, 15000))
			if i < denies {
				dn := pd.oktaEv(okDeny, t, trs)
				dn.factor, dn.result, dn.reason, dn.push = factorPush, "FAILURE", "User rejected Okta push verify", "DENY"
				pd.emit(t, dn)
				t = t.Add(pd.ms(5000, 40000))
			}
		}
		mfa := pd.oktaEv(okMFA, t, trs)
		mfa.factor = factorPush
		pd.emit(t, mfa)
	}
	t = t.Add(pd.ms(300, 1500))
	st := pd.oktaEv(okStart, t, l.sess)
	st.signin = true
	pd.emit(t, st)
	return t
}

// sso emits an SSO to an app and what it leads to elsewhere: Microsoft
// 365 sign-ins in Entra.
func (pd *personDay) sso(l *leg, t time.Time, a *App) {
	ev := pd.oktaEv(okSSO, t, l.sess)
	ev.app = a
	pd.emit(t, ev)
	if a.Name == "office365" {
		pd.entra(l, t.Add(pd.ms(1500, 6000)), true, enOfficeHome)
		if l.refreshed {
			return
		}
		l.refreshed = true
		// Outlook and Teams on the web refresh their tokens all day.
		end := l.to
		for at := t.Add(time.Duration(40+pd.rng.IntN(40)) * time.Minute); at.Before(end); at = at.Add(time.Duration(50+pd.rng.IntN(70)) * time.Minute) {
			pd.entra(l, at, false, entraRefreshApps[pd.rng.IntN(len(entraRefreshApps))])
		}
	}
}

func (pd *personDay) entra(l *leg, t time.Time, interactive bool, app *entraApp) {
	net, ip := pd.c.netAt(t)
	pd.emit(t, &entraEv{p: pd.p, dev: &pd.c.dev, net: net, ip: ip, sess: l.entraSess, app: app, interactive: interactive})
}

func (pd *personDay) pickApp() *App {
	p := pd.p
	for {
		a := &pd.o.Apps[pd.rng.IntN(len(pd.o.Apps))]
		switch a.For {
		case "":
			return a
		case "eng":
			if p.Roles.Has(RoleEngineer) || p.Roles.Has(RoleOktaAdmin) {
				return a
			}
		case "sales":
			if p.Department == "Sales" || p.Department == "Marketing" {
				return a
			}
		case "support":
			if p.Department == "Support" || p.Roles.Has(RoleHelpdesk) {
				return a
			}
		case "aws":
			return a
		}
	}
}

func (pd *personDay) wantsAWS(first bool) bool {
	switch pd.plan.aws {
	case awsForce:
		return first
	case awsNone:
		return false
	}
	if pd.p.permSet == nil || !first {
		return false
	}
	switch {
	case pd.p.Roles.Has(RoleAnalyst):
		return pd.rng.IntN(100) < 85
	case pd.p.Roles.Has(RoleEngineer), pd.p.Roles.Has(RoleCloudAdmin):
		return pd.rng.IntN(100) < 70
	}
	return pd.rng.IntN(100) < 10
}

// cliUA is the AWS CLI's user agent on the person's laptop.
func cliUA(dev *Device, command string) string {
	switch dev.OSFamily {
	case "macOS":
		return strings.Replace(uaCLIMac, "%s", command, 1)
	case "Windows":
		return "aws-cli/2.22.9 md/awscrt#0.23.4 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#" + command
	}
	return strings.Replace(uaCLILin, "%s", command, 1)
}

// cliCommand is the CLI command of a call ("s3api.get-object").
func cliCommand(a *api) string {
	svc := a.source[:strings.IndexByte(a.source, '.')]
	switch svc {
	case "monitoring":
		svc = "cloudwatch"
	case "s3":
		svc = "s3api"
	}
	var b strings.Builder
	b.WriteString(svc)
	b.WriteByte('.')
	name := strings.TrimRight(a.name, "0123456789v")
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// aws signs in to AWS through IAM Identity Center at t and works there for
// a while: engineers read and deploy, analysts read data, cloud
// administrators look at IAM and now and then attach a policy.
func (pd *personDay) aws(l *leg, t time.Time) {
	p, rng := pd.p, pd.rng
	ev := pd.oktaEv(okSSO, t, l.sess)
	ev.app = &pd.o.Apps[2]
	pd.emit(t, ev)
	acct := acctProd
	if p.Roles.Has(RoleAnalyst) {
		acct = acctData
	}
	console := rng.IntN(100) < 35
	t = t.Add(pd.ms(2000, 6000)).Truncate(time.Second)
	who := &ctIdent{kind: idSSO, acct: acct, person: p, ps: p.permSet, key: accessKeyID("ASIA", rng), created: t, console: console}
	pd.who = who
	_, ip := pd.c.netAt(t)
	if console {
		pd.emit(t, &ctEv{api: apiConsoleLogin, who: who, region: regionIAM, ip: ip, ua: pd.c.dev.UA})
	} else {
		portal := &ctIdent{kind: idSSOUser, acct: acct, person: p}
		pd.emit(t, &ctEv{api: apiGetRoleCreds, who: portal, region: regionSSO, ip: ip, ua: cliUA(&pd.c.dev, "sso.login"),
			res: p.permSet.name, res2: acct.ID})
	}
	ua := func(a *api) string {
		if console {
			return pd.c.dev.UA
		}
		return cliUA(&pd.c.dev, cliCommand(a))
	}
	region := regionEU
	if acct == acctData {
		region = regionUS
	}
	call := func(at time.Time, a *api, res, res2 string) {
		_, ip := pd.c.netAt(at)
		pd.emit(at, &ctEv{api: a, who: who, region: region, ip: ip, ua: ua(a), res: res, res2: res2})
	}
	bursts := 1 + rng.IntN(3)
	if p.Roles.Has(RoleAnalyst) && pd.plan.busy > 0 {
		bursts = pd.plan.busy
	}
	end := minTime(l.to, t.Add(6*time.Hour))
	starts := pd.spread(t, end, bursts)
	if p.Roles.Has(RoleAnalyst) && pd.plan.busy > 0 {
		// A busy day's bursts are evenly spread over the working day.
		starts = starts[:0]
		step := l.to.Sub(t) / time.Duration(bursts+1)
		for i := range bursts {
			starts = append(starts, t.Add(step*time.Duration(i+1)))
		}
	}
	for _, at := range starts {
		switch {
		case p.Roles.Has(RoleAnalyst):
			n := 8 + rng.IntN(6)
			day := pd.o.day(pd.d).AddDate(0, 0, -1-rng.IntN(30))
			for i := range n {
				at = at.Add(pd.ms(800, 9000))
				key := "exports/" + day.Format("2006/01/02") + "/part-" + strconv.Itoa(10000+i+rng.IntN(50)) + ".parquet"
				call(at, apiGetObject, bucketAnalytics, key)
			}
			at = at.Add(pd.ms(5000, 60000))
			call(at, apiStartQuery, "", "")
			call(at.Add(pd.ms(4000, 30000)), apiGetQueryResults, "", "")
		case p.Roles.Has(RoleCloudAdmin) && rng.IntN(3) == 0:
			for _, a := range []*api{apiListRoles, apiGetRole, apiListUsers, apiListAccessKeys} {
				at = at.Add(pd.ms(1500, 20000))
				res := ""
				if a == apiGetRole {
					res = pd.o.Machines[rng.IntN(len(pd.o.Machines))].Name
				}
				call(at, a, res, "")
			}
			if rng.IntN(4) == 0 && len(pd.o.Machines) > 0 {
				m := pd.o.Machines[rng.IntN(len(pd.o.Machines))]
				if m.Kind != sessIAMUser {
					at = at.Add(pd.ms(20000, 120000))
					call(at, apiAttachRolePolicy, m.Name, benignPolicies[rng.IntN(len(benignPolicies))])
				}
			}
		default:
			reads := []*api{apiDescribeInst, apiListClusters, apiDescribeServices, apiFilterLogEvents, apiDescribeLogGrps,
				apiGetMetricData, apiListFunctions, apiListBuckets, apiDescribeSGs}
			n := 4 + rng.IntN(12)
			for range n {
				at = at.Add(pd.ms(1500, 45000))
				a := reads[rng.IntN(len(reads))]
				call(at, a, "prod", "web")
			}
			if rng.IntN(3) == 0 {
				at = at.Add(pd.ms(2000, 30000))
				call(at, apiGetSecretValue, pd.o.Secrets[rng.IntN(len(pd.o.Secrets))], "")
			}
			if rng.IntN(8) == 0 {
				at = at.Add(pd.ms(5000, 60000))
				call(at, apiUpdateService, "staging", "web")
			}
		}
	}
}

var benignPolicies = []string{
	"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
	"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
	"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
	"arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}

// admin is an Okta administrator's routine: the Admin Console, group and
// app assignments, and now and then an API token for an integration.
func (pd *personDay) admin(l *leg, after time.Time) {
	p, rng := pd.p, pd.rng
	if !p.Roles.Has(RoleOktaAdmin) {
		return
	}
	t := pd.within(after.Add(5*time.Minute), l.to.Add(-time.Hour))
	pd.emit(t, pd.oktaEv(okAdminApp, t, l.sess))
	for range rng.IntN(3) {
		t = t.Add(pd.ms(20000, 600000))
		target := &pd.o.People[rng.IntN(len(pd.o.People))]
		if rng.IntN(2) == 0 {
			g := oktaGroups[rng.IntN(len(oktaGroups))]
			ev := pd.oktaEv(okGroupAdd, t, l.sess)
			ev.target, ev.id, ev.name = target, g.id, g.name
			pd.emit(t, ev)
		} else {
			ev := pd.oktaEv(okAppAssign, t, l.sess)
			ev.target, ev.app = target, &pd.o.Apps[rng.IntN(len(pd.o.Apps))]
			pd.emit(t, ev)
		}
	}
	if tr := pd.plan.adminGrantOkta; tr != nil {
		t = t.Add(pd.ms(20000, 300000))
		target := &pd.o.People[(p.idx+7)%len(pd.o.People)]
		ev := pd.oktaEv(okGroupAdd, t, l.sess)
		ev.target, ev.id, ev.name = target, oktaGroups[0].id, oktaGroups[0].name
		pd.g.emit(t, ev, tr)
		tr.Details = map[string]any{"group": oktaGroups[0].name, "target": target.Login, "event_type": okGroupAdd.typ}
	}
	quiet := p.reserved && pd.d >= pd.o.attackAt-2 // scenario people keep the attack phase clean
	if tr := pd.plan.ownToken; tr != nil || (pd.rng.IntN(40) == 0 && !quiet) {
		t = t.Add(pd.ms(20000, 300000))
		ev := pd.oktaEv(okToken, t, l.sess)
		ev.id, ev.name = "00T"+alnum(rng, 17), tokenNames[rng.IntN(len(tokenNames))]
		pd.g.emit(t, ev, tr)
		if tr != nil {
			net, ip := pd.c.netAt(t)
			tr.Session = l.sess
			tr.Details = map[string]any{"token": ev.name, "dt_hash": pd.c.dev.DTHash, "ip": ip.String(), "asn": net.ASN,
				"ua_family": pd.c.dev.Family}
		}
	}
}

var tokenNames = []string{"terraform-okta-provider", "okta-scim-bridge", "siem-log-export", "hris-sync", "okta-backup"}

// legacyKey is an engineer's use of a legacy IAM user's access key from the
// laptop, and its rotation.
func (pd *personDay) legacyKey(l *leg) {
	p, rng := pd.p, pd.rng
	if !p.Roles.Has(RoleIAMUser) || pd.plan.noLegacyKey {
		return
	}
	rotate := slices.Contains(p.rotation, pd.d)
	if !rotate && rng.IntN(100) >= 30 {
		return
	}
	t := pd.within(l.from.Add(30*time.Minute), l.to.Add(-time.Hour))
	key := p.keyOn(pd.o, pd.d)
	who := &ctIdent{kind: idIAMUser, acct: acctProd, person: p, key: key}
	call := func(at time.Time, a *api, res, res2, newKey string, tr *Truth) {
		_, ip := pd.c.netAt(at)
		pd.g.emit(at, &ctEv{api: a, who: who, region: regionIAM, ip: ip, ua: cliUA(&pd.c.dev, cliCommand(a)),
			res: res, res2: res2, newKey: newKey}, tr)
	}
	for range 2 + rng.IntN(5) {
		t = t.Add(pd.ms(3000, 60000))
		a := []*api{apiDescribeInst, apiListBuckets, apiListFunctions, apiGetCallerID}[rng.IntN(4)]
		call(t, a, "", "", "", nil)
	}
	if rotate {
		next := p.keyOn(pd.o, pd.d+1)
		t = t.Add(pd.ms(5000, 60000))
		call(t, apiListAccessKeys, "", "", "", nil)
		t = t.Add(pd.ms(5000, 30000))
		tr := pd.plan.rotationTruth
		call(t, apiCreateAccessKey, "", "", next, tr)
		if tr != nil {
			_, ip := pd.c.netAt(t)
			tr.Session = key
			tr.Details = map[string]any{"new_key": next, "for_user": p.Login, "ip": ip.String(), "ua_family": "aws-cli"}
		}
		t = t.Add(pd.ms(60000, 600000))
		who = &ctIdent{kind: idIAMUser, acct: acctProd, person: p, key: next}
		call(t, apiUpdateAccessKey, "", key, "", nil)
		t = t.Add(pd.ms(5000, 60000))
		call(t, apiDeleteAccessKey, "", key, "", nil)
	}
}

// keyOn is the legacy IAM user's key in use at the start of day d.
func (p *Person) keyOn(o *Org, d int) string {
	epoch := 0
	for _, r := range p.rotation {
		if r < d {
			epoch++
		}
	}
	if epoch == 0 {
		return p.AccessKey
	}
	return accessKeyID("AKIA", dayRand(o.cfg.Seed, streamScenario, p.idx, 10_000+epoch))
}

// helpdeskReset has a helpdesk colleague reset p's factors (and often the
// password) shortly after p's day should start; p re-enrolls from the
// usual laptop and network. It returns when p can sign in, or false when
// no helpdesk colleague is at work.
func (pd *personDay) helpdeskReset(l *leg, tr *Truth) (time.Time, bool) {
	o, p := pd.o, pd.p
	want := l.from.Add(10 * time.Minute)
	for k := range o.helpdesk {
		h := o.helpdesk[(pd.d+k)%len(o.helpdesk)]
		if h == p {
			continue
		}
		hc := o.dayCtx(h, pd.d)
		if !hc.working || len(hc.legs) == 0 || hc.legs[0].short {
			continue
		}
		hl := hc.legs[0]
		t := maxTime(want, hl.from.Add(15*time.Minute))
		if t.After(hl.to.Add(-30*time.Minute)) || t.After(l.to.Add(-3*time.Hour)) {
			continue
		}
		net, ip := hc.netAt(t)
		ev := &oktaEv{typ: okResetMFA, actor: h, dev: &hc.dev, net: net, ip: ip, sess: hl.sess, target: p}
		pd.g.emit(t, ev, tr)
		if pd.rng.IntN(2) == 0 {
			t = t.Add(pd.ms(10000, 60000))
			ev := &oktaEv{typ: okResetPw, actor: h, dev: &hc.dev, net: net, ip: ip, sess: hl.sess, target: p}
			pd.g.emit(t, ev, tr)
		}
		if tr != nil {
			tr.Details = map[string]any{"reset_by": h.Login, "usual_dt_hash": pd.c.dev.DTHash, "usual_asn": pd.p.homeNet.ASN}
		}
		return t.Add(time.Duration(8+pd.rng.IntN(20)) * time.Minute), true
	}
	return time.Time{}, false
}
