// Package sim simulates an organization for tests, benchmarks and the
// demo: people with homes, ISPs, devices, working hours, VPN habits,
// travel, new laptops and helpdesk resets; administrators and engineers
// who grant roles and create keys; machine identities calling AWS on
// schedules; and injected attacks with benign look-alikes, described in a
// truth file. It writes what the vendors would log — the Okta System Log,
// Entra ID sign-ins and CloudTrail — in time order, streaming, with memory
// bounded by about a day of events. Everything is deterministic for a
// seed.
//
// New builds an Org from a Config; Org.Run writes the logs to an Output;
// WriteDir lays them out in a directory. docs/simulate.md describes the
// organization, the attacks and the truth file.
package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Config says what organization to simulate and for how long. Zero fields
// take the defaults.
type Config struct {
	Seed uint64
	// People in the organization (default 300).
	People int
	// ServiceAccounts is the number of machine identities (default 40).
	ServiceAccounts int
	// Days of history (default 28). Attacks happen in the last week.
	Days int
	// Start is the first day, at UTC midnight (default Monday 2026-02-02).
	Start time.Time
	// MaxEvents stops the output after this many records (0: no cap).
	MaxEvents int
	// NoAttacks leaves attacks and their look-alikes out.
	NoAttacks bool
}

// Defaults.
const (
	DefaultPeople          = 300
	DefaultServiceAccounts = 40
	DefaultDays            = 28
)

// DefaultStart is the default first day: a Monday.
var DefaultStart = time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)

// Minimums for a simulation with attacks: the scenarios need their own
// people and machines.
const (
	MinPeopleWithAttacks   = 60
	MinMachinesWithAttacks = 8
)

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("invalid simulation config")

func (c Config) withDefaults() Config {
	if c.People == 0 {
		c.People = DefaultPeople
	}
	if c.ServiceAccounts == 0 {
		c.ServiceAccounts = DefaultServiceAccounts
	}
	if c.Days == 0 {
		c.Days = DefaultDays
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	y, m, d := c.Start.UTC().Date()
	c.Start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return c
}

// Validate reports what is wrong with c (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.People < 1 || c.People > 1_000_000:
		return fmt.Errorf("%w: people must be 1..1000000, not %d", ErrConfig, c.People)
	case c.ServiceAccounts < 0 || c.ServiceAccounts > 100_000:
		return fmt.Errorf("%w: service accounts must be 0..100000, not %d", ErrConfig, c.ServiceAccounts)
	case c.Days < 1 || c.Days > 3660:
		return fmt.Errorf("%w: days must be 1..3660, not %d", ErrConfig, c.Days)
	case c.MaxEvents < 0:
		return fmt.Errorf("%w: max events must not be negative", ErrConfig)
	case !c.NoAttacks && c.People < MinPeopleWithAttacks:
		return fmt.Errorf("%w: attacks need at least %d people (or no attacks)", ErrConfig, MinPeopleWithAttacks)
	case !c.NoAttacks && c.ServiceAccounts < MinMachinesWithAttacks:
		return fmt.Errorf("%w: attacks need at least %d service accounts (or no attacks)", ErrConfig, MinMachinesWithAttacks)
	case !c.NoAttacks && c.Days < 3:
		return fmt.Errorf("%w: attacks need at least 3 days (or no attacks)", ErrConfig)
	}
	return nil
}

// Org is a simulated organization.
type Org struct {
	Domain string
	People []Person
	Apps   []App
	// Machines are the non-human identities.
	Machines []*Machine
	Accounts []*Account
	// Secrets are the Secrets Manager secret names.
	Secrets []string
	// EntraTenant is the Entra ID tenant id.
	EntraTenant string

	cfg       Config
	helpdesk  []*Person
	counters  []*dailyCounter // scenario baselines, reset by Run
	rng       *rand.Rand      // the legacy WriteOkta stream's
	truth     []*Truth
	plans     map[planKey]*dayPlan
	mplans    map[planKey]*machinePlan
	attackAt  int // first day of the attack phase
	attackEnd int // the day after it
}

