package entra

import (
	"bytes"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

var (
	timeAuditGraph   = [][]string{pathActivity}
	timeAuditMonitor = [][]string{pathPActivity}
)

func (d *Decoder) audit(dst []event.Event, r record) ([]event.Event, error) {
	p := r.p
	e := d.newEvent(r, "audit")
	// Trimmed: Entra ends some names with a space, which rules would miss.
	e.VendorType = d.s.Get(bytes.TrimSpace(field.First(field.Bytes(p, "activityDisplayName"),
		field.Bytes(r.v, "operationName"), field.Bytes(p, "operationName"))))
	if e.VendorType == "" {
		if r.monitor {
			return dst, field.Missing("properties.activityDisplayName")
		}
		return dst, field.Missing("activityDisplayName")
	}
	var err error
	if e.Time, err = eventTime(r, timeAuditGraph, timeAuditMonitor); err != nil {
		return dst, err
	}
	e.Category, e.Activity = d.classify(e.VendorType, d.s.Get(field.Bytes(p, "operationType")))
	ids := d.s.Copy(field.Bytes(p, "id"), field.First(field.Bytes(p, "correlationId"), field.Bytes(r.v, "correlationId")))
	e.VendorID, e.RequestID = ids[0], ids[1]

	res := field.First(field.Bytes(p, "result"), field.Bytes(r.v, "result"))
	e.Outcome.Code = d.s.Get(res)
	// On success resultReason describes what was done ("User registered
	// Authenticator App with Notification and Code", a PIM justification);
	// on failure it says why not.
	reason := d.s.Get(field.Bytes(p, "resultReason"))
	switch {
	case field.EqualFold(res, "success"):
		e.Outcome.Result = event.ResultSuccess
		e.Message = reason
	case field.EqualFold(res, "failure"), field.EqualFold(res, "failed"), field.EqualFold(res, "timeout"):
		e.Outcome.Result = event.ResultFailure
		e.Outcome.Reason = reason
	default:
		e.Message = reason
	}

	ib := field.Get(p, "initiatedBy")
	var userIP []byte
	if u := field.Get(ib, "user"); field.IsObject(u) &&
		(field.Has(u, "userPrincipalName") || len(field.Bytes(u, "id")) > 0) {
		e.Actor = event.Principal{
			ID:       d.s.Lower(field.Bytes(u, "userPrincipalName")),
			Name:     d.s.Get(field.Bytes(u, "displayName")),
			Kind:     event.KindHuman,
			Type:     "User",
			VendorID: d.s.Get(field.Bytes(u, "id")),
		}
		userIP = field.Bytes(u, "ipAddress")
	} else if a := field.Get(ib, "app"); field.IsObject(a) {
		name := field.First(field.Bytes(a, "servicePrincipalName"), field.Bytes(a, "displayName"))
		e.Actor = event.Principal{
			ID:       d.s.Lower(field.First(name, field.Bytes(a, "appId"))),
			Name:     d.s.Get(field.Bytes(a, "displayName")),
			Kind:     event.KindService,
			Type:     "ServicePrincipal",
			VendorID: d.s.Get(field.First(field.Bytes(a, "servicePrincipalId"), field.Bytes(a, "appId"))),
		}
		if e.Actor.ID == "" && e.Actor.VendorID == "" {
			e.Actor = event.Principal{}
		}
	}
	if e.Actor.Name == "" && r.monitor {
		e.Actor.Name = d.s.Get(field.Bytes(r.v, "identity"))
	}
	e.Network.IP = d.s.FirstAddr(userIP, field.Bytes(r.v, "callerIpAddress"), field.Bytes(r.v, "ipAddress"),
		detail(p, "ipaddr"))

	e.Device.UserAgent = d.s.Get(field.First(field.Bytes(p, "userAgent"), detail(p, "user-agent")))
	fam := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = fam.Browser, fam.OS

	targets := field.Array(p, "targetResources")
	if len(targets) > 0 {
		e.Targets = make([]event.Target, 0, len(targets))
	}
	for _, t := range targets {
		tg := event.Target{
			Type:     d.s.Get(field.Bytes(t, "type")),
			Name:     d.s.Get(field.Bytes(t, "displayName")),
			VendorID: d.s.Get(field.Bytes(t, "id")),
		}
		if upn := field.Bytes(t, "userPrincipalName"); len(upn) > 0 {
			tg.ID = d.s.Lower(upn)
		}
		e.Targets = append(e.Targets, tg)
	}
	if e.Category == event.CategoryPrivilege {
		e.Resource = d.role(p, targets)
	}
	if e.Resource.Type == "" {
		for i, t := range e.Targets {
			if t.Type == "" || field.EqualFold(t.Type, "user") {
				continue
			}
			e.Resource = event.Resource{
				Type: d.resourceType(field.Bytes(targets[i], "type")),
				ID:   t.VendorID,
				Name: t.Name,
			}
			break
		}
	}
	e.Resource.Service = d.s.Get(field.Bytes(p, "loggedByService"))
	return append(dst, e), nil
}

// role finds the directory or app role a privilege event granted or
// revoked: a Role target, the Role.DisplayName or AppRole.Value modified
// property of a target, or the RoleName additional detail.
func (d *Decoder) role(p *fastjson.Value, targets []*fastjson.Value) event.Resource {
	for _, t := range targets {
		if field.EqualFold(field.Bytes(t, "type"), "role") {
			if name := field.Bytes(t, "displayName"); len(name) > 0 {
				return event.Resource{Type: "role", ID: d.s.Get(field.Bytes(t, "id")), Name: d.s.Get(name)}
			}
		}
	}
	for _, t := range targets {
		var name, id []byte
		for _, mp := range field.Array(t, "modifiedProperties") {
			val := unquote(field.First(field.Bytes(mp, "newValue"), field.Bytes(mp, "oldValue")))
			switch dn := field.Bytes(mp, "displayName"); {
			case field.EqualFold(dn, "role.displayname"), field.EqualFold(dn, "approle.value"),
				field.EqualFold(dn, "approle.displayname") && len(name) == 0:
				name = val
			case field.EqualFold(dn, "role.templateid"), field.EqualFold(dn, "approle.id"):
				id = val
			}
		}
		if len(name) > 0 {
			return event.Resource{Type: "role", ID: d.s.Get(id), Name: d.s.Get(name)}
		}
	}
	if name := field.First(detail(p, "rolename"), detail(p, "roledefinitionname")); len(name) > 0 {
		return event.Resource{Type: "role", Name: d.s.Get(name)}
	}
	return event.Resource{}
}

// resourceType maps Entra's target types to the model's resource types.
func (d *Decoder) resourceType(t []byte) string {
	switch {
	case field.EqualFold(t, "serviceprincipal"), field.EqualFold(t, "service principal"), field.EqualFold(t, "application"):
		return "app"
	}
	return d.s.Lower(t) // "policy", "role", "group", "device", "domain", …
}

// detail returns the value of the additionalDetails entry whose key is
// lowerKey, compared case-insensitively.
func detail(p *fastjson.Value, lowerKey string) []byte {
	for _, kv := range field.Array(p, "additionalDetails") {
		if field.EqualFold(field.Bytes(kv, "key"), lowerKey) {
			return field.Bytes(kv, "value")
		}
	}
	return nil
}

// unquote strips the JSON quotes Entra leaves around modified values
// ("\"Global Administrator\"").
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
