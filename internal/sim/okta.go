package sim

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// oktaEvent is what one generated System Log record says.
type oktaEvent struct {
	t           time.Time
	typ, legacy string
	message     string
	result      string
	reason      string
	person      *Person
	session     string
	target      *App
	factor      string
	credential  string
}

// WriteOkta writes n Okta System Log records (NDJSON, the /api/v1/logs
// LogEvent shape with every field Okta fills for these event types),
// starting at start, in event-time order: sign-ins, MFA, SSO to apps, token
// grants and sign-outs of the organization's people.
func (o *Org) WriteOkta(w io.Writer, start time.Time, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	t := start
	buf := make([]byte, 0, 4096)
	for written := 0; written < n; {
		p := &o.People[o.rng.IntN(len(o.People))]
		p.Sessions++
		sess := "102" + alnum(o.rng, 22)
		evs := o.session(p, sess, &t)
		for _, e := range evs {
			if written == n {
				break
			}
			buf = o.appendOkta(buf[:0], &e)
			buf = append(buf, '\n')
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			written++
		}
	}
	return bw.Flush()
}

// session returns the events of one sign-in session.
func (o *Org) session(p *Person, sess string, t *time.Time) []oktaEvent {
	step := func() time.Time {
		*t = t.Add(time.Duration(200+o.rng.IntN(4000)) * time.Millisecond)
		return *t
	}
	var evs []oktaEvent
	evs = append(evs, oktaEvent{t: step(), typ: "policy.evaluate_sign_on", legacy: "", message: "Evaluation of sign-on policy",
		result: "ALLOW", reason: "Sign-on policy evaluation resulted in ALLOW", person: p, session: sess})
	if o.rng.IntN(20) == 0 {
		evs = append(evs, oktaEvent{t: step(), typ: "user.session.start", legacy: "core.user_auth.login_failed", message: "User login to Okta",
			result: "FAILURE", reason: "INVALID_CREDENTIALS", person: p, credential: "PASSWORD"})
	}
	evs = append(evs,
		oktaEvent{t: step(), typ: "system.push.send_factor_verify_push", message: "A push verification was sent", result: "SUCCESS", person: p, session: sess, factor: "OKTA_VERIFY_PUSH"},
		oktaEvent{t: step(), typ: "user.authentication.auth_via_mfa", legacy: "core.user.factor.attempt_success", message: "Authentication of user via MFA", result: "SUCCESS", person: p, session: sess, factor: "OKTA_VERIFY_PUSH"},
		oktaEvent{t: step(), typ: "user.session.start", legacy: "core.user_auth.login_success", message: "User login to Okta", result: "SUCCESS", person: p, session: sess, credential: "PASSWORD"},
	)
	for range 1 + o.rng.IntN(5) {
		a := &o.Apps[o.rng.IntN(len(o.Apps))]
		evs = append(evs, oktaEvent{t: step(), typ: "user.authentication.sso", legacy: "app.auth.sso", message: "User single sign on to app", result: "SUCCESS", person: p, session: sess, target: a})
	}
	if o.rng.IntN(3) == 0 {
		evs = append(evs, oktaEvent{t: step(), typ: "user.session.end", legacy: "core.user_auth.logout_success", message: "User logout from Okta", result: "SUCCESS", person: p, session: sess})
	}
	return evs
}

