// Package event is Vigil's shared vocabulary: the normalized identity event
// that every log source is decoded into, and the principals, sessions,
// networks and devices it refers to. It does no I/O and imports nothing
// internal, so every other package can depend on it.
package event

import (
	"net/netip"
	"time"
)

// Source names the log format an event was decoded from. It is half of the
// deduplication key (with the vendor's event id).
type Source string

// The supported sources.
const (
	SourceOkta          Source = "okta"
	SourceEntra         Source = "entra"
	SourceCloudTrail    Source = "cloudtrail"
	SourceAzureActivity Source = "azure_activity"
	SourceGWorkspace    Source = "gworkspace"
	SourceOCSF          Source = "ocsf"
)

// Event is one normalized identity or cloud audit event.
//
// Field names follow the vendors' meaning, not their spelling: the decoder of
// each source documents where each field comes from. Zero values mean "not
// present in the record"; pointers are used where false and unknown differ.
type Event struct {
	// Time is when the vendor says the event happened (event time).
	Time time.Time `json:"time"`
	// Received is when Vigil read the record.
	Received time.Time `json:"received,omitzero"`

	Source Source `json:"source"`
	// Log narrows the source: "signin" or "audit" for Entra, "management"
	// or "data" for CloudTrail, the application name for Workspace.
	Log string `json:"log,omitempty"`
	// VendorID is the vendor's unique event id (Okta uuid, CloudTrail
	// eventID, Entra id, Workspace time+uniqueQualifier).
	VendorID string `json:"vendor_id,omitempty"`
	// VendorType is the vendor's event type or operation name, unchanged
	// ("user.session.start", "ConsoleLogin", "Add member to role").
	VendorType string `json:"vendor_type"`

	Category Category `json:"category"`
	Activity Activity `json:"activity"`
	// Message is the vendor's human-readable description, when it has one.
	Message string `json:"message,omitempty"`
	// Severity is the vendor's own severity label, when it has one.
	Severity string `json:"severity,omitempty"`
	// Tenant is the organization the event belongs to: Okta org, Entra
	// tenant id, AWS account, Workspace customer id.
	Tenant string `json:"tenant,omitempty"`
	// Region is the cloud region the call was served in, when known.
	Region string `json:"region,omitempty"`
	// RequestID ties together the events of one request or transaction.
	RequestID string `json:"request_id,omitempty"`

	Actor    Principal `json:"actor,omitzero"`
	Targets  []Target  `json:"targets,omitempty"`
	Session  Session   `json:"session,omitzero"`
	Network  Network   `json:"network,omitzero"`
	Device   Device    `json:"device,omitzero"`
	Auth     Auth      `json:"auth,omitzero"`
	Outcome  Outcome   `json:"outcome,omitzero"`
	Resource Resource  `json:"resource,omitzero"`
	Risk     Risk      `json:"risk,omitzero"`

	// Raw is the original record, byte for byte, kept as evidence.
	Raw []byte `json:"-"`
}

// Principal is who acted.
type Principal struct {
	// ID is the canonical identity, always lower-case: the login, e-mail
	// or UPN for people; the IAM user, role or service principal name for
	// machines. The same person gets the same ID across sources where the
	// logs allow it.
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Kind Kind   `json:"kind,omitempty"`
	// Type is the vendor's principal type ("User", "IAMUser", "AssumedRole",
	// "ServicePrincipal", "SystemPrincipal").
	Type string `json:"type,omitempty"`
	// VendorID is the vendor's immutable id (Okta 00u…, Entra object id,
	// AWS principalId, Workspace profileId).
	VendorID string `json:"vendor_id,omitempty"`
	// Account is the account the principal belongs to when it differs from
	// the event's tenant (cross-account AWS calls, guest users).
	Account string `json:"account,omitempty"`
}

// IsZero reports whether nothing is known about the principal.
func (p Principal) IsZero() bool { return p == Principal{} }

// Kind classifies principals for detection and response: automatic actions
// differ for people, machines, administrators and the vendor's own staff.
type Kind string

// Principal kinds.
const (
	KindUnknown       Kind = ""
	KindHuman         Kind = "human"
	KindService       Kind = "service"
	KindAdmin         Kind = "admin"
	KindVendorSupport Kind = "vendor_support"
)

