// Package azureactivity decodes the Azure Activity Log (the control-plane
// record of every Azure Resource Manager write, delete and action) and two
// resource logs that arrive through the same diagnostic-settings pipeline:
// AKS kube-audit and Azure Storage. Entra ID's own diagnostic records
// (resourceId under microsoft.aadiam, categories such as SignInLogs and
// AuditLogs) are package entra's and are never claimed here.
//
// Activity Log records come as diagnostic-setting exports (storage, Event
// Hubs, Log Analytics: time, operationName, category, resultType, identity,
// …) or as the Monitor REST "Activity Logs - List" shape (eventTimestamp,
// caller, operationName.value, status.value, claims, httpRequest, …). Of
// the timestamps listed for each kind the first that parses is the event's
// time; a malformed one fails the record only when none parses, and a
// record with none fails with an error naming time.
//
// Activity Log (Log "activity"): time ← time (REST: eventTimestamp;
// Panther: p_event_time); vendor id ← eventDataId; type ← operationName,
// as written; category from Classify; actor ← the upn claim (full URI or
// short name), else caller or a name or e-mail claim holding an address,
// lower-cased; service principals by appid (else caller), kind service;
// vendor id ← the oid claim, else the principalId of
// identity.authorization.evidence; network ← callerIpAddress (REST:
// httpRequest.clientIpAddress; else the ipaddr claim; 0.0.0.0 dropped);
// outcome ← resultType or status.value (Success/Succeeded, Failure/Failed;
// Start, Accept and the rest are unknown), code ← resultSignature,
// subStatus.value or properties.statusCode, reason of a failure ←
// resultDescription or the error in properties.statusMessage; message ←
// resultDescription (REST: description); resource ← resourceId, all
// lower-cased because Resource Manager writes one id in any case (service:
// the provider namespace; type: the provider and resource types; name: the
// last segment; container: the resource group); targets ← for role
// assignments the principal and role in properties.requestbody (writes)
// or responseBody (deletes), built-in roles named; for elevateAccess the
// User Access Administrator role; tenant ← tenantId; region ← location
// ("global" dropped); request id ← correlationId; severity ← level.
//
// kube-audit (Log "kube-audit"): the Kubernetes audit event is JSON text
// in properties.log. Time ← stageTimestamp, requestReceivedTimestamp, then
// the envelope's time and p_event_time; vendor id ← auditID; type ← "verb
// resource[/subresource]" ("create pods/exec"); category from
// ClassifyKube; actor ← user.username (service accounts, nodes and
// system: users kind service; names with an @ lower-cased, kind human),
// user.uid; targets ← impersonatedUser; network ← sourceIPs[0]; device ←
// userAgent; outcome ← responseStatus.code (below 400 is success), reason
// ← responseStatus.reason or message; resource ← objectRef (type: resource
// and subresource, name, container: namespace, service: the cluster named
// by the envelope's resourceId, else "kubernetes").
//
// Storage (Log "storage", categories StorageRead, StorageWrite and
// StorageDelete, or no category with Storage's properties): time ← time;
// type ← operationName (GetBlob, PutBlob, …); category from
// ClassifyStorage; actor ← identity.requester upn (else appId), objectId;
// auth method ← identity.type lower-cased ("oauth", "sas", "accountkey");
// session token ← identity.tokenHash (a hash naming the SAS or key used);
// network ← callerIpAddress (port dropped); device ←
// properties.userAgentHeader; outcome ← statusCode and statusText, else
// properties.metricResponseType; resource ← properties.objectKey (type
// "object", container "account/container"; "container" or "account" for
// shorter keys), else the uri without its query string, which can hold a
// SAS signature; service ← properties.serviceType; request id ←
// correlationId.
package azureactivity

import (
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/useragent"
)

// Decoder decodes Azure Activity Log, kube-audit and Storage records. Not
// safe for concurrent use.
type Decoder struct {
	s     field.Strings
	ua    useragent.Cache
	class map[classKey]class
	p     fastjson.Parser // for JSON held in strings (properties.log, requestbody)
	buf   []byte          // scratch for lower-casing and joining, interned before use
}

type classKey struct {
	operation, category string
	k                   kind
}

// New returns a Decoder.
func New() *Decoder {
	return &Decoder{
		class: make(map[classKey]class),
	}
}

