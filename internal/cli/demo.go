package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/sim"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
	"github.com/vigil-zt/vigil/internal/vendortest/awsiam"
	"github.com/vigil-zt/vigil/internal/vendortest/graphadmin"
	"github.com/vigil-zt/vigil/internal/vendortest/oktaadmin"
)

// demoOptions are vigil demo's flags.
type demoOptions struct {
	dir      string
	listen   string
	headless bool
	json     bool
	speed    float64
	seed     uint64
	people   int
	machines int
	days     int
}

// Bounds of the demo's flags: attacks need their own people and machines,
// baselines a week of history; beyond the upper bounds the history alone
// would take most of an hour to load on a laptop.
const (
	demoMinDays     = 7
	demoMaxDays     = 90
	demoMaxPeople   = 5_000
	demoMaxMachines = 500
)

func newDemoCmd(e *env) *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch Vigil catch and stop attacks on a simulated organization, in one command",
		Long: `Simulate an organization (people, service accounts, weeks of Okta, Entra ID and
CloudTrail logs with attacks and benign look-alikes), start the service on an
embedded database in a temporary directory (or --dir), load the history over
HTTP for the baselines, then stream the last week into it at --speed simulated
seconds per wall second. Response connectors point at in-process stand-ins for
Okta, Microsoft Graph and AWS IAM, so stolen sessions are really revoked and
leaked keys deactivated through the same HTTP code as in a real deployment.

The console's URL and an admin token are printed on standard output; the
service keeps serving after the replay until interrupted. With --headless the
same scenario runs to the end, a summary is printed (events, incidents by
rule, actions, detection and response latency, and how the alerts compare
with the simulation's truth file) and the command exits. See docs/demo.md.`,
		Example: `  vigil demo                              # then open the URL and sign in with the token
  vigil demo --listen 127.0.0.1:9090 --dir /tmp/vigil-demo
  vigil demo --headless                   # the same scenario to the end, then a summary
  vigil demo --headless --json --speed 20000 --people 100 --days 14`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if cmd.Flags().Changed("db") {
				return usagef("--db: the demo keeps its own database, in --dir (vigil serve --db DIR/vigil.db serves it again)")
			}
			err := runDemo(cmd.Context(), e, o)
			if err != nil && cmd.Context().Err() != nil && !o.headless {
				// Interrupting is how the interactive demo ends.
				fmt.Fprintln(e.stderr, "vigil demo: interrupted; stopped")
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "directory for the logs, truth file and database, kept afterwards (default: a temporary one, removed at exit)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address the service and console listen on")
	f.BoolVar(&o.headless, "headless", false, "run the scenario to the end, print a summary and exit")
	f.BoolVar(&o.json, "json", false, "with --headless, print the summary as one JSON object")
	f.Float64Var(&o.speed, "speed", 3600, "simulated seconds per wall second while the last week is replayed")
	f.Uint64Var(&o.seed, "seed", 1, "simulation seed: the same seed gives the same organization and attacks")
	f.IntVar(&o.people, "people", sim.DefaultPeople, "people in the organization")
	f.IntVar(&o.machines, "service-accounts", sim.DefaultServiceAccounts, "machine identities (IAM users and roles)")
	f.IntVar(&o.days, "days", sim.DefaultDays, "days of logs; attacks happen in the last week (the last third of a shorter run)")
	return cmd
}

