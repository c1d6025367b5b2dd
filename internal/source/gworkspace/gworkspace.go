// Package gworkspace decodes Google Workspace audit activities from the
// Admin SDK Reports API (activities.list items once the
// {"kind":"admin#reports#activities","items":[...]} page is unwrapped) and
// from the flattened exports some pipelines write, with one event per
// record and its parameters as an object ({"name":…,"type":…,
// "parameters":{…}}). An API activity holding N events decodes to N
// normalized events.
//
// Field sources: time ← id.time (Panther exports: p_event_time); vendor id
// ← id.applicationName + ":" + id.time + ":" + id.uniqueQualifier, plus
// "#<index>" when the activity holds more than one event, with the time in
// RFC 3339 so that the API and export spellings of one activity dedupe
// together; log ← id.applicationName; type ← the event name; tenant ←
// id.customerId; actor ← actor.email (lower-cased; actor.key, then
// actor.profileId, when there is no e-mail); network ← ipAddress,
// networkInfo.ipAsn[0], regionCode and subdivisionCode; targets ← the
// USER_EMAIL, GROUP_EMAIL, affected_email_address, target_user and
// target_domain parameters; resource ← the application (Service) and the
// role, setting, OAuth app or Drive document the parameters name; auth and
// outcome of sign-ins ← login_type, is_second_factor,
// login_challenge_status, login_failure_type. Workspace records only
// completed administrative actions and says nothing of their outcome, so
// Outcome stays unknown outside sign-ins.
package gworkspace

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/useragent"
)

// Decoder decodes Workspace activities. Not safe for concurrent use.
type Decoder struct {
	s   field.Strings
	ua  useragent.Cache
	buf []byte // scratch for vendor ids
}

// New returns a Decoder.
func New() *Decoder { return &Decoder{} }

// Source returns event.SourceGWorkspace.
func (d *Decoder) Source() event.Source { return event.SourceGWorkspace }

// Detect reports whether v is a Workspace activity: its kind is
// "admin#reports#activity", or its id is an object naming the
// applicationName, or it is a Panther export labelled GSuite.*. None of
// these occur in CloudTrail, Okta, Entra or OCSF records.
func (d *Decoder) Detect(v *fastjson.Value) bool {
	if !field.IsObject(v) {
		return false
	}
	if string(field.Bytes(v, "kind")) == "admin#reports#activity" {
		return true
	}
	if id := field.Get(v, "id"); field.IsObject(id) && len(field.Bytes(id, "applicationName")) > 0 {
		return true
	}
	return bytes.HasPrefix(field.Bytes(v, "p_log_type"), []byte("GSuite."))
}

// Decode appends the events of one activity to dst: one per element of
// events, or one for a flattened record.
func (d *Decoder) Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	id := field.Get(v, "id")
	var base event.Event
	base.Source = event.SourceGWorkspace
	var err error
	switch {
	case field.Has(id, "time") || !field.Has(v, "p_event_time"):
		base.Time, err = field.Time(v, "id", "time")
	default:
		base.Time, err = field.Time(v, "p_event_time")
	}
	if err != nil {
		return dst, err
	}

	// The events to decode and their names, checked before anything is
	// appended so that a bad record leaves dst unchanged.
	evs := field.Array(v, "events")
	if x := field.Get(v, "events"); x != nil {
		if x.Type() != fastjson.TypeArray {
			return dst, field.Errorf("events", "want an array, got %s", x.Type())
		}
		if len(evs) == 0 {
			return dst, field.Missing("events")
		}
		for i, ev := range evs {
			if len(field.Bytes(ev, "name")) == 0 {
				return dst, field.Missing("events." + strconv.Itoa(i) + ".name")
			}
		}
	} else if len(field.Bytes(v, "name")) == 0 {
		return dst, field.Missing("name")
	}

	app := field.Bytes(id, "applicationName")
	base.Log = d.s.Get(app)
	base.Resource.Service = base.Log
	base.Tenant = d.s.Get(field.Bytes(id, "customerId"))
	d.actor(&base, field.Get(v, "actor"))
	d.network(&base, v)

	if evs == nil { // flattened: the record is its one event
		e := base
		d.vendorID(&e, id, -1)
		d.event(&e, v, newParams(field.Get(v, "parameters")))
		return append(dst, e), nil
	}
	for i, ev := range evs {
		e := base
		if len(evs) > 1 {
			d.vendorID(&e, id, i)
		} else {
			d.vendorID(&e, id, -1)
		}
		d.event(&e, ev, newParams(field.Get(ev, "parameters")))
		dst = append(dst, e)
	}
	return dst, nil
}

