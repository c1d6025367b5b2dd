// Package detect is Vigil's streaming detection engine. It takes normalized
// events in event-time order, keeps state per identity (a learned baseline
// and each detector's memory), runs the built-in identity threat detectors
// and Sigma rules on every event as it arrives, and turns alerts into
// identity risk and incidents. It is a library: the CLI reads files into
// it, the service feeds it a live stream. It does no I/O besides snapshots
// written to and read from the caller's streams; time is the events' own.
package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/risk"
)

// Config tunes the engine and its detectors. DefaultConfig holds the
// documented defaults; the CLI's --config file overrides them.
type Config struct {
	Baseline baseline.Config
	Risk     risk.Config

	// Travel: two successful sign-ins implying more than MaxSpeedKmh over
	// at least MinDistanceKm are impossible travel.
	MaxSpeedKmh   float64
	MinDistanceKm float64

	// MFA fatigue: MFAThreshold denials or timeouts within MFAWindow; a
	// success from the attacker's context within MFASuccessWithin of the
	// burst makes it critical.
	MFAThreshold     int
	MFAWindow        time.Duration
	MFASuccessWithin time.Duration

	// RecoveryWindow is how long after a reset the recovery chain may
	// continue.
	RecoveryWindow time.Duration

	// Volume spike: the hour's data-access count must exceed VolumeFactor
	// times the identity's typical busy hour and VolumeMin.
	VolumeFactor float64
	VolumeMin    int

	// RiskyScore is the identity risk from which an actor counts as risky
	// (raising grants and token creation).
	RiskyScore float64

	// CorporateEgress lists the organization's own egress networks (VPN
	// concentrators, proxies): sign-ins from them are not travel.
	CorporateEgress []netip.Prefix
	CorporateASNs   []uint32

	// Disabled lists rule ids that do not run.
	Disabled []string

	// SessionsPerIdentity bounds the sessions remembered per identity.
	SessionsPerIdentity int

	// SharedNetwork is how many identities must have signed in from a
	// network (prefix) for it to count as the organization's own egress,
	// when CorporateEgress does not list it. 0 turns this off.
	SharedNetwork int
}

// DefaultConfig is the engine's configuration when nothing is set.
func DefaultConfig() Config {
	return Config{
		Baseline:            baseline.DefaultConfig,
		Risk:                risk.DefaultConfig,
		MaxSpeedKmh:         1000,
		MinDistanceKm:       300,
		MFAThreshold:        5,
		MFAWindow:           10 * time.Minute,
		MFASuccessWithin:    30 * time.Minute,
		RecoveryWindow:      24 * time.Hour,
		VolumeFactor:        5,
		VolumeMin:           50,
		RiskyScore:          50,
		SessionsPerIdentity: 8,
		SharedNetwork:       5,
	}
}

// Rules lists the built-in detectors' rule ids.
var Rules = []string{
	RuleSessionHijack, RuleImpossibleTravel, RuleMFAFatigue, RuleRecoveryTakeover, RuleAdminGrant,
	RuleAPITokenCreated, RuleAccessKeyCreated, RuleVolumeSpike, RuleNHINewResource, RuleNHIAnomalousOrigin,
}

// Built-in rule ids. They are stable: configurations and suppressions
// name them.
const (
	RuleSessionHijack      = "session.hijack"
	RuleImpossibleTravel   = "session.impossible_travel"
	RuleMFAFatigue         = "mfa.fatigue"
	RuleRecoveryTakeover   = "account.recovery_takeover"
	RuleAdminGrant         = "privilege.admin_grant"
	RuleAPITokenCreated    = "credential.api_token_created"
	RuleAccessKeyCreated   = "credential.access_key_created"
	RuleVolumeSpike        = "activity.volume_spike"
	RuleNHINewResource     = "nhi.new_resource"
	RuleNHIAnomalousOrigin = "nhi.anomalous_origin"
)

// RuleMatcher is a stage of stateless-then-stateful rules the engine runs
// after the built-ins, such as compiled Sigma rules. It returns the alerts
// the event completes, without risk or incident.
type RuleMatcher interface {
	Match(e *event.Event) []event.Alert
}

// Engine is the detection engine. It is not safe for concurrent use: feed
// it from one goroutine, in event-time order.
type Engine struct {
	cfg       Config
	ids       map[string]*identity
	dets      []detector
	matchers  []RuleMatcher
	incidents *risk.Incidents
	disabled  map[string]bool
	stats     Stats
	shared    sharedNets
	proxies   proxyNets
}

