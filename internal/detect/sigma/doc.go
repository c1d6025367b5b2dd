// Package sigma compiles Sigma detection and correlation rules against
// Vigil's events. It is pure: rules come from an fs.FS or bytes, events
// from the caller, time from the events.
//
// Load parses a directory of rules into a Set (each rule it cannot use is
// a Problem naming the file, line and reason). A Matcher, one per
// goroutine, returns the detection rules an event matches; a Correlator
// turns the matches of a stream into correlation hits (event_count,
// value_count, temporal, temporal_ordered) on event time.
//
// Matching is fast because most events are never parsed: rules are
// routed by logsource (Okta, CloudTrail, Entra sign-in, audit and risk
// logs, Azure Activity, Google Workspace applications) and indexed by the
// values their selections require (eventType ∈ {…}), read from the
// normalized event; the few candidates left are checked against literals
// the raw record must contain, and only then is the record parsed and the
// rule evaluated on it. docs/sigma.md describes the supported Sigma, the
// field mappings, the typed-value rules and the rule-test format.
package sigma
