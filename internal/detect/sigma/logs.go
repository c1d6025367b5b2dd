package sigma

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// Logsource routing and field mappings: one table per log. A rule field
// not in its log's table is looked up as a dotted path on the raw record,
// keys matched without regard to case; the tables map the names SigmaHQ
// rules use where they assume another export shape than the record Vigil
// has. docs/sigma.md lists them.

// Fast accessors: a field's value as the decoder already put it in the
// normalized event, so that the rule index needs no parse. Each returns
// false when the event cannot tell.
func fastVendorType(e *event.Event) (string, bool) { return e.VendorType, e.VendorType != "" }
func fastMessage(e *event.Event) (string, bool)    { return e.Message, e.Message != "" }

var oktaLog = &vlog{
	name: "Okta System Log", product: "okta", service: "okta",
	specs: map[string]spec{
		"eventtype":      {paths: []string{"eventType"}, fast: fastVendorType, fastName: "vendor_type"},
		"displaymessage": {paths: []string{"displayMessage"}, fast: fastMessage, fastName: "message"},
	},
}

var cloudTrailLog = &vlog{
	name: "AWS CloudTrail", product: "aws", service: "cloudtrail",
	specs: map[string]spec{
		"eventname": {paths: []string{"eventName"}, fastName: "vendor_type", fast: func(e *event.Event) (string, bool) {
			// An insight's type stands in for its missing eventName.
			return e.VendorType, e.VendorType != "" && e.Log != "insight"
		}},
	},
	roots: func(c *evalCtx, v *fastjson.Value) {
		c.root = v
		// An EventBridge event carries the record in detail.
		if bytes.HasSuffix(field.Bytes(v, "detail-type"), []byte("via CloudTrail")) {
			if d := field.Get(v, "detail"); field.IsObject(d) {
				c.root = d
			}
		}
	},
}

// Entra: a Graph resource, a Monitor export (the resource in properties,
// beside an envelope) or a Log Analytics row (the resource's fields
// capitalized beside the envelope's). Rule fields are looked up on the
// record, then in properties; "properties.x" also as "x".
func entraRoots(c *evalCtx, v *fastjson.Value) {
	c.root = v
	if p := field.Get(v, "properties"); field.IsObject(p) {
		c.alt = p
	}
}

var entraSignInLog = &vlog{
	name: "Entra ID sign-in logs", product: "azure", service: "signinlogs",
	roots: entraRoots, stripProps: true,
	specs: map[string]spec{
		// Log Analytics' ResultType is the Graph status.errorCode.
		"resulttype": {paths: []string{"status.errorCode", "ResultType"}, fastName: "outcome_code", fastNum: true,
			fast: func(e *event.Event) (string, bool) { return e.Outcome.Code, e.Outcome.Code != "" }},
		"resultdescription": {paths: []string{"status.failureReason", "ResultDescription"}},
		// Log Analytics' Status is the status object: "Success" or
		// "Failure" by its error code, and its texts.
		"status":    {derive: signInStatus},
		"clientapp": {paths: []string{"clientAppUsed"}},
		"username":  {paths: []string{"userPrincipalName"}},
		"ipaddress": {paths: []string{"ipAddress", "callerIpAddress"}},
	},
}

// auditActivity is the activity's name: Graph activityDisplayName, the
// Monitor and Log Analytics OperationName; SigmaHQ rules also call it
// properties.message and ActivityType.
var auditActivity = spec{paths: []string{"activityDisplayName", "operationName"}, fastName: "vendor_type", fast: func(e *event.Event) (string, bool) {
	return e.VendorType, e.VendorType != ""
}}

var entraAuditLog = &vlog{
	name: "Entra ID audit logs", product: "azure", service: "auditlogs",
	roots: entraRoots, stripProps: true,
	specs: map[string]spec{
		"properties.message":  auditActivity,
		"operationname":       auditActivity,
		"activitydisplayname": auditActivity,
		"activitytype":        auditActivity,
		// The audit category, not the Monitor envelope's "AuditLogs".
		"category": {paths: []string{"properties.category", "category"}},
		// The outcome (success, failure) and its reason.
		"status":                {paths: []string{"result", "resultReason"}, union: true},
		"failure_status_reason": {paths: []string{"resultReason"}},
		"target":                {paths: []string{"targetResources"}},
	},
	kv:       []kvSpec{{prefix: "additionaldetails.", array: "additionalDetails", key: "key", value: "value"}},
	fallback: modifiedProperty,
}

var entraRiskLog = &vlog{
	name: "Entra ID Identity Protection", product: "azure", service: "riskdetection",
	roots: entraRoots, stripProps: true,
	specs: map[string]spec{
		"riskeventtype": {paths: []string{"riskEventType"}, fastName: "vendor_type", fast: func(e *event.Event) (string, bool) {
			return e.VendorType, e.VendorType != "" && e.VendorType != "riskyUser" && e.VendorType != "riskyServicePrincipal"
		}},
	},
}

