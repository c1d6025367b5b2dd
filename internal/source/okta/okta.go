// Package okta decodes the Okta System Log (LogEvent objects from
// /api/v1/logs pages, NDJSON exports, event hooks and log streaming) into
// normalized events.
//
// Field sources: time ← published (Panther exports: p_event_time);
// vendor id ← uuid; type ← eventType; actor ← actor.alternateId (lower-cased
// login); session ← authenticationContext.externalSessionId and
// rootSessionId, debugContext.debugData.dtHash; network ← client.ipAddress,
// securityContext, client.geographicalContext; device ← client.userAgent,
// client.device, device; outcome ← outcome.result and reason.
package okta

import (
	"bytes"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/useragent"
)

// Decoder decodes Okta LogEvent records. Not safe for concurrent use.
type Decoder struct {
	s  field.Strings
	ua useragent.Cache
}

// New returns a Decoder.
func New() *Decoder { return &Decoder{} }

// Source returns event.SourceOkta.
func (d *Decoder) Source() event.Source { return event.SourceOkta }

// Detect reports whether v is an Okta LogEvent: it has an eventType with
// Okta's dotted naming and at least one other LogEvent field, and none of
// CloudTrail's (which also has an eventType).
func (d *Decoder) Detect(v *fastjson.Value) bool {
	t := field.Bytes(v, "eventType")
	if len(t) == 0 || field.Has(v, "eventSource") || field.Has(v, "eventVersion") {
		return false
	}
	return field.Has(v, "published") || field.Has(v, "uuid") || field.Has(v, "actor") ||
		field.Has(v, "legacyEventType") || field.Has(v, "displayMessage")
}