// Source returns event.SourceAzureActivity.
func (d *Decoder) Source() event.Source { return event.SourceAzureActivity }

type kind int

const (
	kindNone kind = iota
	kindActivity
	kindKube
	kindStorage
)

// categoryKind sorts the diagnostic categories this package reads.
func categoryKind(c []byte) kind {
	switch {
	case field.EqualFold(c, "administrative"), field.EqualFold(c, "security"), field.EqualFold(c, "servicehealth"),
		field.EqualFold(c, "alert"), field.EqualFold(c, "recommendation"), field.EqualFold(c, "policy"),
		field.EqualFold(c, "autoscale"), field.EqualFold(c, "resourcehealth"):
		return kindActivity
	case field.EqualFold(c, "kube-audit"), field.EqualFold(c, "kube-audit-admin"):
		return kindKube
	case field.EqualFold(c, "storageread"), field.EqualFold(c, "storagewrite"), field.EqualFold(c, "storagedelete"):
		return kindStorage
	}
	return kindNone
}

// Detect reports whether v is an Activity Log record (diagnostic export
// or REST shape) with an operationName, an AKS kube-audit record, or an
// Azure Storage resource log record (by category, or by its properties
// when an export dropped the category). Records under the
// microsoft.aadiam provider are Entra's and never match.
func (d *Decoder) Detect(v *fastjson.Value) bool {
	if v == nil || v.Type() != fastjson.TypeObject {
		return false
	}
	if field.IndexFold(field.Bytes(v, "resourceId"), "/providers/microsoft.aadiam") >= 0 {
		return false
	}
	cat := value(v, "category")
	switch categoryKind(cat) {
	case kindActivity:
		return len(value(v, "operationName")) > 0
	case kindKube, kindStorage:
		return true
	}
	if len(cat) > 0 {
		return false // some other service's resource log, or Entra's
	}
	if len(value(v, "operationName")) == 0 {
		return false
	}
	if (field.Has(v, "eventDataId") || field.Has(v, "eventTimestamp")) &&
		(field.Has(v, "caller") || field.Has(v, "subscriptionId") || field.Has(v, "claims") ||
			field.Has(v, "authorization") || field.Has(v, "resourceId")) {
		return true
	}
	return isStorage(v)
}

// isStorage recognizes a Storage record without its category by what only
// Storage logs hold.
func isStorage(v *fastjson.Value) bool {
	p := field.Get(v, "properties")
	return field.IsObject(p) && field.Has(p, "accountName") &&
		(field.Has(p, "objectKey") || field.Has(p, "metricResponseType") || field.Has(p, "serviceType"))
}

// Decode appends the event of one record to dst.
func (d *Decoder) Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return dst, field.Errorf("record", "not a JSON object")
	}
	cat := value(v, "category")
	switch k := categoryKind(cat); {
	case k == kindKube:
		return d.kube(dst, v)
	case k == kindStorage, len(cat) == 0 && isStorage(v):
		return d.storage(dst, v)
	}
	return d.activity(dst, v, cat)
}

var (
	pathTime      = []string{"time"}
	pathEventTime = []string{"eventTimestamp"}
	pathPTime     = []string{"p_event_time"}
)

// timeOf returns the first timestamp of paths that parses. When none does
// it reports the first that is present but malformed, or else that time
// is missing; a time is never invented.
func timeOf(v *fastjson.Value, paths ...[]string) (time.Time, error) {
	var bad error
	for _, p := range paths {
		x := field.Get(v, p...)
		if x == nil || x.Type() == fastjson.TypeNull ||
			(x.Type() == fastjson.TypeString && len(x.GetStringBytes()) == 0) {
			continue
		}
		t, err := field.Time(v, p...)
		if err == nil {
			return t, nil
		}
		if bad == nil {
			bad = err
		}
	}
	if bad != nil {
		return time.Time{}, bad
	}
	return time.Time{}, field.Missing("time")
}