// Role is a set of responsibilities that shape what a person does.
type Role uint16

// Roles.
const (
	RoleOktaAdmin  Role = 1 << iota // Okta administrator (Admin Console, groups, API tokens)
	RoleHelpdesk                    // resets passwords and factors
	RoleCloudAdmin                  // AWS AdministratorAccess; IAM changes
	RoleEngineer                    // AWS PowerUserAccess; CLI, secrets
	RoleAnalyst                     // AWS DataAnalyst; S3 reads, Athena
	RoleIAMUser                     // also has a legacy IAM user with an access key
)

// Has reports whether r includes all of x.
func (r Role) Has(x Role) bool { return r&x == x }

// Person is a simulated employee.
type Person struct {
	// Login is first.last@domain: the Okta login, the Entra UPN, the IAM
	// Identity Center user name (the SSO role session name) and, for
	// legacy IAM users, the IAM user name.
	Login      string
	Name       string
	OktaID     string
	EntraID    string // Entra object id
	Department string
	Roles      Role
	// Home is where the person lives and works from; Network their home
	// ISP; Device their laptop at the start.
	Home    Place
	Network Network
	Device  Device
	// VPN: connects through the corporate VPN on many days. PrivacyVPN:
	// now and then uses a commercial VPN (flagged as a proxy).
	VPN, PrivacyVPN bool
	// WorkStart is when the working day starts, in minutes after local
	// midnight; WorkLen how long it lasts.
	WorkStart, WorkLen int
	// AccessKey is the legacy IAM user's key at the start (RoleIAMUser).
	AccessKey string
	Sessions  int // sessions started by the legacy WriteOkta stream

	idx      int
	home     *Place
	homeNet  *Network
	corpNet  *Network
	permSet  *permSet
	iamID    string // AIDA… of the legacy IAM user
	storeID  string // IAM Identity Center user id
	phone    string // Okta Verify enrollment id
	trips    []trip
	laptops  []laptop // new devices, by day
	dhcp     []int    // days the home address changes
	off      []span   // days off (from, to inclusive)
	resets   []int    // days of benign helpdesk resets
	rotation []int    // days the legacy IAM key is rotated
	reserved bool     // a scenario's person: no random life events in the attack phase
	// watch sees every event of the person's days (scenarios measure
	// baselines with it).
	watch func(t time.Time, ev payload)
}

// Device is a laptop's browser: its user agent and the ids vendors give
// it.
type Device struct {
	UA      string
	Browser string // Okta's own family name ("CHROME")
	OS      string // Okta's own OS name ("Mac OS X")
	DTHash  string // Okta's device token hash
	// EntraID and Name are the Entra device id and name.
	EntraID, Name string
	// Family and OSFamily are the useragent package's names.
	Family, OSFamily string
	entraOS          string
	tmpl             int // uaTemplates index
	version          int
}

type span struct{ from, to int }

// trip is a business trip: out on day out, back on day back.
type trip struct {
	out, back int
	dest      *Place
	hotel     *Network
	// Flight times, set when the trip is planned.
	outDep, outArr, backDep, backArr time.Time
}

type laptop struct {
	day int
	dev Device
}

type planKey struct{ idx, day int }

// NewOrg returns an organization of n people (and the default number of
// service accounts), deterministic for seed. Its WriteOkta writes a quick
// stream of Okta sign-in sessions for benchmarks; New gives the full
// simulation.
func NewOrg(seed uint64, n int) *Org {
	o, err := New(Config{Seed: seed, People: max(n, 1), NoAttacks: true})
	if err != nil { // unreachable: the config is valid
		o = &Org{Domain: "example.com"}
	}
	o.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return o
}

