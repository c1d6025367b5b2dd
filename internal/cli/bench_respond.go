package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/sim"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

// newBenchRespondCmd measures the service's reaction time: from the HTTP
// receipt of the event that completes a session hijack to the revocation
// call arriving at (an in-process stand-in for) Okta, while background
// traffic streams in.
func newBenchRespondCmd(e *env) *cobra.Command {
	var rate, samples int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "respond",
		Short: "Time from a hijack's decisive event to the session revocation, under background load",
		Long: `Start the service in this process with an Okta stand-in on loopback, stream
simulated Okta traffic into it over HTTP at --rate events/s, and every quarter
second replay a different victim's session from another device and network.
Reports p50, p95 and p99 of the time from posting the decisive event to the
revocation call reaching Okta.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := benchRespond(cmd.Context(), e, rate, samples)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(res)
			}
			_, err = fmt.Fprintf(e.stdout, "respond: %d hijacks under %.0f events/s of background traffic: p50 %s, p95 %s, p99 %s, max %s (decisive event acknowledged: p50 %s, p99 %s)\n",
				res.Samples, res.BackgroundRate, ms(res.P50Ms), ms(res.P95Ms), ms(res.P99Ms), ms(res.MaxMs), ms(res.AckP50Ms), ms(res.AckP99Ms))
			return err
		},
	}
	cmd.Flags().IntVar(&rate, "rate", 10_000, "background events per second")
	cmd.Flags().IntVar(&samples, "samples", 120, "hijacks to time")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	return cmd
}

type respondResult struct {
	Samples        int     `json:"samples"`
	BackgroundRate float64 `json:"background_events_per_sec"`
	P50Ms          float64 `json:"p50_ms"`
	P95Ms          float64 `json:"p95_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	AckP50Ms       float64 `json:"ingest_ack_p50_ms"`
	AckP99Ms       float64 `json:"ingest_ack_p99_ms"`
}

