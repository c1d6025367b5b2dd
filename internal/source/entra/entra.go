// Package entra decodes Microsoft Entra ID (Azure AD) logs into normalized
// events: sign-in logs (Graph signIn resources from auditLogs/signIns, v1.0
// and beta, and the SignInLogs, NonInteractiveUserSignInLogs,
// ServicePrincipalSignInLogs, ManagedIdentitySignInLogs and ADFSSignInLogs
// categories of Azure Monitor diagnostic-setting exports), audit logs (Graph
// directoryAudit resources and the AuditLogs category), and Identity
// Protection records (Graph riskDetection, servicePrincipalRiskDetection,
// riskyUser and riskyServicePrincipal resources and the UserRiskEvents,
// ServicePrincipalRiskEvents, RiskyUsers and RiskyServicePrincipals
// categories).
//
// A Monitor export wraps the Graph resource in properties (Log Analytics
// rows put its fields beside the envelope's); the envelope's time,
// tenantId, correlationId, callerIpAddress, resultType and identity fill
// in what the resource lacks. Keys are matched case-insensitively, as
// some exports lower-case them. Of the timestamps listed for each kind the
// first that parses is the event's time; a malformed one fails the record
// only when none parses, and none at all is an error naming the field.
//
// Sign-ins (Log "signin"): time ← createdDateTime (Monitor: then time,
// p_event_time); vendor id ← id; type ← the log's Monitor category, for
// Graph records from signInEventTypes, servicePrincipalId and
// isInteractive; category authentication, activity login (interactive),
// token_refresh (non-interactive) or token_issue (service principals and
// managed identities); actor ← userPrincipalName lower-cased, userId,
// userDisplayName, homeTenantId as account for guests (service principals
// and managed identities: servicePrincipalName or appDisplayName, kind
// service); session ← sessionId, uniqueTokenIdentifier, correlationId,
// servicePrincipalCredentialKeyId (the credential a service principal
// used, as Session.AccessKeyID); network ← ipAddress (else
// callerIpAddress), autonomousSystemNumber, location ("Unknown" dropped),
// networkLocationDetails (zone), anonymizedIPAddress in riskEventTypes_v2
// or riskEventTypes (proxy); device ← userAgent, deviceDetail; auth ←
// authenticationDetails methods ("password+push"; service principals:
// clientCredentialType), authenticationProtocol, isInteractive, and MFA
// from authenticationRequirement (multiFactorAuthentication: true unless
// the sign-in failed; singleFactorAuthentication: false) or from
// status.additionalDetails saying an MFA claim in the token satisfied it;
// outcome ← status.errorCode (0 is success) and failureReason (Monitor:
// resultType, resultDescription); message ← status.additionalDetails;
// resource ← appId and appDisplayName (type "app") and resourceDisplayName
// (service); risk ← riskLevelDuringSignIn, riskState, riskDetail and
// riskEventTypes_v2 (else riskEventTypes); proxy ← the
// anonymizedIPAddress detection; request id ← originalRequestId.
//
// Audits (Log "audit"): time ← activityDateTime (Monitor: then time,
// p_event_time); vendor id ← id; type ← activityDisplayName (else
// operationName), trimmed; category from Classify; actor ←
// initiatedBy.user (lower-cased userPrincipalName) or initiatedBy.app
// (kind service); network ← initiatedBy.user.ipAddress (else
// callerIpAddress, the ipaddr additional detail); targets ←
// targetResources (users by lower-cased userPrincipalName); resource ← the
// role granted or revoked (a Role target, Role.DisplayName or
// AppRole.Value), else the first target that is not a user, with
// loggedByService as service; outcome ← result, with resultReason as the
// reason of a failure and the message of a success; request id ←
// correlationId; user agent ← userAgent or the User-Agent additional
// detail.
//
// Risk (Log "risk"): type ← riskEventType ("riskyUser" and
// "riskyServicePrincipal" for risk-state records); time ← activityDateTime,
// detectedDateTime or riskLastUpdatedDateTime; risk ← riskLevel,
// riskState, riskDetail, and the riskEventType as its signal; request id ←
// requestId (the flagged sign-in's id); session ← correlationId and, for
// service principals, the first of keyIds; network ← ipAddress, location,
// proxy for anonymizedIPAddress. Detections made on a sign-in are
// authentication/other, the rest other/other: OCSF has no identity-risk
// class among those the model aligns with.
package entra