// Target is what an action was done to: a user, group, app, role, policy,
// key or device.
type Target struct {
	Type     string `json:"type,omitempty"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	VendorID string `json:"vendor_id,omitempty"`
}

// Session carries every session and token key a vendor records. They are
// first-class fields because post-authentication attacks are found by
// following a session, not a user.
type Session struct {
	// ID is the vendor's session id: Okta externalSessionId, Entra
	// sessionId.
	ID string `json:"id,omitempty"`
	// RootID is Okta's rootSessionId (the session an impersonation or
	// step-up session descends from).
	RootID string `json:"root_id,omitempty"`
	// DTHash is Okta's device token hash (debugData.dtHash): the hashed
	// browser device cookie the session was bound to.
	DTHash string `json:"dt_hash,omitempty"`
	// TokenID is Entra's uniqueTokenIdentifier.
	TokenID string `json:"token_id,omitempty"`
	// CorrelationID is Entra's correlationId (one sign-in flow).
	CorrelationID string `json:"correlation_id,omitempty"`
	// AccessKeyID is the AWS access key the call was signed with (ASIA…
	// for temporary session credentials, AKIA… for long-term keys).
	AccessKeyID string `json:"access_key_id,omitempty"`
	// Issuer is the ARN of the role or user that issued temporary
	// credentials (CloudTrail sessionContext.sessionIssuer).
	Issuer string `json:"issuer,omitempty"`
	// CreatedAt is when the session's credentials were issued.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// MFA reports whether the session was established with MFA, when the
	// vendor says.
	MFA *bool `json:"mfa,omitempty"`
}

// Key returns the most specific session identifier present, or "".
func (s Session) Key() string {
	switch {
	case s.ID != "":
		return s.ID
	case s.TokenID != "":
		return s.TokenID
	case s.AccessKeyID != "":
		return s.AccessKeyID
	}
	return ""
}

// Network is where a request came from.
type Network struct {
	IP     netip.Addr `json:"ip,omitzero"`
	ASN    uint32     `json:"asn,omitempty"`
	ASOrg  string     `json:"as_org,omitempty"`
	ISP    string     `json:"isp,omitempty"`
	Domain string     `json:"domain,omitempty"`
	// Proxy is true when the vendor flagged the address as an anonymizing
	// proxy, VPN or relay.
	Proxy bool `json:"proxy,omitempty"`
	// Zone is the vendor's named network zone, when the address matched one.
	Zone string `json:"zone,omitempty"`
	Geo  Geo    `json:"geo,omitzero"`
}

// Geo is a geolocation as the vendor or a GeoIP database reported it.
type Geo struct {
	Country string `json:"country,omitempty"`
	Region  string `json:"region,omitempty"`
	City    string `json:"city,omitempty"`
	// Point is nil when no coordinates are known (0,0 is a real place).
	Point *Point `json:"point,omitempty"`
}

// Point is a latitude and longitude in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Device is the client that made the request.
type Device struct {
	UserAgent string `json:"user_agent,omitempty"`
	// Browser is the browser or tool family ("Chrome", "aws-cli").
	Browser string `json:"browser,omitempty"`
	// OS is the operating system family ("Windows", "macOS").
	OS string `json:"os,omitempty"`
	// Type is the vendor's device class ("Computer", "Mobile").
	Type string `json:"type,omitempty"`
	// ID is the vendor's device id (Entra deviceId, Okta device id).
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Managed   *bool  `json:"managed,omitempty"`
	Compliant *bool  `json:"compliant,omitempty"`
}

// Auth describes how an authentication was performed.
type Auth struct {
	// Method is the credential or factor used ("password", "push",
	// "fido2", "saml", "deviceCode").
	Method string `json:"method,omitempty"`
	// Protocol is the protocol of the flow ("oidc", "saml", "deviceCode").
	Protocol string `json:"protocol,omitempty"`
	// MFA reports whether multiple factors were satisfied, when known.
	MFA *bool `json:"mfa,omitempty"`
	// Interactive is false for token refreshes and other sign-ins the user
	// did not take part in, when the vendor says.
	Interactive *bool `json:"interactive,omitempty"`
}

// Outcome is whether the action succeeded.
type Outcome struct {
	Result Result `json:"result,omitempty"`
	// Reason is the vendor's explanation, usually for failures.
	Reason string `json:"reason,omitempty"`
	// Code is the vendor's own result or error code ("CHALLENGE",
	// "AccessDenied", "50126").
	Code string `json:"code,omitempty"`
}

// Result is the normalized outcome.
type Result string

// Results.
const (
	ResultUnknown Result = ""
	ResultSuccess Result = "success"
	ResultFailure Result = "failure"
)

// Risk is the vendor's own risk verdict on the event or the identity, when
// it gives one (Entra ID Protection, Okta's risk and behavior evaluation).
// Vigil's detections weigh it as one signal among others.
type Risk struct {
	// Level is the vendor's level, lower-cased: "low", "medium", "high".
	Level string `json:"level,omitempty"`
	// State is the vendor's state of the risk: "atRisk",
	// "confirmedCompromised", "remediated", "dismissed".
	State  string `json:"state,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Signals are the vendor's named detections or the behaviors it saw as
	// new: Entra riskEventTypes ("unfamiliarFeatures",
	// "anonymizedIPAddress"), Okta behaviors evaluated POSITIVE ("New
	// Device", "New Geo-Location") and "Threat Suspected".
	Signals []string `json:"signals,omitempty"`
}

// IsZero reports whether the vendor gave no risk verdict.
func (r Risk) IsZero() bool {
	return r.Level == "" && r.State == "" && r.Detail == "" && len(r.Signals) == 0
}

// Resource is what was touched: an application, bucket, object, secret,
// table or API service.
type Resource struct {
	// Service is the API service ("s3.amazonaws.com", "Microsoft Graph",
	// "drive").
	Service string `json:"service,omitempty"`
	// Type is the kind of resource ("app", "bucket", "object", "secret",
	// "table", "role", "policy", "key", "document").
	Type string `json:"type,omitempty"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Container holds the resource: the bucket of an object, the database
	// of a table.
	Container string `json:"container,omitempty"`
}