func (o demoOptions) validate() error {
	switch {
	case !(o.speed > 0) || math.IsInf(o.speed, 0):
		return usagef("--speed: want simulated seconds per wall second, more than 0 (3600 plays an hour a second), not %v", o.speed)
	case o.people < sim.MinPeopleWithAttacks || o.people > demoMaxPeople:
		return usagef("--people: want %d to %d (the attacks need people of their own), not %d", sim.MinPeopleWithAttacks, demoMaxPeople, o.people)
	case o.machines < sim.MinMachinesWithAttacks || o.machines > demoMaxMachines:
		return usagef("--service-accounts: want %d to %d (the attacks need machines of their own), not %d", sim.MinMachinesWithAttacks, demoMaxMachines, o.machines)
	case o.days < demoMinDays || o.days > demoMaxDays:
		return usagef("--days: want %d to %d (baselines need a week of history), not %d", demoMinDays, demoMaxDays, o.days)
	case o.json && !o.headless:
		return usagef("--json goes with --headless (the interactive demo prints the console's address and token)")
	}
	if _, port, err := net.SplitHostPort(o.listen); err != nil || port == "" {
		return usagef("--listen: want host:port such as 127.0.0.1:8080, not %q", o.listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return usagef("--listen: want host:port such as 127.0.0.1:8080, not %q", o.listen)
	}
	return nil
}

// listenError names --listen when the address cannot be had.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("--listen %s: the address is in use (another vigil?); choose another with --listen, e.g. --listen 127.0.0.1:0 for any free port", addr)
	}
	return fmt.Errorf("--listen %s: %w", addr, err)
}

// demoStart is the first simulated day: the logs end at the last UTC
// midnight at least 12 hours ago, so that every record is in the past
// (people west of UTC work past the last midnight: about 3½ hours of
// records follow it).
func demoStart(now time.Time, days int) time.Time {
	return now.UTC().Add(-12*time.Hour).Truncate(24*time.Hour).AddDate(0, 0, -days)
}

// Environment variables the demo sets in its own process to hand the
// stand-ins' credentials to the connectors, as a deployment would.
const (
	demoEnvOkta      = "VIGIL_DEMO_OKTA_TOKEN"
	demoEnvGraph     = "VIGIL_DEMO_GRAPH_SECRET"
	demoEnvAWSKey    = "VIGIL_DEMO_AWS_ACCESS_KEY_ID"
	demoEnvAWSSecret = "VIGIL_DEMO_AWS_SECRET_ACCESS_KEY"
)

// standIns are the in-process vendors the demo's connectors act on.
type standIns struct {
	okta  *oktaadmin.Server
	graph *graphadmin.Server
	iam   *awsiam.Server
}

// startStandIns starts the vendors' fakes on loopback and registers every
// simulated person (Okta and Entra) and machine identity (IAM users with
// their keys, roles) so that actions on them succeed.
func startStandIns(d sim.Directory) *standIns {
	s := &standIns{okta: oktaadmin.New(nil), graph: graphadmin.New(nil), iam: awsiam.New(nil)}
	for _, p := range d.People {
		s.okta.AddUser(oktaadmin.User{ID: p.OktaID, Login: p.Login, Sessions: 2, OAuthTokens: 1, Factors: 2})
		s.graph.AddUser(graphadmin.User{ID: p.EntraID, UserPrincipalName: p.Login})
	}
	for _, m := range d.Machines {
		switch {
		case m.AccessKey != "" && !strings.HasPrefix(m.ID, "role/"):
			s.iam.AddAccessKey(m.ID, m.AccessKey)
		case strings.HasPrefix(m.ID, "role/"):
			s.iam.AddRole(strings.TrimPrefix(m.ID, "role/"))
		}
	}
	return s
}

func (s *standIns) Close() {
	s.okta.Close()
	s.graph.Close()
	s.iam.Close()
}

