// Package baseline learns what is normal for one identity: the devices,
// networks, user-agent families, services and resources it uses, where it
// last signed in from, and how much data it reads per hour. Memory per
// identity is bounded (small fixed-capacity sets of hashed keys), learning
// has an explicit period, and profiles snapshot and restore so a restart
// keeps what was learned. Time is always an input.
package baseline

import (
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// Config says when a profile has learned enough to be trusted.
type Config struct {
	// Learning is how long an identity must have been observed.
	Learning time.Duration
	// MinEvents is how many events it must have produced.
	MinEvents int
}

// DefaultConfig learns for 7 days and at least 20 events.
var DefaultConfig = Config{Learning: 7 * 24 * time.Hour, MinEvents: 20}

// Capacities of the sets, chosen to keep a busy identity under ~4 KB.
const (
	capSmall     = 8  // devices, user agents, addresses, prefixes, ASNs, countries
	capServices  = 16 // API services and apps
	capResources = 32 // resources (hash only)
	hourlyDays   = 14 // data-access history, in hours
)

// Profile is one identity's learned behavior. Fields are exported for
// snapshots; use the methods.
type Profile struct {
	First, Last int64 // Unix seconds of the first and last event
	Events      uint32

	Devices   Set // device fingerprints (Okta dtHash, device id, else client family)
	Agents    Set // user-agent families ("Chrome/macOS", "aws-sdk-go")
	Addrs     Set // addresses
	Prefixes  Set // /24 (IPv4), /16 for private IPv4, /48 (IPv6)
	ASNs      Set
	Countries Set
	Services  Set     // API services and applications used
	Resources Set     // resources touched (bucket, table, secret, role…)
	Hourly    *Hourly // data-access counts per hour, when the identity reads data
	LastAuth  *Auth   // the last successful authentication with a location
	Grants    uint32  // privilege grants this identity performed
	TokenMade uint32  // API tokens and access keys this identity created
}

// Auth is where and when an identity last authenticated successfully.
type Auth struct {
	Time     int64
	Lat, Lon float64
	Addr     netip.Addr
	ASN      uint32
	Proxy    bool
	City     string
	Country  string
	VendorID string
}

// Learned reports whether the profile has learned for long enough at t.
func (p *Profile) Learned(c Config, t time.Time) bool {
	return p.Events >= uint32(c.MinEvents) && t.Unix()-p.First >= int64(c.Learning/time.Second)
}

// Since returns when the identity was first seen.
func (p *Profile) Since() time.Time { return time.Unix(p.First, 0).UTC() }

// seed keys the hash of set values. It is random per process, so that
// nobody can craft a user agent or address that collides with a known
// one; snapshots keep the labels and Restore recomputes the keys.
var seed = maphash.MakeSeed()

// Key hashes a set value's label.
func Key(s string) uint64 { return maphash.String(seed, s) }

// Label is a set value made of parts, hashed without joining them: the
// string is built only when a new value is remembered.
type Label [4]string

// Key hashes the label as Key hashes its joined string.
func (l Label) Key() uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, p := range l {
		h.WriteString(p)
	}
	return h.Sum64()
}

// String joins the parts.
func (l Label) String() string { return l[0] + l[1] + l[2] + l[3] }

// IsZero reports an empty label.
func (l Label) IsZero() bool { return l == Label{} }

// DeviceLabel returns the fingerprint of e's device: the Okta device-token
// hash or device id when present (strong), else the client family (weak).
func DeviceLabel(e *event.Event) (l Label, strong bool) {
	switch {
	case e.Session.DTHash != "":
		return Label{"dt:", e.Session.DTHash}, true
	case e.Device.ID != "":
		return Label{"id:", e.Device.ID}, true
	case e.Device.OS != "":
		return Label{"ua:", e.Device.Browser, "/", e.Device.OS}, false
	case e.Device.Browser != "":
		return Label{"ua:", e.Device.Browser}, false
	}
	return Label{}, false
}

// AgentLabel returns e's client family, "browser/os", or a zero label.
func AgentLabel(e *event.Event) Label {
	if e.Device.OS == "" {
		return Label{e.Device.Browser}
	}
	return Label{e.Device.Browser, "/", e.Device.OS}
}

// AgentFamily returns "browser/os" for e's client, or "".
func AgentFamily(e *event.Event) string { return AgentLabel(e).String() }

// PrefixOf returns the network an address belongs to for baselining: /24
// for public IPv4, /16 for private IPv4 (a VPC or office network), /48 for
// IPv6.
func PrefixOf(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits := 48
	if a.Is4() {
		bits = 24
		if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
			bits = 16
		}
	}
	p, _ := a.Prefix(bits)
	return p
}

// NetLevel is how specifically a network is known to a profile.
type NetLevel int

// Levels, least specific first.
const (
	NetUnknown NetLevel = iota
	NetCountry
	NetASN
	NetPrefix
	NetAddr
)

func (l NetLevel) String() string {
	return [...]string{"never seen", "country seen", "ASN seen", "prefix seen", "address seen"}[l]
}

