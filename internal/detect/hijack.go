package detect

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// session is what an identity's session looked like where it was
// established. It is kept small (strings point at the decoders' interned
// values) because every identity remembers several.
type session struct {
	Key      string
	Device   string // Okta dtHash or device id; "" when the client gave none
	Browser  string
	OS       string
	ASN      uint32
	Prefix   netip.Prefix
	IP       netip.Addr
	At       int64 // Unix nanoseconds of the establishing event
	Last     int64 // … and of the last event in the session
	VendorID string
	Type     string // vendor event type of the establishing event
	City     string
	Country  string
	Hijacked bool
	// Cleared: people found the hijack a false positive.
	Cleared bool
}

// ref rebuilds the establishing event's reference for evidence.
func (s *session) ref(src event.Source, actor string) event.EventRef {
	r := event.EventRef{Time: time.Unix(0, s.At).UTC(), Source: src, VendorID: s.VendorID, VendorType: s.Type,
		Actor: actor, Session: s.Key, IP: s.IP, ASN: s.ASN, City: s.City, Country: s.Country}
	e := event.Event{Device: event.Device{Browser: s.Browser, OS: s.OS}}
	e.Session.DTHash = s.Device
	r.Device = event.DeviceLabel(&e)
	return r
}

func (s *session) agent() string {
	if s.OS == "" {
		return s.Browser
	}
	return s.Browser + "/" + s.OS
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
	dev := ev.Session.DTHash
	if dev == "" {
		dev = ev.Device.ID
	}
	if key == "" || dev == "" && ev.Device.Browser == "" && !ev.Network.IP.IsValid() {
		return // no session, or no client context to compare
	}
	s := st.session(key, x.cfg().SessionsPerIdentity)
	if s.At == 0 {
		*s = session{Key: key, Device: dev, Browser: ev.Device.Browser, OS: ev.Device.OS, ASN: ev.Network.ASN,
			Prefix: baseline.PrefixOf(ev.Network.IP), IP: ev.Network.IP, At: ev.Time.UnixNano(), Last: ev.Time.UnixNano(),
			VendorID: ev.VendorID, Type: ev.VendorType, City: ev.Network.Geo.City, Country: ev.Network.Geo.Country}
		return
	}
	s.Last = max(s.Last, ev.Time.UnixNano())
	if s.Hijacked || dev == "" && ev.Device.Browser == "" {
		return
	}
	agentChanged := ev.Device.Browser != "" && s.Browser != "" && (ev.Device.Browser != s.Browser || ev.Device.OS != s.OS)
	var netChanged bool
	if ev.Network.ASN != 0 && s.ASN != 0 {
		netChanged = ev.Network.ASN != s.ASN
	} else if ev.Network.IP.IsValid() && s.Prefix.IsValid() {
		netChanged = !s.Prefix.Contains(ev.Network.IP)
	}
	strong := dev != "" && s.Device != ""
	var deviceChanged bool
	confidence := 0.9
	if strong {
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
	sev := event.SeverityHigh
	known := st.Profile.Network(&ev.Network)
	if strong && (ev.Network.Proxy || known == baseline.NetUnknown) {
		sev = event.SeverityCritical
	}
	est, now := s.ref(ev.Source, st.ID), event.Ref(ev)
	cmp := []event.Comparison{{What: "device", Baseline: est.Device, Observed: now.Device}}
	if netChanged {
		cmp = append(cmp, event.Comparison{What: "network", Baseline: netLabel(est), Observed: netLabel(now) + " (" + known.String() + " for this identity)"})
	}
	if agentChanged {
		cmp = append(cmp, event.Comparison{What: "client family", Baseline: s.agent(), Observed: baseline.AgentFamily(ev)})
	}
	x.alert(RuleSessionHijack, sev, confidence, st,
		fmt.Sprintf("%s's session %s, established on %s from %s, was used from %s on %s.",
			st.ID, short(key), est.Device, netLabel(est), now.Device, netLabel(now)),
		[]event.EventRef{est, now}, cmp...)
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
			return st.Sessions[i].Hijacked && !st.Sessions[i].Cleared
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
