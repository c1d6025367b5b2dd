package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/geoip"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/signal"
	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/ssf"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func newServeCmd(e *env) *cobra.Command {
	var configFile, listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Vigil service: live ingestion, detection, response and the API",
		Long: `Run Vigil as a service: ingest live (HTTP pushes, followed files, vendor API
pollers), detect on the stream with baselines kept in the store, keep incidents
and risk current, run playbooks through a durable outbox, and serve the API
and the web console at /ui/ (see docs/serve.md and docs/console.md). Stop it with SIGINT or SIGTERM: in-flight work finishes and
the engine's state is saved.`,
		Example: `  vigil serve --config /etc/vigil/vigil.yaml
  vigil token create --name soc --role responder`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config.Default()
			if configFile != "" {
				var err error
				if cfg, err = config.Load(configFile); err != nil {
					return usageError{err}
				}
			}
			if listen != "" {
				cfg.Server.Listen = listen
			}
			db := e.db
			if cfg.Store.Path != "" && !cmd.Flags().Changed("db") && os.Getenv("VIGIL_DB") == "" {
				db = cfg.Store.Path
			}
			return serve(cmd.Context(), e, cfg, db)
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "service configuration (YAML; see docs/serve.md)")
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (overrides server.listen)")
	return cmd
}

// serveOptions are what `vigil demo` changes in the service.
type serveOptions struct {
	// asOf is the time risk is judged at (default: now).
	asOf func() time.Time
}

