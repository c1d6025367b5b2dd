package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-zt/vigil/internal/detect"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/geoip"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/signal"
	"github.com/vigil-zt/vigil/internal/risk"
	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/ssf"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

// live is the service's detection pipeline: records arrive (HTTP, pollers,
// followed files), are stored and deduplicated, and their new events go
// through the engine in arrival order; alerts are stored, incidents kept
// current, and playbooks run. The engine is single-threaded: one lock.
type live struct {
	st  *sqlite.Store
	geo *geoip.DB
	log *slog.Logger
	now func() time.Time
	// asOf is the time risk is judged at: now, except in the demo, whose
	// replayed logs run on a faster clock.
	asOf  func() time.Time
	m     *liveMetrics
	stats liveStats
	sets  sync.Pool // *source.Set

	mu   sync.Mutex
	eng  *detect.Engine
	resp *respond.Responder
	// received remembers when each recent alert's decisive event arrived,
	// for the response latency metric.
	received map[string]time.Time

	// sig broadcasts Shared Signals (nil when off); level holds the risk
	// level last announced for identities above low.
	sig   signal.Emitter
	level map[string]event.Severity
}

type liveMetrics struct {
	events      *prometheus.CounterVec
	quarantined *prometheus.CounterVec
	alerts      *prometheus.CounterVec
	actions     *prometheus.CounterVec
	lag         prometheus.Histogram
	detectLat   prometheus.Histogram
	respondLat  prometheus.Histogram
}

func newLiveMetrics(reg *prometheus.Registry, st *sqlite.Store) *liveMetrics {
	m := &liveMetrics{
		events:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_events_total", Help: "New events ingested, by source."}, []string{"source"}),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_quarantined_total", Help: "Records quarantined, by origin kind."}, []string{"origin"}),
		alerts:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_alerts_total", Help: "Alerts, by rule and severity."}, []string{"rule", "severity"}),
		actions:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_actions_total", Help: "Actions finished, by connector, kind and state."}, []string{"connector", "kind", "state"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_event_lag_seconds", Help: "Receipt time minus event time.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 12)}),
		detectLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_detection_latency_seconds", Help: "Receipt of the decisive event to the alert.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}),
		respondLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_response_latency_seconds", Help: "Receipt of the decisive event to the completed action.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14)}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_outbox_depth", Help: "Actions waiting to be sent."}, func() float64 {
		n, _ := st.CountActions(context.Background(), respond.StatePending)
		return float64(n)
	})
	reg.MustRegister(m.events, m.quarantined, m.alerts, m.actions, m.lag, m.detectLat, m.respondLat, depth)
	return m
}

func (l *live) set() *source.Set {
	if s, ok := l.sets.Get().(*source.Set); ok {
		return s
	}
	s, _ := source.NewSet("")
	return s
}

// Ingest reads a request body of records (any layout the scanner takes).
func (l *live) Ingest(ctx context.Context, src event.Source, origin string, body io.Reader, received time.Time) (server.IngestResult, error) {
	sc := source.NewScanner(body, 0)
	var raws [][]byte
	var quar []store.Quarantined
	for {
		c, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return server.IngestResult{}, err
		}
		if c.Err != nil {
			quar = append(quar, store.Quarantined{Origin: origin, Line: c.Line, Elem: -1, Reason: c.Err.Error(), Raw: bytes.Clone(c.Data), Received: received})
			continue
		}
		raws = append(raws, bytes.Clone(c.Data))
	}
	return l.records(ctx, src, origin, raws, quar, received)
}

// Records takes raw records from a poller (origin is the endpoint's URL).
func (l *live) Records(ctx context.Context, src event.Source, origin string, raws [][]byte) error {
	_, err := l.records(ctx, src, "poll:"+origin, raws, nil, l.now())
	return err
}

func (l *live) records(ctx context.Context, src event.Source, origin string, raws [][]byte, quar []store.Quarantined, received time.Time) (server.IngestResult, error) {
	set := l.set()
	defer l.sets.Put(set)
	if src != "" {
		forced, err := source.NewSet(src)
		if err != nil {
			return server.IngestResult{}, err
		}
		set = forced
	}
	b := &store.Batch{Quarantine: quar}
	var recs []source.Record
	for _, raw := range raws {
		recs = set.Decode(recs[:0], raw)
		for _, r := range recs {
			if r.Err != nil {
				b.Quarantine = append(b.Quarantine, store.Quarantined{Origin: origin, Elem: r.Elem, Source: r.Source, Reason: r.Err.Error(), Raw: r.Raw, Received: received})
				continue
			}
			for i := range r.Events {
				r.Events[i].Received = received
			}
			b.Records = append(b.Records, store.Record{Raw: r.Raw, Digest: store.RecordDigest(r.Raw), Events: r.Events})
		}
	}
	res, err := l.Append(ctx, b)
	if err != nil {
		return server.IngestResult{}, err
	}
	return server.IngestResult{Read: len(b.Records) + len(b.Quarantine), Stored: res.Stored, Duplicates: res.Duplicates, Quarantined: len(b.Quarantine)}, nil
}