// Decode appends the event of one LogEvent to dst.
func (d *Decoder) Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	var e event.Event
	e.Source = event.SourceOkta
	e.Log = "system"
	e.VendorType = d.s.Get(field.Bytes(v, "eventType"))
	if e.VendorType == "" {
		return dst, field.Missing("eventType")
	}
	var err error
	if field.Has(v, "published") || !field.Has(v, "p_event_time") {
		e.Time, err = field.Time(v, "published")
	} else {
		e.Time, err = field.Time(v, "p_event_time")
	}
	if err != nil {
		return dst, err
	}
	e.VendorID = string(field.Bytes(v, "uuid"))
	e.Message = d.s.Get(field.Bytes(v, "displayMessage"))
	e.Severity = d.s.Get(field.Bytes(v, "severity"))
	e.Category, e.Activity = Classify(e.VendorType)

	actor := field.Get(v, "actor")
	e.Actor = event.Principal{
		ID:       d.s.Lower(field.Bytes(actor, "alternateId")),
		Name:     d.s.Get(field.Bytes(actor, "displayName")),
		Type:     d.s.Get(field.Bytes(actor, "type")),
		VendorID: d.s.Get(field.Bytes(actor, "id")),
	}
	e.Actor.Kind = actorKind(e.Actor)

	for _, t := range field.Array(v, "target") {
		tg := event.Target{
			Type:     d.s.Get(field.Bytes(t, "type")),
			Name:     d.s.Get(field.Bytes(t, "displayName")),
			VendorID: d.s.Get(field.Bytes(t, "id")),
		}
		switch alt := field.Bytes(t, "alternateId"); {
		case string(alt) == "unknown":
		case tg.Type == "User":
			tg.ID = d.s.Lower(alt)
		default:
			tg.ID = d.s.Get(alt)
		}
		e.Targets = append(e.Targets, tg)
		if tg.Type == "AppInstance" && e.Resource.Type == "" {
			e.Resource = event.Resource{Type: "app", ID: tg.VendorID, Name: firstNonEmpty(tg.Name, tg.ID)}
		}
	}

	ac := field.Get(v, "authenticationContext")
	dbg := field.Get(v, "debugContext", "debugData")
	e.Session = event.Session{
		ID:     d.s.Get(field.Bytes(ac, "externalSessionId")),
		RootID: d.s.Get(field.Bytes(ac, "rootSessionId")),
		DTHash: d.s.Get(field.Bytes(dbg, "dtHash")),
	}
	if e.Session.RootID == "" {
		e.Session.RootID = d.s.Get(field.Bytes(dbg, "rootSessionId"))
	}
	if e.Session.ID == "unknown" {
		e.Session.ID = ""
	}
	e.Auth.Method = d.s.Lower(field.First(field.Bytes(dbg, "factor"), field.Bytes(ac, "credentialType")))
	e.Auth.Protocol = d.s.Get(field.Bytes(ac, "authenticationProvider"))
	e.RequestID = d.s.Get(field.Bytes(dbg, "requestId"))
	if e.RequestID == "" {
		e.RequestID = d.s.Get(field.Bytes(v, "transaction", "id"))
	}
	if e.RequestID == "unknown" {
		e.RequestID = ""
	}
	e.Risk = d.risk(dbg)
	if p := field.Bytes(dbg, "privilegeGranted"); len(p) > 0 {
		e.Resource = event.Resource{Type: "role", Name: d.s.Get(p)}
	}

	client := field.Get(v, "client")
	e.Network.IP = d.s.Addr(field.Bytes(client, "ipAddress"))
	if z := field.Bytes(client, "zone"); len(z) > 0 && string(z) != "null" {
		e.Network.Zone = d.s.Get(z)
	}
	sc := field.Get(v, "securityContext")
	if n, ok := field.Int(sc, "asNumber"); ok && n > 0 && n < 1<<32 {
		e.Network.ASN = uint32(n)
	}
	e.Network.ASOrg = d.s.Get(field.Bytes(sc, "asOrg"))
	e.Network.ISP = d.s.Get(field.Bytes(sc, "isp"))
	e.Network.Domain = d.s.Get(field.Bytes(sc, "domain"))
	e.Network.Proxy, _ = field.Bool(sc, "isProxy")
	geo := field.Get(client, "geographicalContext")
	e.Network.Geo = event.Geo{
		Country: d.s.Get(field.Bytes(geo, "country")),
		Region:  d.s.Get(field.Bytes(geo, "state")),
		City:    d.s.Get(field.Bytes(geo, "city")),
	}
	lat, okLat := field.Float(geo, "geolocation", "lat")
	lon, okLon := field.Float(geo, "geolocation", "lon")
	if okLat && okLon && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		e.Network.Geo.Point = &event.Point{Lat: lat, Lon: lon}
	}

	uaObj := field.Get(client, "userAgent")
	e.Device.UserAgent = d.s.Get(field.Bytes(uaObj, "rawUserAgent"))
	fam := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = fam.Browser, fam.OS
	if e.Device.Browser == "" { // Okta's own parse, when the raw string is absent
		e.Device.Browser = oktaFamily(d.s.Get(field.Bytes(uaObj, "browser")))
	}
	if e.Device.OS == "" {
		e.Device.OS = oktaOS(d.s.Get(field.Bytes(uaObj, "os")))
	}
	e.Device.Type = d.s.Get(field.Bytes(client, "device"))
	if dev := field.Get(v, "device"); field.IsObject(dev) {
		e.Device.ID = d.s.Get(field.Bytes(dev, "id"))
		e.Device.Name = d.s.Get(field.Bytes(dev, "name"))
		e.Device.Managed = field.BoolPtr(dev, "managed")
	}

	out := field.Get(v, "outcome")
	e.Outcome.Code = d.s.Get(field.Bytes(out, "result"))
	e.Outcome.Reason = d.s.Get(field.Bytes(out, "reason"))
	switch strings.ToUpper(e.Outcome.Code) {
	case "SUCCESS", "ALLOW":
		e.Outcome.Result = event.ResultSuccess
	case "FAILURE", "DENY":
		e.Outcome.Result = event.ResultFailure
	}
	if e.Activity == event.ActivityMFADeny {
		e.Outcome.Result = event.ResultFailure
	}
	return append(dst, e), nil
}