// Network returns how specifically the profile knows e's network: the
// address, else its prefix, else its ASN, else its country. Sources
// without an ASN fall back to prefixes, as the issue asks.
func (p *Profile) Network(n *event.Network) NetLevel {
	switch {
	case n.IP.IsValid() && p.Addrs.Has(Key(n.IP.String())):
		return NetAddr
	case n.IP.IsValid() && p.Prefixes.Has(Key(PrefixOf(n.IP).String())):
		return NetPrefix
	case n.ASN != 0 && p.ASNs.Has(Key(ASNLabel(n.ASN))):
		return NetASN
	case n.Geo.Country != "" && p.Countries.Has(Key(n.Geo.Country)):
		return NetCountry
	}
	return NetUnknown
}

// Habit is how many sightings make a network habitual for an identity.
const Habit = 3

// VouchNetwork takes a network people vouched for (an alert on it was a
// false positive) as one of the identity's habits: its address, prefix,
// ASN and country, each with at least Habit sightings.
func (p *Profile) VouchNetwork(ip netip.Addr, asn uint32, country string, t int64) {
	if ip.IsValid() {
		p.Addrs.Vouch(ip.String(), t, Habit, capSmall)
		p.Prefixes.Vouch(PrefixOf(ip).String(), t, Habit, capSmall)
	}
	if asn != 0 {
		p.ASNs.Vouch(ASNLabel(asn), t, Habit, capSmall)
	}
	if country != "" {
		p.Countries.Vouch(country, t, Habit, capSmall)
	}
}

// ASNLabel is the label a profile keeps for an ASN ("AS3243").
func ASNLabel(asn uint32) string { return "AS" + itoa(asn) }

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Observe learns from e. Detectors look at the profile before it observes
// the event they judge.
func (p *Profile) Observe(e *event.Event) {
	t := e.Time.Unix()
	if p.Events == 0 || t < p.First {
		p.First = t
	}
	if t > p.Last {
		p.Last = t
	}
	p.Events++
	if l, _ := DeviceLabel(e); !l.IsZero() {
		p.Devices.TouchLabel(l, t, capSmall)
	}
	if l := AgentLabel(e); !l.IsZero() {
		p.Agents.TouchLabel(l, t, capSmall)
	}
	n := &e.Network
	if n.IP.IsValid() {
		p.Addrs.Touch(n.IP.String(), t, capSmall)
		p.Prefixes.Touch(PrefixOf(n.IP).String(), t, capSmall)
	}
	if n.ASN != 0 {
		p.ASNs.Touch(ASNLabel(n.ASN), t, capSmall)
	}
	if n.Geo.Country != "" {
		p.Countries.Touch(n.Geo.Country, t, capSmall)
	}
	if s := ServiceOf(e); s != "" {
		p.Services.Touch(s, t, capServices)
	}
	if r := ResourceOf(e); r != "" {
		p.Resources.Touch(r, t, capResources)
	}
	if e.Outcome.Result == event.ResultSuccess && e.Network.Geo.Point != nil &&
		(e.Category == event.CategoryAuthentication || e.Category == event.CategoryMFA) {
		p.LastAuth = &Auth{Time: t, Lat: n.Geo.Point.Lat, Lon: n.Geo.Point.Lon, Addr: n.IP, ASN: n.ASN,
			Proxy: n.Proxy, City: n.Geo.City, Country: n.Geo.Country, VendorID: e.VendorID}
	}
	if e.Category == event.CategoryDataAccess {
		if p.Hourly == nil {
			p.Hourly = &Hourly{}
		}
		p.Hourly.Add(t, 1)
	}
	if e.Category == event.CategoryPrivilege && e.Activity == event.ActivityGrant && e.Outcome.Result != event.ResultFailure {
		p.Grants++
	}
	if e.Activity == event.ActivityTokenCreate || e.Activity == event.ActivityKeyCreate {
		p.TokenMade++
	}
}

// ServiceOf returns the API service or application e used, or "".
func ServiceOf(e *event.Event) string {
	if e.Resource.Service != "" {
		return e.Resource.Service
	}
	if e.Resource.Type == "app" {
		return "app:" + e.Resource.Name
	}
	return ""
}

// ResourceOf returns the resource e touched at the grain a machine
// identity's habits are stable at: the bucket rather than the object key,
// the table, the secret, the role. "" when e names none.
func ResourceOf(e *event.Event) string {
	r := &e.Resource
	switch {
	case r.Container != "":
		return r.Service + "|" + r.Container
	case r.ID != "":
		return r.Service + "|" + r.Type + "|" + r.ID
	case r.Name != "" && r.Type != "object":
		return r.Service + "|" + r.Type + "|" + r.Name
	}
	return ""
}

// Rehash recomputes every set's keys after the profile was restored from a
// snapshot written by another process.
func (p *Profile) Rehash() {
	for _, s := range []*Set{&p.Devices, &p.Agents, &p.Addrs, &p.Prefixes, &p.ASNs, &p.Countries, &p.Services, &p.Resources} {
		s.Rehash()
	}
}