// vendorID sets the dedupe key; without a uniqueQualifier there is none
// (time and application alone would merge distinct events).
func (d *Decoder) vendorID(e *event.Event, id *fastjson.Value, i int) {
	uq := field.Bytes(id, "uniqueQualifier")
	if len(uq) == 0 {
		return
	}
	b := append(d.buf[:0], e.Log...)
	b = append(b, ':')
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ':')
	b = append(b, uq...)
	if i >= 0 {
		b = append(b, '#')
		b = strconv.AppendInt(b, int64(i), 10)
	}
	d.buf = b
	e.VendorID = string(b)
}

func (d *Decoder) actor(e *event.Event, a *fastjson.Value) {
	if !field.IsObject(a) {
		return
	}
	email := field.Bytes(a, "email")
	key := field.Bytes(a, "key")
	p := &e.Actor
	p.Type = d.s.Get(field.Bytes(a, "callerType"))
	p.VendorID = d.s.Get(field.Bytes(a, "profileId"))
	switch {
	case len(email) > 0:
		p.ID = d.s.Lower(email)
	case len(key) > 0:
		p.ID = d.s.Lower(key)
	default:
		p.ID = d.s.Lower(field.Bytes(a, "profileId"))
	}
	switch {
	case p.Type == "KEY" || bytes.HasSuffix(email, []byte("gserviceaccount.com")):
		p.Kind = event.KindService
	case e.Log == "admin" && p.ID != "":
		p.Kind = event.KindAdmin // only administrators appear in the admin log
	case len(email) > 0:
		p.Kind = event.KindHuman
	}
}

func (d *Decoder) network(e *event.Event, v *fastjson.Value) {
	e.Network.IP = d.s.Addr(field.Bytes(v, "ipAddress"))
	ni := field.Get(v, "networkInfo")
	if !field.IsObject(ni) {
		return
	}
	if n, ok := field.Int(ni, "ipAsn", "0"); ok && n > 0 && n < 1<<32 {
		e.Network.ASN = uint32(n)
	}
	e.Network.Geo.Country = d.s.Get(field.Bytes(ni, "regionCode"))
	e.Network.Geo.Region = d.s.Get(field.Bytes(ni, "subdivisionCode"))
}

// event fills what one event of the activity says: its name, class,
// targets, resource and, for sign-ins, auth and outcome.
func (d *Decoder) event(e *event.Event, ev *fastjson.Value, ps params) {
	name := field.Bytes(ev, "name")
	e.VendorType = d.s.Get(name)
	typ := d.s.Get(field.Bytes(ev, "type"))
	e.Category, e.Activity = Classify(e.Log, typ, e.VendorType)

	for _, k := range [...]string{"USER_EMAIL", "affected_email_address", "target_user"} {
		if u := ps.str(k); len(u) > 0 {
			e.Targets = append(e.Targets, event.Target{Type: "User", ID: d.s.Lower(u)})
		}
	}
	if g := ps.str("GROUP_EMAIL"); len(g) > 0 {
		e.Targets = append(e.Targets, event.Target{Type: "Group", ID: d.s.Lower(g)})
	}
	if ua := ps.str("user_agent"); len(ua) > 0 {
		e.Device.UserAgent = d.s.Get(ua)
		f := d.ua.Parse(e.Device.UserAgent)
		e.Device.Browser, e.Device.OS = f.Browser, f.OS
	}

	r := &e.Resource
	switch e.Log {
	case "login", "user_accounts", "saml":
		d.signIn(e, ps)
	case "admin":
		if role := ps.str("ROLE_NAME"); len(role) > 0 {
			r.Type, r.Name, r.ID = "role", d.s.Get(role), d.s.Get(ps.str("ROLE_ID"))
		} else if s := ps.str("SETTING_NAME"); len(s) > 0 {
			r.Type, r.Name, r.Container = "setting", d.s.Get(s), d.s.Get(ps.str("APPLICATION_NAME"))
		}
		if e.Category == event.CategoryAPIActivity && string(ps.str("APPLICATION_NAME")) == "Security" {
			e.Category, e.Activity = event.CategoryPrivilege, event.ActivityPolicyChange
		}
	case "token":
		r.Type, r.Name, r.ID = "app", d.s.Get(ps.str("app_name")), d.s.Get(ps.str("client_id"))
	case "drive":
		if id, title := ps.str("doc_id"), ps.str("doc_title"); len(id) > 0 || len(title) > 0 {
			r.Type, r.ID, r.Name = "document", d.s.Get(id), d.s.Get(title)
		}
		if dom := ps.str("target_domain"); len(dom) > 0 && string(dom) != "all" {
			e.Targets = append(e.Targets, event.Target{Type: "Domain", ID: d.s.Lower(dom)})
		}
	}
}

