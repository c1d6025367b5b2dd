package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/ingest/poll"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

// poller is a configured vendor log poller.
type poller interface {
	Name() string
	Run(ctx context.Context) error
}

// pollerHealth is what /v1/health says about each poller.
type pollerHealth struct {
	mu     sync.Mutex
	status map[string]string
}

func (h *pollerHealth) set(name, status string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status[name] = status
}

func (h *pollerHealth) checks(into map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for n, s := range h.status {
		into["poller "+n] = s
	}
}

// buildPollers makes the configured pollers, reading their secrets. All
// write to l and keep their cursors in st.
func buildPollers(cfg *config.Config, l *live, st *sqlite.Store, log *slog.Logger, client *http.Client, m poll.Metrics) ([]poller, error) {
	opt := poll.Options{Sink: l, Cursors: st, Log: log, Metrics: m, HTTP: client}
	var out []poller
	for _, s := range cfg.Sources.OktaPoll {
		tok, err := s.Token.Value()
		if err != nil {
			return nil, fmt.Errorf("sources.okta_poll %s: %w", s.Name, err)
		}
		p, err := poll.NewOkta(poll.OktaConfig{Name: "okta:" + s.Name, OrgURL: s.URL, APIToken: poll.Secret(tok),
			Lookback: time.Duration(s.Since), Interval: time.Duration(s.Interval)}, opt)
		if err != nil {
			return nil, fmt.Errorf("sources.okta_poll %s: %w", s.Name, err)
		}
		out = append(out, p)
	}
	for _, s := range cfg.Sources.GraphPoll {
		secret, err := s.ClientSecret.Value()
		if err != nil {
			return nil, fmt.Errorf("sources.graph_poll %s: %w", s.Name, err)
		}
		// One token source per tenant app, shared by its logs' pollers.
		creds, err := poll.NewClientCredentials(poll.CredentialsConfig{Authority: s.LoginURL, Tenant: s.Tenant,
			ClientID: s.ClientID, ClientSecret: poll.Secret(secret), HTTP: client})
		if err != nil {
			return nil, fmt.Errorf("sources.graph_poll %s: %w", s.Name, err)
		}
		logs := s.Logs
		if len(logs) == 0 {
			logs = []string{string(poll.SignIns), string(poll.DirectoryAudits)}
		}
		for _, lg := range logs {
			p, err := poll.NewGraph(poll.GraphConfig{Name: "graph:" + s.Name + ":" + lg, Tenant: s.Tenant, Log: poll.GraphLog(lg),
				GraphURL: s.GraphURL, Tokens: creds, Lookback: time.Duration(s.Since), Interval: time.Duration(s.Interval)}, opt)
			if err != nil {
				return nil, fmt.Errorf("sources.graph_poll %s (%s): %w", s.Name, lg, err)
			}
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// superviseRestart bounds how soon a poller that stopped on an error
// retrying could not fix (a revoked token, a missing permission) is tried
// again: the vendor's refusal is not hammered, and an operator who fixed
// the credential sees it recover without restarting the service.
var superviseRestart = struct{ min, max time.Duration }{time.Minute, 30 * time.Minute}

// supervise runs p until ctx ends. A stopped poller is reported in health
// and the log, and restarted after a growing pause; the rest of the
// service goes on (one vendor's revoked token must not stop detection and
// response for the others).
func supervise(ctx context.Context, p poller, h *pollerHealth, log *slog.Logger) error {
	wait := superviseRestart.min
	for {
		h.set(p.Name(), "ok")
		start := time.Now()
		err := p.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("stopped")
		}
		if time.Since(start) > superviseRestart.max {
			wait = superviseRestart.min
		}
		// Health is public: the reason goes to the log only.
		h.set(p.Name(), fmt.Sprintf("failing since %s (see the log); retrying in %s", time.Now().UTC().Format(time.RFC3339), wait))
		log.Error("poller stopped; it will be restarted", "poller", p.Name(), "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, superviseRestart.max)
	}
}

// pollMetrics exports the pollers' counters.
type pollMetrics struct {
	fetched, delivered *prometheus.CounterVec
	throttled          *prometheus.CounterVec
	errors             *prometheus.CounterVec
	lag                *prometheus.GaugeVec
}

func newPollMetrics(reg *prometheus.Registry) *pollMetrics {
	m := &pollMetrics{
		fetched:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_poll_records_fetched_total", Help: "Records fetched by each log API poller."}, []string{"poller"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_poll_records_delivered_total", Help: "Records a poller handed to ingestion (fetched minus repeats it skipped)."}, []string{"poller"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_poll_throttled_seconds_total", Help: "Time pollers waited for vendor rate limits."}, []string{"poller"}),
		errors:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_poll_errors_total", Help: "Failed poller attempts, by kind."}, []string{"poller", "kind"}),
		lag:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_poll_lag_seconds", Help: "Now minus the newest event a poller delivered."}, []string{"poller"}),
	}
	reg.MustRegister(m.fetched, m.delivered, m.throttled, m.errors, m.lag)
	return m
}

func (m *pollMetrics) Page(p string, fetched, delivered int) {
	m.fetched.WithLabelValues(p).Add(float64(fetched))
	m.delivered.WithLabelValues(p).Add(float64(delivered))
}
func (m *pollMetrics) Throttled(p string, wait time.Duration) {
	m.throttled.WithLabelValues(p).Add(wait.Seconds())
}
func (m *pollMetrics) Error(p string, kind poll.ErrorKind) {
	m.errors.WithLabelValues(p, string(kind)).Inc()
}
func (m *pollMetrics) Lag(p string, lag time.Duration) { m.lag.WithLabelValues(p).Set(lag.Seconds()) }
