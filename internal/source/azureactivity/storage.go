package azureactivity

import (
	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// storage decodes an Azure Storage resource log record (blob, file, queue
// or table data-plane request).
func (d *Decoder) storage(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	var e event.Event
	e.Source = event.SourceAzureActivity
	e.Log = "storage"
	e.VendorType = d.s.Get(value(v, "operationName"))
	if e.VendorType == "" {
		return dst, field.Missing("operationName")
	}
	var err error
	if e.Time, err = timeOf(v, pathTime, pathPTime); err != nil {
		return dst, err
	}
	e.Category, e.Activity = d.classify(kindStorage, e.VendorType, d.s.Get(value(v, "category")))
	e.RequestID = d.s.Copy(field.Bytes(v, "correlationId"))[0]
	e.Tenant = d.s.Get(field.Bytes(v, "tenantId"))
	if loc := field.Bytes(v, "location"); !field.EqualFold(loc, "global") {
		e.Region = d.s.Get(loc)
	}
	props := field.Get(v, "properties")

	id := field.Get(v, "identity")
	req := field.Get(id, "requester")
	upn := field.Bytes(req, "upn")
	switch {
	case len(upn) > 0:
		e.Actor = event.Principal{ID: d.s.Lower(upn), Kind: event.KindHuman, Type: "User"}
	case len(field.Bytes(req, "appId")) > 0:
		e.Actor = event.Principal{ID: d.s.Lower(field.Bytes(req, "appId")), Kind: event.KindService,
			Type: "ServicePrincipal"}
	}
	if !e.Actor.IsZero() {
		e.Actor.VendorID = d.s.Lower(field.Bytes(req, "objectId"))
		if t := field.Bytes(req, "tenantId"); len(t) > 0 && e.Tenant != "" && string(t) != e.Tenant {
			e.Actor.Account = d.s.Get(t)
		}
	}
	e.Auth.Method = d.s.Lower(field.Bytes(id, "type")) // "oauth", "sas", "accountkey", "anonymous", …
	// The hash names the SAS token or key used without revealing it: the
	// session key for requests that carry no principal.
	e.Session.TokenID = d.s.Get(field.Bytes(id, "tokenHash"))

	e.Network.IP = d.s.FirstAddr(field.Bytes(v, "callerIpAddress"))
	e.Device.UserAgent = d.s.Get(field.Bytes(props, "userAgentHeader"))
	fam := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = fam.Browser, fam.OS

	if code, ok := field.Int(v, "statusCode"); ok {
		e.Outcome.Code = d.intString(code)
		if code > 0 && code < 400 {
			e.Outcome.Result = event.ResultSuccess
		} else {
			e.Outcome.Result = event.ResultFailure
			e.Outcome.Reason = d.s.Get(field.Bytes(v, "statusText"))
		}
	} else if mrt := field.Bytes(props, "metricResponseType"); len(mrt) > 0 {
		e.Outcome.Code = d.s.Get(mrt)
		if field.HasPrefixFold(mrt, "success") {
			e.Outcome.Result = event.ResultSuccess
		} else {
			e.Outcome.Result = event.ResultFailure
		}
	}

	e.Resource = d.storageResource(v, props)
	return append(dst, e), nil
}

// storageResource reads what was touched from objectKey
// ("/account/container/path/to/blob"), else from the uri, else the
// account: type "object" with container "account/container", "container"
// or "account".
func (d *Decoder) storageResource(v, props *fastjson.Value) event.Resource {
	r := event.Resource{Service: d.s.Lower(field.Bytes(props, "serviceType"))}
	key := field.Bytes(props, "objectKey")
	if len(key) == 0 {
		key = uriPath(field.Bytes(v, "uri"))
	}
	if r.Service == "" {
		r.Service = storageService(field.Bytes(v, "resourceId"), field.Bytes(v, "uri"))
	}
	path := key
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	account, rest := cut(path)
	container, name := cut(rest)
	switch {
	case len(name) > 0:
		r.Type = "object"
		r.Name = d.s.Get(name)
		r.Container = d.s.Get(path[:len(account)+1+len(container)])
		r.ID = d.s.Get(key)
	case len(container) > 0:
		r.Type, r.Name, r.Container = "container", d.s.Get(container), d.s.Get(account)
	case len(account) > 0:
		r.Type, r.Name = "account", d.s.Get(account)
	default:
		if a := field.Bytes(props, "accountName"); len(a) > 0 {
			r.Type, r.Name = "account", d.s.Get(a)
		}
	}
	return r
}

// uriPath turns "https://acct.blob.core.windows.net/container/blob?sig=…"
// into the objectKey form "/acct/container/blob", dropping the query, which can hold a SAS
// signature.
func uriPath(u []byte) []byte {
	i := field.IndexFold(u, "://")
	if i < 0 {
		return nil
	}
	u = u[i+3:]
	for j, c := range u {
		if c == '?' || c == '#' {
			u = u[:j]
			break
		}
	}
	host, path := cut(u)
	dot := 0
	for dot < len(host) && host[dot] != '.' {
		dot++
	}
	if dot == 0 || len(path) == 0 {
		return nil
	}
	// The account is the host's first label; it is not next to the path
	// in the uri, so the two are copied together (the rare fallback).
	out := make([]byte, 0, 2+dot+len(path))
	out = append(out, '/')
	out = append(out, host[:dot]...)
	out = append(out, '/')
	return append(out, path...)
}

// storageService reads the service from "…/blobServices/default" or the
// uri host ("acct.blob.core.windows.net").
func storageService(resourceID, uri []byte) string {
	for _, s := range [...]struct{ needle, name string }{
		{"/blobservices/", "blob"}, {".blob.", "blob"}, {"/fileservices/", "file"}, {".file.", "file"},
		{"/queueservices/", "queue"}, {".queue.", "queue"}, {"/tableservices/", "table"}, {".table.", "table"},
		{".dfs.", "blob"},
	} {
		if field.IndexFold(resourceID, s.needle) >= 0 || field.IndexFold(uri, s.needle) >= 0 {
			return s.name
		}
	}
	return ""
}

// cut splits b at its first slash.
func cut(b []byte) (before, after []byte) {
	for i, c := range b {
		if c == '/' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}