// New builds the organization of cfg and plans its weeks: trips, new
// laptops, helpdesk resets, key rotations and, unless cfg.NoAttacks, the
// attacks and look-alikes. Nothing is written until Run.
func New(cfg Config) (*Org, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rng := newRand(cfg.Seed, 1)
	o := &Org{
		Domain:      "example.com",
		Apps:        apps,
		Accounts:    []*Account{acctProd, acctData},
		Secrets:     secretNames(),
		EntraTenant: guid(rng),
		cfg:         cfg,
		rng:         rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		plans:       map[planKey]*dayPlan{},
		mplans:      map[planKey]*machinePlan{},
	}
	// With a cap on events the last days are likely cut short (DaysFor's
	// rates are within a few percent): the attacks end before them.
	o.attackEnd = cfg.Days
	if cfg.MaxEvents > 0 && cfg.Days > 3 {
		o.attackEnd = max(3, cfg.Days-1-cfg.Days/25)
	}
	o.attackAt = max(o.attackEnd-7, o.attackEnd*2/3)
	o.buildPeople(rng)
	o.buildMachines(rng)
	if !cfg.NoAttacks {
		if err := o.planScenarios(newRand(cfg.Seed, 2)); err != nil {
			return nil, err
		}
	}
	o.planLives(newRand(cfg.Seed, 3))
	return o, nil
}

// Config returns the configuration the organization was built with, with
// defaults filled in.
func (o *Org) Config() Config { return o.cfg }

// Truth returns the attacks and look-alikes planned, in start order (their
// events and ids are filled in as Run writes them).
func (o *Org) Truth() []*Truth { return o.truth }

// newRand returns a generator for one purpose of one seed.
func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x6a09e667f3bcc909, stream*0x9e3779b97f4a7c15+0x3c6ef372fe94f82b))
}

// dayRand returns the generator of one actor's day: independent of every
// other actor and day, so that generation order does not matter.
func dayRand(seed uint64, kind, idx, day int) *rand.Rand {
	h := seed ^ uint64(kind)<<56 ^ uint64(idx)<<24 ^ uint64(day)
	return rand.New(rand.NewPCG(mix(h), mix(h^0xbb67ae8584caa73b)))
}