// serve runs until ctx ends.
func serve(ctx context.Context, e *env, cfg *config.Config, db string, opts ...serveOptions) error {
	var opt serveOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	log := e.log
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := newEngine(e, cfg)
	if err != nil {
		return err
	}
	if snap, err := st.LoadState(ctx, "engine"); err != nil {
		return err
	} else if snap != nil {
		if err := eng.Restore(bytes.NewReader(snap)); err != nil {
			return fmt.Errorf("%s: engine state: %w", db, err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	l := &live{st: st, eng: eng, log: log, now: time.Now, asOf: opt.asOf, m: newLiveMetrics(reg, st), received: map[string]time.Time{}}
	if l.asOf == nil {
		l.asOf = time.Now
	}
	if l.stats.total, err = st.CountEvents(ctx); err != nil {
		return err
	}
	if len(cfg.GeoIP) > 0 {
		if l.geo, err = geoip.Open(cfg.GeoIP...); err != nil {
			return err
		}
		defer l.geo.Close()
	}

	// Shared Signals: the transmitter keeps its streams, queue and keys in
	// the store; receivers authenticate with receiver-role API tokens.
	var tr *ssf.Transmitter
	var sig signal.Emitter
	ssfPath := ""
	if cfg.SSF.Enabled {
		issuer := cfg.SSF.Issuer
		if issuer == "" {
			issuer = cfg.Server.PublicURL
		}
		if u, err := url.Parse(issuer); err == nil {
			ssfPath = strings.TrimSuffix(u.Path, "/")
		}
		tr, err = ssf.New(ssf.Config{Issuer: issuer, Store: st.SSF(), Authorize: server.SSFReceiver,
			Algorithm: cfg.SSF.Algorithm, KeyGrace: time.Duration(cfg.SSF.KeyGrace), DefaultSubjects: cfg.SSF.DefaultSubjects,
			Insecure: cfg.SSF.AllowHTTP, Logger: log})
		if err != nil {
			return usageError{fmt.Errorf("ssf: %w", err)}
		}
		if err := tr.Open(ctx); err != nil {
			return fmt.Errorf("ssf: %w", err)
		}
		sig = tr
		l.sig = tr
	}

	client := &http.Client{Timeout: 30 * time.Second}
	conns, err := buildConnectors(cfg, client, sig)
	if err != nil {
		return err
	}
	pollers, err := buildPollers(cfg, l, st, log, client, newPollMetrics(reg))
	if err != nil {
		return err
	}
	ph := &pollerHealth{status: map[string]string{}}
	kinds := map[string][]string{}
	for name, c := range conns {
		kinds[name] = c.Kinds()
	}
	playbooks, err := buildPlaybooks(cfg)
	if err != nil {
		return usageError{err}
	}
	resp, err := respond.New(respond.Config{
		Playbooks: playbooks, Connectors: conns, Protected: cfg.Guardrails.Protected,
		BreakerMax: cfg.Guardrails.Breaker.Max, BreakerWindow: time.Duration(cfg.Guardrails.Breaker.Window),
		Log: log, OnDone: l.actionDone,
		OnBreaker: func(at time.Time, n int) { l.breakerOpened(ctx, at, n) },
	}, st)
	if err != nil {
		return usageError{err}
	}
	l.resp = resp

	deps := server.Deps{
		Tokens: st, Audit: st, Data: st, Ingest: l, Identities: l, Live: l, Respond: responderView{resp, kinds},
		Registry: reg, Log: log, Version: buildInfo().Version, MaxIngestBytes: cfg.Server.MaxIngestBytes, PublicURL: cfg.Server.PublicURL,
		Health: func(ctx context.Context) map[string]string {
			checks := map[string]string{"store": "ok", "responder": "ok"}
			if _, err := st.CountEvents(ctx); err != nil {
				checks["store"] = "failing"
			}
			if resp.BreakerOpen() {
				checks["responder"] = "circuit breaker open"
			}
			ph.checks(checks)
			return checks
		},
	}
	if tr != nil {
		deps.SSF, deps.SSFPath, deps.SSFRotate = tr.Handler(), ssfPath, tr.Rotate
	}
	srv := server.New(deps)
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: nil}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		}()
	}
	run("responder", resp.Run)
	if tr != nil {
		run("ssf", tr.Run)
		run("risk levels", func(ctx context.Context) error { return every(ctx, time.Minute, l.riskSweep) })
	}
	run("snapshots", func(ctx context.Context) error {
		return every(ctx, time.Minute, func(ctx context.Context) {
			if err := l.snapshot(ctx); err != nil {
				log.Error("saving the engine state", "err", err)
			}
		})
	})
	for _, f := range cfg.Sources.Files {
		f := f
		run("file "+f.Path, func(ctx context.Context) error {
			inputs, _, err := ingest.Resolve([]string{f.Path}, nil, true)
			if err != nil {
				return err
			}
			_, err = ingest.Run(ctx, l, inputs, ingest.Options{Source: event.Source(f.Source), Log: log, BatchSize: 256})
			return err
		})
	}
	for _, p := range pollers {
		run("poller "+p.Name(), func(ctx context.Context) error { return supervise(ctx, p, ph, log) })
	}
	run("http", func(ctx context.Context) error {
		var err error
		if cfg.Server.TLSCertFile != "" {
			err = hs.ServeTLS(ln, cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile)
		} else {
			err = hs.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	scheme := "http"
	if cfg.Server.TLSCertFile != "" {
		scheme = "https"
	}
	names := make([]string, 0, len(conns))
	for n := range conns {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		names = []string{"none"}
	}
	signals := "off"
	if tr != nil {
		signals = "on"
	}
	fmt.Fprintf(e.stderr, "vigil: serving on %s://%s (database %s; connectors: %s; playbooks: %d; shared signals: %s; console: %s://%s/ui/)\n",
		scheme, ln.Addr(), db, strings.Join(names, ", "), len(playbooks), signals, scheme, ln.Addr())

	<-ctx.Done()
	shut, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	hs.Shutdown(shut)
	wg.Wait()
	if err := l.snapshot(context.Background()); err != nil {
		log.Error("saving the engine state", "err", err)
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

// every calls f each period until ctx ends.
func every(ctx context.Context, period time.Duration, f func(context.Context)) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			f(ctx)
		}
	}
}

// breakerOpened records the breaker opening as an alert people see.
func (l *live) breakerOpened(ctx context.Context, at time.Time, n int) {
	a := event.Alert{ID: fmt.Sprintf("al-breaker-%d", at.UnixNano()), Time: at, Rule: "respond.circuit_breaker",
		Title: "Automatic response stopped by the circuit breaker", Severity: event.SeverityHigh, Confidence: 1,
		Identity: "vigil", IdentityKind: event.KindService,
		Summary:  fmt.Sprintf("%d automatic actions were queued within the breaker's window: automatic response is paused until the rate drops. A misfiring rule must not lock out the company; check recent alerts.", n),
		Evidence: event.Evidence{Events: []event.EventRef{}}}
	if err := l.st.SaveAlerts(context.WithoutCancel(ctx), []event.Alert{a}); err != nil {
		l.log.Error("recording the breaker alert", "err", err)
	}
	l.log.Warn("circuit breaker open: automatic actions paused", "queued", n)
}

// buildPlaybooks turns configured playbooks into the responder's.
func buildPlaybooks(cfg *config.Config) ([]respond.Playbook, error) {
	var out []respond.Playbook
	for _, p := range cfg.Playbooks {
		pb := respond.Playbook{Name: p.Name, Rules: p.Rules, MinSeverity: event.Severity(p.MinSeverity), MinRisk: p.MinRisk, Mode: p.Mode}
		for _, k := range p.Kinds {
			pb.Kinds = append(pb.Kinds, event.Kind(k))
		}
		for _, a := range p.Actions {
			conn, kind, _ := strings.Cut(a, ".")
			pb.Steps = append(pb.Steps, respond.Step{Connector: conn, Kind: kind})
		}
		out = append(out, pb)
	}
	return out, nil
}

// inProcess is a service started in this process (`vigil demo`, `vigil
// bench respond`).
type inProcess struct {
	// URL is the address it serves, "http://127.0.0.1:port".
	URL  string
	stop context.CancelFunc
	done chan struct{}
	err  error
}

// startInProcess runs serve until ctx ends or Stop, and returns once it
// listens (or has failed). The service's standard error goes to stderr
// (nil: discarded).
func startInProcess(ctx context.Context, e *env, cfg *config.Config, db string, stderr io.Writer, opts serveOptions) (*inProcess, error) {
	captured := &lockedBuffer{}
	if stderr != nil {
		stderr = io.MultiWriter(stderr, captured)
	} else {
		stderr = captured
	}
	sctx, stop := context.WithCancel(ctx)
	p := &inProcess{stop: stop, done: make(chan struct{})}
	se := &env{stdin: e.stdin, stdout: io.Discard, stderr: stderr, db: db, log: e.log}
	go func() {
		p.err = serve(sctx, se, cfg, db, opts)
		close(p.done)
	}()
	deadline := time.After(30 * time.Second)
	for {
		if m := servingRE.FindStringSubmatch(captured.String()); m != nil {
			p.URL = m[1]
			return p, nil
		}
		select {
		case <-p.done:
			stop()
			return nil, p.err
		case <-deadline:
			p.Stop()
			return nil, fmt.Errorf("the service did not start within 30 s: %s", captured.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Done is closed when the service has stopped; Err is then why.
func (p *inProcess) Done() <-chan struct{} { return p.done }

// Err is the service's error once Done is closed.
func (p *inProcess) Err() error { return p.err }

// Stop stops the service and waits for it.
func (p *inProcess) Stop() error {
	p.stop()
	<-p.done
	return p.err
}