// Append stores a batch and judges its new events: the ingest.Sink that
// followed files feed.
func (l *live) Append(ctx context.Context, b *store.Batch) (store.Result, error) {
	received := l.now()
	if len(b.Records) > 0 && len(b.Records[0].Events) > 0 && !b.Records[0].Events[0].Received.IsZero() {
		received = b.Records[0].Events[0].Received
	}
	res, err := l.st.Append(ctx, b)
	if err != nil {
		return res, err
	}
	for _, q := range b.Quarantine {
		l.m.quarantined.WithLabelValues(originKind(q.Origin)).Inc()
	}
	var fresh []*event.Event
	for i := range b.Records {
		if i < len(res.Fresh) && res.Fresh[i] {
			for j := range b.Records[i].Events {
				fresh = append(fresh, &b.Records[i].Events[j])
			}
		}
	}
	// Stored events are judged and their alerts kept even if the caller
	// goes away now: a retry would find them duplicates and judge nothing.
	return res, l.process(context.WithoutCancel(ctx), fresh, received)
}

func originKind(origin string) string {
	if i := bytes.IndexByte([]byte(origin), ':'); i > 0 {
		return origin[:i]
	}
	return "file"
}

// process runs new events through the engine and acts on the alerts.
func (l *live) process(ctx context.Context, evs []*event.Event, received time.Time) error {
	if len(evs) == 0 {
		return nil
	}
	l.stats.events(received, len(evs))
	var alerts []event.Alert
	var touched []*event.Incident
	l.mu.Lock()
	for _, ev := range evs {
		if l.geo != nil {
			l.geo.Enrich(ev)
		}
		l.m.events.WithLabelValues(string(ev.Source)).Inc()
		l.m.lag.Observe(received.Sub(ev.Time).Seconds())
		for _, a := range l.eng.Process(ev) {
			alerts = append(alerts, a)
			if inc := l.eng.Incident(a.Incident); inc != nil && !slices.Contains(touched, inc) {
				touched = append(touched, inc)
			}
		}
	}
	// Copies, so the engine can go on while they are stored.
	incs := make([]event.Incident, len(touched))
	for i, inc := range touched {
		incs[i] = *inc
		incs[i].Alerts = nil
	}
	for _, a := range alerts {
		if len(l.received) > 100_000 {
			clear(l.received)
		}
		l.received[a.ID] = received
	}
	var changes []ssf.Event
	if l.sig != nil {
		for _, a := range alerts {
			if ev, ok := l.levelChange(a.Identity, risk.Level(a.Risk), a.Title, a.Incident, a.Time); ok {
				changes = append(changes, ev)
			}
		}
	}
	l.mu.Unlock()
	l.emit(ctx, changes...)
	if len(alerts) == 0 {
		return nil
	}
	if err := l.st.SaveAlerts(ctx, alerts); err != nil {
		return err
	}
	for i := range incs {
		if err := l.st.SaveIncident(ctx, &incs[i]); err != nil {
			return err
		}
	}
	now := l.now()
	for i := range alerts {
		a := &alerts[i]
		l.m.alerts.WithLabelValues(a.Rule, string(a.Severity)).Inc()
		l.m.detectLat.Observe(now.Sub(received).Seconds())
		l.stats.detected(now.Sub(received))
		if l.resp != nil {
			if _, err := l.resp.OnAlert(ctx, a); err != nil {
				return fmt.Errorf("playbooks: %w", err)
			}
		}
	}
	return nil
}

