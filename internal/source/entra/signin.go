package entra

import (
	"slices"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

// signInTypes names each sign-in log by its Monitor category, so that the
// same sign-in has the same type whether it came from Graph or Monitor.
var signInTypes = [...]struct {
	name     string
	activity event.Activity
	service  bool
}{
	signInNone:             {"SignInLogs", event.ActivityLogin, false},
	signInInteractive:      {"SignInLogs", event.ActivityLogin, false},
	signInNonInteractive:   {"NonInteractiveUserSignInLogs", event.ActivityTokenRefresh, false},
	signInServicePrincipal: {"ServicePrincipalSignInLogs", event.ActivityTokenIssue, true},
	signInManagedIdentity:  {"ManagedIdentitySignInLogs", event.ActivityTokenIssue, true},
	signInADFS:             {"ADFSSignInLogs", event.ActivityLogin, false},
}

var (
	timeSignInGraph   = [][]string{pathCreated}
	timeSignInMonitor = [][]string{pathPCreated}
)

// graphSignInType reads the type of a Graph signIn: beta and recent v1.0
// records say it in signInEventTypes; older ones are told apart by who
// signed in and isInteractive.
func graphSignInType(p *fastjson.Value) signInType {
	for _, t := range field.Array(p, "signInEventTypes") {
		switch string(t.GetStringBytes()) {
		case "servicePrincipal":
			return signInServicePrincipal
		case "managedIdentity":
			return signInManagedIdentity
		case "nonInteractiveUser":
			return signInNonInteractive
		case "interactiveUser":
			return signInInteractive
		}
	}
	if len(field.Bytes(p, "userPrincipalName")) == 0 && len(field.Bytes(p, "servicePrincipalId")) > 0 {
		if mi := field.Bytes(p, "managedIdentityType"); len(mi) > 0 && !field.EqualFold(mi, "none") {
			return signInManagedIdentity
		}
		return signInServicePrincipal
	}
	if b, ok := field.Bool(p, "isInteractive"); ok && !b {
		return signInNonInteractive
	}
	return signInInteractive
}

func (d *Decoder) signIn(dst []event.Event, r record, st signInType) ([]event.Event, error) {
	p := r.p
	if st == signInNone {
		st = graphSignInType(p)
	}
	typ := signInTypes[st]
	e := d.newEvent(r, "signin")
	e.VendorType = typ.name
	var err error
	if e.Time, err = eventTime(r, timeSignInGraph, timeSignInMonitor); err != nil {
		return dst, err
	}
	e.Category, e.Activity = event.CategoryAuthentication, typ.activity
	ids := d.s.Copy(field.Bytes(p, "id"), field.Bytes(p, "uniqueTokenIdentifier"),
		field.First(field.Bytes(p, "correlationId"), field.Bytes(r.v, "correlationId")), field.Bytes(p, "originalRequestId"))
	e.VendorID, e.RequestID = ids[0], ids[3]
	e.Risk = event.Risk{
		Level:   d.riskLevel(field.Bytes(p, "riskLevelDuringSignIn")),
		State:   enumValue(d.s.Get(field.Bytes(p, "riskState"))),
		Detail:  enumValue(d.s.Get(field.Bytes(p, "riskDetail"))),
		Signals: d.riskSignals(p),
	}

	if typ.service {
		name := field.First(field.Bytes(p, "servicePrincipalName"), field.Bytes(p, "appDisplayName"))
		e.Actor = event.Principal{
			ID:       d.s.Lower(field.First(name, field.Bytes(p, "appId"), field.Bytes(p, "servicePrincipalId"))),
			Name:     d.s.Get(name),
			Kind:     event.KindService,
			Type:     "ServicePrincipal",
			VendorID: d.s.Get(field.Bytes(p, "servicePrincipalId")),
		}
		if st == signInManagedIdentity {
			e.Actor.Type = "ManagedIdentity"
		}
	} else {
		e.Actor = event.Principal{
			ID:       d.s.Lower(field.Bytes(p, "userPrincipalName")),
			Name:     d.s.Get(field.Bytes(p, "userDisplayName")),
			Kind:     event.KindHuman,
			Type:     "User",
			VendorID: d.s.Get(field.Bytes(p, "userId")),
		}
	}
	if e.Actor.Name == "" && r.monitor {
		e.Actor.Name = d.s.Get(field.Bytes(r.v, "identity")) // Monitor's display name of the caller
	}
	// Graph signIns carry no tenantId: the resource tenant is the log's
	// tenant unless the sign-in crossed tenants, when it is ambiguous.
	home := field.Bytes(p, "homeTenantId")
	if e.Tenant == "" {
		if res := field.Bytes(p, "resourceTenantId"); len(home) == 0 || string(home) == string(res) {
			e.Tenant = d.s.Get(res)
		}
	}
	if len(home) > 0 && string(home) != e.Tenant {
		e.Actor.Account = d.s.Get(home) // a guest, or a sign-in to another tenant
	}

	e.Session = event.Session{
		ID:            d.s.Get(field.Bytes(p, "sessionId")),
		TokenID:       ids[1],
		CorrelationID: ids[2],
		AccessKeyID:   d.s.Get(field.Bytes(p, "servicePrincipalCredentialKeyId")),
	}

	e.Network.IP = d.s.FirstAddr(field.Bytes(p, "ipAddress"), field.Bytes(r.v, "callerIpAddress"))
	if n, ok := field.Int(p, "autonomousSystemNumber"); ok && n > 0 && n < 1<<32 {
		e.Network.ASN = uint32(n)
	}
	loc := field.Get(p, "location")
	if !field.IsObject(loc) {
		loc = field.Get(p, "locationDetails") // Log Analytics' name; its Location is a country code
	}
	e.Network.Geo = d.geo(loc)
	for _, nl := range field.Array(p, "networkLocationDetails") {
		if names := field.Array(nl, "networkNames"); len(names) > 0 {
			e.Network.Zone = d.s.Get(names[0].GetStringBytes())
			break
		}
	}
	// Identity Protection's anonymizedIPAddress detection is Entra's own
	// verdict that the address is a proxy, VPN or Tor exit.
	e.Network.Proxy = slices.Contains(e.Risk.Signals, "anonymizedIPAddress")

	e.Device.UserAgent = d.s.Get(field.Bytes(p, "userAgent"))
	fam := d.ua.Parse(e.Device.UserAgent)
	e.Device.Browser, e.Device.OS = fam.Browser, fam.OS
	if dd := field.Get(p, "deviceDetail"); field.IsObject(dd) {
		if e.Device.Browser == "" || e.Device.Browser == "Other" {
			if b := browserFamily(d.s.Get(field.Bytes(dd, "browser"))); b != "" {
				e.Device.Browser = b
			}
		}
		if e.Device.OS == "" {
			e.Device.OS = osFamily(d.s.Get(field.Bytes(dd, "operatingSystem")))
		}
		e.Device.ID = d.s.Get(field.Bytes(dd, "deviceId"))
		e.Device.Name = d.s.Get(field.Bytes(dd, "displayName"))
		e.Device.Managed = field.BoolPtr(dd, "isManaged")
		e.Device.Compliant = field.BoolPtr(dd, "isCompliant")
	}

	status := field.Get(p, "status")
	if code, ok := field.Int(status, "errorCode"); ok {
		e.Outcome.Code = d.intString(code)
		if code == 0 {
			e.Outcome.Result = event.ResultSuccess
		} else {
			e.Outcome.Result = event.ResultFailure
			e.Outcome.Reason = d.s.Get(field.Bytes(status, "failureReason"))
		}
	} else if r.monitor {
		d.monitorResult(&e, r.v)
	}
	if e.Outcome.Result == event.ResultFailure && e.Outcome.Reason == "" && r.monitor {
		e.Outcome.Reason = d.s.Get(field.Bytes(r.v, "resultDescription"))
	}
	e.Message = d.s.Get(field.Bytes(status, "additionalDetails"))

	e.Auth.Protocol = enumValue(d.s.Get(field.Bytes(p, "authenticationProtocol")))
	if typ.service {
		e.Auth.Method = enumValue(d.s.Get(field.Bytes(p, "clientCredentialType")))
	} else {
		e.Auth.Method = d.methods(p)
	}
	e.Auth.Interactive = field.BoolPtr(p, "isInteractive")
	if e.Auth.Interactive == nil {
		b := st == signInInteractive || st == signInADFS
		e.Auth.Interactive = &b
	}
	// The requirement is what the policies demanded; on a failed sign-in
	// it is unknown whether the second factor was satisfied. Entra also
	// says when an MFA claim in the token met it, whatever the requirement.
	switch req := field.Bytes(p, "authenticationRequirement"); {
	case e.Outcome.Result != event.ResultFailure && field.IndexFold(e.Message, "mfa requirement satisfied") >= 0,
		field.EqualFold(req, "multifactorauthentication") && e.Outcome.Result != event.ResultFailure:
		b := true
		e.Auth.MFA = &b
	case field.EqualFold(req, "singlefactorauthentication"):
		b := false
		e.Auth.MFA = &b
	}

	e.Resource = event.Resource{
		Type:    "app",
		ID:      d.s.Get(field.Bytes(p, "appId")),
		Name:    d.s.Get(field.Bytes(p, "appDisplayName")),
		Service: d.s.Get(field.Bytes(p, "resourceDisplayName")),
	}
	if e.Resource.ID == "" && e.Resource.Name == "" {
		e.Resource.Type = ""
	}
	return append(dst, e), nil
}

// monitorResult reads the envelope's resultType, which Monitor fills with
// the sign-in error code ("0" for success) or, in some exports, a word.
func (d *Decoder) monitorResult(e *event.Event, v *fastjson.Value) {
	rt := field.Get(v, "resultType")
	if rt == nil {
		return
	}
	if code, ok := field.Int(v, "resultType"); ok {
		e.Outcome.Code = d.intString(code)
		if code == 0 {
			e.Outcome.Result = event.ResultSuccess
		} else {
			e.Outcome.Result = event.ResultFailure
		}
		return
	}
	b := field.Bytes(v, "resultType")
	e.Outcome.Code = d.s.Get(b)
	switch {
	case field.EqualFold(b, "success"), field.EqualFold(b, "succeeded"):
		e.Outcome.Result = event.ResultSuccess
	case field.EqualFold(b, "failure"), field.EqualFold(b, "failed"):
		e.Outcome.Result = event.ResultFailure
	}
}

// methods joins the distinct methods of authenticationDetails with "+"
// ("password+push"), in the order the steps were taken. A factor carried
// over in the token counts only when it is all there is.
func (d *Decoder) methods(p *fastjson.Value) string {
	steps := field.Array(p, "authenticationDetails")
	if len(steps) == 0 {
		return ""
	}
	d.buf = d.buf[:0]
	previously := false
	for _, s := range steps {
		m := field.Bytes(s, "authenticationMethod")
		if len(m) == 0 {
			continue
		}
		name := methodName(m)
		if name == "previously_satisfied" {
			previously = true
			continue
		}
		start := len(d.buf)
		if start > 0 {
			d.buf = append(d.buf, '+')
		}
		if name != "" {
			d.buf = append(d.buf, name...)
		} else {
			d.buf = appendToken(d.buf, m)
		}
		if hasToken(d.buf[:start], d.buf[start+min(start, 1):]) {
			d.buf = d.buf[:start]
		}
	}
	if len(d.buf) == 0 && previously {
		return "previously_satisfied"
	}
	return d.s.Get(d.buf)
}

// methodName shortens the authentication methods Entra names in
// authenticationDetails; unknown ones are kept, lower-cased.
func methodName(m []byte) string {
	switch {
	case field.IndexFold(m, "previously satisfied") >= 0, field.IndexFold(m, "satisfied by token") >= 0:
		return "previously_satisfied"
	case field.IndexFold(m, "passwordless") >= 0:
		return "phone_signin"
	case field.IndexFold(m, "password") >= 0, field.IndexFold(m, "pass-through") >= 0:
		return "password"
	case field.IndexFold(m, "notification") >= 0:
		return "push"
	case field.IndexFold(m, "text message") >= 0, field.EqualFold(m, "sms"):
		return "sms"
	case field.IndexFold(m, "phone call") >= 0, field.IndexFold(m, "voice") >= 0:
		return "voice"
	case field.IndexFold(m, "oath") >= 0, field.IndexFold(m, "verification code") >= 0:
		return "otp"
	case field.IndexFold(m, "fido2") >= 0, field.IndexFold(m, "passkey") >= 0:
		return "fido2"
	case field.IndexFold(m, "windows hello") >= 0:
		return "whfb"
	case field.IndexFold(m, "certificate") >= 0, field.IndexFold(m, "x.509") >= 0:
		return "certificate"
	case field.IndexFold(m, "temporary access pass") >= 0:
		return "tap"
	}
	return ""
}

// appendToken appends b lower-cased with spaces as underscores.
func appendToken(dst, b []byte) []byte {
	n := len(dst)
	dst = field.AppendLower(dst, b)
	for i := n; i < len(dst); i++ {
		if dst[i] == ' ' {
			dst[i] = '_'
		}
	}
	return dst
}

// hasToken reports whether the "+"-joined list holds tok.
func hasToken(list, tok []byte) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != '+' {
			i++
		}
		if string(list[:i]) == string(tok) {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}

// browserFamily maps deviceDetail.browser ("Chrome 120.0.0", "Mobile
// Safari", "Edge 121") to useragent's families.
func browserFamily(b string) string {
	bb := b
	switch {
	case b == "", field.EqualFold(bb, "unknown"):
		return ""
	case field.IndexFold(bb, "edge") >= 0:
		return "Edge"
	case field.IndexFold(bb, "chrome") >= 0:
		return "Chrome"
	case field.IndexFold(bb, "firefox") >= 0:
		return "Firefox"
	case field.IndexFold(bb, "safari") >= 0:
		return "Safari"
	case field.IndexFold(bb, "ie ") == 0, field.EqualFold(bb, "ie"), field.IndexFold(bb, "internet explorer") >= 0:
		return "IE"
	case field.IndexFold(bb, "opera") >= 0:
		return "Opera"
	}
	// "Rich Client 5.2.8.0": the name without its version.
	for i := 1; i < len(b); i++ {
		if b[i-1] == ' ' && b[i] >= '0' && b[i] <= '9' {
			return b[:i-1]
		}
	}
	return b
}

// osFamily maps deviceDetail.operatingSystem ("Windows 10", "MacOs",
// "Ios") to useragent's families.
func osFamily(o string) string {
	ob := o
	switch {
	case o == "", field.EqualFold(ob, "unknown"):
		return ""
	case field.IndexFold(ob, "windows") >= 0:
		return "Windows"
	case field.IndexFold(ob, "ios") == 0, field.IndexFold(ob, "ipad") >= 0, field.IndexFold(ob, "iphone") >= 0:
		return "iOS"
	case field.IndexFold(ob, "mac") >= 0:
		return "macOS"
	case field.IndexFold(ob, "android") >= 0:
		return "Android"
	case field.IndexFold(ob, "chrome") >= 0:
		return "ChromeOS"
	case field.IndexFold(ob, "linux") >= 0, field.IndexFold(ob, "ubuntu") >= 0:
		return "Linux"
	}
	return o
}
