package ssf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a receiver may put in a stream configuration.
const (
	maxEventsRequested = 64
	maxEventURI        = 512
	maxDescription     = 1024 // longer descriptions are truncated (SSF 1.0 §8.1.1)
	maxEndpointURL     = 2048
	maxAuthHeader      = 4096
	maxStreamID        = 128
)

// streamRequest is the body of a create, update (PATCH) or replace (PUT)
// stream configuration request. Pointers and raw values are nil when the
// property was absent (or null), so PATCH can tell "unchanged" from "empty".
type streamRequest struct {
	StreamID        *string
	EventsRequested *[]string
	Delivery        *Delivery
	Description     *string

	// Transmitter-supplied properties: a receiver may echo them back, and
	// they must then equal the transmitter's values.
	Iss, Aud, EventsSupported, EventsDelivered, MinVerificationInterval, InactivityTimeout json.RawMessage
}

// parseStreamRequest decodes and checks a stream configuration request.
// insecure permits http push endpoints. Errors are safe to show the
// receiver: they never quote the authorization header.
func parseStreamRequest(body []byte, insecure bool) (*streamRequest, error) {
	fields, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	req := &streamRequest{}
	for name, raw := range fields {
		if isNull(raw) {
			continue
		}
		switch name {
		case "stream_id":
			var s string
			if json.Unmarshal(raw, &s) != nil || s == "" || len(s) > maxStreamID {
				return nil, errors.New("stream_id must be a non-empty string")
			}
			req.StreamID = &s
		case "events_requested":
			var evs []string
			if json.Unmarshal(raw, &evs) != nil {
				return nil, errors.New("events_requested must be an array of strings")
			}
			if len(evs) > maxEventsRequested {
				return nil, fmt.Errorf("events_requested has more than %d entries", maxEventsRequested)
			}
			for _, e := range evs {
				if e == "" || len(e) > maxEventURI || !utf8.ValidString(e) {
					return nil, fmt.Errorf("events_requested entries must be URIs of at most %d bytes", maxEventURI)
				}
			}
			req.EventsRequested = &evs
		case "delivery":
			d, err := parseDelivery(raw, insecure)
			if err != nil {
				return nil, err
			}
			req.Delivery = d
		case "description":
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return nil, errors.New("description must be a string")
			}
			s = truncate(s, maxDescription)
			req.Description = &s
		case "iss":
			req.Iss = raw
		case "aud":
			req.Aud = raw
		case "events_supported":
			req.EventsSupported = raw
		case "events_delivered":
			req.EventsDelivered = raw
		case "min_verification_interval":
			req.MinVerificationInterval = raw
		case "inactivity_timeout":
			req.InactivityTimeout = raw
		}
		// Other properties are ignored: they may come from a later version
		// of the specification.
	}
	return req, nil
}

