package azureactivity

import (
	"errors"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// kube decodes an AKS kube-audit record: a Kubernetes audit.k8s.io Event,
// as JSON text in properties.log, in a diagnostic-settings envelope.
func (d *Decoder) kube(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	a := d.nested(field.Get(v, "properties", "log"))
	if a == nil {
		if x := field.Get(v, "properties", "log"); x != nil && x.Type() != fastjson.TypeNull {
			return dst, field.Errorf("properties.log", "not a Kubernetes audit event")
		}
		return dst, field.Missing("properties.log")
	}
	var e event.Event
	e.Source = event.SourceAzureActivity
	e.Log = "kube-audit"
	verb := field.Bytes(a, "verb")
	if len(verb) == 0 {
		return dst, field.Missing("properties.log.verb")
	}
	obj := field.Get(a, "objectRef")
	res := field.Bytes(obj, "resource")
	sub := field.Bytes(obj, "subresource")
	// The type is what RBAC rules name: "create pods/exec".
	d.buf = append(d.buf[:0], verb...)
	if len(res) > 0 {
		d.buf = append(d.buf, ' ')
		d.buf = append(d.buf, res...)
		if len(sub) > 0 {
			d.buf = append(d.buf, '/')
			d.buf = append(d.buf, sub...)
		}
	}
	e.VendorType = d.s.Get(d.buf)
	var err error
	if e.Time, err = d.kubeTime(v, a); err != nil {
		return dst, err
	}
	e.Category, e.Activity = ClassifyKube(d.s.Get(verb), d.s.Get(res), d.s.Get(sub))
	ids := d.s.Copy(field.Bytes(a, "auditID"), field.Bytes(v, "correlationId"))
	e.VendorID, e.RequestID = ids[0], ids[1]
	e.Tenant = d.s.Get(field.Bytes(v, "tenantId"))
	if loc := field.Bytes(v, "location"); !field.EqualFold(loc, "global") {
		e.Region = d.s.Get(loc)
	}

	user := field.Get(a, "user")
	e.Actor = d.kubeUser(field.Bytes(user, "username"))
	e.Actor.VendorID = d.s.Get(field.Bytes(user, "uid"))
	if imp := field.Bytes(a, "impersonatedUser", "username"); len(imp) > 0 {
		t := d.kubeUser(imp)
		e.Targets = append(e.Targets, event.Target{Type: t.Type, ID: t.ID})
	}
	if ips := field.Array(a, "sourceIPs"); len(ips) > 0 {
		e.Network.IP = d.s.FirstAddr(ips[0].GetStringBytes())
	}
	e.Device.UserAgent = d.s.Get(field.Bytes(a, "userAgent"))
	fam := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = fam.Browser, fam.OS

	rs := field.Get(a, "responseStatus")
	if code, ok := field.Int(rs, "code"); ok {
		e.Outcome.Code = d.intString(code)
		if code > 0 && code < 400 {
			e.Outcome.Result = event.ResultSuccess
		} else {
			e.Outcome.Result = event.ResultFailure
			e.Outcome.Reason = d.s.Get(field.First(field.Bytes(rs, "reason"), field.Bytes(rs, "message")))
		}
	}

	e.Resource = event.Resource{
		Service:   "kubernetes",
		ID:        d.s.Get(field.Bytes(obj, "uid")),
		Name:      d.s.Get(field.Bytes(obj, "name")),
		Container: d.s.Get(field.Bytes(obj, "namespace")),
	}
	if len(res) > 0 {
		e.Resource.Type = e.VendorType[len(verb)+1:] // "pods/exec", already interned
	}
	if cluster := field.Bytes(v, "resourceId"); len(cluster) > 0 {
		e.Resource.Service = d.s.Lower(lastSegment(cluster)) // the cluster's API server
	}
	return append(dst, e), nil
}

var (
	pathStage    = []string{"stageTimestamp"}
	pathReceived = []string{"requestReceivedTimestamp"}
)

// kubeTime prefers the audit event's own timestamps, then the envelope's,
// and names a malformed inner one by its place in the record.
func (d *Decoder) kubeTime(v, a *fastjson.Value) (time.Time, error) {
	t, inner := timeOf(a, pathStage, pathReceived)
	if inner == nil {
		return t, nil
	}
	t, outer := timeOf(v, pathTime, pathPTime)
	if outer == nil {
		return t, nil
	}
	var fe *field.Error
	switch {
	case errors.As(inner, &fe):
		return t, field.Errorf("properties.log."+fe.Field, "%s", fe.Msg)
	case errors.As(outer, &fe):
		return t, outer
	}
	return t, field.Missing("time")
}

// kubeUser classifies a Kubernetes user name: service accounts, nodes and
// the control plane's own "system:" users are machines; names with an @
// are people (lower-cased like every login); other names (client
// certificates such as AKS's masterclient) are left unknown.
func (d *Decoder) kubeUser(name []byte) event.Principal {
	switch {
	case len(name) == 0:
		return event.Principal{}
	case field.HasPrefixFold(name, "system:serviceaccount:"):
		return event.Principal{ID: d.s.Lower(name), Kind: event.KindService, Type: "ServiceAccount"}
	case field.HasPrefixFold(name, "system:node:"):
		return event.Principal{ID: d.s.Lower(name), Kind: event.KindService, Type: "Node"}
	case field.EqualFold(name, "system:anonymous"):
		return event.Principal{ID: d.s.Lower(name), Type: "Anonymous"}
	case field.HasPrefixFold(name, "system:"):
		return event.Principal{ID: d.s.Lower(name), Kind: event.KindService, Type: "System"}
	case len(withAt(name)) > 0:
		return event.Principal{ID: d.s.Lower(name), Kind: event.KindHuman, Type: "User"}
	}
	return event.Principal{ID: d.s.Lower(name), Type: "User"}
}
