package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
)

// machinePlan is what a scenario wants of one machine's day.
type machinePlan struct {
	hooks []func(md *machineDay)
	tag   func(t time.Time, ev payload) *Truth
	// newHost: a new instance joins the pool this day (same subnet, the
	// next SDK version); its calls are tagged with newHostTruth.
	newHost      bool
	newHostUA    string
	newHostTruth *Truth
}

func (o *Org) mplan(idx, d int) *machinePlan {
	k := planKey{idx, d}
	pl := o.mplans[k]
	if pl == nil {
		pl = &machinePlan{}
		o.mplans[k] = pl
	}
	return pl
}

// machineDay generates one machine's calls of one day.
type machineDay struct {
	g      *gen
	o      *Org
	m      *Machine
	d      int
	rng    *rand.Rand
	plan   *machinePlan
	idents map[[2]int]*ctIdent
}

// Credentials of machine roles rotate; instances are replaced weekly.
func (m *Machine) rotation() time.Duration {
	switch m.Kind {
	case sessLambda:
		return 4 * time.Hour
	case sessExternal:
		return time.Hour
	}
	return 6 * time.Hour
}

// phase staggers the machine's credential rotations.
func (m *Machine) phase() time.Duration { return time.Duration(fnv(m.Name) % uint64(m.rotation())) }

// rotationAt is the index of the credentials in use at t and when they
// were issued.
func (m *Machine) rotationAt(start, t time.Time) (int, time.Time) {
	per := m.rotation()
	base := start.Add(m.phase())
	r := int(math.Floor(float64(t.Sub(base)) / float64(per)))
	return r, base.Add(time.Duration(r) * per)
}

// epoch is the generation of the machine's instances on day d.
func (m *Machine) epoch(d int) int { return (d + m.idx) / 7 }

// hostIP is the private address of instance h of a generation.
func (m *Machine) hostIP(h, epoch int) netip.Addr {
	return hostIn(m.Subnet.Prefix, fnv(m.Name)^uint64(h)<<8^uint64(epoch)<<20)
}

// natIP is the public address calls leave the VPC (or the SaaS) from.
func (m *Machine) natIP(h int) netip.Addr {
	if m.Kind == sessExternal {
		return hostIn(m.NAT.Prefix, fnv(m.External)+uint64(h%4))
	}
	return hostIn(m.NAT.Prefix, fnv(m.Region)+uint64(h%2))
}

// sessionName is the role session name of instance h.
func (m *Machine) sessionName(h, epoch int) string {
	x := mix(fnv(m.Name) ^ uint64(h)<<32 ^ uint64(epoch))
	switch m.Kind {
	case sessEC2:
		return fmt.Sprintf("i-0%016x", x)
	case sessECS:
		return fmt.Sprintf("%016x%016x", x, mix(x))
	case sessExternal:
		if m.External == datadogAccount {
			return "DatadogAWSIntegration"
		}
		return "wiz-scanner"
	}
	return m.Name
}

// roleKey is the temporary key of instance h in rotation r.
func (m *Machine) roleKey(seed uint64, h, epoch, r int) string {
	return accessKeyID("ASIA", rand.New(rand.NewPCG(mix(seed^fnv(m.Name)), uint64(h)<<40^uint64(epoch)<<20^uint64(r))))
}

// ident returns who signs the calls of instance h at t.
func (md *machineDay) ident(h int, t time.Time) *ctIdent {
	m := md.m
	if m.Kind == sessIAMUser {
		k := [2]int{-1, 0}
		if id := md.idents[k]; id != nil {
			return id
		}
		id := &ctIdent{kind: idIAMUser, acct: m.Account, mach: m, key: m.AccessKey}
		md.idents[k] = id
		return id
	}
	r, created := m.rotationAt(md.o.cfg.Start, t)
	k := [2]int{h, r}
	if id := md.idents[k]; id != nil {
		return id
	}
	ep := m.epoch(md.d)
	id := &ctIdent{kind: idRole, acct: m.Account, mach: m, key: m.roleKey(md.o.cfg.Seed, h, ep, r),
		sess: m.sessionName(h, ep), created: created}
	md.idents[k] = id
	return id
}

func (md *machineDay) emit(t time.Time, ev payload, tr *Truth) {
	if tr == nil && md.plan.tag != nil {
		tr = md.plan.tag(t, ev)
	}
	md.g.emit(t, ev, tr)
}

