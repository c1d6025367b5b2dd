package sim

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// oktaType is a System Log event type with what Okta writes beside it.
type oktaType struct {
	typ, legacy, msg, severity, uri string
}

var (
	okPolicy     = &oktaType{"policy.evaluate_sign_on", "", "Evaluation of sign-on policy", "INFO", "/idp/idx/authenticators/poll"}
	okStart      = &oktaType{"user.session.start", "core.user_auth.login_success", "User login to Okta", "INFO", "/idp/idx/identify"}
	okStartFail  = &oktaType{"user.session.start", "core.user_auth.login_failed", "User login to Okta", "WARN", "/idp/idx/challenge/answer"}
	okPush       = &oktaType{"system.push.send_factor_verify_push", "", "A push verification was sent", "INFO", "/idp/idx/challenge"}
	okMFA        = &oktaType{"user.authentication.auth_via_mfa", "core.user.factor.attempt_success", "Authentication of user via MFA", "INFO", "/idp/idx/authenticators/poll"}
	okMFAFail    = &oktaType{"user.authentication.auth_via_mfa", "core.user.factor.attempt_fail", "Authentication of user via MFA", "WARN", "/idp/idx/authenticators/poll"}
	okDeny       = &oktaType{"user.mfa.okta_verify.deny_push", "core.user.factor.attempt_fail", "User rejected Okta push verify", "WARN", "/idp/idx/authenticators/poll"}
	okSSO        = &oktaType{"user.authentication.sso", "app.auth.sso", "User single sign on to app", "INFO", "/app/%s/sso/saml"}
	okEnd        = &oktaType{"user.session.end", "core.user_auth.logout_success", "User logout from Okta", "INFO", "/login/signout"}
	okAdminApp   = &oktaType{"user.session.access_admin_app", "", "User accessing Okta admin app", "INFO", "/home/admin-entry"}
	okToken      = &oktaType{"system.api_token.create", "api.token.create", "Create API token", "INFO", "/api/internal/tokens"}
	okGrant      = &oktaType{"user.account.privilege.grant", "core.user.admin_privilege.granted", "Grant user privilege", "INFO", "/api/internal/administrators/%s"}
	okGroupAdd   = &oktaType{"group.user_membership.add", "core.user_group_member.user_add", "Add user to group membership", "INFO", "/api/v1/groups/%s/users/%s"}
	okAppAssign  = &oktaType{"application.user_membership.add", "app.generic.provision.assign_user_to_app", "Add user to application membership", "INFO", "/api/v1/apps/%s/users"}
	okResetPw    = &oktaType{"user.account.reset_password", "core.user.config.user_status.password_reset", "Fired when the user's Okta password is reset", "INFO", "/api/v1/users/%s/lifecycle/reset_password"}
	okResetMFA   = &oktaType{"user.mfa.factor.reset_all", "core.user.factor.reset_all", "Reset all factors for user", "INFO", "/api/v1/users/%s/lifecycle/reset_factors"}
	okActivate   = &oktaType{"user.mfa.factor.activate", "core.user.factor.activate", "User set up Okta Verify factor", "INFO", "/idp/idx/credential/enroll"}
	okUpdatePw   = &oktaType{"user.account.update_password", "core.user.config.password_update.success", "User update password for Okta", "INFO", "/idp/idx/challenge/answer"}
	okDevEnroll  = &oktaType{"device.enrollment.create", "", "Device Enrollment Created", "INFO", "/idp/authenticators/enroll"}
	okAccessDeny = &oktaType{"user.authentication.sso", "app.auth.sso", "User single sign on to app", "WARN", "/app/%s/sso/saml"}
)

// oktaEv is one System Log record.
type oktaEv struct {
	typ *oktaType
	// actor is nil for Okta's own support staff (system@okta.com).
	actor *Person
	dev   *Device // nil: no client (a system-initiated event)
	net   *Network
	ip    netip.Addr
	// sess is the externalSessionId ("" → "unknown").
	sess   string
	result string // "" → SUCCESS
	reason string
	factor string
	app    *App
	target *Person
	name   string // token, group or privilege name
	id     string // token or group id
	push   string // pushOnlyResponseType
	// signin marks the events Okta evaluates behaviors and risk on.
	signin bool
}

func (e *oktaEv) source() Source { return SourceOkta }

