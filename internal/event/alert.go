package event

import (
	"net/netip"
	"time"
)

// Severity ranks alerts and incidents.
type Severity string

// Severities, lowest first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: low 1 … critical 4, 0 for anything else.
func (s Severity) Rank() int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// Max returns the higher of two severities.
func (s Severity) Max(t Severity) Severity {
	if t.Rank() > s.Rank() {
		return t
	}
	return s
}

// Alert is one detection: a rule that fired on an identity's events, with
// the evidence and the baseline it broke.
type Alert struct {
	// ID is stable for the same detection on the same input.
	ID string `json:"id"`
	// Time is the event time of the event that completed the detection.
	Time time.Time `json:"time"`
	// Rule is the detector's stable id ("session.hijack", "sigma.<uuid>").
	Rule     string   `json:"rule"`
	Title    string   `json:"title,omitempty"`
	Severity Severity `json:"severity"`
	// Confidence is how sure the detector is, 0–1; it weighs the alert in
	// the identity's risk.
	Confidence float64 `json:"confidence"`
	// Identity is the canonical identity the alert is about (the victim of
	// a takeover, the holder of a hijacked session), which is not always
	// the actor of the last event.
	Identity     string     `json:"identity"`
	IdentityKind Kind       `json:"identity_kind,omitempty"`
	Session      string     `json:"session,omitempty"`
	SourceIP     netip.Addr `json:"source_ip,omitzero"`
	// Summary is one readable sentence.
	Summary  string   `json:"summary"`
	Evidence Evidence `json:"evidence"`
	// Risk is the identity's risk score (0–100) after this alert.
	Risk float64 `json:"risk"`
	// Incident is the id of the incident the alert joined.
	Incident string   `json:"incident,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// Evidence is what an alert rests on: the events, and the baseline values
// they were compared with.
type Evidence struct {
	Events   []EventRef   `json:"events"`
	Baseline []Comparison `json:"baseline,omitempty"`
}

// EventRef identifies an event and repeats what an analyst needs to read
// the alert without looking it up.
type EventRef struct {
	Time       time.Time  `json:"time"`
	Source     Source     `json:"source"`
	VendorID   string     `json:"vendor_id,omitempty"`
	VendorType string     `json:"vendor_type"`
	Actor      string     `json:"actor,omitempty"`
	Outcome    Result     `json:"outcome,omitempty"`
	Session    string     `json:"session,omitempty"`
	IP         netip.Addr `json:"ip,omitzero"`
	ASN        uint32     `json:"asn,omitempty"`
	Country    string     `json:"country,omitempty"`
	City       string     `json:"city,omitempty"`
	// Device is the client in short: browser/tool and OS families, and
	// the device fingerprint when there is one.
	Device string `json:"device,omitempty"`
}

// Comparison is one baseline value an event was compared with.
type Comparison struct {
	What     string `json:"what"`
	Baseline string `json:"baseline"`
	Observed string `json:"observed"`
}

// Ref returns the EventRef of e.
func Ref(e *Event) EventRef {
	r := EventRef{
		Time: e.Time, Source: e.Source, VendorID: e.VendorID, VendorType: e.VendorType,
		Actor: e.Actor.ID, Outcome: e.Outcome.Result, Session: e.Session.Key(),
		IP: e.Network.IP, ASN: e.Network.ASN, Country: e.Network.Geo.Country, City: e.Network.Geo.City,
	}
	r.Device = DeviceLabel(e)
	return r
}

// DeviceLabel describes the client of e in short ("Chrome/macOS
// dt:3c1f0b4e").
func DeviceLabel(e *Event) string {
	d := e.Device.Browser
	if e.Device.OS != "" {
		if d != "" {
			d += "/"
		}
		d += e.Device.OS
	}
	fp := e.Session.DTHash
	if fp == "" {
		fp = e.Device.ID
	}
	if fp != "" {
		if len(fp) > 8 {
			fp = fp[:8]
		}
		if d != "" {
			d += " "
		}
		d += "dt:" + fp
	}
	return d
}

// Incident groups one identity's alerts that are close in time, so that
// an attack tripping many rules is one thing to read.
type Incident struct {
	ID       string    `json:"id"`
	Identity string    `json:"identity"`
	Opened   time.Time `json:"opened"`
	Updated  time.Time `json:"updated"`
	Severity Severity  `json:"severity"`
	// Risk is the identity's highest risk during the incident.
	Risk  float64  `json:"risk"`
	Rules []string `json:"rules"`
	// Summary names what happened, from the most severe alert.
	Summary string `json:"summary"`
	// Alerts are the incident's alerts in time order: its timeline.
	Alerts []Alert `json:"alerts"`
}