var azureActivityLog = &vlog{
	name: "Azure Activity Log", product: "azure", service: "activitylogs",
	roots: entraRoots, stripProps: true,
	specs: map[string]spec{
		// The REST shape nests the name in operationName.value.
		"operationname": {paths: []string{"operationName.value", "operationName"}, fast: fastVendorType, fastName: "vendor_type"},
	},
}

// Vigil-specific services for the two resource logs that arrive with the
// Activity Log; no SigmaHQ rule targets their shapes.
var (
	aksAuditLog   = &vlog{name: "AKS kube-audit", product: "azure", service: "aks_audit", roots: entraRoots, stripProps: true}
	azStorageLog  = &vlog{name: "Azure Storage", product: "azure", service: "storage", roots: entraRoots, stripProps: true}
	staticLogs    = []*vlog{oktaLog, cloudTrailLog, entraSignInLog, entraAuditLog, entraRiskLog, azureActivityLog, aksAuditLog, azStorageLog}
	workspaceSpec = map[string]spec{
		// SigmaHQ's Workspace rules name fields as Cloud Logging exports
		// them (protoPayload.…) or as flattened event fields; Vigil has
		// the Admin SDK activity, one normalized event per entry of its
		// events.
		"eventname":                             {derive: wsEventName, literal: true, fast: wsFastName, fastName: "vendor_type"},
		"protopayload.metadata.event.eventname": {derive: wsEventName, literal: true, fast: wsFastName, fastName: "vendor_type"},
		"eventtype":                             {derive: wsEventType, literal: true},
		"protopayload.metadata.event.eventtype": {derive: wsEventType, literal: true},
		"eventservice":                          {derive: wsService},
		"protopayload.servicename":              {derive: wsService},
		"actor.email":                           {paths: []string{"actor.email"}},
		"protopayload.authenticationinfo.principalemail": {paths: []string{"actor.email"}},
	}
)

func wsFastName(e *event.Event) (string, bool) {
	t := strings.TrimSpace(e.VendorType)
	return t, t != ""
}

// workspaceLog returns the log of one Workspace application.
func workspaceLog(app string) *vlog {
	return &vlog{
		name: "Google Workspace " + app, product: "gcp", service: "google_workspace." + strings.ToLower(app),
		specs: workspaceSpec, roots: wsRoots, fallback: wsParameter,
	}
}

var ocsfLog = &vlog{name: "OCSF", product: "ocsf"}

// route returns the log an event belongs to, or nil.
func route(e *event.Event) *vlog {
	switch e.Source {
	case event.SourceOkta:
		return oktaLog
	case event.SourceCloudTrail:
		return cloudTrailLog
	case event.SourceEntra:
		switch e.Log {
		case "signin":
			return entraSignInLog
		case "audit":
			return entraAuditLog
		case "risk":
			return entraRiskLog
		}
	case event.SourceAzureActivity:
		switch e.Log {
		case "activity":
			return azureActivityLog
		case "kube-audit":
			return aksAuditLog
		case "storage":
			return azStorageLog
		}
	case event.SourceGWorkspace:
		if e.Log != "" {
			return workspaceLog(e.Log)
		}
	case event.SourceOCSF:
		return ocsfLog
	}
	return nil
}

// knownLogsource reports whether a rule's logsource selects any log Vigil
// reads.
func knownLogsource(ls Logsource) bool {
	for _, l := range staticLogs {
		if l.matches(ls) {
			return true
		}
	}
	if ocsfLog.matches(ls) {
		return true
	}
	return (ls.Product == "" || ls.Product == "gcp") && ls.Category == "" &&
		(ls.Service == "" || strings.HasPrefix(ls.Service, "google_workspace."))
}

// signInStatus derives Log Analytics' Status of a sign-in.
func signInStatus(c *evalCtx, dst []value) []value {
	p := newPath("status")
	var st []value
	st = c.walkRoots(&p, st)
	for _, s := range st {
		if s.v == nil || s.v.Type() != fastjson.TypeObject {
			dst = append(dst, s)
			continue
		}
		if code, ok := field.Int(s.v, "errorCode"); ok {
			if code == 0 {
				dst = derived(c, dst, "Success")
			} else {
				dst = derived(c, dst, "Failure")
			}
		}
		for _, k := range [...]string{"additionalDetails", "failureReason"} {
			if x := field.Get(s.v, k); x != nil && x.Type() == fastjson.TypeString {
				dst = append(dst, value{v: x})
			}
		}
	}
	return dst
}

