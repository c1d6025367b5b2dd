package sim

import (
	"encoding/json"
	"github.com/vigil-zt/vigil/internal/detect"
	"io"
	"slices"
	"strings"
	"time"
)

// Truth is one line of the truth file: an injected attack that a built-in
// detector must report, or a benign look-alike it must not.
type Truth struct {
	// ID is stable for a seed: "<kind>-<nn>-<story>".
	ID string `json:"id"`
	// Kind is "attack" or "lookalike".
	Kind string `json:"kind"`
	// Rule is the detector's rule id ("session.hijack").
	Rule string `json:"rule"`
	// Expect is what the detector must do within [Start, End] for
	// Identity: "alert" (attacks), "no_alert", or "at_most_low" (a
	// look-alike the rule may note at low severity but no higher).
	Expect string `json:"expect"`
	// MinSeverity is, for attacks, the least severity the alert should
	// have.
	MinSeverity string `json:"min_severity,omitempty"`
	// Story groups the entries of one attack chain (one story can trip
	// several rules).
	Story string `json:"story"`
	// Identity is the canonical principal the alert is about, as the
	// decoders give it (Okta login / Entra UPN / SSO session name, IAM
	// user name, "role/<name>").
	Identity string `json:"identity"`
	// Session is the session or key the attack used, when there is one:
	// Okta externalSessionId, Entra sessionId, AWS access key id.
	Session string   `json:"session,omitempty"`
	Sources []Source `json:"sources"`
	// Start and End are the times of the first and last listed event.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Summary says what happened; Why, for look-alikes, why the rule must
	// stay quiet.
	Summary string `json:"summary"`
	Why     string `json:"why,omitempty"`
	// Details are the key facts: addresses, ASNs, device hashes,
	// user-agent families, counts and baselines.
	Details map[string]any `json:"details,omitempty"`
	// EventCount is the number of events of the entry; Events lists them
	// (the first 50 when there are more).
	EventCount int          `json:"event_count"`
	Events     []TruthEvent `json:"events"`

	planned  int            // events generated
	finalize func(t *Truth) // fills details known once the events are written
}

// TruthEvent names one vendor record of a truth entry.
type TruthEvent struct {
	Source Source `json:"source"`
	// ID is the vendor's event id: Okta uuid, CloudTrail eventID, Entra
	// sign-in id.
	ID   string    `json:"id"`
	Type string    `json:"type"`
	Time time.Time `json:"time"`
}

// Truth kinds and expectations.
const (
	KindAttack    = "attack"
	KindLookalike = "lookalike"

	ExpectAlert     = "alert"
	ExpectNoAlert   = "no_alert"
	ExpectAtMostLow = "at_most_low"
)

// Rule ids of the built-in detectors, which the truth file names.
const (
	RuleSessionHijack    = detect.RuleSessionHijack
	RuleImpossibleTravel = detect.RuleImpossibleTravel
	RuleMFAFatigue       = detect.RuleMFAFatigue
	RuleRecoveryTakeover = detect.RuleRecoveryTakeover
	RuleAdminGrant       = detect.RuleAdminGrant
	RuleAPITokenCreated  = detect.RuleAPITokenCreated
	RuleAccessKeyCreated = detect.RuleAccessKeyCreated
	RuleVolumeSpike      = detect.RuleVolumeSpike
	RuleNHINewResource   = detect.RuleNHINewResource
	RuleNHIOrigin        = detect.RuleNHIAnomalousOrigin
)

// Rules lists every built-in detector's rule id.
var Rules = detect.Rules

const maxTruthEvents = 50

func (t *Truth) reset() {
	t.Events, t.EventCount, t.planned = nil, 0, 0
	t.Start, t.End = time.Time{}, time.Time{}
	t.Sources = nil
}

func (t *Truth) add(src Source, id, typ string, at time.Time) {
	if t.EventCount == 0 || at.Before(t.Start) {
		t.Start = at
	}
	if at.After(t.End) {
		t.End = at
	}
	t.EventCount++
	if len(t.Events) < maxTruthEvents {
		t.Events = append(t.Events, TruthEvent{Source: src, ID: id, Type: typ, Time: at})
	}
	if !slices.Contains(t.Sources, src) {
		t.Sources = append(t.Sources, src)
	}
}

// complete reports whether every planned event was written.
func (t *Truth) complete() bool { return t.EventCount > 0 && t.EventCount == t.planned }

// writeTruth writes the complete entries as JSON lines, by start time.
func writeTruth(w io.Writer, entries []*Truth) ([]*Truth, error) {
	var out []*Truth
	for _, t := range entries {
		if t.complete() {
			if t.finalize != nil {
				t.finalize(t)
			}
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b *Truth) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if w == nil {
		return out, nil
	}
	enc := json.NewEncoder(w)
	for _, t := range out {
		if err := enc.Encode(t); err != nil {
			return out, err
		}
	}
	return out, nil
}

// ReadTruth reads a truth file.
func ReadTruth(r io.Reader) ([]Truth, error) {
	dec := json.NewDecoder(r)
	var out []Truth
	for dec.More() {
		var t Truth
		if err := dec.Decode(&t); err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}