func mix(x uint64) uint64 { // splitmix64's finalizer
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func pickWeighted[T any](rng *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rng.IntN(total)
	for _, it := range items {
		n -= weight(it)
		if n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

func (o *Org) buildPeople(rng *rand.Rand) {
	n := o.cfg.People
	o.People = make([]Person, n)
	seen := map[string]int{}
	for i := range n {
		p := &o.People[i]
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		local := strings.ToLower(first + "." + strings.ReplaceAll(last, "'", ""))
		seen[local]++
		if c := seen[local]; c > 1 {
			local = fmt.Sprintf("%s%d", local, c)
		}
		p.idx = i
		p.Login = local + "@" + o.Domain
		p.Name = first + " " + last
		p.OktaID = "00u" + alnum(rng, 17)
		p.EntraID = guid(rng)
		p.storeID = "906" + hexString(rng, 7) + "-" + guid(rng)
		p.phone = "opf" + alnum(rng, 17)
		p.home = pickWeighted(rng, homePlaces, func(h struct {
			p *Place
			w int
		}) int {
			return h.w
		}).p
		p.Home = *p.home
		isps := ispsByCity[p.home]
		p.homeNet = isps[rng.IntN(len(isps))]
		p.Network = *p.homeNet
		p.corpNet = corpEgressFor(p.home)
		p.Device = newDevice(rng, p, -1)
		p.WorkStart = 7*60 + 30 + rng.IntN(150)
		p.WorkLen = 7*60 + 30 + rng.IntN(120)
		dep := pickWeighted(rng, departments, func(d struct {
			name string
			w    int
			tag  string
		}) int {
			return d.w
		})
		p.Department = dep.name
		p.VPN = rng.IntN(100) < 35
		p.PrivacyVPN = !p.VPN && rng.IntN(100) < 6
	}
	// Roles: a few of each responsibility are assigned first, from a
	// shuffled order, so that even small organizations have them.
	perm := rng.Perm(n)
	next := 0
	take := func(k int, dept string, r Role) {
		for range k {
			if next >= n {
				return
			}
			p := &o.People[perm[next]]
			next++
			p.Department = dept
			p.Roles |= r
		}
	}
	take(4, "IT", RoleOktaAdmin)
	o.People[perm[0]].Roles |= RoleCloudAdmin // the platform administrator
	take(max(3, n/150), "IT", RoleHelpdesk)
	take(3, "Engineering", RoleCloudAdmin|RoleEngineer)
	take(6, "Engineering", RoleEngineer|RoleIAMUser)
	take(6, "Data", RoleAnalyst)
	take(6, "Engineering", RoleEngineer)
	for i := range o.People {
		p := &o.People[i]
		switch p.Department {
		case "Engineering":
			p.Roles |= RoleEngineer
			if rng.IntN(100) < 12 {
				p.Roles |= RoleIAMUser
			}
		case "Data":
			p.Roles |= RoleAnalyst
		}
		switch {
		case p.Roles.Has(RoleCloudAdmin):
			p.permSet = psAdmin
		case p.Roles.Has(RoleEngineer):
			p.permSet = psPower
		case p.Roles.Has(RoleAnalyst):
			p.permSet = psAnalyst
		case p.Roles.Has(RoleOktaAdmin):
			p.permSet = psReadOnly
		}
		if p.Roles.Has(RoleIAMUser) {
			p.AccessKey = accessKeyID("AKIA", rng)
			p.iamID = accessKeyID("AIDA", rng)
		}
		if p.Roles.Has(RoleHelpdesk) {
			o.helpdesk = append(o.helpdesk, p)
		}
	}
}

// newDevice returns a laptop for p: its first (tmpl < 0: chosen by
// weight) or a replacement.
func newDevice(rng *rand.Rand, p *Person, tmpl int) Device {
	if tmpl < 0 {
		ix := make([]int, len(uaTemplates))
		for i := range ix {
			ix[i] = i
		}
		tmpl = pickWeighted(rng, ix, func(i int) int { return uaWeights[i] })
	}
	t := uaTemplates[tmpl]
	initials := strings.ToUpper(p.Login[:min(4, strings.IndexByte(p.Login, '.'))])
	kind := "LT"
	if t.os == "macOS" {
		kind = "MBP"
	}
	d := Device{
		Browser:  t.oktaBrowser,
		OS:       t.oktaOS,
		DTHash:   hexString(rng, 64),
		EntraID:  guid(rng),
		Name:     fmt.Sprintf("%s-%s-%04d", initials, kind, rng.IntN(10000)),
		Family:   t.browser,
		OSFamily: t.os,
		entraOS:  t.entraOS,
		tmpl:     tmpl,
		version:  t.v0,
	}
	d.UA = strings.ReplaceAll(t.format, "%d", fmt.Sprint(d.version))
	return d
}

// updated returns the device after a browser update to a new major
// version: a new user-agent string, the same family and device.
func (d Device) updated() Device {
	t := uaTemplates[d.tmpl]
	d.version = t.v0 + 1
	d.UA = strings.ReplaceAll(t.format, "%d", fmt.Sprint(d.version))
	return d
}

func (o *Org) buildMachines(rng *rand.Rand) {
	specs := machineSpecs()
	for i := range o.cfg.ServiceAccounts {
		s := specs[i%len(specs)]
		name := s.name
		if k := i / len(specs); k > 0 {
			name = fmt.Sprintf("%s-%d", s.name, k+1)
		}
		m := &Machine{
			Name: name, Kind: s.kind, Account: s.acct, Region: s.region,
			Every: s.every, At: s.at, Workdays: s.workdays, Calls: s.calls, Hosts: max(s.hosts, 1),
			External: s.external, Family: s.fam, idx: i,
		}
		m.Jitter = min(m.Every/10, 2*time.Minute)
		svc := "s3"
		if len(s.calls) > 0 {
			svc = strings.TrimSuffix(s.calls[0].api.source, ".amazonaws.com")
		}
		m.UA = s.ua
		if strings.Contains(m.UA, "%s") {
			m.UA = fmt.Sprintf(m.UA, svc)
		}
		if s.kind == sessIAMUser {
			m.ID = strings.ToLower(name)
			m.AccessKey = accessKeyID("AKIA", rng)
			m.PrincipalID = accessKeyID("AIDA", rng)
		} else {
			m.ID = "role/" + strings.ToLower(name)
			m.PrincipalID = accessKeyID("AROA", rng)
		}
		switch s.kind {
		case sessECS:
			m.Invoker = "ecs-tasks.amazonaws.com"
		case sessEC2:
			m.Invoker = "ec2.amazonaws.com"
		case sessLambda:
			m.Invoker = "lambda.amazonaws.com"
		}
		if s.region == regionEU {
			m.NAT = awsEUW1
		} else {
			m.NAT = awsUSE1
		}
		if s.kind == sessExternal {
			m.NAT = saasUSE1
		} else {
			vpc := vpcEUW1
			if s.region == regionUS {
				vpc = vpcUSE1
			}
			// One /24 subnet per machine, inside the VPC.
			b := vpc.Prefix.Addr().As4()
			b[2] = byte(1 + i%250)
			m.Subnet = &Network{Prefix: netip.PrefixFrom(netip.AddrFrom4(b), 24), Kind: NetPrivate, Place: vpc.Place, City: vpc.City}
			m.VPCE = "vpce-0" + hexString(rng, 16)
		}
		o.Machines = append(o.Machines, m)
	}
}

// planLives schedules everybody's weeks: days off, trips, new laptops,
// DHCP changes, benign helpdesk resets and key rotations. People reserved
// for a scenario keep the attack phase free of them.
func (o *Org) planLives(rng *rand.Rand) {
	days := o.cfg.Days
	for i := range o.People {
		p := &o.People[i]
		last := days
		if p.reserved {
			last = o.attackAt - 2
		}
		busy := func(d int) bool { return p.busyDay(d) }
		// Days off: a few people take a handful of days.
		if rng.IntN(100) < 20 && last > 5 {
			from := rng.IntN(last - 3)
			p.off = append(p.off, span{from, from + 1 + rng.IntN(4)})
		}
		// DHCP lease changes of the home address.
		for d := 5 + rng.IntN(15); d < days; d += 10 + rng.IntN(20) {
			p.dhcp = append(p.dhcp, d)
		}
		// A business trip for about one person in six per four weeks.
		if n := days / 28; last > 8 {
			for k := 0; k <= n; k++ {
				if rng.IntN(6) != 0 {
					continue
				}
				out := 1 + rng.IntN(last-6)
				length := 2 + rng.IntN(4)
				if busyRange(busy, out-2, out+length+2) {
					continue
				}
				o.planTrip(rng, p, out, out+length, nil)
			}
		}
		// A new laptop for about one person in twelve.
		if last > 4 && rng.IntN(12) == 0 {
			d := 1 + rng.IntN(last-2)
			if !busyRange(busy, d-2, d+2) {
				p.laptops = append(p.laptops, laptop{d, newDevice(rng, p, rng.IntN(len(uaTemplates)))})
			}
		}
		// Key rotation of legacy IAM users every four to six weeks.
		if p.Roles.Has(RoleIAMUser) {
			for d := 3 + rng.IntN(25); d < last; d += 28 + rng.IntN(14) {
				if !busy(d) {
					p.rotation = append(p.rotation, d)
				}
			}
		}
	}
	// Benign helpdesk resets (a lost phone, a forgotten password): about
	// one per 600 working person-days.
	for d := 1; d < days; d++ {
		if isWeekend(o.cfg.Start, d) {
			continue
		}
		n := len(o.People) / 600
		if rng.IntN(600) < len(o.People)%600 {
			n++
		}
		for range n {
			p := &o.People[rng.IntN(len(o.People))]
			if p.Roles.Has(RoleHelpdesk) || (p.reserved && d >= o.attackAt-2) || busyRange(p.busyDay, d-2, d+2) {
				continue
			}
			p.resets = append(p.resets, d)
		}
	}
	for i := range o.People {
		slices.Sort(o.People[i].resets)
	}
}

func busyRange(busy func(int) bool, from, to int) bool {
	for d := from; d <= to; d++ {
		if busy(d) {
			return true
		}
	}
	return false
}

// busyDay reports whether p has a trip, a new laptop, a reset or a
// rotation on day d (life events are kept apart so that each is clean).
func (p *Person) busyDay(d int) bool {
	for _, t := range p.trips {
		if d >= t.out && d <= t.back {
			return true
		}
	}
	for _, l := range p.laptops {
		if l.day == d {
			return true
		}
	}
	return slices.Contains(p.resets, d) || slices.Contains(p.rotation, d)
}

// planTrip adds a trip to dest (nil: a random destination other than
// home) with flight times that keep the implied speed plausible.
func (o *Org) planTrip(rng *rand.Rand, p *Person, out, back int, dest *Place) *trip {
	for dest == nil || dest == p.home {
		dest = travelPlaces[rng.IntN(len(travelPlaces))]
	}
	hotels := ispsByCity[dest]
	t := trip{out: out, back: back, dest: dest, hotel: hotels[rng.IntN(len(hotels))]}
	dur := flightTime(p.home, dest)
	// Leave home between 11:00 and 15:00 local; come back the same way.
	t.outDep = o.localMidnight(out, p.home).Add(time.Duration(11*60+rng.IntN(240)) * time.Minute)
	t.outArr = t.outDep.Add(dur)
	t.backDep = o.localMidnight(back, dest).Add(time.Duration(10*60+rng.IntN(240)) * time.Minute)
	t.backArr = t.backDep.Add(dur)
	p.trips = append(p.trips, t)
	return &p.trips[len(p.trips)-1]
}

// flightTime is gate to gate: 800 km/h over the great circle plus 45
// minutes.
func flightTime(a, b *Place) time.Duration {
	km := distanceKm(a.Lat, a.Lon, b.Lat, b.Lon)
	return time.Duration(km/800*float64(time.Hour)) + 45*time.Minute
}

func (o *Org) day(d int) time.Time { return o.cfg.Start.AddDate(0, 0, d) }

func (o *Org) localMidnight(d int, pl *Place) time.Time {
	return o.day(d).Add(-time.Duration(pl.Offset) * time.Minute)
}

func isWeekend(start time.Time, d int) bool {
	wd := start.AddDate(0, 0, d).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// machine returns the machine with a name, or nil.
func (o *Org) machine(name string) *Machine {
	for _, m := range o.Machines {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Measured event rates, weekends included, for DaysFor.
const (
	eventsPerPersonDay  = 17.8
	eventsPerMachineDay = 205
)

// DaysFor returns how many days of c's organization (its People and
// ServiceAccounts, after defaults) make at least about n events, with a
// day to spare: for benchmarks that ask for a number of events rather than
// days (with MaxEvents set, the attacks end a few days before the last,
// where the cap is likely to fall). It is at least 1.
func DaysFor(c Config, n int) int {
	c = c.withDefaults()
	perDay := float64(c.People)*eventsPerPersonDay + float64(c.ServiceAccounts)*eventsPerMachineDay
	return max(1, min(3660, int(math.Ceil(float64(n)/perDay))+1))
}
