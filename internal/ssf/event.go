package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event types Vigil transmits (CAEP 1.0), and the SSF verification event.
const (
	EventSessionRevoked   = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	EventCredentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	EventRiskLevelChange  = "https://schemas.openid.net/secevent/caep/event-type/risk-level-change"
	EventVerification     = "https://schemas.openid.net/secevent/ssf/event-type/verification"
)

// SupportedEvents lists the event types a stream may request, in the order
// they are reported in events_supported.
var SupportedEvents = []string{EventSessionRevoked, EventCredentialChange, EventRiskLevelChange}

// Values of Event.InitiatingEntity (CAEP 1.0 §2).
const (
	InitiatedByAdmin  = "admin"
	InitiatedByUser   = "user"
	InitiatedByPolicy = "policy"
	InitiatedBySystem = "system"
)

// Values of Event.ChangeType for credential-change (CAEP 1.0 §3.3).
const (
	ChangeCreate = "create"
	ChangeRevoke = "revoke"
	ChangeUpdate = "update"
	ChangeDelete = "delete"
)

// CAEP risk levels (CAEP 1.0 §3.8). CAEP knows three; see RiskLevel.
const (
	RiskLow    = "LOW"
	RiskMedium = "MEDIUM"
	RiskHigh   = "HIGH"
)

// RiskLevel maps a Vigil risk level (low, medium, high, critical; any case)
// to the CAEP level transmitted in risk-level-change. CAEP has no level above
// HIGH, so critical is sent as HIGH. ok is false for anything else.
func RiskLevel(vigil string) (level string, ok bool) {
	switch strings.ToLower(vigil) {
	case "low":
		return RiskLow, true
	case "medium":
		return RiskMedium, true
	case "high", "critical":
		return RiskHigh, true
	}
	return "", false
}

// Event is one thing that happened, to be transmitted as one Security Event
// Token per stream that delivers its Type and whose subjects match.
// Fields after Subject apply only to the types named in their comments.
type Event struct {
	Type    string  // one of SupportedEvents
	Subject Subject // the SET's sub_id: who or what the event is about
	// Time is when the event happened (event_timestamp); zero means now.
	Time time.Time
	// Txn ties together the SETs of one underlying cause (a session
	// revocation and a credential change from the same incident); empty
	// gives each Emit call a fresh value.
	Txn string

	InitiatingEntity string            // optional: admin, user, policy, system
	ReasonAdmin      map[string]string // optional: language tag → message for administrators
	ReasonUser       map[string]string // optional: language tag → message for the end user

	CredentialType string // credential-change, required: password, pin, x509, fido2-platform, … or a mutually agreed value
	ChangeType     string // credential-change, required: create, revoke, update, delete
	FriendlyName   string // credential-change, optional

	Principal     string // risk-level-change, required: USER, DEVICE, SESSION, TENANT, ORG_UNIT, GROUP, …
	CurrentLevel  string // risk-level-change, required: LOW, MEDIUM or HIGH
	PreviousLevel string // risk-level-change, optional: LOW, MEDIUM or HIGH
	RiskReason    string // risk-level-change, recommended
}

// ErrInvalidEvent wraps every reason Emit rejects an Event.
var ErrInvalidEvent = errors.New("invalid event")

func invalidEvent(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidEvent, fmt.Sprintf(format, a...))
}

// maxClaim bounds each string an Event carries, so one event cannot make a
// SET too large for a receiver to accept.
const maxClaim = 1024

func (ev *Event) validate() error {
	switch ev.Type {
	case EventSessionRevoked, EventCredentialChange, EventRiskLevelChange:
	default:
		return invalidEvent("unsupported event type %q", ev.Type)
	}
	if err := ev.Subject.validate(false); err != nil {
		return invalidEvent("subject: %v", err)
	}
	switch ev.InitiatingEntity {
	case "", InitiatedByAdmin, InitiatedByUser, InitiatedByPolicy, InitiatedBySystem:
	default:
		return invalidEvent("initiating_entity %q is not admin, user, policy or system", ev.InitiatingEntity)
	}
	for name, m := range map[string]map[string]string{"reason_admin": ev.ReasonAdmin, "reason_user": ev.ReasonUser} {
		if len(m) > 16 {
			return invalidEvent("%s has more than 16 languages", name)
		}
		for lang, msg := range m {
			if lang == "" || len(lang) > 35 || len(msg) > maxClaim {
				return invalidEvent("%s: bad language tag or message too long", name)
			}
		}
	}
	for _, s := range []string{ev.Txn, ev.CredentialType, ev.FriendlyName, ev.Principal, ev.RiskReason} {
		if len(s) > maxClaim {
			return invalidEvent("a claim is longer than %d bytes", maxClaim)
		}
	}
	switch ev.Type {
	case EventCredentialChange:
		if ev.CredentialType == "" {
			return invalidEvent("credential-change needs credential_type")
		}
		switch ev.ChangeType {
		case ChangeCreate, ChangeRevoke, ChangeUpdate, ChangeDelete:
		default:
			return invalidEvent("credential-change change_type %q is not create, revoke, update or delete", ev.ChangeType)
		}
	case EventRiskLevelChange:
		if ev.Principal == "" {
			return invalidEvent("risk-level-change needs principal")
		}
		if !caepLevel(ev.CurrentLevel) {
			return invalidEvent("risk-level-change current_level %q is not LOW, MEDIUM or HIGH", ev.CurrentLevel)
		}
		if ev.PreviousLevel != "" && !caepLevel(ev.PreviousLevel) {
			return invalidEvent("risk-level-change previous_level %q is not LOW, MEDIUM or HIGH", ev.PreviousLevel)
		}
	}
	return nil
}