func actorKind(p event.Principal) event.Kind {
	switch {
	case strings.Contains(strings.ToLower(p.Name), "okta support"):
		return event.KindVendorSupport
	case p.Type == "User" && p.ID == "system@okta.com":
		// Okta's support staff act as system@okta.com (the helpdesk path of
		// an account takeover).
		return event.KindVendorSupport
	case p.Type == "User":
		return event.KindHuman
	case p.Type == "":
		return event.KindUnknown
	}
	return event.KindService // SystemPrincipal, PublicClientApp, AppInstance, …
}

// oktaFamily maps Okta's own browser names ("CHROME") to useragent's.
func oktaFamily(b string) string {
	switch strings.ToUpper(b) {
	case "", "UNKNOWN":
		return ""
	case "CHROME", "CHROMIUM":
		return "Chrome"
	case "FIREFOX":
		return "Firefox"
	case "SAFARI", "MOBILE_SAFARI":
		return "Safari"
	case "EDGE", "EDGE_CHROMIUM":
		return "Edge"
	case "IE":
		return "IE"
	case "OPERA":
		return "Opera"
	}
	return b
}

func oktaOS(o string) string {
	l := strings.ToLower(o)
	switch {
	case l == "" || l == "unknown":
		return ""
	case strings.Contains(l, "windows"):
		return "Windows"
	case strings.Contains(l, "mac"):
		return "macOS"
	case strings.Contains(l, "ios"):
		return "iOS"
	case strings.Contains(l, "android"):
		return "Android"
	case strings.Contains(l, "chrome"):
		return "ChromeOS"
	case strings.Contains(l, "linux"):
		return "Linux"
	}
	return o
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// risk reads Okta's own evaluation from debugData: risk ("{level=HIGH}" or
// "{reasons=Anomalous Device, Anomalous Location, level=MEDIUM}"),
// behaviors (a string "{New Device=POSITIVE, New IP=NEGATIVE}" or an array
// of "name=VALUE") and threatSuspected. Behaviors evaluated POSITIVE become
// signals.
func (d *Decoder) risk(dbg *fastjson.Value) event.Risk {
	var r event.Risk
	eachPair(field.Bytes(dbg, "risk"), func(k, v []byte) {
		switch string(k) {
		case "level":
			r.Level = d.s.Lower(v)
		case "reasons":
			r.Detail = d.s.Get(v)
		}
	})
	behavior := func(k, v []byte) {
		if field.EqualFold(v, "positive") {
			r.Signals = append(r.Signals, d.s.Get(k))
		}
	}
	if arr := field.Array(dbg, "behaviors"); arr != nil {
		for _, x := range arr {
			eachPair(x.GetStringBytes(), behavior)
		}
	} else {
		eachPair(field.Bytes(dbg, "behaviors"), behavior)
	}
	if t, ok := field.Bool(dbg, "threatSuspected"); ok && t {
		r.Signals = append(r.Signals, "Threat Suspected")
	}
	return r
}

// eachPair calls fn with each key and value of Okta's "{a=1, b=2}" form,
// trimmed. A piece without "=" continues the value before it: reasons
// lists hold commas.
func eachPair(b []byte, fn func(k, v []byte)) {
	b = bytes.TrimSpace(b)
	b = bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("{")), []byte("}"))
	var k, v []byte
	have := false
	for len(b) > 0 {
		part := b
		if i := bytes.IndexByte(b, ','); i >= 0 {
			part, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if key, val, ok := bytes.Cut(part, []byte("=")); ok {
			if have {
				fn(bytes.TrimSpace(k), bytes.TrimSpace(v))
			}
			k, v, have = key, val, true
		} else if have {
			v = v[:len(v)+1+len(part)] // v and part are adjacent in b
		}
	}
	if have {
		fn(bytes.TrimSpace(k), bytes.TrimSpace(v))
	}
}