func (g *gen) machineDay(m *Machine, d int) {
	o := g.o
	plan := o.mplans[planKey{m.idx, d}]
	if plan == nil {
		plan = &machinePlan{}
	}
	md := &machineDay{g: g, o: o, m: m, d: d, rng: dayRand(o.cfg.Seed, streamMachine, m.idx, d), plan: plan, idents: map[[2]int]*ctIdent{}}
	day := o.day(d)
	weekend := isWeekend(o.cfg.Start, d)
	md.rotations(day)
	var runs []time.Time
	if m.Every >= 24*time.Hour {
		if !(m.Workdays && weekend) {
			runs = append(runs, day.Add(m.At+time.Duration(md.rng.IntN(300))*time.Second))
		}
	} else {
		phase := time.Duration(fnv(m.Name) % uint64(m.Every))
		for t := day.Add(phase); t.Before(day.Add(24 * time.Hour)); t = t.Add(m.Every) {
			if m.Workdays && (weekend || t.Hour() < 7 || t.Hour() >= 19) {
				continue
			}
			runs = append(runs, t.Add(time.Duration(md.rng.Int64N(int64(m.Jitter)+1))))
		}
	}
	hosts := m.Hosts
	for i, t := range runs {
		h := md.rng.IntN(hosts)
		ua := m.UA
		var tr *Truth
		if plan.newHost && i%3 == 1 {
			h, ua, tr = hosts, plan.newHostUA, plan.newHostTruth
		}
		md.run(t, h, ua, tr)
	}
	for _, hk := range plan.hooks {
		hk(md)
	}
}

// rotations emits the AssumeRole calls that renew role credentials.
func (md *machineDay) rotations(day time.Time) {
	m := md.m
	if m.Kind == sessIAMUser {
		return
	}
	per := m.rotation()
	hosts := m.Hosts
	if md.plan.newHost {
		hosts++
	}
	ep := m.epoch(md.d)
	_, b := m.rotationAt(md.o.cfg.Start, day)
	if b.Before(day) {
		b = b.Add(per)
	}
	for ; b.Before(day.Add(24 * time.Hour)); b = b.Add(per) {
		for h := range hosts {
			if m.Kind == sessExternal && h > 0 {
				break
			}
			t := b.Add(-time.Duration(5+md.rng.IntN(20)) * time.Second)
			if t.Before(md.o.cfg.Start) {
				t = b
			}
			id := md.ident(h, b)
			var ev *ctEv
			if m.Kind == sessExternal {
				who := &ctIdent{kind: idExternal, acct: m.Account, mach: m, sess: id.sess}
				ev = &ctEv{api: apiAssumeRole, who: who, region: m.Region, ip: m.natIP(0), ua: m.UA,
					res: m.roleARN(), res2: id.sess, newKey: id.key}
			} else {
				who := &ctIdent{kind: idService, acct: m.Account, mach: m, service: m.Invoker}
				ev = &ctEv{api: apiAssumeRole, who: who, region: m.Region, ua: m.Invoker,
					res: m.roleARN(), res2: m.sessionName(h, ep), newKey: id.key}
			}
			md.emit(t, ev, nil)
		}
	}
}

// call emits one API call of instance h at t.
func (md *machineDay) call(t time.Time, h int, ua string, a *api, res, res2 string, tr *Truth) {
	m := md.m
	ev := &ctEv{api: a, who: md.ident(h, t), region: m.Region, ua: ua, res: res, res2: res2}
	if a.vpce && m.Subnet != nil {
		ev.ip, ev.vpce = m.hostIP(h, m.epoch(md.d)), m.VPCE
	} else {
		ev.ip = m.natIP(h)
	}
	md.emit(t, ev, tr)
}

// run emits the calls of one scheduled run.
func (md *machineDay) run(t time.Time, h int, ua string, tr *Truth) {
	rng := md.rng
	for _, c := range md.m.Calls {
		if c.p > 0 && rng.IntN(100) >= c.p {
			continue
		}
		n := c.n[0]
		if c.n[1] > c.n[0] {
			n += rng.IntN(c.n[1] - c.n[0] + 1)
		}
		for i := range n {
			t = t.Add(time.Duration(80+rng.IntN(2500)) * time.Millisecond)
			md.call(t, h, ua, c.api, c.res, md.key(c, t, i), tr)
		}
	}
}

// key names the object or item a call touches.
func (md *machineDay) key(c mcall, t time.Time, i int) string {
	switch c.api.params {
	case pObject:
		b := make([]byte, 0, 64)
		b = append(b, c.res2...)
		b = t.UTC().AppendFormat(b, "2006/01/02/150405")
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '-')
		b = appendAlnum(b, md.rng, 6)
		switch c.res {
		case bucketBackups:
			b = append(b, ".dump.gz"...)
		case bucketDataLake:
			b = append(b, ".parquet"...)
		case bucketMedia:
			b = append(b, ".jpg"...)
		default:
			b = append(b, ".json"...)
		}
		return string(b)
	case pTable:
		return "ID#" + strconv.Itoa(100000+md.rng.IntN(900000))
	case pService, pBucket:
		return c.res2
	}
	return c.res2
}