import (
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/useragent"
)

// Decoder decodes Entra ID records. Not safe for concurrent use.
type Decoder struct {
	s     field.Strings
	ua    useragent.Cache
	class map[classKey]class
	buf   []byte // scratch for lower-casing and joining, interned before use
}

type classKey struct{ activity, operationType string }

// New returns a Decoder.
func New() *Decoder {
	return &Decoder{
		class: make(map[classKey]class),
	}
}

// Source returns event.SourceEntra.
func (d *Decoder) Source() event.Source { return event.SourceEntra }

// kind is the kind of Entra record, which picks the decoding path.
type kind int

const (
	kindUnknown kind = iota
	kindSignIn
	kindAudit
	kindRiskDetection
	kindRiskyPrincipal
	kindNotDecoded
)

// signInType is the log a sign-in belongs to; it names the event type.
type signInType int

const (
	signInNone signInType = iota
	signInInteractive
	signInNonInteractive
	signInServicePrincipal
	signInManagedIdentity
	signInADFS
)

// categories maps the Monitor diagnostic categories of the
// microsoft.aadiam provider, lower-cased, to what they hold. Entra's
// categories that are not decoded map to kindNotDecoded: Detect still
// claims them so that no other decoder does, and Decode says why it fails.
var categories = map[string]struct {
	k kind
	s signInType
}{
	"signinlogs":                          {kindSignIn, signInInteractive},
	"noninteractiveusersigninlogs":        {kindSignIn, signInNonInteractive},
	"serviceprincipalsigninlogs":          {kindSignIn, signInServicePrincipal},
	"microsoftserviceprincipalsigninlogs": {kindSignIn, signInServicePrincipal},
	"managedidentitysigninlogs":           {kindSignIn, signInManagedIdentity},
	"adfssigninlogs":                      {kindSignIn, signInADFS},
	"auditlogs":                           {kindAudit, signInNone},
	"customsecurityattributeauditlogs":    {kindAudit, signInNone},
	"userriskevents":                      {kindRiskDetection, signInNone},
	"serviceprincipalriskevents":          {kindRiskDetection, signInNone},
	"riskyusers":                          {kindRiskyPrincipal, signInNone},
	"riskyserviceprincipals":              {kindRiskyPrincipal, signInNone},
	"provisioninglogs":                    {kindNotDecoded, signInNone},
	"microsoftgraphactivitylogs":          {kindNotDecoded, signInNone},
	"azureadgraphactivitylogs":            {kindNotDecoded, signInNone},
	"networkaccesstrafficlogs":            {kindNotDecoded, signInNone},
	"networkaccessalerts":                 {kindNotDecoded, signInNone},
	"enrichedoffice365auditlogs":          {kindNotDecoded, signInNone},
	"remotenetworkhealthlogs":             {kindNotDecoded, signInNone},
	"b2crequestlogs":                      {kindNotDecoded, signInNone},
}

// category looks up a Monitor category without allocating.
func (d *Decoder) category(b []byte) (kind, signInType, bool) {
	if len(b) == 0 || len(b) > 64 {
		return kindUnknown, signInNone, false
	}
	d.buf = field.AppendLower(d.buf[:0], b)
	c, ok := categories[string(d.buf)]
	return c.k, c.s, ok
}

// Detect reports whether v is an Entra record: a Monitor export whose
// category is one of Entra's (AuditLogs only with directoryAudit
// properties, as a few Azure services reuse that name) or whose resourceId
// is under the microsoft.aadiam provider, or a bare Graph signIn,
// directoryAudit, risk detection or risky-principal resource. Azure
// Activity Log records (categories Administrative, Policy, … under
// /subscriptions) never match.
func (d *Decoder) Detect(v *fastjson.Value) bool {
	if v == nil || v.Type() != fastjson.TypeObject {
		return false
	}
	if k, _, ok := d.category(field.Bytes(v, "category")); ok {
		if k != kindAudit {
			return true
		}
		return looksLikeAudit(field.Get(v, "properties")) || looksLikeAudit(v)
	}
	if isAADResource(field.Bytes(v, "resourceId")) {
		return true
	}
	if field.Has(v, "operationName") {
		return false // an Azure Monitor record of some other provider
	}
	return graphKind(v) != kindUnknown
}