// actionDone is told about every finished action: a revocation is
// remembered by the engine (to catch reuse), and latency is measured.
func (l *live) actionDone(a respond.Action) {
	l.m.actions.WithLabelValues(a.Connector, a.Kind, a.State).Inc()
	if ev, ok := signal.Outcome(a); ok && l.sig != nil {
		l.emit(context.Background(), ev)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec, ok := l.received[a.Alert]; ok && a.State == respond.StateDone {
		l.m.respondLat.Observe(l.now().Sub(rec).Seconds())
		l.stats.responded(l.now().Sub(rec))
	}
	if a.State != respond.StateDone {
		return
	}
	// The revocation is dated on the engine's clock (asOf): the same as
	// a.Updated in a live service, and the logs' time in the demo's replay,
	// so that events the replay carries past it are caught as reuse.
	by, at := a.ID+" "+a.Connector+" "+a.Kind, l.asOf()
	switch a.Kind {
	case respond.KindClearSessions, respond.KindSignOut, respond.KindSuspendUser, respond.KindResetFactors, respond.KindRevokeRoleTokens:
		l.eng.Revoked(a.Identity, at, by)
	case respond.KindDeactivateKey:
		l.eng.Revoked(a.Identity, at, by, a.Target)
	}
}

// levelChange records an identity's risk level and returns the Shared
// Signals event announcing a change receivers would see. Callers hold
// l.mu.
func (l *live) levelChange(identity string, cur event.Severity, why, incident string, at time.Time) (ssf.Event, bool) {
	prev, ok := l.level[identity]
	if !ok {
		prev = event.SeverityLow
	}
	if prev == cur {
		return ssf.Event{}, false
	}
	if cur == event.SeverityLow {
		delete(l.level, identity)
	} else {
		if l.level == nil {
			l.level = map[string]event.Severity{}
		}
		l.level[identity] = cur
	}
	return signal.RiskChange(identity, string(prev), string(cur), why, incident, at)
}

// riskSweep announces identities whose risk has decayed to a lower level
// since it was last announced (risk falls with time, without alerts).
func (l *live) riskSweep(ctx context.Context) {
	now := l.asOf()
	var changes []ssf.Event
	l.mu.Lock()
	for id := range l.level {
		if ev, ok := l.levelChange(id, risk.Level(l.eng.IdentityRisk(id, now)), "risk decayed: no new alerts", "", now); ok {
			changes = append(changes, ev)
		}
	}
	l.mu.Unlock()
	l.emit(ctx, changes...)
}

// emit queues Shared Signals events; a failure is logged (the action it
// announces has happened either way).
func (l *live) emit(ctx context.Context, evs ...ssf.Event) {
	for _, ev := range evs {
		if err := l.sig.Emit(context.WithoutCancel(ctx), ev); err != nil {
			l.log.Error("shared signals: queueing an event", "type", ev.Type, "err", err)
		}
	}
}

// snapshot saves the engine's state in the store.
func (l *live) snapshot(ctx context.Context) error {
	var buf bytes.Buffer
	l.mu.Lock()
	err := l.eng.Snapshot(&buf, l.now())
	l.eng.PruneIncidents(l.asOf())
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.st.SaveState(ctx, "engine", buf.Bytes())
}

// Identity answers the API's identity questions.
func (l *live) Identity(ctx context.Context, id string) (server.IdentityView, error) {
	v, err := l.Baseline(ctx, id)
	if err != nil {
		return v, err
	}
	if v.Incidents, err = l.st.Incidents(ctx, store.IncidentQuery{Identity: id, Limit: 20}); err != nil {
		return v, err
	}
	v.Timeline, err = l.refs(ctx, store.Query{Identity: id, Desc: true, Limit: 50})
	return v, err
}

// Baseline is what the engine knows of an identity: kind, risk, learned
// devices, networks and sessions (no store reads).
func (l *live) Baseline(_ context.Context, id string) (server.IdentityView, error) {
	l.mu.Lock()
	info, ok := l.eng.View(id, l.asOf())
	l.mu.Unlock()
	if !ok {
		return server.IdentityView{}, fmt.Errorf("identity %s: %w", id, store.ErrNotFound)
	}
	v := server.IdentityView{ID: info.ID, AsOf: l.asOf(), RiskHalfLife: l.eng.RiskHalfLife(), Kind: info.Kind, Risk: info.Risk, Level: info.Level, Since: info.Since, Learned: info.Learned}
	for _, d := range info.Devices {
		v.Devices = append(v.Devices, server.Seen{Value: d.Label, Count: int(d.Count), Last: time.Unix(int64(d.Last), 0).UTC()})
	}
	for _, n := range info.Networks {
		v.Networks = append(v.Networks, server.Seen{Value: n.Label, Count: int(n.Count), Last: time.Unix(int64(n.Last), 0).UTC()})
	}
	for _, s := range info.Sessions {
		v.Sessions = append(v.Sessions, server.SessionView{ID: s.ID, Established: s.Established, LastUsed: s.LastUsed, Device: s.Device, Network: s.Network, Hijacked: s.Hijacked, Cleared: s.Cleared})
	}
	return v, nil
}

// refs reads stored events as references, re-derived from their records.
func (l *live) refs(ctx context.Context, q store.Query) ([]event.EventRef, error) {
	set := l.set()
	defer l.sets.Put(set)
	var out []event.EventRef
	err := l.st.Events(ctx, q, func(r store.Row) error {
		ev, err := ingest.Rehydrate(set, r)
		if err != nil {
			return nil // a record today's decoder rejects is still in the store; skip it here
		}
		out = append(out, event.Ref(&ev))
		return nil
	})
	return out, err
}

// responderView adapts the Responder for the API.
type responderView struct {
	r     *respond.Responder
	kinds map[string][]string
}

func (v responderView) Manual(ctx context.Context, req respond.Request) (respond.Action, error) {
	return v.r.Manual(ctx, req)
}

func (v responderView) Connectors() map[string][]string { return v.kinds }