// Stats counts what the engine saw.
type Stats struct {
	Events     int64
	Identities int
	Alerts     int64
	// Late counts events older than the newest already processed; they
	// are processed all the same.
	Late  int64
	last  time.Time
	Rules map[string]int64
}

// New returns an engine.
func New(cfg Config, matchers ...RuleMatcher) *Engine {
	e := &Engine{
		cfg:       cfg,
		ids:       make(map[string]*identity),
		incidents: risk.NewIncidents(cfg.Risk),
		disabled:  make(map[string]bool),
		matchers:  matchers,
		stats:     Stats{Rules: make(map[string]int64)},
	}
	for _, r := range cfg.Disabled {
		e.disabled[r] = true
	}
	// Order matters where one detector's finding feeds another: the volume
	// spike and session checks run before the recovery chain looks for a
	// sensitive action.
	e.dets = []detector{
		hijack{}, travel{}, mfaFatigue{}, volumeSpike{}, adminGrant{}, credentialCreated{},
		nhiNewResource{}, nhiAnomalousOrigin{}, recoveryTakeover{}, revokedReuse{},
	}
	return e
}

// identity is everything the engine remembers about one identity.
type identity struct {
	ID      string
	Kind    event.Kind
	Profile baseline.Profile
	Risk    risk.Score

	Sessions []session
	MFA      mfaState
	Recovery *recovery
	// Revoked is the last revocation of the identity's sessions, when
	// Vigil made one.
	Revoked *revocation
	// SpikeHour is the hour (Unix hours) a volume spike last fired in;
	// SpikeHigh says it fired at high severity.
	SpikeHour int64
	SpikeHigh bool
}

func (e *Engine) identity(id string, kind event.Kind) *identity {
	st := e.ids[id]
	if st == nil {
		st = &identity{ID: id, Kind: kind}
		e.ids[id] = st
	}
	if st.Kind == event.KindUnknown || kind == event.KindAdmin || kind == event.KindService && st.Kind != event.KindAdmin {
		st.Kind = kind
	}
	return st
}

// detector is one built-in detection.
type detector interface {
	rule() string
	observe(x *ctx)
}

// ctx is what a detector sees for one event.
type ctx struct {
	e   *Engine
	ev  *event.Event
	who *identity // the actor's state (nil when the event has no actor)
	out []event.Alert
}

func (x *ctx) cfg() *Config { return &x.e.cfg }

// state returns the state of another identity (a target).
func (x *ctx) state(id string) *identity { return x.e.identity(id, event.KindUnknown) }

// learned reports whether st's baseline can be trusted at this event.
func (x *ctx) learned(st *identity) bool { return st.Profile.Learned(x.e.cfg.Baseline, x.ev.Time) }

// riskOf returns an identity's current risk score.
func (x *ctx) riskOf(st *identity) float64 { return x.e.cfg.Risk.Value(st.Risk, x.ev.Time) }

// alert assembles an alert on the current event for identity st.
func (x *ctx) alert(rule string, sev event.Severity, confidence float64, st *identity, summary string,
	refs []event.EventRef, cmp ...event.Comparison) {
	ev := x.ev
	a := event.Alert{
		Time: ev.Time, Rule: rule, Title: titles[rule], Severity: sev, Confidence: confidence,
		Identity: st.ID, IdentityKind: st.Kind, Session: ev.Session.Key(), SourceIP: ev.Network.IP,
		Summary: summary, Evidence: event.Evidence{Events: refs, Baseline: cmp}, Tags: tags[rule],
	}
	x.out = append(x.out, a)
}

// Process runs every detector on ev and returns the alerts it completes,
// each with the identity's risk after it and its incident. ev must not be
// older than the window the caller orders by; older events are processed
// and counted in Stats.Late.
func (e *Engine) Process(ev *event.Event) []event.Alert {
	e.stats.Events++
	if ev.Time.Before(e.stats.last) {
		e.stats.Late++
	} else {
		e.stats.last = ev.Time
	}
	// An address one vendor flags as an anonymizer is one for every
	// source: Okta flags proxies, Entra and CloudTrail do not.
	if ev.Network.Proxy {
		e.proxies.add(ev.Network.IP, ev.Network.ASN, ev.Time)
	} else if e.proxies.has(ev.Network.IP, ev.Network.ASN) {
		ev.Network.Proxy = true
	}
	x := ctx{e: e, ev: ev}
	if ev.Actor.ID != "" {
		x.who = e.identity(ev.Actor.ID, ev.Actor.Kind)
		// An IAM user signing with a key from a tool is a machine identity,
		// though CloudTrail calls it a user: its alerts say so, and
		// playbooks meant for people leave it alone.
		if k := x.who.Kind; k != event.KindService && k != event.KindAdmin && isNonHuman(ev, x.who) {
			x.who.Kind = event.KindService
		}
	}
	for _, d := range e.dets {
		if !e.disabled[d.rule()] {
			d.observe(&x)
		}
	}
	if x.who != nil {
		x.who.Profile.Observe(ev)
		if ev.Outcome.Result == event.ResultSuccess && ev.Category == event.CategoryAuthentication {
			e.shared.add(ev.Network.IP, ev.Actor.ID)
		}
	}
	for _, m := range e.matchers {
		for _, a := range m.Match(ev) {
			if !e.disabled[a.Rule] {
				x.out = append(x.out, a)
			}
		}
	}
	return e.file(x.out)
}