func benchRespond(ctx context.Context, e *env, rate, samples int) (respondResult, error) {
	dir, err := os.MkdirTemp("", "vigil-bench-respond-")
	if err != nil {
		return respondResult{}, err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "vigil.db")
	okta := oktaadmin.New(nil)
	defer okta.Close()
	for i := range samples {
		okta.AddUser(oktaadmin.User{ID: fmt.Sprintf("00uvictim%05d", i), Login: fmt.Sprintf("victim%05d@example.com", i), Sessions: 1})
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return respondResult{}, err
	}
	tok, rec, err := server.NewToken("bench", server.RoleIngest, time.Now())
	if err == nil {
		err = st.CreateToken(ctx, rec)
	}
	st.Close()
	if err != nil {
		return respondResult{}, err
	}
	os.Setenv("VIGIL_BENCH_OKTA_TOKEN", oktaadmin.DefaultAPIToken)
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Connectors = []config.Connector{{Name: "okta", Type: "okta", URL: okta.URL(), Token: config.Secret{Env: "VIGIL_BENCH_OKTA_TOKEN"}}}
	cfg.Playbooks = []config.Playbook{{Name: "kill", Rules: []string{"session.hijack"}, Actions: []string{"okta.clear_sessions"}, Mode: "enforce"}}
	cfg.Guardrails.Breaker.Max = 0

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	svc, err := startInProcess(sctx, e, cfg, db, nil, serveOptions{})
	if err != nil {
		return respondResult{}, fmt.Errorf("service: %w", err)
	}
	defer svc.Stop()
	api := &apiClient{base: svc.URL, token: tok}
	post := func(body []byte) error { return api.post(sctx, "okta", body) }

	// Background traffic: fresh simulated events in batches of 500 from
	// four concurrent senders (as several log shippers would post).
	var sent atomic.Int64
	bgStart := time.Now()
	var bg sync.WaitGroup
	const senders, batch = 4, 500
	for w := range senders {
		bg.Add(1)
		go func() {
			defer bg.Done()
			org := sim.NewOrg(uint64(7+w), 300)
			at := time.Now().Add(-time.Hour)
			tick := time.NewTicker(time.Duration(float64(time.Second) * batch * senders / float64(rate)))
			defer tick.Stop()
			var buf bytes.Buffer
			for {
				select {
				case <-sctx.Done():
					return
				case <-tick.C:
				}
				buf.Reset()
				org.WriteOkta(&buf, at, batch)
				at = at.Add(time.Second)
				if post(buf.Bytes()) == nil {
					sent.Add(batch)
				}
			}
		}()
	}

	var lat, acked []time.Duration
	for i := range samples {
		if err := ctx.Err(); err != nil {
			return respondResult{}, err
		}
		victim := fmt.Sprintf("victim%05d@example.com", i)
		now := time.Now()
		sess := fmt.Sprintf("102victim%05d", i)
		if err := post(oktaRecord(victim, sess, "dt-home-"+victim, "198.51.100.7", 3243, "Chrome", now.Add(-time.Minute))); err != nil {
			return respondResult{}, err
		}
		start := time.Now()
		if err := post(oktaRecord(victim, sess, "dt-attacker", "45.155.205.233", 49505, "python-requests", now)); err != nil {
			return respondResult{}, err
		}
		acked = append(acked, time.Since(start))
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := okta.WaitDeliveries(wctx, vendortest.KindClearSessions, fmt.Sprintf("00uvictim%05d", i), 1)
		cancel()
		if err != nil {
			return respondResult{}, fmt.Errorf("victim %d was never revoked: %v", i, err)
		}
		for _, q := range okta.Requests() {
			if q.Kind == vendortest.KindClearSessions && q.Target == fmt.Sprintf("00uvictim%05d", i) {
				lat = append(lat, q.Time.Sub(start))
				break
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	bgRate := float64(sent.Load()) / time.Since(bgStart).Seconds()
	stop()
	bg.Wait()
	svc.Stop()
	slices.Sort(lat)
	slices.Sort(acked)
	q := func(d []time.Duration, p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / 1e6
	}
	return respondResult{Samples: len(lat), BackgroundRate: bgRate,
		P50Ms: q(lat, 0.50), P95Ms: q(lat, 0.95), P99Ms: q(lat, 0.99), MaxMs: q(lat, 1),
		AckP50Ms: q(acked, 0.50), AckP99Ms: q(acked, 0.99)}, nil
}

// oktaRecord is a System Log sign-on event of user in session sess.
func oktaRecord(user, sess, dt, ip string, asn int, browser string, at time.Time) []byte {
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	if browser != "Chrome" {
		ua = browser + "/2.31.0"
	}
	rec := map[string]any{
		"uuid": fmt.Sprintf("%s-%d", sess, at.UnixNano()), "published": at.UTC().Format(time.RFC3339Nano),
		"eventType": "user.authentication.sso", "displayMessage": "User single sign on to app",
		"actor":                 map[string]any{"id": "00u" + user, "type": "User", "alternateId": user, "displayName": user},
		"client":                map[string]any{"ipAddress": ip, "userAgent": map[string]any{"rawUserAgent": ua}},
		"securityContext":       map[string]any{"asNumber": asn},
		"authenticationContext": map[string]any{"externalSessionId": sess},
		"debugContext":          map[string]any{"debugData": map[string]any{"dtHash": dt}},
		"outcome":               map[string]any{"result": "SUCCESS"},
	}
	b, _ := json.Marshal(rec)
	return append(b, '\n')
}

// servingRE finds the address in the line serve prints when it listens.
var servingRE = regexp.MustCompile(`serving on (https?://[^ ]+) `)

// lockedBuffer collects a service's standard error (the bench and tests
// read it while the service writes).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func ms(f float64) time.Duration { return time.Duration(f * 1e6).Round(time.Microsecond) }