func (e *oktaEv) write(w *writer, t time.Time) ([]byte, string, string) {
	b, id := w.okta.appendEvent(w.buf[:0], e, t)
	w.buf = b
	return b, id, e.typ.typ
}

// oktaEnc serializes System Log records; it remembers what Okta has seen
// of each person for the behaviors of sign-in events.
type oktaEnc struct {
	rng  *rand.Rand
	seen map[*Person]*oktaSeen
}

type oktaSeen struct {
	dts       []string
	ips       []netip.Addr // the last 32
	cities    []string
	states    []string
	countries []string
	lat, lon  float64
	at        time.Time
}

func newOktaEnc(rng *rand.Rand) *oktaEnc {
	return &oktaEnc{rng: rng, seen: map[*Person]*oktaSeen{}}
}

const (
	oktaSupportID = "00u0okta0support001"
	factorPush    = "OKTA_VERIFY_PUSH"
)

func (k *oktaEnc) appendEvent(b []byte, e *oktaEv, t time.Time) ([]byte, string) {
	ms := t.UnixMilli()
	b = append(b, `{"uuid":"`...)
	start := len(b)
	b = appendUUIDv1(b, ms, k.rng)
	id := string(b[start:])
	b = append(b, `","published":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","eventType":`...)
	b = strconv.AppendQuote(b, e.typ.typ)
	b = append(b, `,"version":"0","severity":`...)
	b = strconv.AppendQuote(b, e.typ.severity)
	b = append(b, `,"legacyEventType":`...)
	b = appendNullable(b, e.typ.legacy)
	b = append(b, `,"displayMessage":`...)
	b = strconv.AppendQuote(b, e.typ.msg)
	b = append(b, `,"actor":{"id":`...)
	if p := e.actor; p != nil {
		b = strconv.AppendQuote(b, p.OktaID)
		b = append(b, `,"type":"User","alternateId":`...)
		b = strconv.AppendQuote(b, p.Login)
		b = append(b, `,"displayName":`...)
		b = strconv.AppendQuote(b, p.Name)
	} else {
		b = append(b, `"`+oktaSupportID+`","type":"User","alternateId":"system@okta.com","displayName":"Okta System"`...)
	}
	b = append(b, `,"detailEntry":null},"client":`...)
	var pl *Place
	if e.net != nil {
		pl = e.net.Place
	}
	if e.dev == nil || pl == nil {
		b = append(b, `{"userAgent":null,"zone":null,"device":null,"id":null,"ipAddress":null,"geographicalContext":null}`...)
	} else {
		b = append(b, `{"userAgent":{"rawUserAgent":`...)
		b = strconv.AppendQuote(b, e.dev.UA)
		b = append(b, `,"os":`...)
		b = strconv.AppendQuote(b, e.dev.OS)
		b = append(b, `,"browser":`...)
		b = strconv.AppendQuote(b, e.dev.Browser)
		b = append(b, `},"zone":`...)
		if e.net.Zone != "" {
			b = strconv.AppendQuote(b, e.net.Zone)
		} else {
			b = append(b, `"null"`...)
		}
		b = append(b, `,"device":"Computer","id":null,"ipAddress":"`...)
		b = e.ip.AppendTo(b)
		b = append(b, `","geographicalContext":`...)
		b = appendGeo(b, pl)
		b = append(b, '}')
	}
	b = append(b, `,"device":null,"authenticationContext":{"authenticationProvider":`...)
	cred := ""
	switch e.typ {
	case okStart, okStartFail, okUpdatePw:
		cred = "PASSWORD"
	}
	if cred != "" {
		b = append(b, `"OKTA_AUTHENTICATION_PROVIDER","credentialProvider":"OKTA_CREDENTIAL_PROVIDER","credentialType":"PASSWORD"`...)
	} else {
		b = append(b, `null,"credentialProvider":null,"credentialType":null`...)
	}
	b = append(b, `,"issuer":null,"interface":null,"authenticationStep":0,"rootSessionId":`...)
	sess := e.sess
	if sess == "" {
		sess = "unknown"
	}
	b = strconv.AppendQuote(b, sess)
	b = append(b, `,"externalSessionId":`...)
	b = strconv.AppendQuote(b, sess)
	b = append(b, `},"outcome":{"result":`...)
	result := e.result
	if result == "" {
		result = "SUCCESS"
		if e.typ == okPolicy {
			result = "ALLOW"
		}
	}
	b = strconv.AppendQuote(b, result)
	b = append(b, `,"reason":`...)
	b = appendNullable(b, e.reason)
	b = append(b, `},"securityContext":`...)
	if e.dev == nil || e.net == nil || e.net.ASN == 0 {
		b = append(b, `{"asNumber":null,"asOrg":null,"isp":null,"domain":null,"isProxy":null}`...)
	} else {
		b = append(b, `{"asNumber":`...)
		b = strconv.AppendUint(b, uint64(e.net.ASN), 10)
		b = append(b, `,"asOrg":`...)
		b = strconv.AppendQuote(b, e.net.Org)
		b = append(b, `,"isp":`...)
		b = strconv.AppendQuote(b, e.net.ISP)
		b = append(b, `,"domain":`...)
		b = strconv.AppendQuote(b, e.net.Domain)
		b = append(b, `,"isProxy":`...)
		b = strconv.AppendBool(b, e.net.Proxy())
		b = append(b, '}')
	}
	b = append(b, `,"debugContext":{"debugData":{"requestId":"`...)
	reqStart := len(b)
	b = appendAlnum(b, k.rng, 26)
	reqID := b[reqStart:]
	b = append(b, `","requestUri":`...)
	uri := e.typ.uri
	switch {
	case e.app != nil:
		uri = replaceFirst(uri, e.app.Name)
	case e.target != nil:
		uri = replaceFirst(uri, e.target.OktaID)
	}
	if e.id != "" {
		uri = replaceFirst(uri, e.id)
	}
	b = strconv.AppendQuote(b, uri)
	b = append(b, `,"url":`...)
	b = strconv.AppendQuote(b, uri+"?")
	if e.dev != nil {
		b = append(b, `,"dtHash":`...)
		b = strconv.AppendQuote(b, e.dev.DTHash)
	}
	if e.factor != "" {
		b = append(b, `,"factor":`...)
		b = strconv.AppendQuote(b, e.factor)
	}
	if e.push != "" {
		b = append(b, `,"pushOnlyResponseType":`...)
		b = strconv.AppendQuote(b, e.push)
	}
	if e.typ == okGrant {
		b = append(b, `,"privilegeGranted":`...)
		b = strconv.AppendQuote(b, e.name)
	}
	if e.signin && e.actor != nil && e.dev != nil && pl != nil {
		b = k.appendBehaviors(b, e, pl, t)
	}
	b = append(b, `}},"transaction":{"type":"WEB","id":`...)
	b = strconv.AppendQuote(b, string(reqID))
	b = append(b, `,"detail":{}},"target":`...)
	b = k.appendTargets(b, e)
	b = append(b, `,"request":{"ipChain":`...)
	if e.dev == nil || pl == nil {
		b = append(b, `[]}}`...)
	} else {
		b = append(b, `[{"ip":"`...)
		b = e.ip.AppendTo(b)
		b = append(b, `","geographicalContext":`...)
		b = appendGeo(b, pl)
		b = append(b, `,"version":"V4","source":null}]}}`...)
	}
	return b, id
}