// Flusher is a RuleMatcher with windows that can still complete when the
// stream ends (Sigma correlations).
type Flusher interface {
	Flush() []event.Alert
}

// Flush ends the stream: matchers judge their open windows, and the alerts
// that completes are returned with risk and incident like any other.
func (e *Engine) Flush() []event.Alert {
	var out []event.Alert
	for _, m := range e.matchers {
		if f, ok := m.(Flusher); ok {
			for _, a := range f.Flush() {
				if !e.disabled[a.Rule] {
					out = append(out, a)
				}
			}
		}
	}
	return e.file(out)
}

// file gives alerts their id, the identity's new risk and an incident.
func (e *Engine) file(alerts []event.Alert) []event.Alert {
	if len(alerts) == 0 {
		return nil
	}
	for i := range alerts {
		a := &alerts[i]
		st := e.identity(a.Identity, a.IdentityKind)
		if a.IdentityKind == "" {
			a.IdentityKind = st.Kind
		}
		a.ID = alertID(a)
		a.Risk = e.cfg.Risk.Raise(&st.Risk, a.Time, a.Severity, a.Confidence)
		e.incidents.Add(a)
		e.stats.Alerts++
		e.stats.Rules[a.Rule]++
	}
	return alerts
}

// alertID is stable for the same detection: rule, identity, time, session
// and the events of the evidence.
func alertID(a *event.Alert) string {
	h := sha256.New()
	for _, s := range []string{a.Rule, a.Identity, a.Time.Format(time.RFC3339Nano), a.Session} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, r := range a.Evidence.Events {
		h.Write([]byte(string(r.Source) + "\x00" + r.VendorID + "\x00" + r.VendorType + "\x00" + r.Time.Format(time.RFC3339Nano) + "\x00"))
	}
	return "al-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// Incidents returns every incident so far, in the order they opened.
func (e *Engine) Incidents() []*event.Incident { return e.incidents.All() }

// Stats returns counts so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Identities = len(e.ids)
	return s
}

// IdentityRisk is an identity's risk score at t.
func (e *Engine) IdentityRisk(id string, t time.Time) float64 {
	st := e.ids[id]
	if st == nil {
		return 0
	}
	return e.cfg.Risk.Value(st.Risk, t)
}

