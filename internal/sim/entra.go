package sim

import (
	"net/netip"
	"strconv"
	"time"
)

// entraApp is an application people sign in to through Entra ID, and the
// resource its tokens are for.
type entraApp struct {
	id, name, resource, resourceID string
}

var (
	enOfficeHome = &entraApp{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000"}
	enOutlookWeb = &entraApp{"9199bf20-a13f-4107-85dc-02114787ef48", "One Outlook Web", "Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"}
	enTeamsWeb   = &entraApp{"5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Microsoft Teams Web Client", "Microsoft Graph", "00000003-0000-0000-c000-000000000000"}
	enAzure      = &entraApp{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013"}
)

var entraRefreshApps = []*entraApp{enOutlookWeb, enTeamsWeb, enOutlookWeb, enOfficeHome}

// entraEv is one Graph signIn record. The organization federates Microsoft
// 365 to Okta, so interactive sign-ins follow an Okta SSO and carry its MFA
// claim.
type entraEv struct {
	p           *Person
	dev         *Device // the person's laptop, or an attacker's (EntraID "": unregistered)
	net         *Network
	ip          netip.Addr
	sess        string
	app         *entraApp
	interactive bool
	errCode     int
	failure     string
	risk        string   // riskLevelDuringSignIn ("" → none)
	riskEvents  []string // riskEventTypes_v2
}

func (e *entraEv) source() Source { return SourceEntra }

func (e *entraEv) write(w *writer, t time.Time) ([]byte, string, string) {
	b, id := appendEntra(w.buf[:0], w, e, t)
	w.buf = b
	typ := "SignInLogs"
	if !e.interactive {
		typ = "NonInteractiveUserSignInLogs"
	}
	return b, id, typ
}

func appendEntra(b []byte, w *writer, e *entraEv, t time.Time) ([]byte, string) {
	p, rng := e.p, w.rng
	b = append(b, `{"id":"`...)
	start := len(b)
	b = appendUUID(b, rng)
	id := string(b[start:])
	created := t.UTC().Truncate(time.Second)
	b = append(b, `","createdDateTime":"`...)
	b = created.AppendFormat(b, time.RFC3339)
	b = append(b, `","userDisplayName":`...)
	b = strconv.AppendQuote(b, p.Name)
	b = append(b, `,"userPrincipalName":`...)
	b = strconv.AppendQuote(b, p.Login)
	b = append(b, `,"userId":"`...)
	b = append(b, p.EntraID...)
	b = append(b, `","appId":"`...)
	b = append(b, e.app.id...)
	b = append(b, `","appDisplayName":`...)
	b = strconv.AppendQuote(b, e.app.name)
	b = append(b, `,"ipAddress":"`...)
	b = e.ip.AppendTo(b)
	b = append(b, `","clientAppUsed":"Browser","userAgent":`...)
	b = strconv.AppendQuote(b, e.dev.UA)
	b = append(b, `,"correlationId":"`...)
	b = appendUUID(b, rng)
	b = append(b, `","conditionalAccessStatus":"`...)
	if e.errCode == 0 {
		b = append(b, "success"...)
	} else {
		b = append(b, "notApplied"...)
	}
	b = append(b, `","originalRequestId":"`...)
	b = append(b, id...)
	b = append(b, `","isInteractive":`...)
	b = strconv.AppendBool(b, e.interactive)
	b = append(b, `,"tokenIssuerName":"","tokenIssuerType":"AzureAD","processingTimeInMilliseconds":`...)
	b = strconv.AppendInt(b, int64(40+rng.IntN(400)), 10)
	risk := e.risk
	if risk == "" {
		risk = "none"
	}
	b = append(b, `,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":`...)
	b = strconv.AppendQuote(b, risk)
	b = append(b, `,"riskState":`...)
	if risk == "none" {
		b = append(b, `"none"`...)
	} else {
		b = append(b, `"atRisk"`...)
	}
	b = append(b, `,"riskEventTypes":[],"riskEventTypes_v2":[`...)
	for i, r := range e.riskEvents {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, r)
	}
	b = append(b, `],"resourceDisplayName":`...)
	b = strconv.AppendQuote(b, e.app.resource)
	b = append(b, `,"resourceId":"`...)
	b = append(b, e.app.resourceID...)
	b = append(b, `","resourceTenantId":"`...)
	b = append(b, w.o.EntraTenant...)
	b = append(b, `","homeTenantId":"`...)
	b = append(b, w.o.EntraTenant...)
	b = append(b, `","authenticationRequirement":"multiFactorAuthentication","signInEventTypes":["`...)
	if e.interactive {
		b = append(b, "interactiveUser"...)
	} else {
		b = append(b, "nonInteractiveUser"...)
	}
	b = append(b, `"],"servicePrincipalId":"","userType":"member","flaggedForReview":false,"isTenantRestricted":false,"autonomousSystemNumber":`...)
	b = strconv.AppendUint(b, uint64(e.net.ASN), 10)
	b = append(b, `,"crossTenantAccessType":"none","uniqueTokenIdentifier":"`...)
	b = appendBase64URL(b, rng, 22)
	b = append(b, `","incomingTokenType":"`...)
	if e.interactive {
		b = append(b, "none"...)
	} else {
		b = append(b, "refreshToken"...)
	}
	b = append(b, `","authenticationProtocol":"none","sessionId":"`...)
	b = append(b, e.sess...)
	b = append(b, `","status":{"errorCode":`...)
	b = strconv.AppendInt(b, int64(e.errCode), 10)
	b = append(b, `,"failureReason":`...)
	if e.errCode == 0 {
		b = append(b, `"Other."`...)
	} else {
		b = strconv.AppendQuote(b, e.failure)
	}
	b = append(b, `,"additionalDetails":`...)
	if e.interactive && e.errCode == 0 {
		b = append(b, `"MFA requirement satisfied by claim provided by external provider"`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"deviceDetail":{"deviceId":"`...)
	b = append(b, e.dev.EntraID...)
	b = append(b, `","displayName":`...)
	if e.dev.EntraID != "" {
		b = strconv.AppendQuote(b, e.dev.Name)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"operatingSystem":`...)
	b = strconv.AppendQuote(b, e.dev.entraOS)
	b = append(b, `,"browser":"`...)
	b = append(b, e.dev.Family...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.dev.version), 10)
	b = append(b, `.0.0","isCompliant":`...)
	managed := e.dev.EntraID != ""
	b = strconv.AppendBool(b, managed)
	b = append(b, `,"isManaged":`...)
	b = strconv.AppendBool(b, managed)
	b = append(b, `,"trustType":`...)
	switch {
	case !managed:
		b = append(b, `""`...)
	case e.dev.OSFamily == "Windows":
		b = append(b, `"Azure AD joined"`...)
	default:
		b = append(b, `"Azure AD registered"`...)
	}
	pl := e.net.Place
	b = append(b, `},"location":{"city":`...)
	b = strconv.AppendQuote(b, pl.City)
	b = append(b, `,"state":`...)
	b = strconv.AppendQuote(b, pl.Region)
	b = append(b, `,"countryOrRegion":`...)
	b = strconv.AppendQuote(b, pl.CC)
	b = append(b, `,"geoCoordinates":{"altitude":null,"latitude":`...)
	b = strconv.AppendFloat(b, pl.Lat, 'f', 4, 64)
	b = append(b, `,"longitude":`...)
	b = strconv.AppendFloat(b, pl.Lon, 'f', 4, 64)
	b = append(b, `}},"networkLocationDetails":[`...)
	if e.net.Zone != "" {
		b = append(b, `{"networkType":"trustedNamedLocation","networkNames":[`...)
		b = strconv.AppendQuote(b, e.net.Zone)
		b = append(b, `]}`...)
	}
	b = append(b, `],"appliedConditionalAccessPolicies":[],"authenticationDetails":[`...)
	if e.interactive {
		b = append(b, `{"authenticationStepDateTime":"`...)
		b = created.AppendFormat(b, time.RFC3339)
		if e.errCode == 0 {
			b = append(b, `","authenticationMethod":"Previously satisfied","authenticationMethodDetail":"Federated","succeeded":true,"authenticationStepResultDetail":"MFA requirement satisfied by claim provided by external provider","authenticationStepRequirement":"Primary authentication"}`...)
		} else {
			b = append(b, `","authenticationMethod":"Previously satisfied","authenticationMethodDetail":"Federated","succeeded":false,"authenticationStepResultDetail":`...)
			b = strconv.AppendQuote(b, e.failure)
			b = append(b, `,"authenticationStepRequirement":"Primary authentication"}`...)
		}
	} else {
		b = append(b, `{"authenticationStepDateTime":"`...)
		b = created.AppendFormat(b, time.RFC3339)
		b = append(b, `","authenticationMethod":"Previously satisfied","authenticationMethodDetail":null,"succeeded":true,"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token","authenticationStepRequirement":"Primary authentication"}`...)
	}
	b = append(b, `]}`...)
	return b, id
}

func appendBase64URL(b []byte, r interface{ IntN(int) int }, n int) []byte {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for range n {
		b = append(b, chars[r.IntN(64)])
	}
	return b
}
