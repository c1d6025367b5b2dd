package detect

import (
	"fmt"
	"net/netip"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// session is what an identity's session looked like where it was
// established.
type session struct {
	Key      string
	Device   string // baseline.DeviceKey
	Strong   bool   // Device is a real fingerprint, not a client family
	Agent    string // browser/OS family
	ASN      uint32
	Prefix   netip.Prefix
	Ref      event.EventRef
	Last     int64 // Unix nanoseconds of the last event in the session
	Hijacked bool
}

// hijack is session.hijack: an IdP session (Okta externalSessionId, Entra
// sessionId or token id) used from a different device fingerprint and a
// different network or client family than where it was established — the
// adversary-in-the-middle cookie replay. A change of address or ASN alone,
// on the same device, is a VPN or a new DHCP lease, not a hijack.
type hijack struct{}

func (hijack) rule() string { return RuleSessionHijack }

func (hijack) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil {
		return
	}
	switch ev.Source {
	case event.SourceOkta, event.SourceEntra, event.SourceOCSF:
	default:
		return // AWS access keys are credentials, not IdP sessions
	}
	key := ev.Session.ID
	if key == "" {
		key = ev.Session.TokenID
	}
	dev, strong := baseline.DeviceKey(ev)
	if key == "" || dev == "" && !ev.Network.IP.IsValid() {
		return // no session, or no client context to compare
	}
	s := st.session(key, x.cfg().SessionsPerIdentity)
	if s.Ref.Time.IsZero() {
		*s = session{Key: key, Device: dev, Strong: strong, Agent: baseline.AgentFamily(ev), ASN: ev.Network.ASN,
			Prefix: baseline.PrefixOf(ev.Network.IP), Ref: event.Ref(ev), Last: ev.Time.UnixNano()}
		return
	}
	s.Last = max(s.Last, ev.Time.UnixNano())
	if s.Hijacked || dev == "" {
		return
	}
	agent := baseline.AgentFamily(ev)
	agentChanged := agent != "" && s.Agent != "" && agent != s.Agent
	var netChanged bool
	if ev.Network.ASN != 0 && s.ASN != 0 {
		netChanged = ev.Network.ASN != s.ASN
	} else if ev.Network.IP.IsValid() && s.Prefix.IsValid() {
		netChanged = !s.Prefix.Contains(ev.Network.IP)
	}
	var deviceChanged bool
	confidence := 0.9
	if strong && s.Strong {
		deviceChanged = dev != s.Device
	} else {
		// Without fingerprints on both sides the client family stands in
		// for the device; then a network change must come with it.
		deviceChanged = agentChanged && netChanged
		confidence = 0.6
	}
	if !deviceChanged || !(netChanged || agentChanged) {
		return
	}
	s.Hijacked = true
	st.LastHijack = ev.Time.UnixNano()
	sev := event.SeverityHigh
	known := st.Profile.Network(&ev.Network)
	if strong && s.Strong && (ev.Network.Proxy || known == baseline.NetUnknown) {
		sev = event.SeverityCritical
	}
	cmp := []event.Comparison{{What: "device", Baseline: s.Ref.Device, Observed: event.DeviceLabel(ev)}}
	if netChanged {
		cmp = append(cmp, event.Comparison{What: "network", Baseline: netLabel(s.Ref), Observed: netLabel(event.Ref(ev)) + " (" + known.String() + " for this identity)"})
	}
	if agentChanged {
		cmp = append(cmp, event.Comparison{What: "client family", Baseline: s.Agent, Observed: agent})
	}
	x.alert(RuleSessionHijack, sev, confidence, st,
		fmt.Sprintf("%s's session %s, established on %s from %s, was used from %s on %s.",
			st.ID, short(key), s.Ref.Device, netLabel(s.Ref), event.DeviceLabel(ev), netLabel(event.Ref(ev))),
		[]event.EventRef{s.Ref, event.Ref(ev)}, cmp...)
}

// session returns the remembered session with key, creating (and evicting
// the least recently used) as needed.
func (st *identity) session(key string, capacity int) *session {
	for i := range st.Sessions {
		if st.Sessions[i].Key == key {
			return &st.Sessions[i]
		}
	}
	if capacity <= 0 {
		capacity = 16
	}
	if len(st.Sessions) < capacity {
		st.Sessions = append(st.Sessions, session{Key: key})
		return &st.Sessions[len(st.Sessions)-1]
	}
	oldest := 0
	for i := range st.Sessions {
		if st.Sessions[i].Last < st.Sessions[oldest].Last {
			oldest = i
		}
	}
	st.Sessions[oldest] = session{Key: key}
	return &st.Sessions[oldest]
}

// sessionHijacked reports whether the session of ev was found hijacked.
func (st *identity) sessionHijacked(ev *event.Event) bool {
	key := ev.Session.ID
	if key == "" {
		key = ev.Session.TokenID
	}
	if key == "" {
		return false
	}
	for i := range st.Sessions {
		if st.Sessions[i].Key == key {
			return st.Sessions[i].Hijacked
		}
	}
	return false
}

// netLabel describes where an event came from: "AS3243 198.51.100.23
// (Lisbon, Portugal)".
func netLabel(r event.EventRef) string {
	s := ""
	if r.ASN != 0 {
		s = baseline.ASNLabel(r.ASN) + " "
	}
	if r.IP.IsValid() {
		s += r.IP.String()
	} else {
		s += "unknown address"
	}
	switch {
	case r.City != "" && r.Country != "":
		s += " (" + r.City + ", " + r.Country + ")"
	case r.Country != "":
		s += " (" + r.Country + ")"
	}
	return s
}

// short abbreviates long ids for sentences.
func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