// isAADResource reports whether an ARM resource id is under the
// microsoft.aadiam provider, where Entra's diagnostic records live.
func isAADResource(id []byte) bool {
	return field.IndexFold(id, "/providers/microsoft.aadiam") >= 0
}

func looksLikeAudit(p *fastjson.Value) bool {
	return field.IsObject(p) && (field.Has(p, "activityDisplayName") || field.Has(p, "activityDateTime") ||
		field.Has(p, "initiatedBy") || field.Has(p, "loggedByService") || field.Has(p, "targetResources"))
}

// graphKind tells the Graph resources apart by the fields only each has.
func graphKind(p *fastjson.Value) kind {
	switch {
	case !field.IsObject(p):
		return kindUnknown
	case field.Has(p, "riskEventType") && (field.Has(p, "detectedDateTime") || field.Has(p, "activityDateTime")):
		return kindRiskDetection
	case field.Has(p, "riskLastUpdatedDateTime") && field.Has(p, "riskState"):
		return kindRiskyPrincipal
	case field.Has(p, "activityDisplayName") && field.Has(p, "activityDateTime") &&
		(field.Has(p, "initiatedBy") || field.Has(p, "loggedByService") || field.Has(p, "targetResources")):
		return kindAudit
	case field.Has(p, "createdDateTime") &&
		(field.Has(p, "userPrincipalName") || field.Has(p, "servicePrincipalId") || field.Has(p, "appId")) &&
		(field.Has(p, "status") || field.Has(p, "ipAddress") || field.Has(p, "isInteractive") ||
			field.Has(p, "clientAppUsed") || field.Has(p, "signInEventTypes")):
		return kindSignIn
	}
	return kindUnknown
}

// payloadKind is graphKind made lenient for Monitor payloads, whose
// category already said they are Entra's.
func payloadKind(p *fastjson.Value) kind {
	if k := graphKind(p); k != kindUnknown {
		return k
	}
	switch {
	case !field.IsObject(p):
		return kindUnknown
	case field.Has(p, "riskEventType"):
		return kindRiskDetection
	case field.Has(p, "riskLastUpdatedDateTime"):
		return kindRiskyPrincipal
	case looksLikeAudit(p):
		return kindAudit
	case field.Has(p, "createdDateTime") || field.Has(p, "userPrincipalName") || field.Has(p, "servicePrincipalId"):
		return kindSignIn
	}
	return kindUnknown
}

// record is one Entra record being decoded: the envelope (v) and the Graph
// resource (p). For a bare Graph resource both are the same value.
type record struct {
	v, p    *fastjson.Value
	monitor bool
}

// Decode appends the event of one Entra record to dst.
func (d *Decoder) Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return dst, field.Errorf("record", "not a JSON object")
	}
	r := record{v: v, p: v}
	props := field.Get(v, "properties")
	cat := field.Bytes(v, "category")
	r.monitor = field.IsObject(props) || field.Has(v, "operationName")
	k, st := kindUnknown, signInNone
	if r.monitor {
		// Log Analytics rows are flat: the resource's fields sit beside the
		// envelope's (CreatedDateTime, UserPrincipalName, …).
		if field.IsObject(props) {
			r.p = props
		}
		var known bool
		if k, st, known = d.category(cat); !known {
			k = payloadKind(r.p)
		}
	} else {
		k = graphKind(v)
	}
	switch k {
	case kindSignIn:
		return d.signIn(dst, r, st)
	case kindAudit:
		return d.audit(dst, r)
	case kindRiskDetection:
		return d.riskDetection(dst, r)
	case kindRiskyPrincipal:
		return d.riskyPrincipal(dst, r)
	case kindNotDecoded:
		return dst, field.Errorf("category", "Entra log category not decoded")
	}
	if r.monitor {
		return dst, field.Errorf("properties", "not an Entra signIn, directoryAudit or risk record")
	}
	return dst, field.Errorf("record", "not an Entra signIn, directoryAudit or risk record")
}

// newEvent starts an event with what every Entra record has the same way.
func (d *Decoder) newEvent(r record, log string) event.Event {
	var e event.Event
	e.Source = event.SourceEntra
	e.Log = log
	e.Tenant = d.str(r.v, r.p, "tenantId")
	return e
}