// demoConfig is the service's configuration: connectors to the stand-ins
// (secrets through the environment, as in production), the playbooks and
// guardrails of docs/demo.md, and the organization's corporate egress.
func demoConfig(listen string, s *standIns, d sim.Directory) (*config.Config, error) {
	for k, v := range map[string]string{demoEnvOkta: oktaadmin.DefaultAPIToken, demoEnvGraph: graphadmin.DefaultClientSecret,
		demoEnvAWSKey: awsiam.DefaultAccessKeyID, demoEnvAWSSecret: awsiam.DefaultSecretAccessKey} {
		if err := os.Setenv(k, v); err != nil {
			return nil, err
		}
	}
	cfg := config.Default()
	cfg.Server.Listen = listen
	cfg.Connectors = []config.Connector{
		{Name: "okta", Type: "okta", URL: s.okta.URL(), Token: config.Secret{Env: demoEnvOkta}},
		{Name: "entra", Type: "entra", Tenant: graphadmin.DefaultTenant, ClientID: graphadmin.DefaultClientID,
			ClientSecret: config.Secret{Env: demoEnvGraph}, LoginURL: s.graph.URL(), URL: s.graph.URL()},
		{Name: "aws", Type: "awsiam", URL: s.iam.URL(), Region: "us-east-1",
			AccessKeyID: config.Secret{Env: demoEnvAWSKey}, SecretAccessKey: config.Secret{Env: demoEnvAWSSecret}},
	}
	cfg.Playbooks = []config.Playbook{
		{Name: "stolen-session", Rules: []string{"session.hijack", "session.used_after_revocation"}, MinSeverity: "high",
			Kinds: []string{"human", "admin"}, Actions: []string{"okta.clear_sessions", "entra.clear_sessions"}, Mode: "enforce"},
		{Name: "account-takeover", Rules: []string{"account.recovery_takeover", "mfa.fatigue"}, MinSeverity: "critical",
			Kinds: []string{"human", "admin"}, Actions: []string{"okta.suspend_user"}, Mode: "recommend"},
		// No kinds: CloudTrail reports IAM users as people (an IAM user may
		// be one), and the rule fires only on identities the engine judges
		// machines, so kinds [service] would spare leaked IAM user keys.
		{Name: "machine-credentials", Rules: []string{"nhi.anomalous_origin"}, MinSeverity: "high",
			Actions: []string{"aws.deactivate_key", "aws.revoke_role_sessions"}, Mode: "enforce"},
	}
	// The breaker counts automatic actions per wall-clock window: the
	// demo plays a week in minutes, so its window sees a week's actions
	// (a dozen or so at the defaults).
	cfg.Guardrails.Breaker = config.Breaker{Max: 100, Window: config.Duration(10 * time.Minute)}
	for _, n := range d.Corporate {
		cfg.Detect.CorporateEgress = append(cfg.Detect.CorporateEgress, config.Network{Prefix: n.Prefix})
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// demoTokens creates the admin token people sign in with and the ingest
// token the replay posts with.
func demoTokens(ctx context.Context, db string) (admin, ingest string, err error) {
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return "", "", err
	}
	defer st.Close()
	now := time.Now()
	admin, rec, err := server.NewToken("demo-admin", server.RoleAdmin, now)
	if err == nil {
		err = st.CreateToken(ctx, rec)
	}
	if err != nil {
		return "", "", err
	}
	ingest, rec, err = server.NewToken("demo-replay", server.RoleIngest, now)
	if err == nil {
		err = st.CreateToken(ctx, rec)
	}
	return admin, ingest, err
}

// demoDir is the directory the demo writes to, and whether it is kept.
func demoDir(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "vigil-demo-")
		return d, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", true, fmt.Errorf("--dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", true, fmt.Errorf("--dir: %w", err)
	}
	if len(entries) > 0 {
		return "", true, usagef("--dir %s is not empty: give a new or empty directory (the demo writes logs, a truth file and a database there)", dir)
	}
	return dir, true, nil
}

// consoleURL is the address people open: a wildcard listen address is
// reached on loopback.
func consoleURL(served string) string {
	u := strings.TrimSuffix(served, "/")
	for _, wild := range []string{"://0.0.0.0:", "://[::]:"} {
		u = strings.Replace(u, wild, "://127.0.0.1:", 1)
	}
	return u + "/"
}