// Identities returns the ids of every identity seen, sorted.
func (e *Engine) Identities() []string {
	ids := make([]string, 0, len(e.ids))
	for id := range e.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

var titles = map[string]string{
	RuleSessionHijack:      "Session used from another device and network (cookie replay)",
	RuleImpossibleTravel:   "Impossible travel between sign-ins",
	RuleMFAFatigue:         "MFA push fatigue",
	RuleRecoveryTakeover:   "Account recovery takeover",
	RuleAdminGrant:         "Administrator privilege granted",
	RuleAPITokenCreated:    "API token created",
	RuleAccessKeyCreated:   "Access key created",
	RuleVolumeSpike:        "Data access far above the identity's baseline",
	RuleNHINewResource:     "Machine identity touched a new resource",
	RuleNHIAnomalousOrigin: "Machine credential used from a new origin",
	RuleRevokedReuse:       "Revoked session used again",
}

// tags are MITRE ATT&CK techniques.
var tags = map[string][]string{
	RuleSessionHijack:      {"attack.t1550.004", "attack.t1539"},
	RuleImpossibleTravel:   {"attack.t1078"},
	RuleMFAFatigue:         {"attack.t1621"},
	RuleRecoveryTakeover:   {"attack.t1098.005", "attack.t1656"},
	RuleAdminGrant:         {"attack.t1098.003"},
	RuleAPITokenCreated:    {"attack.t1098.001"},
	RuleAccessKeyCreated:   {"attack.t1098.001"},
	RuleVolumeSpike:        {"attack.t1530"},
	RuleNHINewResource:     {"attack.t1078.004"},
	RuleNHIAnomalousOrigin: {"attack.t1078.004"},
	RuleRevokedReuse:       {"attack.t1550.004"},
}

// isNonHuman reports whether the actor of ev is a machine identity: a
// service principal, role or service account, or an IAM user signing with
// a long-term access key from a tool — unless the user is evidently a
// person: named by an e-mail address, or known to use a browser.
func isNonHuman(ev *event.Event, st *identity) bool {
	if ev.Actor.Kind == event.KindService {
		return true
	}
	if ev.Actor.Type != "IAMUser" || !strings.HasPrefix(ev.Session.AccessKeyID, "AKIA") ||
		strings.Contains(ev.Actor.ID, "@") || isBrowser(ev.Device.Browser) {
		return false
	}
	for _, a := range st.Profile.Agents.E {
		family, _, _ := strings.Cut(a.Label, "/")
		if isBrowser(family) {
			return false
		}
	}
	return true
}

func isBrowser(family string) bool {
	switch family {
	case "Chrome", "Firefox", "Safari", "Edge", "Opera", "IE", "Samsung Internet", "aws-console":
		return true
	}
	return false
}

// proxyNets remembers the prefixes vendors flagged as proxies, VPNs or
// relays, and the autonomous systems where they flagged several: an
// anonymizing service's other exits are anonymizers too.
type proxyNets struct {
	M    map[netip.Prefix]int64 // Unix seconds last flagged
	ASNs map[uint32]int         // distinct flagged prefixes per ASN
}

const (
	proxyNetsMax     = 100_000
	proxyASNPrefixes = 3 // flagged prefixes that make a whole ASN an anonymizer
)

func (p *proxyNets) add(ip netip.Addr, asn uint32, t time.Time) {
	if !ip.IsValid() {
		return
	}
	if p.M == nil {
		p.M = make(map[netip.Prefix]int64)
		p.ASNs = make(map[uint32]int)
	}
	if _, seen := p.M[baseline.PrefixOf(ip)]; !seen && asn != 0 && len(p.ASNs) < proxyNetsMax {
		p.ASNs[asn]++
	}
	if len(p.M) >= proxyNetsMax {
		cut := t.Add(-30 * 24 * time.Hour).Unix()
		for k, v := range p.M {
			if v < cut || len(p.M) >= proxyNetsMax {
				delete(p.M, k)
			}
		}
	}
	p.M[baseline.PrefixOf(ip)] = t.Unix()
}

func (p *proxyNets) has(ip netip.Addr, asn uint32) bool {
	if !ip.IsValid() || p.M == nil {
		return false
	}
	if _, ok := p.M[baseline.PrefixOf(ip)]; ok {
		return true
	}
	return asn != 0 && p.ASNs[asn] >= proxyASNPrefixes
}

// sharedNets counts, per network prefix, the identities that signed in
// from it (up to a few): a prefix many colleagues sign in from is the
// organization's egress (a VPN concentrator, an office), not where one of
// them is.
type sharedNets struct {
	m map[netip.Prefix]*sharedNet
}

type sharedNet struct {
	N   int
	IDs [8]uint64
}

const sharedNetsMax = 200_000

func (s *sharedNets) add(ip netip.Addr, id string) {
	if !ip.IsValid() {
		return
	}
	if s.m == nil {
		s.m = make(map[netip.Prefix]*sharedNet)
	}
	p := baseline.PrefixOf(ip)
	sn := s.m[p]
	if sn == nil {
		if len(s.m) >= sharedNetsMax {
			// Forget networks only one identity ever used: they are the
			// many home connections, not shared egress.
			for k, v := range s.m {
				if v.N < 2 {
					delete(s.m, k)
				}
			}
		}
		sn = &sharedNet{}
		s.m[p] = sn
	}
	if sn.N == len(sn.IDs) {
		return
	}
	k := fnv64(id) // deterministic, so snapshots keep it
	for _, x := range sn.IDs[:sn.N] {
		if x == k {
			return
		}
	}
	sn.IDs[sn.N] = k
	sn.N++
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// count returns how many identities signed in from ip's prefix (capped).
func (s *sharedNets) count(ip netip.Addr) int {
	if !ip.IsValid() || s.m == nil {
		return 0
	}
	if sn := s.m[baseline.PrefixOf(ip)]; sn != nil {
		return sn.N
	}
	return 0
}

// corporate reports whether the event came from the organization's own
// egress.
func (c *Config) corporate(n *event.Network) bool {
	if n.ASN != 0 && slices.Contains(c.CorporateASNs, n.ASN) {
		return true
	}
	for _, p := range c.CorporateEgress {
		if n.IP.IsValid() && p.Contains(n.IP) {
			return true
		}
	}
	return false
}
