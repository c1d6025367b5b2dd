package detect

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// net is a client network for test events.
type net struct {
	ip      string
	asn     uint32
	org     string
	country string
	city    string
	lat     float64
	lon     float64
	proxy   bool
}

var (
	home     = net{"85.240.12.34", 3243, "meo", "Portugal", "Lisbon", 38.72, -9.14, false}
	home2    = net{"85.240.12.99", 3243, "meo", "Portugal", "Lisbon", 38.72, -9.14, false} // DHCP renewal
	vpn      = net{"203.0.113.10", 64500, "acme corp vpn", "United States", "Ashburn", 39.04, -77.49, false}
	hosting  = net{"45.155.205.233", 49505, "selectel", "Netherlands", "Amsterdam", 52.37, 4.90, false}
	berlin   = net{"79.192.1.2", 3320, "deutsche telekom ag", "Germany", "Berlin", 52.52, 13.40, false}
	sydney   = net{"1.120.0.5", 1221, "telstra", "Australia", "Sydney", -33.87, 151.21, false}
	tor      = net{"185.220.101.47", 60729, "zwiebelfreunde", "Germany", "Frankfurt", 50.11, 8.68, true}
	vpc      = net{"10.20.31.44", 0, "", "", "", 0, 0, false}
	vpcOther = net{"10.20.99.5", 0, "", "", "", 0, 0, false}
)

// device is a client for test events.
type device struct {
	dt, ua, browser, os string
}

var (
	mac    = device{"dt-mac-1111", "Mozilla/5.0 (Macintosh) Chrome/126.0", "Chrome", "macOS"}
	mac2   = device{"dt-mac-1111", "Mozilla/5.0 (Macintosh) Chrome/127.0", "Chrome", "macOS"} // browser update
	evil   = device{"dt-evil-9999", "python-requests/2.31", "python-requests", ""}
	newPC  = device{"dt-win-5555", "Mozilla/5.0 (Windows NT 10.0) Edge/126", "Edge", "Windows"}
	sdkGo  = device{"", "aws-sdk-go/1.44.0 (go1.21; linux; amd64)", "aws-sdk-go", "Linux"}
	awsCLI = device{"", "aws-cli/2.15.0 Python/3.11 Linux/6.5", "aws-cli", "Linux"}
)

var seq int

// ev builds a normalized event; adjust fields after.
func ev(at time.Time, src event.Source, typ string, cat event.Category, act event.Activity, actor string, n net, d device) event.Event {
	seq++
	e := event.Event{
		Time: at, Source: src, VendorType: typ, Category: cat, Activity: act,
		VendorID: typ + "-" + at.Format(time.RFC3339Nano) + "-" + itoa(seq),
		Actor:    event.Principal{ID: actor, Kind: event.KindHuman, Type: "User"},
		Outcome:  event.Outcome{Result: event.ResultSuccess},
		Device:   event.Device{UserAgent: d.ua, Browser: d.browser, OS: d.os},
		Session:  event.Session{DTHash: d.dt},
	}
	if n.ip != "" {
		e.Network.IP = netip.MustParseAddr(n.ip)
	}
	e.Network.ASN, e.Network.ASOrg, e.Network.Proxy = n.asn, n.org, n.proxy
	e.Network.Geo = event.Geo{Country: n.country, City: n.city}
	if n.country != "" {
		e.Network.Geo.Point = &event.Point{Lat: n.lat, Lon: n.lon}
	}
	return e
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// login is a successful Okta sign-in in session sess.
func login(at time.Time, who, sess string, n net, d device) event.Event {
	e := ev(at, event.SourceOkta, "user.session.start", event.CategoryAuthentication, event.ActivityLogin, who, n, d)
	e.Session.ID = sess
	return e
}

// sso is an Okta app sign-on in session sess.
func sso(at time.Time, who, sess, app string, n net, d device) event.Event {
	e := ev(at, event.SourceOkta, "user.authentication.sso", event.CategoryAuthentication, event.ActivitySSO, who, n, d)
	e.Session.ID = sess
	e.Resource = event.Resource{Type: "app", Name: app}
	return e
}

// history is ten days of a person working from home on their Mac: a
// sign-in and a few app sign-ons every working day.
func history(who string) []event.Event {
	var out []event.Event
	for day := 0; day < 10; day++ {
		start := t0.Add(time.Duration(day) * 24 * time.Hour)
		sess := who + "-s" + itoa(day)
		out = append(out, login(start, who, sess, home, mac))
		for i := 1; i <= 3; i++ {
			out = append(out, sso(start.Add(time.Duration(i)*20*time.Minute), who, sess, "Slack", home, mac))
		}
	}
	return out
}

// after returns a time on day 11, when histories are learned.
func after(d time.Duration) time.Time { return t0.Add(11*24*time.Hour + d) }

// run feeds events to a new engine and returns its alerts.
func run(t *testing.T, cfg Config, evs ...[]event.Event) ([]event.Alert, *Engine) {
	t.Helper()
	e := New(cfg)
	var all []event.Event
	for _, es := range evs {
		all = append(all, es...)
	}
	var alerts []event.Alert
	for i := range all {
		alerts = append(alerts, e.Process(&all[i])...)
	}
	return alerts, e
}

// fired returns "rule/severity" of the alerts for rule (all rules when
// rule is "").
func fired(alerts []event.Alert, rule string) []string {
	var out []string
	for _, a := range alerts {
		if rule == "" || a.Rule == rule {
			out = append(out, a.Rule+"/"+string(a.Severity))
		}
	}
	return out
}

func one(es ...event.Event) []event.Event { return es }
