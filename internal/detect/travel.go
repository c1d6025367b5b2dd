package detect

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// travel is session.impossible_travel: two successful authentications
// whose distance over elapsed time exceeds a speed no traveller reaches.
// Proxies, VPNs and relays the vendor flags, the organization's own egress,
// and networks the identity habitually uses are not travel.
type travel struct{}

func (travel) rule() string { return RuleImpossibleTravel }

func (travel) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || ev.Outcome.Result != event.ResultSuccess || ev.Network.Geo.Point == nil ||
		(ev.Category != event.CategoryAuthentication && ev.Category != event.CategoryMFA) {
		return
	}
	prev := st.Profile.LastAuth
	if prev == nil {
		return
	}
	cfg := x.cfg()
	p := ev.Network.Geo.Point
	km := haversineKm(prev.Lat, prev.Lon, p.Lat, p.Lon)
	if km < cfg.MinDistanceKm {
		return
	}
	elapsed := time.Duration(ev.Time.UnixNano() - prev.Time*int64(time.Second))
	hours := max(elapsed.Hours(), 1.0/60) // sign-ins a minute apart are as good as simultaneous
	speed := km / hours
	if speed <= cfg.MaxSpeedKmh {
		return
	}
	if ev.Network.Proxy || prev.Proxy {
		return // the vendor says one end is an anonymizer: location unknown
	}
	if cfg.corporate(&ev.Network) || cfg.corporate(&event.Network{IP: prev.Addr, ASN: prev.ASN}) {
		return
	}
	if n := cfg.SharedNetwork; n > 0 && (x.e.shared.count(ev.Network.IP) >= n || x.e.shared.count(prev.Addr) >= n) {
		return // a network many colleagues sign in from: the organization's egress
	}
	if habitual(&st.Profile, &ev.Network) && habitual(&st.Profile, &event.Network{IP: prev.Addr, ASN: prev.ASN}) {
		return // both ends are networks this identity uses all the time (a VPN egress)
	}
	confidence := min(0.95, 0.6+0.1*speed/cfg.MaxSpeedKmh)
	from := event.EventRef{Time: time.Unix(prev.Time, 0).UTC(), VendorID: prev.VendorID, IP: prev.Addr, ASN: prev.ASN,
		City: prev.City, Country: prev.Country, Source: ev.Source, VendorType: "previous successful sign-in"}
	x.alert(RuleImpossibleTravel, event.SeverityHigh, confidence, st,
		fmt.Sprintf("%s signed in from %s %s after signing in from %s: %.0f km in %s, %.0f km/h.",
			st.ID, place(ev.Network.Geo.City, ev.Network.Geo.Country), ipText(ev.Network.IP),
			place(prev.City, prev.Country), km, roundDur(elapsed), speed),
		[]event.EventRef{from, event.Ref(ev)},
		event.Comparison{What: "implied speed", Baseline: fmt.Sprintf("at most %.0f km/h", cfg.MaxSpeedKmh), Observed: fmt.Sprintf("%.0f km/h (%.0f km in %s)", speed, km, roundDur(elapsed))},
		event.Comparison{What: "previous sign-in", Baseline: netLabel(from), Observed: netLabel(event.Ref(ev))})
}

// habitual reports whether n is a network the profile has seen at least
// three times at the prefix or ASN level.
func habitual(p *baseline.Profile, n *event.Network) bool {
	if n.IP.IsValid() {
		if e, ok := p.Prefixes.Get(baseline.Key(baseline.PrefixOf(n.IP).String())); ok && e.Count >= baseline.Habit {
			return true
		}
	}
	if n.ASN != 0 {
		if e, ok := p.ASNs.Get(baseline.Key(baseline.ASNLabel(n.ASN))); ok && e.Count >= baseline.Habit {
			return true
		}
	}
	return false
}

func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

func place(city, country string) string {
	switch {
	case city != "" && country != "":
		return city + ", " + country
	case country != "":
		return country
	case city != "":
		return city
	}
	return "an unknown place"
}

func ipText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return "(" + a.String() + ")"
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// span says a long duration for people: "15 days", "3 hours".
func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return roundDur(d).String()
}