// decodeObject decodes one JSON object and nothing after it.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, errors.New("body must be a JSON object")
	}
	if fields == nil {
		return nil, errors.New("body must be a JSON object")
	}
	if dec.More() {
		return nil, errors.New("body has data after the JSON object")
	}
	return fields, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func parseDelivery(raw json.RawMessage, insecure bool) (*Delivery, error) {
	var d struct {
		Method              *string `json:"method"`
		EndpointURL         *string `json:"endpoint_url"`
		AuthorizationHeader *string `json:"authorization_header"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return nil, errors.New("delivery must be an object of strings")
	}
	if d.Method == nil {
		return nil, errors.New("delivery needs a method")
	}
	out := &Delivery{Method: *d.Method}
	if d.EndpointURL != nil {
		out.EndpointURL = *d.EndpointURL
	}
	if d.AuthorizationHeader != nil {
		out.AuthorizationHeader = *d.AuthorizationHeader
	}
	switch out.Method {
	case DeliveryPush:
		if err := checkEndpoint(out.EndpointURL, insecure); err != nil {
			return nil, err
		}
		if len(out.AuthorizationHeader) > maxAuthHeader {
			return nil, fmt.Errorf("delivery.authorization_header is longer than %d bytes", maxAuthHeader)
		}
		for _, r := range out.AuthorizationHeader {
			if r < 0x20 || r == 0x7f || r > 0x7e {
				return nil, errors.New("delivery.authorization_header must be printable ASCII")
			}
		}
	case DeliveryPoll:
		// The transmitter supplies a poll stream's endpoint_url; one sent
		// by the receiver is checked against it by the caller.
		if out.AuthorizationHeader != "" {
			return nil, errors.New("delivery.authorization_header applies to push delivery only")
		}
	default:
		return nil, fmt.Errorf("delivery.method must be %s (push) or %s (poll)", DeliveryPush, DeliveryPoll)
	}
	return out, nil
}

func checkEndpoint(s string, insecure bool) error {
	if s == "" {
		return errors.New("push delivery needs delivery.endpoint_url")
	}
	if len(s) > maxEndpointURL {
		return fmt.Errorf("delivery.endpoint_url is longer than %d bytes", maxEndpointURL)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("delivery.endpoint_url must be an absolute URL")
	}
	if u.Scheme != "https" && !(insecure && u.Scheme == "http") {
		return errors.New("delivery.endpoint_url must use https")
	}
	if u.User != nil {
		return errors.New("delivery.endpoint_url must not carry credentials; use delivery.authorization_header")
	}
	if u.Fragment != "" {
		return errors.New("delivery.endpoint_url must not have a fragment")
	}
	return nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// deliveredEvents is the events a stream delivers: those requested that
// Vigil supports, in the order of SupportedEvents.
func deliveredEvents(requested []string) []string {
	out := []string{}
	for _, e := range SupportedEvents {
		if slices.Contains(requested, e) {
			out = append(out, e)
		}
	}
	return out
}

// checkTransmitterSupplied verifies that transmitter-supplied properties a
// receiver echoed back equal the stream's current values (SSF 1.0 §8.1.1.3).
func (t *Transmitter) checkTransmitterSupplied(req *streamRequest, s Stream) error {
	if req.Iss != nil {
		var iss string
		if json.Unmarshal(req.Iss, &iss) != nil || iss != t.cfg.Issuer {
			return errors.New("iss does not match the transmitter's issuer")
		}
	}
	if req.Aud != nil && !sameStringSet(req.Aud, s.Audience) {
		return errors.New("aud cannot be changed")
	}
	if req.EventsSupported != nil && !sameStringSet(req.EventsSupported, SupportedEvents) {
		return errors.New("events_supported does not match the transmitter's")
	}
	if req.EventsDelivered != nil && !sameStringSet(req.EventsDelivered, s.EventsDelivered) {
		return errors.New("events_delivered does not match the stream's")
	}
	if req.MinVerificationInterval != nil {
		var n float64
		if json.Unmarshal(req.MinVerificationInterval, &n) != nil || n != float64(t.minVerifySeconds()) {
			return errors.New("min_verification_interval does not match the transmitter's")
		}
	}
	if req.InactivityTimeout != nil {
		return errors.New("inactivity_timeout is not used by this transmitter")
	}
	return nil
}

// sameStringSet compares a JSON string or array of strings with want,
// ignoring order and repeats.
func sameStringSet(raw json.RawMessage, want []string) bool {
	var got []string
	if json.Unmarshal(raw, &got) != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return false
		}
		got = []string{one}
	}
	norm := func(s []string) []string {
		c := slices.Clone(s)
		slices.Sort(c)
		return slices.Compact(c)
	}
	return slices.Equal(norm(got), norm(want))
}

// applyStreamRequest sets the receiver-supplied properties of s from req.
// With replace (PUT) absent properties are cleared; otherwise (create and
// PATCH) they are kept. A stream without delivery polls (SSF 1.0 §8.1.1.1).
func (t *Transmitter) applyStreamRequest(s *Stream, req *streamRequest, replace bool) error {
	if req.EventsRequested != nil {
		s.EventsRequested = *req.EventsRequested
	} else if replace {
		s.EventsRequested = nil
	}
	s.EventsDelivered = deliveredEvents(s.EventsRequested)
	if req.Description != nil {
		s.Description = *req.Description
	} else if replace {
		s.Description = ""
	}
	pollURL := t.cfg.Issuer + "/ssf/poll/" + url.PathEscape(s.ID)
	switch {
	case req.Delivery != nil:
		d := *req.Delivery
		if d.Method == DeliveryPoll {
			if d.EndpointURL != "" && d.EndpointURL != pollURL {
				return errors.New("delivery.endpoint_url of a poll stream is the transmitter's: leave it out")
			}
			d.EndpointURL = pollURL
		}
		s.Delivery = d
	case replace || s.Delivery.Method == "":
		s.Delivery = Delivery{Method: DeliveryPoll, EndpointURL: pollURL}
	}
	return nil
}

// streamJSON is a stream configuration as receivers see it. The push
// authorization header is never returned.
type streamJSON struct {
	StreamID                string       `json:"stream_id"`
	Iss                     string       `json:"iss"`
	Aud                     any          `json:"aud"`
	EventsSupported         []string     `json:"events_supported"`
	EventsRequested         []string     `json:"events_requested,omitempty"`
	EventsDelivered         []string     `json:"events_delivered"`
	Delivery                deliveryJSON `json:"delivery"`
	MinVerificationInterval int          `json:"min_verification_interval,omitempty"`
	Description             string       `json:"description,omitempty"`
}

type deliveryJSON struct {
	Method      string `json:"method"`
	EndpointURL string `json:"endpoint_url,omitempty"`
}

func (t *Transmitter) streamView(s Stream) streamJSON {
	delivered := s.EventsDelivered
	if delivered == nil {
		delivered = []string{}
	}
	return streamJSON{
		StreamID:                s.ID,
		Iss:                     t.cfg.Issuer,
		Aud:                     audClaim(s.Audience),
		EventsSupported:         SupportedEvents,
		EventsRequested:         s.EventsRequested,
		EventsDelivered:         delivered,
		Delivery:                deliveryJSON{Method: s.Delivery.Method, EndpointURL: s.Delivery.EndpointURL},
		MinVerificationInterval: t.minVerifySeconds(),
		Description:             strings.ToValidUTF8(s.Description, "\uFFFD"),
	}
}

func (t *Transmitter) minVerifySeconds() int {
	return int(t.cfg.MinVerificationInterval / time.Second)
}
