package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/sim"
)

// apiClient is a client of the service's HTTP API with one token: the demo
// reads what it reports from the API, as a user would, and the demo and
// the response bench post records with it.
type apiClient struct {
	base, token string
}

var demoClient = &http.Client{Timeout: 5 * time.Minute}

func (a *apiClient) do(ctx context.Context, method, path string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := demoClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

func (a *apiClient) get(ctx context.Context, path string, v any) error {
	b, err := a.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// post sends one batch of records to the ingestion endpoint of source
// ("auto" detects each record's).
func (a *apiClient) post(ctx context.Context, source string, body []byte) error {
	_, err := a.do(ctx, http.MethodPost, "/v1/ingest/"+source, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting records: %w", err)
	}
	return nil
}

// recent returns the latest incidents and actions.
func (a *apiClient) recent(ctx context.Context) ([]event.Incident, []respond.Action, error) {
	var incs struct {
		Incidents []event.Incident `json:"incidents"`
	}
	var acts struct {
		Actions []respond.Action `json:"actions"`
	}
	if err := a.get(ctx, "/v1/incidents?limit=100", &incs); err != nil {
		return nil, nil, err
	}
	if err := a.get(ctx, "/v1/actions?limit=100", &acts); err != nil {
		return nil, nil, err
	}
	slices.Reverse(incs.Incidents) // oldest first
	slices.Reverse(acts.Actions)
	return incs.Incidents, acts.Actions, nil
}

// waitOutbox waits, at most limit, until no action is pending or being
// sent, and returns how many still are.
func (a *apiClient) waitOutbox(ctx context.Context, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		var o server.Overview
		if err := a.get(ctx, "/v1/overview", &o); err != nil {
			return 0, err
		}
		n := o.Actions[respond.StatePending] + o.Actions[respond.StateSending]
		if n == 0 || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// demoSummary is what the headless demo reports (--json prints it as is).
type demoSummary struct {
	Seed            uint64  `json:"seed"`
	People          int     `json:"people"`
	ServiceAccounts int     `json:"service_accounts"`
	Days            int     `json:"days"`
	Speed           float64 `json:"speed"`
	// From is the first simulated day, ReplayFrom where the paced replay
	// began, To the last record's time.
	From           time.Time   `json:"from"`
	ReplayFrom     time.Time   `json:"replay_from"`
	To             time.Time   `json:"to"`
	Records        demoRecords `json:"records"`
	HistorySeconds float64     `json:"history_seconds"`
	ReplaySeconds  float64     `json:"replay_seconds"`
	// Events are the events stored, EventsBySource split by source.
	Events         int64            `json:"events"`
	EventsBySource map[string]int64 `json:"events_by_source"`
	// Incidents counts them all; IncidentsByRule counts the incidents
	// holding an alert of each rule (an incident can hold several rules).
	Incidents       int            `json:"incidents"`
	IncidentsByRule map[string]int `json:"incidents_by_rule"`
	// Actions counts actions by "connector.kind", then state.
	Actions          map[string]map[string]int `json:"actions"`
	DetectionLatency server.Latency            `json:"detection_latency"`
	ResponseLatency  server.Latency            `json:"response_latency"`
	Attacks          demoAttacks               `json:"attacks"`
	Lookalikes       demoLookalikes            `json:"lookalikes"`
	// Dir is where the logs, truth file and database are, when kept.
	Dir string `json:"dir,omitempty"`
}

// demoAttacks compares the alerts with the truth file's attacks: detected
// means an alert of the entry's rule on its identity, in its time window,
// at its least severity or above.
type demoAttacks struct {
	Total    int          `json:"total"`
	Detected int          `json:"detected"`
	Entries  []demoAttack `json:"entries"`
}

type demoAttack struct {
	ID       string `json:"id"`
	Rule     string `json:"rule"`
	Identity string `json:"identity"`
	Detected bool   `json:"detected"`
	// Severity is the highest of the entry's alerts.
	Severity string `json:"severity,omitempty"`
	// Actions are the identity's actions, "connector.kind:state".
	Actions []string `json:"actions,omitempty"`
}

// demoLookalikes: quiet means as the truth file expects — no alert of the
// rule on the identity in the entry's window (no_alert), or none above low
// (at_most_low).
type demoLookalikes struct {
	Total   int             `json:"total"`
	Quiet   int             `json:"quiet"`
	Entries []demoLookalike `json:"entries"`
}

type demoLookalike struct {
	ID       string `json:"id"`
	Rule     string `json:"rule"`
	Identity string `json:"identity"`
	Expect   string `json:"expect"`
	Quiet    bool   `json:"quiet"`
	Severity string `json:"severity,omitempty"`
}

var metricLine = regexp.MustCompile(`^vigil_events_total\{source="([^"]*)"\} (\S+)$`)

// summarize fills s from the API.
func (a *apiClient) summarize(ctx context.Context, s *demoSummary, truth []sim.Truth) error {
	var o server.Overview
	if err := a.get(ctx, "/v1/overview", &o); err != nil {
		return err
	}
	s.Events, s.DetectionLatency, s.ResponseLatency = o.Events, o.DetectionLatency, o.ResponseLatency

	metrics, err := a.do(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return err
	}
	s.EventsBySource = map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(metrics))
	for sc.Scan() {
		if m := metricLine.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			s.EventsBySource[m[1]] = int64(v)
		}
	}

	var incs struct {
		Incidents []event.Incident `json:"incidents"`
	}
	if err := a.get(ctx, "/v1/incidents?limit=1000", &incs); err != nil {
		return err
	}
	s.Incidents = len(incs.Incidents)
	s.IncidentsByRule = map[string]int{}
	for _, inc := range incs.Incidents {
		for _, r := range inc.Rules {
			s.IncidentsByRule[r]++
		}
	}

	var acts struct {
		Actions []respond.Action `json:"actions"`
	}
	if err := a.get(ctx, "/v1/actions?limit=1000", &acts); err != nil {
		return err
	}
	s.Actions = map[string]map[string]int{}
	for _, act := range acts.Actions {
		k := act.Connector + "." + act.Kind
		if s.Actions[k] == nil {
			s.Actions[k] = map[string]int{}
		}
		s.Actions[k][act.State]++
	}

	s.Attacks, s.Lookalikes = demoAttacks{Entries: []demoAttack{}}, demoLookalikes{Entries: []demoLookalike{}}
	for _, tr := range truth {
		var alerts struct {
			Alerts []event.Alert `json:"alerts"`
		}
		q := url.Values{"identity": {tr.Identity}, "rule": {tr.Rule}, "limit": {"1000"}}
		if err := a.get(ctx, "/v1/alerts?"+q.Encode(), &alerts); err != nil {
			return err
		}
		var top event.Severity
		for _, al := range alerts.Alerts {
			if !al.Time.Before(tr.Start) && !al.Time.After(tr.End) {
				top = top.Max(al.Severity)
			}
		}
		switch tr.Kind {
		case sim.KindAttack:
			e := demoAttack{ID: tr.ID, Rule: tr.Rule, Identity: tr.Identity, Severity: string(top),
				Detected: top != "" && (tr.MinSeverity == "" || top.Rank() >= event.Severity(tr.MinSeverity).Rank())}
			var mine struct {
				Actions []respond.Action `json:"actions"`
			}
			if err := a.get(ctx, "/v1/actions?"+url.Values{"identity": {tr.Identity}}.Encode(), &mine); err != nil {
				return err
			}
			for _, act := range mine.Actions {
				e.Actions = append(e.Actions, act.Connector+"."+act.Kind+":"+act.State)
			}
			sort.Strings(e.Actions)
			s.Attacks.Total++
			if e.Detected {
				s.Attacks.Detected++
			}
			s.Attacks.Entries = append(s.Attacks.Entries, e)
		default:
			e := demoLookalike{ID: tr.ID, Rule: tr.Rule, Identity: tr.Identity, Expect: tr.Expect, Severity: string(top),
				Quiet: top == "" || tr.Expect == sim.ExpectAtMostLow && top.Rank() <= event.SeverityLow.Rank()}
			s.Lookalikes.Total++
			if e.Quiet {
				s.Lookalikes.Quiet++
			}
			s.Lookalikes.Entries = append(s.Lookalikes.Entries, e)
		}
	}
	return nil
}

// oneLine is the summary in a line, for the interactive demo.
func (s *demoSummary) oneLine() string {
	done, recommended := 0, 0
	for _, st := range s.Actions {
		done += st[respond.StateDone]
		recommended += st[respond.StateSkipped]
	}
	return fmt.Sprintf("%d events, %d incidents, %d actions done and %d recommended; %d of %d attacks detected",
		s.Events, s.Incidents, done, recommended, s.Attacks.Detected, s.Attacks.Total)
}

// print writes the summary for people.
func (s *demoSummary) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("Simulated %d people and %d machine identities over %d days (seed %d): %d records, %s to %s.",
		s.People, s.ServiceAccounts, s.Days, s.Seed, s.Records.History+s.Records.Replay, s.From.Format(time.DateOnly), s.To.Format("2006-01-02 15:04 MST"))
	p("History: %d records in %.1f s. Replay from %s: %d records in %.1f s at %gx.",
		s.Records.History, s.HistorySeconds, s.ReplayFrom.Format(time.DateOnly), s.Records.Replay, s.ReplaySeconds, s.Speed)
	p("")
	p("Events stored    %d (%s)", s.Events, joinCounts(s.EventsBySource))
	p("Incidents        %d", s.Incidents)
	for _, r := range sortedKeys(s.IncidentsByRule) {
		p("  %-30s %d", r, s.IncidentsByRule[r])
	}
	p("Actions")
	for _, k := range sortedKeys(s.Actions) {
		p("  %-30s %s", k, joinCounts(s.Actions[k]))
	}
	lat := func(name string, l server.Latency) {
		if l.Count == 0 {
			p("%-16s none", name)
			return
		}
		p("%-16s p50 %s, p95 %s, p99 %s, max %s (%d)", name, ms(l.P50Ms), ms(l.P95Ms), ms(l.P99Ms), ms(l.MaxMs), l.Count)
	}
	lat("Detection", s.DetectionLatency)
	lat("Response", s.ResponseLatency)
	p("")
	p("Attacks detected %d of %d", s.Attacks.Detected, s.Attacks.Total)
	for _, e := range s.Attacks.Entries {
		mark := "ok"
		if !e.Detected {
			mark = "MISSED"
		}
		acts := ""
		if len(e.Actions) > 0 {
			acts = " → " + strings.Join(e.Actions, ", ")
		}
		p("  %-6s %-30s %s%s", mark, e.Rule, e.Identity, acts)
	}
	p("Look-alikes quiet %d of %d", s.Lookalikes.Quiet, s.Lookalikes.Total)
	for _, e := range s.Lookalikes.Entries {
		if !e.Quiet {
			p("  NOISY  %-30s %s (%s)", e.Rule, e.Identity, e.Severity)
		}
	}
	if s.Dir != "" {
		p("")
		p("Everything is in %s (vigil serve --db %s/vigil.db to look again).", s.Dir, s.Dir)
	}
}

func joinCounts[V int | int64](m map[string]V) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