// str returns the envelope's field when set, else the payload's: Monitor
// exports repeat some fields at both levels and fill either.
func (d *Decoder) str(v, p *fastjson.Value, key string) string {
	if b := field.Bytes(v, key); len(b) > 0 {
		return d.s.Get(b)
	}
	if p != v {
		return d.s.Get(field.Bytes(p, key))
	}
	return ""
}

// Paths of the timestamps, declared once so that looking them up does not
// allocate.
var (
	pathTime      = []string{"time"}
	pathPTime     = []string{"p_event_time"}
	pathCreated   = []string{"createdDateTime"}
	pathActivity  = []string{"activityDateTime"}
	pathDetected  = []string{"detectedDateTime"}
	pathRiskLast  = []string{"riskLastUpdatedDateTime"}
	pathPCreated  = []string{"properties", "createdDateTime"}
	pathPActivity = []string{"properties", "activityDateTime"}
	pathPDetected = []string{"properties", "detectedDateTime"}
	pathPRiskLast = []string{"properties", "riskLastUpdatedDateTime"}
)

// eventTime returns the first of the record's timestamps that parses: the
// resource's own fields in order, then for Monitor exports the envelope's
// time, then Panther's p_event_time. When none parses it reports the first
// one that is present but malformed, or else that the main field is
// missing. A time is never invented.
func eventTime(r record, graph, monitor [][]string) (time.Time, error) {
	paths := graph
	if r.p != r.v {
		paths = monitor
	}
	var bad error
	try := func(p []string) (time.Time, bool) {
		x := field.Get(r.v, p...)
		if x == nil || x.Type() == fastjson.TypeNull ||
			(x.Type() == fastjson.TypeString && len(x.GetStringBytes()) == 0) {
			return time.Time{}, false
		}
		t, err := field.Time(r.v, p...)
		if err != nil {
			if bad == nil {
				bad = err
			}
			return time.Time{}, false
		}
		return t, true
	}
	for _, p := range paths {
		if t, ok := try(p); ok {
			return t, nil
		}
	}
	if r.monitor {
		if t, ok := try(pathTime); ok {
			return t, nil
		}
	}
	if t, ok := try(pathPTime); ok {
		return t, nil
	}
	if bad != nil {
		return time.Time{}, bad
	}
	if r.monitor {
		return time.Time{}, field.Missing("time")
	}
	return time.Time{}, field.Missing(paths[0][0])
}

// intString interns the decimal form of n without allocating once seen.
func (d *Decoder) intString(n int64) string {
	d.buf = strconv.AppendInt(d.buf[:0], n, 10)
	return d.s.Get(d.buf)
}

// geo reads a Graph signInLocation: city, state, countryOrRegion and
// geoCoordinates.
func (d *Decoder) geo(loc *fastjson.Value) event.Geo {
	if !field.IsObject(loc) {
		return event.Geo{}
	}
	g := event.Geo{ // "Unknown" is no place: impossible travel must not compare it
		Country: enumValue(d.s.Get(field.Bytes(loc, "countryOrRegion"))),
		Region:  enumValue(d.s.Get(field.Bytes(loc, "state"))),
		City:    enumValue(d.s.Get(field.Bytes(loc, "city"))),
	}
	lat, okLat := field.Float(loc, "geoCoordinates", "latitude")
	lon, okLon := field.Float(loc, "geoCoordinates", "longitude")
	if okLat && okLon && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		g.Point = &event.Point{Lat: lat, Lon: lon}
	}
	return g
}

// stringsContain reports whether the string array at key holds s.
// riskSignals returns Identity Protection's detections on a sign-in
// (riskEventTypes_v2, else the older riskEventTypes), placeholders left out.
func (d *Decoder) riskSignals(p *fastjson.Value) []string {
	for _, key := range []string{"riskEventTypes_v2", "riskEventTypes"} {
		var out []string
		for _, x := range field.Array(p, key) {
			if s := enumValue(d.s.Get(x.GetStringBytes())); s != "" {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// riskLevel returns a risk level lower-cased, placeholders dropped.
func (d *Decoder) riskLevel(b []byte) string {
	switch l := d.s.Lower(b); l {
	case "none", "hidden", "unknownfuturevalue", "unknown":
		return ""
	default:
		return l
	}
}

// enumValue drops Graph's placeholder enum values.
func enumValue(s string) string {
	switch s {
	case "none", "None", "hidden", "unknownFutureValue", "Unknown", "unknown":
		return ""
	}
	return s
}
