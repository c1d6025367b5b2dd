package entra

import (
	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

var (
	timeRiskGraph    = [][]string{pathActivity, pathDetected}
	timeRiskMonitor  = [][]string{pathPActivity, pathPDetected}
	timeRiskyGraph   = [][]string{pathRiskLast}
	timeRiskyMonitor = [][]string{pathPRiskLast}
)

// riskDetection decodes an Identity Protection detection about a user or
// a service principal. Its type is the riskEventType that Identity
// Protection rules (and Sigma's) key on.
func (d *Decoder) riskDetection(dst []event.Event, r record) ([]event.Event, error) {
	p := r.p
	e := d.newEvent(r, "risk")
	e.VendorType = d.s.Get(field.Bytes(p, "riskEventType"))
	if e.VendorType == "" {
		if r.monitor {
			return dst, field.Missing("properties.riskEventType")
		}
		return dst, field.Missing("riskEventType")
	}
	var err error
	if e.Time, err = eventTime(r, timeRiskGraph, timeRiskMonitor); err != nil {
		return dst, err
	}
	// A detection is a finding, which the model has no class for; one made
	// on a sign-in is filed with authentication so it sorts with it.
	e.Category, e.Activity = event.CategoryOther, event.ActivityOther
	if field.EqualFold(field.Bytes(p, "activity"), "signin") {
		e.Category = event.CategoryAuthentication
	}
	e.Risk = event.Risk{
		Level:   d.riskLevel(field.Bytes(p, "riskLevel")),
		State:   enumValue(d.s.Get(field.Bytes(p, "riskState"))),
		Detail:  enumValue(d.s.Get(field.Bytes(p, "riskDetail"))),
		Signals: []string{e.VendorType},
	}
	ids := d.s.Copy(field.Bytes(p, "id"), field.Bytes(p, "requestId"),
		field.First(field.Bytes(p, "correlationId"), field.Bytes(r.v, "correlationId")))
	e.VendorID, e.RequestID, e.Session.CorrelationID = ids[0], ids[1], ids[2]
	if keys := field.Array(p, "keyIds"); len(keys) > 0 {
		// The service principal credential the detection is about, as
		// sign-ins record it.
		e.Session.AccessKeyID = d.s.Get(keys[0].GetStringBytes())
	}
	e.Actor = d.riskActor(p)
	e.Network.IP = d.s.FirstAddr(field.Bytes(p, "ipAddress"), field.Bytes(r.v, "callerIpAddress"))
	e.Network.Geo = d.geo(field.Get(p, "location"))
	e.Network.Proxy = e.VendorType == "anonymizedIPAddress"
	return append(dst, e), nil
}

// riskyPrincipal decodes a riskyUser or riskyServicePrincipal: the risk
// state Identity Protection holds for a principal, as of its last change.
func (d *Decoder) riskyPrincipal(dst []event.Event, r record) ([]event.Event, error) {
	p := r.p
	e := d.newEvent(r, "risk")
	// No VendorID: the id is the principal's, and each state change is a
	// record of its own.
	e.Actor = d.riskActor(p)
	if e.Actor.Kind == event.KindService {
		e.VendorType = "riskyServicePrincipal"
		e.Actor.VendorID = d.s.Get(field.Bytes(p, "id"))
	} else {
		e.VendorType = "riskyUser"
		e.Actor.VendorID = d.s.Get(field.First(field.Bytes(p, "userId"), field.Bytes(p, "id")))
	}
	var err error
	if e.Time, err = eventTime(r, timeRiskyGraph, timeRiskyMonitor); err != nil {
		return dst, err
	}
	e.Category, e.Activity = event.CategoryOther, event.ActivityOther
	e.Risk = event.Risk{
		Level:  d.riskLevel(field.Bytes(p, "riskLevel")),
		State:  enumValue(d.s.Get(field.Bytes(p, "riskState"))),
		Detail: enumValue(d.s.Get(field.Bytes(p, "riskDetail"))),
	}
	return append(dst, e), nil
}

func (d *Decoder) riskActor(p *fastjson.Value) event.Principal {
	upn := field.Bytes(p, "userPrincipalName")
	if len(upn) == 0 && (field.Has(p, "servicePrincipalId") || field.Has(p, "servicePrincipalType") ||
		field.Has(p, "appId")) {
		name := field.First(field.Bytes(p, "servicePrincipalDisplayName"), field.Bytes(p, "displayName"))
		return event.Principal{
			ID:       d.s.Lower(field.First(name, field.Bytes(p, "appId"))),
			Name:     d.s.Get(name),
			Kind:     event.KindService,
			Type:     "ServicePrincipal",
			VendorID: d.s.Get(field.Bytes(p, "servicePrincipalId")),
		}
	}
	return event.Principal{
		ID:       d.s.Lower(upn),
		Name:     d.s.Get(field.Bytes(p, "userDisplayName")),
		Kind:     event.KindHuman,
		Type:     "User",
		VendorID: d.s.Get(field.Bytes(p, "userId")),
	}
}
