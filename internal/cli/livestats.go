package cli

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/store"
)

// liveStats is what the overview shows that the store does not keep: the
// ingest rate and recent detection and response latencies.
type liveStats struct {
	mu      sync.Mutex
	secs    [16]secCount // events per wall-clock second, a ring
	total   int64        // events stored (from the store at start, then counted)
	detect  samples
	respond samples
}

type secCount struct{ sec, n int64 }

// samples keeps the latest latencies (a ring) and counts them all.
type samples struct {
	v   []time.Duration
	n   int
	max int
}

func (s *samples) add(d time.Duration) {
	if s.max == 0 {
		s.max = 4096
	}
	if len(s.v) < s.max {
		s.v = append(s.v, d)
	} else {
		s.v[s.n%s.max] = d
	}
	s.n++
}

func (s *samples) latency() server.Latency {
	if len(s.v) == 0 {
		return server.Latency{}
	}
	v := slices.Clone(s.v)
	slices.Sort(v)
	q := func(p float64) float64 { return float64(v[min(len(v)-1, int(p*float64(len(v))))]) / 1e6 }
	return server.Latency{Count: s.n, Window: len(v), P50Ms: q(0.5), P95Ms: q(0.95), P99Ms: q(0.99), MaxMs: q(1)}
}

func (s *liveStats) events(at time.Time, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total += int64(n)
	sec := at.Unix()
	c := &s.secs[sec%int64(len(s.secs))]
	if c.sec != sec {
		*c = secCount{sec: sec}
	}
	c.n += int64(n)
}

// rate is the mean of the last 10 complete seconds.
func (s *liveStats) rate(now time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for sec := now.Unix() - 10; sec < now.Unix(); sec++ {
		if c := s.secs[sec%int64(len(s.secs))]; c.sec == sec {
			n += c.n
		}
	}
	return float64(n) / 10
}

func (s *liveStats) detected(d time.Duration) {
	s.mu.Lock()
	s.detect.add(d)
	s.mu.Unlock()
}

func (s *liveStats) responded(d time.Duration) {
	s.mu.Lock()
	s.respond.add(d)
	s.mu.Unlock()
}

// Overview answers the API's and the console's overview.
func (l *live) Overview(ctx context.Context) (server.Overview, error) {
	asOf, now := l.asOf(), l.now()
	o := server.Overview{AsOf: asOf, EventsPerSec: l.stats.rate(now)}
	l.mu.Lock()
	at, n := l.eng.AtRisk(asOf, 25, 20)
	l.mu.Unlock()
	o.AtRiskTotal = n
	for _, r := range at {
		o.AtRisk = append(o.AtRisk, server.IdentityRisk{ID: r.ID, Kind: r.Kind, Risk: r.Risk, Level: r.Level})
	}
	l.stats.mu.Lock()
	o.Events = l.stats.total
	o.DetectionLatency, o.ResponseLatency = l.stats.detect.latency(), l.stats.respond.latency()
	l.stats.mu.Unlock()
	var err error
	if o.OpenIncidents, err = l.st.CountIncidents(ctx, store.StatusOpen); err != nil {
		return o, err
	}
	if o.Actions, err = l.st.CountActionsByState(ctx); err != nil {
		return o, err
	}
	return o, nil
}

// Search finds identities by part of their id.
func (l *live) Search(_ context.Context, q string, limit int) ([]server.IdentityRisk, error) {
	l.mu.Lock()
	found := l.eng.Search(q, l.asOf(), limit)
	l.mu.Unlock()
	out := make([]server.IdentityRisk, len(found))
	for i, r := range found {
		out[i] = server.IdentityRisk{ID: r.ID, Kind: r.Kind, Risk: r.Risk, Level: r.Level}
	}
	return out, nil
}

// FalsePositive feeds people's verdict on an incident's alerts back into
// the engine (risk, sessions), and saves the engine's state so that a
// restart keeps it.
func (l *live) FalsePositive(ctx context.Context, alerts []event.Alert) error {
	l.mu.Lock()
	risk := l.eng.FalsePositive(alerts, l.asOf())
	l.mu.Unlock()
	for id, r := range risk {
		l.log.Info("false positive taken back into the baseline", "identity", id, "risk", fmt.Sprintf("%.1f", r))
	}
	return l.snapshot(ctx)
}

// Timeline returns an identity's events in [from, to), oldest first, at
// most limit.
func (l *live) Timeline(ctx context.Context, identity string, from, to time.Time, limit int) ([]event.EventRef, error) {
	return l.refs(ctx, store.Query{Identity: identity, Since: from, Until: to, Limit: limit})
}
