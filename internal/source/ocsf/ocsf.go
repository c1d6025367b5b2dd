// Package ocsf decodes OCSF 1.x JSON events, the generic way in for
// sources Vigil has no decoder of its own for (Amazon Security Lake,
// vendors' OCSF exports). It maps the identity and API classes:
// Authentication (3002), Account Change (3001), Authorize Session (3003),
// User Access Management (3005), Group Management (3006), API Activity
// (6003) and Datastore Activity (6005); events of other classes decode as
// other/other with their common fields.
//
// Field sources: time ← time (epoch milliseconds or a string; when absent,
// metadata.original_time); vendor id ← metadata.uid; log ←
// metadata.product.name (or metadata.log_name); type ← api.operation, else
// "<class_name>: <activity_name>" (names from the record, else from the
// schema, else type_name); category and activity ← class_uid and
// activity_id (either derived from type_uid when absent); message ←
// message; severity ← severity; tenant ← cloud.account.uid (or
// metadata.tenant_uid); region ← cloud.region; request id ←
// api.request.uid; actor ← actor.user, or for Authentication and Authorize
// Session the user who authenticated (user), or actor.app_name; targets ←
// user for Account Change, User Access Management and Group Management;
// session ← session (or actor.session): uid, created_time, issuer, is_mfa,
// credential_uid; auth ← is_mfa, auth_protocol, logon_type_id; network ←
// src_endpoint (ip, domain, location, autonomous_system); device ←
// http_request.user_agent and device; outcome ← status_id (or status),
// status_code, status_detail; resource ← api.service.name and resources[0],
// or the class's own object (service, policy, the first of privileges,
// group, table, databucket, database).
package ocsf

import (
	"bytes"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/useragent"
)

// Decoder decodes OCSF events. Not safe for concurrent use.
type Decoder struct {
	s   field.Strings
	ua  useragent.Cache
	buf []byte // scratch for type names
}

// New returns a Decoder.
func New() *Decoder { return &Decoder{} }

// Source returns event.SourceOCSF.
func (d *Decoder) Source() event.Source { return event.SourceOCSF }

// Detect reports whether v is an OCSF event: a numeric class_uid with a
// metadata object or a type_uid, or a type_uid with metadata. No vendor
// format Vigil reads has these keys.
func (d *Decoder) Detect(v *fastjson.Value) bool {
	if !field.IsObject(v) {
		return false
	}
	_, hasClass := field.Int(v, "class_uid")
	_, hasType := field.Int(v, "type_uid")
	meta := field.IsObject(field.Get(v, "metadata"))
	return hasClass && (meta || hasType) || hasType && meta
}

// Decode appends the event of one OCSF record to dst.
func (d *Decoder) Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	var e event.Event
	e.Source = event.SourceOCSF

	typeUID, hasType := field.Int(v, "type_uid")
	classUID, ok := field.Int(v, "class_uid")
	if !ok {
		if !hasType {
			return dst, field.Missing("class_uid")
		}
		classUID = typeUID / 100
	}
	actID, hasAct := field.Int(v, "activity_id")
	if !hasAct && hasType && typeUID/100 == classUID {
		actID, hasAct = typeUID%100, true
	}
	if err := d.vendorType(&e, v, classUID, actID, hasAct); err != nil {
		return dst, err
	}

	var err error
	switch {
	case field.Has(v, "time") || !field.Has(v, "metadata", "original_time"):
		e.Time, err = field.Time(v, "time")
	default:
		e.Time, err = field.Time(v, "metadata", "original_time")
	}
	if err != nil {
		return dst, err
	}

	e.Category, e.Activity = Classify(classUID, actID)
	meta := field.Get(v, "metadata")
	api := field.Get(v, "api")
	ids := d.s.Copy(field.Bytes(meta, "uid"), field.Bytes(api, "request", "uid"))
	e.VendorID, e.RequestID = ids[0], ids[1]
	e.Log = d.s.Get(field.First(field.Bytes(meta, "product", "name"), field.Bytes(meta, "log_name")))
	e.Message = d.s.Get(field.Bytes(v, "message"))
	e.Severity = d.s.Get(field.Bytes(v, "severity"))
	e.Tenant = d.s.Get(field.First(field.Bytes(v, "cloud", "account", "uid"), field.Bytes(meta, "tenant_uid")))
	e.Region = d.s.Get(field.Bytes(v, "cloud", "region"))

	e.Resource.Service = d.s.Get(field.Bytes(api, "service", "name"))

	actor := field.Get(v, "actor")
	user := field.Get(v, "user")
	switch classUID {
	case 3002, 3003: // the user who signed in is who acted
		if field.IsObject(user) {
			e.Actor = d.principal(user, e.Tenant)
		} else {
			e.Actor = d.principal(field.Get(actor, "user"), e.Tenant)
		}
	default:
		e.Actor = d.principal(field.Get(actor, "user"), e.Tenant)
		if field.IsObject(user) {
			p := d.principal(user, e.Tenant)
			e.Targets = append(e.Targets, event.Target{Type: "User", ID: p.ID, Name: p.Name, VendorID: p.VendorID})
		}
	}
	if e.Actor.ID == "" {
		if app := field.Bytes(actor, "app_name"); len(app) > 0 {
			e.Actor = event.Principal{ID: d.s.Lower(app), Name: d.s.Get(app), Kind: event.KindService}
		}
	}

	d.session(&e, v, actor)
	d.auth(&e, v)
	d.network(&e, field.Get(v, "src_endpoint"))
	d.device(&e, v)
	d.outcome(&e, v)
	d.resource(&e, v, classUID)
	return append(dst, e), nil
}