func runDemo(ctx context.Context, e *env, o demoOptions) error {
	// Hold the address while the organization is simulated: a busy port
	// fails now, not after a minute of work.
	probe, err := net.Listen("tcp", o.listen)
	if err != nil {
		return listenError(o.listen, err)
	}
	defer probe.Close()
	dir, keep, err := demoDir(o.dir)
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}

	begin := time.Now()
	start := demoStart(begin, o.days)
	fmt.Fprintf(e.stderr, "vigil demo: simulating %d people and %d machine identities over %d days (%s to %s, seed %d) in %s\n",
		o.people, o.machines, o.days, start.Format(time.DateOnly), start.AddDate(0, 0, o.days).Format(time.DateOnly), o.seed, dir)
	org, err := sim.New(sim.Config{Seed: o.seed, People: o.people, ServiceAccounts: o.machines, Days: o.days, Start: start})
	if err != nil {
		return usageError{err}
	}
	simSum, err := sim.WriteDir(ctx, dir, org, sim.DirOptions{CloudTrailNDJSON: true})
	if err != nil {
		return fmt.Errorf("simulation: %w", err)
	}
	fmt.Fprintf(e.stderr, "vigil demo: %d records (okta %d, entra %d, cloudtrail %d) with %d attacks and %d look-alikes, written in %.1f s\n",
		simSum.Events, simSum.BySource[sim.SourceOkta], simSum.BySource[sim.SourceEntra], simSum.BySource[sim.SourceCloudTrail],
		simSum.Attacks, simSum.Lookalikes, time.Since(begin).Seconds())
	directory := org.Directory()
	f, err := os.Open(filepath.Join(dir, sim.PathTruth))
	if err != nil {
		return err
	}
	truth, err := sim.ReadTruth(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("simulation: %w", err)
	}
	end := start.AddDate(0, 0, o.days)
	replayFrom := end.AddDate(0, 0, -7)
	if directory.Attack != nil {
		replayFrom = directory.Attack.From
	}
	if replayFrom.Before(start) {
		replayFrom = start
	}

	vendors := startStandIns(directory)
	defer vendors.Close()
	cfg, err := demoConfig(o.listen, vendors, directory)
	if err != nil {
		return err
	}
	db := filepath.Join(dir, "vigil.db")
	adminTok, ingestTok, err := demoTokens(ctx, db)
	if err != nil {
		return err
	}

	clock := newReplayClock(start, time.Now)
	probe.Close()
	// The service outlives an interrupt of ctx until it is stopped on the
	// way out, before the directory is removed.
	svc, err := startInProcess(context.WithoutCancel(ctx), e, cfg, db, e.stderr, serveOptions{asOf: clock.Now})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return listenError(o.listen, err)
		}
		return fmt.Errorf("service: %w", err)
	}
	defer svc.Stop()
	base := svc.URL
	api := &apiClient{base: base, token: adminTok}
	url := consoleURL(base)
	if o.headless {
		fmt.Fprintf(e.stderr, "vigil demo: console %s (admin token %s)\n", url, adminTok)
	} else {
		fmt.Fprintf(e.stdout, "Vigil console: %s\nAdmin token:   %s\n", url, adminTok)
	}

	rp := &replay{e: e, api: api, ingest: &apiClient{base: base, token: ingestTok}, clock: clock, speed: o.speed,
		from: replayFrom, total: simSum.Events}
	res, err := rp.run(ctx, filepath.Join(dir, "logs"))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted during the replay: %w", context.Cause(ctx))
		}
		return err
	}
	clock.finish()

	sum := demoSummary{Seed: o.seed, People: o.people, ServiceAccounts: o.machines, Days: o.days, Speed: o.speed,
		From: start, ReplayFrom: replayFrom, To: simSum.Last, Records: res.records, HistorySeconds: res.historySecs, ReplaySeconds: res.replaySecs}
	if keep {
		sum.Dir = dir
	}
	if o.headless {
		pending, err := api.waitOutbox(ctx, time.Minute)
		if err != nil {
			return err
		}
		if pending > 0 {
			fmt.Fprintf(e.stderr, "vigil demo: %d actions still pending or being sent after a minute\n", pending)
		}
		if err := api.summarize(ctx, &sum, truth); err != nil {
			return err
		}
		if o.json {
			return json.NewEncoder(e.stdout).Encode(sum)
		}
		sum.print(e.stdout)
		return nil
	}
	if err := api.summarize(ctx, &sum, truth); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "vigil demo: replay done: %s; serving %s until interrupted (Ctrl-C)\n", sum.oneLine(), url)
	select {
	case <-ctx.Done():
	case <-svc.Done():
		return fmt.Errorf("service: %w", svc.Err())
	}
	fmt.Fprintln(e.stderr, "vigil demo: stopping")
	return nil
}