func (o *Org) appendOkta(b []byte, e *oktaEvent) []byte {
	p := e.person
	ip := p.Addr(0).String()
	b = append(b, `{"uuid":`...)
	b = strconv.AppendQuote(b, uuid(o.rng))
	b = append(b, `,"published":`...)
	b = strconv.AppendQuote(b, e.t.UTC().Format("2006-01-02T15:04:05.000Z"))
	b = append(b, `,"eventType":`...)
	b = strconv.AppendQuote(b, e.typ)
	b = append(b, `,"version":"0","severity":"INFO","legacyEventType":`...)
	if e.legacy == "" {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, e.legacy)
	}
	b = append(b, `,"displayMessage":`...)
	b = strconv.AppendQuote(b, e.message)
	b = append(b, `,"actor":{"id":`...)
	b = strconv.AppendQuote(b, p.OktaID)
	b = append(b, `,"type":"User","alternateId":`...)
	b = strconv.AppendQuote(b, p.Login)
	b = append(b, `,"displayName":`...)
	b = strconv.AppendQuote(b, p.Name)
	b = append(b, `,"detailEntry":null},"client":{"userAgent":{"rawUserAgent":`...)
	b = strconv.AppendQuote(b, p.Device.UA)
	b = append(b, `,"os":`...)
	b = strconv.AppendQuote(b, p.Device.OS)
	b = append(b, `,"browser":`...)
	b = strconv.AppendQuote(b, p.Device.Browser)
	b = append(b, `},"zone":"null","device":"Computer","id":null,"ipAddress":`...)
	b = strconv.AppendQuote(b, ip)
	b = append(b, `,"geographicalContext":`...)
	b = appendGeo(b, &p.Home)
	b = append(b, `},"device":null,"authenticationContext":{"authenticationProvider":`...)
	if e.credential != "" {
		b = append(b, `"OKTA_AUTHENTICATION_PROVIDER"`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"credentialProvider":null,"credentialType":`...)
	if e.credential != "" {
		b = strconv.AppendQuote(b, e.credential)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"issuer":null,"interface":null,"authenticationStep":0,"rootSessionId":`...)
	b = appendNullable(b, e.session)
	b = append(b, `,"externalSessionId":`...)
	b = appendNullable(b, e.session)
	b = append(b, `},"outcome":{"result":`...)
	b = strconv.AppendQuote(b, e.result)
	b = append(b, `,"reason":`...)
	b = appendNullable(b, e.reason)
	b = append(b, `},"securityContext":{"asNumber":`...)
	b = strconv.AppendUint(b, uint64(p.Network.ASN), 10)
	b = append(b, `,"asOrg":`...)
	b = strconv.AppendQuote(b, p.Network.Org)
	b = append(b, `,"isp":`...)
	b = strconv.AppendQuote(b, p.Network.ISP)
	b = append(b, `,"domain":`...)
	b = strconv.AppendQuote(b, p.Network.Domain)
	b = append(b, `,"isProxy":false},"debugContext":{"debugData":{"requestId":`...)
	reqID := alnum(o.rng, 26)
	b = strconv.AppendQuote(b, reqID)
	b = append(b, `,"dtHash":`...)
	b = strconv.AppendQuote(b, p.Device.DTHash)
	if e.factor != "" {
		b = append(b, `,"factor":`...)
		b = strconv.AppendQuote(b, e.factor)
	}
	b = append(b, `,"requestUri":"/idp/idx/authenticators/poll","threatSuspected":"false","url":"/idp/idx/authenticators/poll?","behaviors":"{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}","risk":"{level=LOW}"}},"transaction":{"type":"WEB","id":`...)
	b = strconv.AppendQuote(b, reqID)
	b = append(b, `,"detail":{}},"target":`...)
	if e.target != nil {
		b = append(b, `[{"id":`...)
		b = strconv.AppendQuote(b, e.target.ID)
		b = append(b, `,"type":"AppInstance","alternateId":`...)
		b = strconv.AppendQuote(b, e.target.Label)
		b = append(b, `,"displayName":`...)
		b = strconv.AppendQuote(b, e.target.Label)
		b = append(b, `,"detailEntry":{"signOnModeType":"SAML_2_0"}},{"id":"0ua`...)
		b = append(b, p.OktaID[3:]...)
		b = append(b, `","type":"AppUser","alternateId":`...)
		b = strconv.AppendQuote(b, p.Login)
		b = append(b, `,"displayName":`...)
		b = strconv.AppendQuote(b, p.Name)
		b = append(b, `,"detailEntry":null}]`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"request":{"ipChain":[{"ip":`...)
	b = strconv.AppendQuote(b, ip)
	b = append(b, `,"geographicalContext":`...)
	b = appendGeo(b, &p.Home)
	b = append(b, `,"version":"V4","source":null}]}}`...)
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