func (d *Decoder) activity(dst []event.Event, v *fastjson.Value, cat []byte) ([]event.Event, error) {
	var e event.Event
	e.Source = event.SourceAzureActivity
	e.Log = "activity"
	op := value(v, "operationName")
	e.VendorType = d.s.Get(op)
	if e.VendorType == "" {
		return dst, field.Missing("operationName")
	}
	var err error
	if e.Time, err = timeOf(v, pathTime, pathEventTime, pathPTime); err != nil {
		return dst, err
	}
	props := field.Get(v, "properties")
	ids := d.s.Copy(field.First(field.Bytes(v, "eventDataId"), field.Bytes(props, "eventDataId")),
		field.Bytes(v, "correlationId"))
	e.VendorID, e.RequestID = ids[0], ids[1]
	e.Category, e.Activity = d.classify(kindActivity, e.VendorType, d.s.Get(cat))
	e.Severity = d.s.Get(value(v, "level"))
	e.Tenant = d.s.Get(field.Bytes(v, "tenantId"))
	if loc := field.Bytes(v, "location"); !field.EqualFold(loc, "global") {
		e.Region = d.s.Get(loc)
	}
	desc := field.First(field.Bytes(v, "resultDescription"), value(v, "description"))
	e.Message = d.s.Get(desc)

	claims := field.Get(v, "identity", "claims")
	if !field.IsObject(claims) {
		claims = field.Get(v, "claims")
	}
	evidence := field.Get(v, "identity", "authorization", "evidence")
	e.Actor = d.caller(claims, field.Bytes(v, "caller"), evidence)

	e.Network.IP = d.s.FirstAddr(field.Bytes(v, "callerIpAddress"), field.Bytes(v, "httpRequest", "clientIpAddress"),
		claim(claims, "ipaddr", ""))

	status := field.First(field.Bytes(v, "resultType"), value(v, "status"))
	e.Outcome.Result = result(status)
	code := field.Bytes(v, "resultSignature")
	if field.EqualFold(code, "none") {
		code = nil
	}
	e.Outcome.Code = d.s.Get(field.First(code, value(v, "subStatus"), field.Bytes(props, "statusCode"), status))
	if e.Outcome.Result == event.ResultFailure {
		e.Outcome.Reason = d.s.Get(desc)
		if e.Outcome.Reason == "" {
			e.Outcome.Reason = d.statusMessage(props)
		}
	}

	e.Resource = d.resource(field.Bytes(v, "resourceId"))
	d.targets(&e, props)
	return append(dst, e), nil
}