// vendorType sets VendorType: the API operation, or "<class_name>:
// <activity_name>" with the names from the record, else from the schema,
// else the record's type_name, else the numbers.
func (d *Decoder) vendorType(e *event.Event, v *fastjson.Value, classUID, actID int64, hasAct bool) error {
	if op := field.Bytes(v, "api", "operation"); len(op) > 0 {
		e.VendorType = d.s.Get(op)
		return nil
	}
	cn, an := field.Bytes(v, "class_name"), field.Bytes(v, "activity_name")
	scn, san := names(classUID, actID)
	if len(an) == 0 && (!hasAct || san == "") {
		if tn := field.Bytes(v, "type_name"); len(tn) > 0 {
			e.VendorType = d.s.Get(tn)
			return nil
		}
		if !hasAct {
			return field.Missing("activity_id")
		}
	}
	b := d.buf[:0]
	switch {
	case len(cn) > 0:
		b = append(b, cn...)
	case scn != "":
		b = append(b, scn...)
	default:
		b = strconv.AppendInt(b, classUID, 10)
	}
	b = append(b, ": "...)
	switch {
	case len(an) > 0:
		b = append(b, an...)
	case san != "":
		b = append(b, san...)
	default:
		b = strconv.AppendInt(b, actID, 10)
	}
	d.buf = b
	e.VendorType = d.s.Get(b)
	return nil
}

// principal reads an OCSF user object. The ID is the e-mail-like name,
// else the e-mail address, else the name, else the uid, lower-cased like
// every canonical id.
func (d *Decoder) principal(u *fastjson.Value, tenant string) event.Principal {
	if !field.IsObject(u) {
		return event.Principal{}
	}
	var p event.Principal
	name := field.Bytes(u, "name")
	email := field.Bytes(u, "email_addr")
	uid := field.Bytes(u, "uid")
	switch {
	case bytes.IndexByte(name, '@') >= 0:
		p.ID = d.s.Lower(name)
	case len(email) > 0:
		p.ID = d.s.Lower(email)
	case len(name) > 0:
		p.ID = d.s.Lower(name)
	default:
		p.ID = d.s.Lower(uid)
	}
	p.Name = d.s.Get(field.First(field.Bytes(u, "full_name"), name))
	p.Type = d.s.Get(field.Bytes(u, "type"))
	p.VendorID = d.s.Get(uid)
	if acct := field.Bytes(u, "account", "uid"); len(acct) > 0 && string(acct) != tenant {
		p.Account = d.s.Get(acct)
	}
	typeID, _ := field.Int(u, "type_id")
	switch {
	case typeID == 2 || p.Type == "Admin":
		p.Kind = event.KindAdmin
	case typeID == 3 || p.Type == "System" || p.Type == "Service":
		p.Kind = event.KindService
	case typeID == 1 || p.Type == "User":
		p.Kind = event.KindHuman
	}
	return p
}

func (d *Decoder) session(e *event.Event, v, actor *fastjson.Value) {
	s := field.Get(v, "session")
	if !field.IsObject(s) {
		s = field.Get(actor, "session")
	}
	if !field.IsObject(s) {
		return
	}
	e.Session.ID = d.s.Get(field.Bytes(s, "uid"))
	e.Session.Issuer = d.s.Get(field.Bytes(s, "issuer"))
	e.Session.AccessKeyID = d.s.Get(field.Bytes(s, "credential_uid"))
	e.Session.MFA = field.BoolPtr(s, "is_mfa")
	if field.Has(s, "created_time") {
		if t, err := field.Time(s, "created_time"); err == nil {
			e.Session.CreatedAt = t
		}
	}
}