// modifiedProperty finds an Entra audit field by the display name of a
// modified property of a target ("ConsentContext.IsAdminConsent"): its
// new value, unquoted.
func modifiedProperty(c *evalCtx, name string, dst []value) []value {
	for _, root := range [2]*fastjson.Value{c.root, c.alt} {
		if root == nil {
			continue
		}
		found := false
		for _, t := range field.Array(root, "targetResources") {
			for _, mp := range field.Array(t, "modifiedProperties") {
				if !field.EqualFold(field.Bytes(mp, "displayName"), name) {
					continue
				}
				x := field.Get(mp, "newValue")
				if x == nil {
					continue
				}
				found = true
				if x.Type() == fastjson.TypeString {
					b := x.GetStringBytes()
					if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
						b = b[1 : len(b)-1]
					}
					dst = append(dst, value{s: b})
					continue
				}
				dst = append(dst, value{v: x})
			}
		}
		if found {
			return dst
		}
	}
	return dst
}

// wsRoots picks the entry of the activity's events this event came from:
// the decoder numbers them "#i" at the end of the vendor id when there are
// several. A flattened record is its own event.
func wsRoots(c *evalCtx, v *fastjson.Value) {
	c.root = v
	c.wsEv = v
	evs := field.Array(v, "events")
	if len(evs) == 0 {
		return
	}
	i := 0
	if id := c.e.VendorID; id != "" {
		if h := strings.LastIndexByte(id, '#'); h >= 0 {
			if n, err := strconv.Atoi(id[h+1:]); err == nil && n >= 0 && n < len(evs) {
				i = n
			}
		}
	}
	c.wsEv = evs[i]
}

func wsEventName(c *evalCtx, dst []value) []value {
	return trimmedString(field.Get(c.wsEv, "name"), dst)
}

func wsEventType(c *evalCtx, dst []value) []value {
	return trimmedString(field.Get(c.wsEv, "type"), dst)
}

// wsService is the Cloud Logging service name of the application.
func wsService(c *evalCtx, dst []value) []value {
	app := field.Bytes(c.root, "id", "applicationName")
	if len(app) == 0 {
		return dst
	}
	return derived(c, dst, string(app), ".googleapis.com")
}

// wsParameter finds a field among the event's parameters, in the API's
// list of {name, value|multiValue|intValue|boolValue} or an export's object.
func wsParameter(c *evalCtx, name string, dst []value) []value {
	ps := field.Get(c.wsEv, "parameters")
	if ps == nil {
		return dst
	}
	if ps.Type() == fastjson.TypeObject {
		p := newPath(name)
		return walk(ps, &p, 0, dst, 0)
	}
	a, _ := ps.Array()
	for _, x := range a {
		if !field.EqualFold(field.Bytes(x, "name"), name) {
			continue
		}
		for _, k := range [...]string{"value", "multiValue", "intValue", "boolValue", "multiIntValue", "messageValue"} {
			if y := x.Get(k); y != nil {
				if y.Type() == fastjson.TypeArray {
					ys, _ := y.Array()
					for _, z := range ys {
						dst = append(dst, value{v: z})
					}
				} else {
					dst = append(dst, value{v: y})
				}
				break
			}
		}
	}
	return dst
}

// vigilSpecs are fields every log has: the normalized event's, for rules
// and correlations that span sources (group-by vigil.identity).
var vigilSpecs = map[string]spec{
	"vigil.source":   {derive: vigilField(func(e *event.Event) string { return string(e.Source) })},
	"vigil.log":      {derive: vigilField(func(e *event.Event) string { return e.Log })},
	"vigil.type":     {derive: vigilField(func(e *event.Event) string { return e.VendorType })},
	"vigil.identity": {derive: vigilField(func(e *event.Event) string { return e.Actor.ID })},
	"vigil.session":  {derive: vigilField(func(e *event.Event) string { return e.Session.Key() })},
	"vigil.tenant":   {derive: vigilField(func(e *event.Event) string { return e.Tenant })},
	"vigil.category": {derive: vigilField(func(e *event.Event) string { return string(e.Category) })},
	"vigil.activity": {derive: vigilField(func(e *event.Event) string { return string(e.Activity) })},
	"vigil.result":   {derive: vigilField(func(e *event.Event) string { return string(e.Outcome.Result) })},
	"vigil.country":  {derive: vigilField(func(e *event.Event) string { return e.Network.Geo.Country })},
	"vigil.source_ip": {derive: func(c *evalCtx, dst []value) []value {
		if !c.e.Network.IP.IsValid() {
			return dst
		}
		start := len(c.dbuf)
		c.dbuf = c.e.Network.IP.AppendTo(c.dbuf)
		return append(dst, value{s: c.dbuf[start:len(c.dbuf):len(c.dbuf)]})
	}},
}

func vigilField(get func(e *event.Event) string) func(c *evalCtx, dst []value) []value {
	return func(c *evalCtx, dst []value) []value {
		if s := get(c.e); s != "" {
			return derived(c, dst, s)
		}
		return dst
	}
}