func caepLevel(s string) bool { return s == RiskLow || s == RiskMedium || s == RiskHigh }

// claims is the event object inside the SET's events claim.
func (ev *Event) claims(now time.Time) map[string]any {
	t := ev.Time
	if t.IsZero() {
		t = now
	}
	c := map[string]any{"event_timestamp": t.Unix()}
	if ev.InitiatingEntity != "" {
		c["initiating_entity"] = ev.InitiatingEntity
	}
	if len(ev.ReasonAdmin) > 0 {
		c["reason_admin"] = ev.ReasonAdmin
	}
	if len(ev.ReasonUser) > 0 {
		c["reason_user"] = ev.ReasonUser
	}
	switch ev.Type {
	case EventCredentialChange:
		c["credential_type"] = ev.CredentialType
		c["change_type"] = ev.ChangeType
		if ev.FriendlyName != "" {
			c["friendly_name"] = ev.FriendlyName
		}
	case EventRiskLevelChange:
		c["principal"] = ev.Principal
		c["current_level"] = ev.CurrentLevel
		if ev.PreviousLevel != "" {
			c["previous_level"] = ev.PreviousLevel
		}
		if ev.RiskReason != "" {
			c["risk_reason"] = ev.RiskReason
		}
	}
	return c
}

// Subject identifier formats (RFC 9493 §3, and "complex" from SSF 1.0 §3.3).
const (
	FormatAccount     = "account"
	FormatDID         = "did"
	FormatEmail       = "email"
	FormatIssSub      = "iss_sub"
	FormatOpaque      = "opaque"
	FormatPhoneNumber = "phone_number"
	FormatURI         = "uri"
	FormatComplex     = "complex"
)

// Subject is a subject identifier (RFC 9493) as the SET's sub_id: a simple
// identifier (set Format and that format's fields) or a complex subject
// (Format "complex" and one or more members, each a simple identifier).
type Subject struct {
	Format      string
	Email       string // email
	Iss, Sub    string // iss_sub
	ID          string // opaque
	PhoneNumber string // phone_number
	URI         string // account ("acct:…") and uri
	URL         string // did

	// Members of a complex subject.
	User, Session, Tenant, Device, Application, Group, OrgUnit *Subject
}

// EmailSubject identifies a subject by email address.
func EmailSubject(email string) Subject { return Subject{Format: FormatEmail, Email: email} }

// IssSubSubject identifies a subject by issuer and subject, as in an ID token.
func IssSubSubject(iss, sub string) Subject { return Subject{Format: FormatIssSub, Iss: iss, Sub: sub} }

// OpaqueSubject identifies a subject by an identifier only the parties understand.
func OpaqueSubject(id string) Subject { return Subject{Format: FormatOpaque, ID: id} }

func (s *Subject) members() map[string]*Subject {
	return map[string]*Subject{"user": s.User, "session": s.Session, "tenant": s.Tenant, "device": s.Device,
		"application": s.Application, "group": s.Group, "org_unit": s.OrgUnit}
}

func (s *Subject) validate(member bool) error {
	need := func(fields ...string) error {
		for _, f := range fields {
			if f == "" {
				return fmt.Errorf("format %s is missing a required field", s.Format)
			}
			if len(f) > maxClaim {
				return fmt.Errorf("format %s has a field longer than %d bytes", s.Format, maxClaim)
			}
		}
		return nil
	}
	switch s.Format {
	case FormatEmail:
		if err := need(s.Email); err != nil {
			return err
		}
		if !strings.Contains(s.Email, "@") {
			return errors.New("email has no @")
		}
		return nil
	case FormatIssSub:
		return need(s.Iss, s.Sub)
	case FormatOpaque:
		return need(s.ID)
	case FormatPhoneNumber:
		return need(s.PhoneNumber)
	case FormatAccount:
		if err := need(s.URI); err != nil {
			return err
		}
		if !strings.HasPrefix(s.URI, "acct:") {
			return errors.New(`account uri must start with "acct:"`)
		}
		return nil
	case FormatURI:
		return need(s.URI)
	case FormatDID:
		if err := need(s.URL); err != nil {
			return err
		}
		if !strings.HasPrefix(s.URL, "did:") {
			return errors.New(`did url must start with "did:"`)
		}
		return nil
	case FormatComplex:
		if member {
			return errors.New("a complex subject's member must be a simple identifier")
		}
		n := 0
		for name, m := range s.members() {
			if m == nil {
				continue
			}
			if err := m.validate(true); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			n++
		}
		if n == 0 {
			return errors.New("complex subject has no members")
		}
		return nil
	case "":
		return errors.New("no format")
	}
	return fmt.Errorf("unsupported format %q", s.Format)
}

// MarshalJSON writes the subject identifier with only its format's members.
func (s Subject) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.object())
}

func (s *Subject) object() map[string]any {
	o := map[string]any{"format": s.Format}
	switch s.Format {
	case FormatEmail:
		o["email"] = s.Email
	case FormatIssSub:
		o["iss"], o["sub"] = s.Iss, s.Sub
	case FormatOpaque:
		o["id"] = s.ID
	case FormatPhoneNumber:
		o["phone_number"] = s.PhoneNumber
	case FormatAccount, FormatURI:
		o["uri"] = s.URI
	case FormatDID:
		o["url"] = s.URL
	case FormatComplex:
		for name, m := range s.members() {
			if m != nil {
				o[name] = m.object()
			}
		}
	}
	return o
}