func (k *oktaEnc) appendTargets(b []byte, e *oktaEv) []byte {
	user := func(b []byte, p *Person) []byte {
		b = append(b, `{"id":`...)
		b = strconv.AppendQuote(b, p.OktaID)
		b = append(b, `,"type":"User","alternateId":`...)
		b = strconv.AppendQuote(b, p.Login)
		b = append(b, `,"displayName":`...)
		b = strconv.AppendQuote(b, p.Name)
		return append(b, `,"detailEntry":null}`...)
	}
	app := func(b []byte, a *App) []byte {
		b = append(b, `{"id":`...)
		b = strconv.AppendQuote(b, a.ID)
		b = append(b, `,"type":"AppInstance","alternateId":`...)
		b = strconv.AppendQuote(b, a.Label)
		b = append(b, `,"displayName":`...)
		b = strconv.AppendQuote(b, a.Label)
		return append(b, `,"detailEntry":{"signOnModeType":"SAML_2_0"}}`...)
	}
	other := func(b []byte, id, typ, name string) []byte {
		b = append(b, `{"id":`...)
		b = strconv.AppendQuote(b, id)
		b = append(b, `,"type":`...)
		b = strconv.AppendQuote(b, typ)
		b = append(b, `,"alternateId":"unknown","displayName":`...)
		b = strconv.AppendQuote(b, name)
		return append(b, `,"detailEntry":null}`...)
	}
	switch e.typ {
	case okSSO, okAccessDeny:
		b = append(b, '[')
		b = app(b, e.app)
		b = append(b, `,{"id":"0ua`...)
		b = append(b, e.actor.OktaID[3:]...)
		b = append(b, `","type":"AppUser","alternateId":`...)
		b = strconv.AppendQuote(b, e.actor.Login)
		b = append(b, `,"displayName":`...)
		b = strconv.AppendQuote(b, e.actor.Name)
		return append(b, `,"detailEntry":null}]`...)
	case okAdminApp:
		b = append(b, '[')
		b = app(b, adminApp)
		return append(b, ']')
	case okToken:
		b = append(b, '[')
		b = other(b, e.id, "Token", e.name)
		return append(b, ']')
	case okGrant, okResetPw, okResetMFA:
		b = append(b, '[')
		b = user(b, e.target)
		return append(b, ']')
	case okGroupAdd:
		b = append(b, '[')
		b = user(b, e.target)
		b = append(b, ',')
		b = other(b, e.id, "UserGroup", e.name)
		return append(b, ']')
	case okAppAssign:
		b = append(b, '[')
		b = user(b, e.target)
		b = append(b, ',')
		b = app(b, e.app)
		return append(b, ']')
	case okPush, okMFA, okMFAFail, okDeny, okActivate:
		b = append(b, '[')
		b = other(b, e.actor.phone, "AuthenticatorEnrollment", "Okta Verify")
		return append(b, ']')
	case okDevEnroll:
		b = append(b, '[')
		b = other(b, "guo"+e.dev.EntraID[:17], "Device", e.dev.Name)
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendBehaviors writes Okta's behavior evaluation and risk of a sign-in
// against what it has seen of the person before, and remembers this one.
func (k *oktaEnc) appendBehaviors(b []byte, e *oktaEv, pl *Place, t time.Time) []byte {
	s := k.seen[e.actor]
	if s == nil {
		s = &oktaSeen{}
		k.seen[e.actor] = s
	}
	first := s.at.IsZero()
	newDev := !first && !slices.Contains(s.dts, e.dev.DTHash)
	newIP := !first && !slices.Contains(s.ips, e.ip)
	newCity := !first && !slices.Contains(s.cities, pl.City)
	newState := !first && !slices.Contains(s.states, pl.Region)
	newCountry := !first && !slices.Contains(s.countries, pl.Country)
	velocity := false
	if !first {
		if h := t.Sub(s.at).Hours(); h > 0 {
			velocity = distanceKm(s.lat, s.lon, pl.Lat, pl.Lon)/h > 805
		} else {
			velocity = distanceKm(s.lat, s.lon, pl.Lat, pl.Lon) > 100
		}
	}
	pos := func(v bool) string {
		if v {
			return "POSITIVE"
		}
		return "NEGATIVE"
	}
	b = append(b, `,"behaviors":"{New Geo-Location=`...)
	b = append(b, pos(newCity)...)
	b = append(b, `, New Device=`...)
	b = append(b, pos(newDev)...)
	b = append(b, `, New IP=`...)
	b = append(b, pos(newIP)...)
	b = append(b, `, New State=`...)
	b = append(b, pos(newState)...)
	b = append(b, `, New Country=`...)
	b = append(b, pos(newCountry)...)
	b = append(b, `, Velocity=`...)
	b = append(b, pos(velocity)...)
	b = append(b, `, New City=`...)
	b = append(b, pos(newCity)...)
	b = append(b, `}","risk":"{`...)
	switch {
	case newDev && (newCountry || velocity):
		b = append(b, `reasons=Anomalous Device, Anomalous Location, level=HIGH`...)
	case newDev || newCountry:
		b = append(b, `reasons=Anomalous Device, level=MEDIUM`...)
	default:
		b = append(b, `level=LOW`...)
	}
	b = append(b, `}","threatSuspected":"false"`...)
	if !slices.Contains(s.dts, e.dev.DTHash) {
		s.dts = append(s.dts, e.dev.DTHash)
		if len(s.dts) > 8 {
			s.dts = s.dts[1:]
		}
	}
	if !slices.Contains(s.ips, e.ip) {
		s.ips = append(s.ips, e.ip)
		if len(s.ips) > 32 {
			s.ips = s.ips[1:]
		}
	}
	add := func(list *[]string, v string) {
		if !slices.Contains(*list, v) {
			*list = append(*list, v)
			if len(*list) > 16 {
				*list = (*list)[1:]
			}
		}
	}
	add(&s.cities, pl.City)
	add(&s.states, pl.Region)
	add(&s.countries, pl.Country)
	if e.typ == okStart && e.result == "" {
		s.lat, s.lon, s.at = pl.Lat, pl.Lon, t
	} else if first {
		s.lat, s.lon, s.at = pl.Lat, pl.Lon, t
	}
	return b
}

func replaceFirst(s, v string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 's' {
			return s[:i] + v + s[i+2:]
		}
	}
	return s
}

func appendAlnum(b []byte, rng *rand.Rand, n int) []byte {
	for range n {
		b = append(b, alnumChars[rng.IntN(len(alnumChars))])
	}
	return b
}

func appendGeo(b []byte, pl *Place) []byte {
	b = append(b, `{"city":`...)
	b = strconv.AppendQuote(b, pl.City)
	b = append(b, `,"state":`...)
	b = strconv.AppendQuote(b, pl.Region)
	b = append(b, `,"country":`...)
	b = strconv.AppendQuote(b, pl.Country)
	b = append(b, `,"postalCode":`...)
	b = strconv.AppendQuote(b, pl.Postal)
	b = append(b, `,"geolocation":{"lat":`...)
	b = strconv.AppendFloat(b, pl.Lat, 'f', 4, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, pl.Lon, 'f', 4, 64)
	b = append(b, `}}`...)
	return b
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return strconv.AppendQuote(b, s)
}

// WriteOkta writes n Okta System Log records (NDJSON, the /api/v1/logs
// LogEvent shape with every field Okta fills for these event types),
// starting at start, in event-time order: sign-ins, MFA, SSO to apps and
// sign-outs of the organization's people, one session after another with
// no regard to working hours. It is the quick stream benchmarks use; Run
// simulates the organization's weeks.
func (o *Org) WriteOkta(w io.Writer, start time.Time, n int) error {
	if len(o.People) == 0 {
		return nil
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := newOktaEnc(o.rng)
	t := start
	var buf []byte
	var evs []oktaEv
	for written := 0; written < n; {
		p := &o.People[o.rng.IntN(len(o.People))]
		p.Sessions++
		evs = o.quickSession(evs[:0], p)
		for i := range evs {
			if written == n {
				break
			}
			t = t.Add(time.Duration(200+o.rng.IntN(4000)) * time.Millisecond)
			buf, _ = enc.appendEvent(buf[:0], &evs[i], t)
			buf = append(buf, '\n')
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			written++
		}
	}
	return bw.Flush()
}

// quickSession returns the events of one sign-in session.
func (o *Org) quickSession(evs []oktaEv, p *Person) []oktaEv {
	net := &p.Network
	ip := p.Addr(0)
	dev := &p.Device
	trs := "trs" + alnum(o.rng, 22)
	sess := "102" + alnum(o.rng, 22)
	ev := func(typ *oktaType, sess string) oktaEv {
		return oktaEv{typ: typ, actor: p, dev: dev, net: net, ip: ip, sess: sess}
	}
	e := ev(okPolicy, trs)
	e.signin = true
	evs = append(evs, e)
	if o.rng.IntN(20) == 0 {
		f := ev(okStartFail, trs)
		f.result, f.reason = "FAILURE", "INVALID_CREDENTIALS"
		evs = append(evs, f)
	}
	push := ev(okPush, trs)
	push.factor = factorPush
	mfa := ev(okMFA, trs)
	mfa.factor = factorPush
	st := ev(okStart, sess)
	st.signin = true
	evs = append(evs, push, mfa, st)
	for range 1 + o.rng.IntN(5) {
		s := ev(okSSO, sess)
		s.app = &o.Apps[o.rng.IntN(len(o.Apps))]
		evs = append(evs, s)
	}
	if o.rng.IntN(3) == 0 {
		evs = append(evs, ev(okEnd, sess))
	}
	return evs
}