// caller reads who called Resource Manager from the token's claims, the
// REST caller field and the authorization evidence.
func (d *Decoder) caller(claims *fastjson.Value, caller []byte, evidence *fastjson.Value) event.Principal {
	oid := field.First(claim(claims, "oid", "http://schemas.microsoft.com/identity/claims/objectidentifier"),
		field.Bytes(evidence, "principalId"))
	name := claim(claims, "name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")
	upn := field.First(claim(claims, "upn", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"),
		withAt(claim(claims, "unique_name", "")), withAt(caller), withAt(name),
		withAt(claim(claims, "email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")))
	appid := claim(claims, "appid", "")
	ptype := field.Bytes(evidence, "principalType")
	var p event.Principal
	switch {
	case len(upn) > 0:
		p = event.Principal{ID: d.s.Lower(upn), Kind: event.KindHuman, Type: "User"}
		if string(name) != string(upn) {
			p.Name = d.s.Get(name)
		}
	case len(appid) > 0 || field.EqualFold(claim(claims, "idtyp", ""), "app") || field.EqualFold(ptype, "serviceprincipal"):
		p = event.Principal{
			ID:   d.s.Lower(field.First(appid, caller, oid)),
			Name: d.s.Get(name),
			Kind: event.KindService,
			Type: "ServicePrincipal",
		}
	case len(caller) > 0:
		// A caller without an address is an application id or an Azure
		// service ("Microsoft.Advisor").
		p = event.Principal{ID: d.s.Lower(caller), Kind: event.KindService, Type: "ServicePrincipal"}
	default:
		// An Azure service signs its own records with an e-mail claim
		// that is not an address ("Microsoft.Advisor").
		if svc := claim(claims, "email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"); len(svc) > 0 {
			p = event.Principal{ID: d.s.Lower(svc), Kind: event.KindService}
		} else if len(name) > 0 {
			p = event.Principal{Name: d.s.Get(name)}
		}
		if len(ptype) > 0 && !field.EqualFold(ptype, "group") {
			p.Type = d.s.Get(ptype)
			if field.EqualFold(ptype, "user") {
				p.Kind = event.KindHuman
			}
		}
	}
	p.VendorID = d.s.Get(oid)
	return p
}

// claim returns a token claim by its short name or its full URI.
func claim(claims *fastjson.Value, short, uri string) []byte {
	if !field.IsObject(claims) {
		return nil
	}
	if b := field.Bytes(claims, short); len(b) > 0 {
		return b
	}
	if uri != "" {
		return field.Bytes(claims, uri)
	}
	return nil
}

func withAt(b []byte) []byte {
	for _, c := range b {
		if c == '@' {
			return b
		}
	}
	return nil
}

// result maps Resource Manager's status words. Start, Accept and the
// Advisor/Service Health states say nothing about success yet.
func result(s []byte) event.Result {
	switch {
	case field.EqualFold(s, "success"), field.EqualFold(s, "succeeded"):
		return event.ResultSuccess
	case field.EqualFold(s, "failure"), field.EqualFold(s, "failed"):
		return event.ResultFailure
	}
	return event.ResultUnknown
}

// statusMessage reads the error Resource Manager returned, which the
// export keeps as JSON text in properties.statusMessage.
func (d *Decoder) statusMessage(props *fastjson.Value) string {
	v := d.nested(field.Get(props, "statusMessage"))
	return d.s.Get(field.First(field.Bytes(v, "error", "message"), field.Bytes(v, "error", "code")))
}

// nested returns the object x holds, parsing it when it is JSON text. The
// result is valid until the next call.
func (d *Decoder) nested(x *fastjson.Value) *fastjson.Value {
	switch {
	case x == nil:
		return nil
	case x.Type() == fastjson.TypeObject:
		return x
	case x.Type() != fastjson.TypeString:
		return nil
	}
	b := x.GetStringBytes()
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	v, err := d.p.ParseBytes(b)
	if err != nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	return v
}

// builtinRoles names the built-in Azure roles that matter most when
// granted, by their fixed role definition ids.
var builtinRoles = map[string]string{
	"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
	"b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
	"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
	"acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
}

// targets adds who got or lost which role: role assignment writes carry
// the assignment in the request body, deletes in the response body, and
// elevateAccess always grants User Access Administrator.
func (d *Decoder) targets(e *event.Event, props *fastjson.Value) {
	op := e.VendorType
	switch {
	case field.HasPrefixFold(op, "microsoft.authorization/roleassignments/"):
	case field.EqualFold(op, "microsoft.authorization/elevateaccess/action"):
		e.Targets = append(e.Targets, event.Target{Type: "Role", Name: "User Access Administrator",
			VendorID: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"})
		return
	default:
		return
	}
	var ra *fastjson.Value
	for _, k := range [...]string{"requestbody", "responseBody"} {
		if body := d.nested(field.Get(props, k)); body != nil {
			if ra = field.Get(body, "properties"); field.IsObject(ra) {
				break
			}
		}
	}
	pid, def := field.Bytes(ra, "principalId"), field.Bytes(ra, "roleDefinitionId")
	if len(pid) > 0 || len(def) > 0 {
		e.Targets = make([]event.Target, 0, 2)
	}
	if len(pid) > 0 {
		t := event.Target{Type: d.s.Get(field.Bytes(ra, "principalType")), VendorID: d.s.Lower(pid)}
		if t.Type == "" {
			t.Type = "Principal"
		}
		e.Targets = append(e.Targets, t)
	}
	if len(def) > 0 {
		id := d.s.Lower(lastSegment(def))
		e.Targets = append(e.Targets, event.Target{Type: "Role", Name: builtinRoles[id], VendorID: id})
	}
}

// intString interns the decimal form of n without allocating once seen.
func (d *Decoder) intString(n int64) string {
	d.buf = strconv.AppendInt(d.buf[:0], n, 10)
	return d.s.Get(d.buf)
}

// value reads a field that is a string in diagnostic exports and an
// object {value, localizedValue} in the REST shape.
func value(v *fastjson.Value, key string) []byte {
	x := field.Get(v, key)
	if x != nil && x.Type() == fastjson.TypeObject {
		return field.Bytes(x, "value")
	}
	return field.Bytes(v, key)
}

func lastSegment(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return b[i+1:]
		}
	}
	return b
}