// signIn reads how a sign-in was made and whether it worked.
func (d *Decoder) signIn(e *event.Event, ps params) {
	name := strings.TrimSpace(e.VendorType)
	switch name {
	case "login_success":
		e.Outcome.Result = event.ResultSuccess
	case "login_failure":
		e.Outcome.Result = event.ResultFailure
		e.Outcome.Reason = d.s.Get(field.First(ps.str("login_failure_type"), ps.str("failure_type")))
	case "login_challenge", "login_verification":
		st := ps.str("login_challenge_status")
		e.Outcome.Code = d.s.Get(st)
		switch {
		case bytes.Contains(st, []byte("ail")): // "Challenge Failed"
			e.Outcome.Result = event.ResultFailure
		case bytes.Contains(st, []byte("ass")): // "Challenge Passed"
			e.Outcome.Result = event.ResultSuccess
		}
	}
	if e.Log == "saml" {
		e.Auth.Protocol = "saml"
		e.Resource.Type, e.Resource.Name = "app", d.s.Get(ps.str("application_name"))
		if c := ps.str("saml_status_code"); len(c) > 0 {
			e.Outcome.Code = d.s.Get(c)
		}
		return
	}
	if lt := ps.str("login_type"); len(lt) > 0 {
		e.Auth.Method = d.s.Get(lt)
		if string(lt) == "saml" {
			e.Auth.Protocol = "saml"
		}
	}
	e.Auth.MFA = ps.boolPtr("is_second_factor")
}

// params reads event parameters in either layout: the API's list of
// {"name":…, "value"|"intValue"|"boolValue"|"multiValue"|…:…} or an
// export's object of name → value.
type params struct {
	v   *fastjson.Value   // object layout
	arr []*fastjson.Value // list layout
}

func newParams(v *fastjson.Value) params {
	if v != nil && v.Type() == fastjson.TypeArray {
		a, _ := v.Array()
		return params{arr: a}
	}
	return params{v: v}
}

// valueKeys are the typed value fields of an API parameter.
var valueKeys = [...]string{"value", "multiValue", "intValue", "boolValue", "multiIntValue", "messageValue"}

func (p params) get(name string) *fastjson.Value {
	if p.arr == nil {
		return field.Get(p.v, name)
	}
	for _, x := range p.arr {
		if string(field.Bytes(x, "name")) != name {
			continue
		}
		for _, k := range valueKeys {
			if y := x.Get(k); y != nil {
				return y
			}
		}
		return nil
	}
	return nil
}

// str returns a parameter's text; for a list, its first element.
func (p params) str(name string) []byte {
	y := p.get(name)
	if y != nil && y.Type() == fastjson.TypeArray {
		return field.Bytes(y, "0")
	}
	return field.Bytes(y)
}

func (p params) boolPtr(name string) *bool { return field.BoolPtr(p.get(name)) }