func (d *Decoder) auth(e *event.Event, v *fastjson.Value) {
	e.Auth.MFA = field.BoolPtr(v, "is_mfa")
	e.Auth.Protocol = d.s.Get(field.Bytes(v, "auth_protocol"))
	// OCSF logon types follow Windows': interactive, remote interactive,
	// unlock and their cached forms involve the user; network, batch and
	// service logons do not.
	if lt, ok := field.Int(v, "logon_type_id"); ok {
		switch lt {
		case 2, 7, 10, 11, 12, 13:
			t := true
			e.Auth.Interactive = &t
		case 3, 4, 5, 8, 9:
			f := false
			e.Auth.Interactive = &f
		}
	}
}

func (d *Decoder) network(e *event.Event, src *fastjson.Value) {
	if !field.IsObject(src) {
		return
	}
	n := &e.Network
	n.IP = d.s.Addr(field.Bytes(src, "ip"))
	n.Domain = d.s.Get(field.Bytes(src, "domain"))
	if asn, ok := field.Int(src, "autonomous_system", "number"); ok && asn > 0 && asn < 1<<32 {
		n.ASN = uint32(asn)
	}
	n.ASOrg = d.s.Get(field.Bytes(src, "autonomous_system", "name"))
	loc := field.Get(src, "location")
	if !field.IsObject(loc) {
		return
	}
	n.ISP = d.s.Get(field.Bytes(loc, "isp"))
	n.Geo = event.Geo{
		Country: d.s.Get(field.Bytes(loc, "country")),
		Region:  d.s.Get(field.Bytes(loc, "region")),
		City:    d.s.Get(field.Bytes(loc, "city")),
	}
	lat, okLat := field.Float(loc, "lat")
	lon, okLon := field.Float(loc, "long")
	if !okLat || !okLon { // before OCSF 1.4: coordinates [lon, lat]
		lon, okLon = field.Float(loc, "coordinates", "0")
		lat, okLat = field.Float(loc, "coordinates", "1")
	}
	if okLat && okLon && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		n.Geo.Point = &event.Point{Lat: lat, Lon: lon}
	}
}

func (d *Decoder) device(e *event.Event, v *fastjson.Value) {
	e.Device.UserAgent = d.s.Get(field.Bytes(v, "http_request", "user_agent"))
	f := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = f.Browser, f.OS
	dev := field.Get(v, "device")
	if !field.IsObject(dev) {
		return
	}
	e.Device.ID = d.s.Get(field.Bytes(dev, "uid"))
	e.Device.Name = d.s.Get(field.First(field.Bytes(dev, "name"), field.Bytes(dev, "hostname")))
	e.Device.Type = d.s.Get(field.Bytes(dev, "type"))
	e.Device.Managed = field.BoolPtr(dev, "is_managed")
	e.Device.Compliant = field.BoolPtr(dev, "is_compliant")
	if e.Device.OS == "" {
		e.Device.OS = d.s.Get(field.Bytes(dev, "os", "name"))
	}
}

func (d *Decoder) outcome(e *event.Event, v *fastjson.Value) {
	o := &e.Outcome
	o.Code = d.s.Get(field.Bytes(v, "status_code"))
	o.Reason = d.s.Get(field.Bytes(v, "status_detail"))
	id, ok := field.Int(v, "status_id")
	if !ok {
		switch string(field.Bytes(v, "status")) {
		case "Success":
			id = 1
		case "Failure":
			id = 2
		}
	}
	switch id {
	case 1:
		o.Result = event.ResultSuccess
	case 2:
		o.Result = event.ResultFailure
	}
}

// resource reads what was touched: the first of resources, else the object
// the class defines for it.
func (d *Decoder) resource(e *event.Event, v *fastjson.Value, classUID int64) {
	r := &e.Resource
	if x := field.Get(v, "resources", "0"); field.IsObject(x) {
		r.Type = d.s.Get(field.Bytes(x, "type"))
		r.ID = d.s.Get(field.Bytes(x, "uid"))
		r.Name = d.s.Get(field.Bytes(x, "name"))
		return
	}
	set := func(typ string, x *fastjson.Value) bool {
		if !field.IsObject(x) {
			return false
		}
		r.Type, r.ID, r.Name = typ, d.s.Get(field.Bytes(x, "uid")), d.s.Get(field.Bytes(x, "name"))
		return true
	}
	switch classUID {
	case 3002:
		set("app", field.Get(v, "service"))
	case 3001:
		set("policy", field.Get(v, "policy"))
	case 3003, 3005:
		if p := field.Bytes(v, "privileges", "0"); len(p) > 0 {
			r.Type, r.Name = "privilege", d.s.Get(p)
		} else {
			set(d.s.Get(field.Bytes(v, "resource", "type")), field.Get(v, "resource"))
		}
	case 3006:
		set("group", field.Get(v, "group"))
	case 6005:
		_ = set("table", field.Get(v, "table")) || set("bucket", field.Get(v, "databucket")) ||
			set("database", field.Get(v, "database"))
	}
}
