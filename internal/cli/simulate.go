package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/sim"
)

func newSimulateCmd(e *env) *cobra.Command {
	var (
		out, start, ctFormat string
		cfg                  sim.Config
		events               int
		noAttacks, asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --out DIR",
		Short: "Write a simulated organization's identity and cloud logs, with injected attacks and a truth file",
		Long: `Simulate an organization for weeks and write what its vendors would log:
the Okta System Log, Entra ID sign-ins and CloudTrail, in time order.

People have homes, ISPs, laptops, working hours in their time zones, corporate
VPN habits, business trips, new laptops and helpdesk resets; administrators
grant roles and engineers create keys; service accounts and workload roles call
AWS on schedules. In the last week, attacks that each built-in detector must
report are injected next to benign look-alikes it must not report; truth.jsonl
lists both. The same --seed gives the same bytes.

DIR receives:
  logs/okta/system-log.ndjson   Okta System Log, one LogEvent per line
  logs/entra/signins.ndjson     Entra ID sign-ins (Graph signIn), one per line
  logs/cloudtrail/AWSLogs/...   CloudTrail delivery files: gzip {"Records":[...]}
                                per account, region and 5 minutes
                                (--cloudtrail-format ndjson: one cloudtrail.ndjson)
  truth.jsonl                   the attacks and look-alikes (docs/simulate.md)
  org.json                      the people, machines and networks simulated

Feed logs/ to 'vigil ingest' or 'vigil detect'. --events caps the output for
benchmarks; without --days it also picks enough days to reach it.`,
		Example: `  vigil simulate --out /tmp/acme
  vigil simulate --out /tmp/big --people 2000 --service-accounts 200 --days 42 --seed 7
  vigil simulate --out /tmp/bench --events 1000000 --no-attacks --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return usagef("--start: want a date like 2026-02-02: %v", err)
				}
				cfg.Start = t
			}
			switch ctFormat {
			case "files", "ndjson":
			default:
				return usagef("--cloudtrail-format: want files or ndjson, not %q", ctFormat)
			}
			if events < 0 {
				return usagef("--events must not be negative")
			}
			cfg.NoAttacks = noAttacks
			cfg.MaxEvents = events
			if events > 0 && !cmd.Flags().Changed("days") {
				cfg.Days = sim.DaysFor(cfg, events)
			}
			o, err := sim.New(cfg)
			if errors.Is(err, sim.ErrConfig) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			began := time.Now()
			sum, err := sim.WriteDir(cmd.Context(), out, o, sim.DirOptions{CloudTrailNDJSON: ctFormat == "ndjson"})
			if errors.Is(err, sim.ErrExists) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			took := time.Since(began)
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(simulateResult{Summary: sum, Dir: out, Seconds: took.Seconds()})
			}
			printSimulation(e.stdout, out, sum, took)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write into (created; must not hold an earlier simulation)")
	f.IntVar(&cfg.People, "people", sim.DefaultPeople, "people in the organization")
	f.IntVar(&cfg.ServiceAccounts, "service-accounts", sim.DefaultServiceAccounts, "machine identities (IAM users and workload roles)")
	f.IntVar(&cfg.Days, "days", sim.DefaultDays, "days of history; attacks happen in the last week")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed gives the same output")
	f.StringVar(&start, "start", sim.DefaultStart.Format(time.DateOnly), "first day (UTC)")
	f.IntVar(&events, "events", 0, "stop after about this many records (0: no cap), for benchmarks")
	f.BoolVar(&noAttacks, "no-attacks", false, "leave out the attacks and look-alikes")
	f.StringVar(&ctFormat, "cloudtrail-format", "files", "CloudTrail output: files (delivery-style gzip) or ndjson")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	return cmd
}

// simulateResult is the --json summary.
type simulateResult struct {
	sim.Summary
	Dir     string  `json:"dir"`
	Seconds float64 `json:"seconds"`
}

func printSimulation(w io.Writer, dir string, s sim.Summary, took time.Duration) {
	secs := max(took.Seconds(), 0.001)
	fmt.Fprintf(w, "simulated %d people and %d service accounts for %d days from %s (seed %d)\n",
		s.People, s.ServiceAccounts, s.Days, s.Start.Format(time.DateOnly), s.Seed)
	fmt.Fprintf(w, "wrote %d events (%.1f MB) in %s: %.0f events/s, %.1f MB/s\n",
		s.Events, float64(s.Bytes)/1e6, took.Round(time.Millisecond), float64(s.Events)/secs, float64(s.Bytes)/1e6/secs)
	for _, src := range []sim.Source{sim.SourceOkta, sim.SourceEntra, sim.SourceCloudTrail} {
		fmt.Fprintf(w, "  %-11s %d\n", src, s.BySource[src])
	}
	if s.Truncated {
		fmt.Fprintf(w, "stopped at the --events cap; attacks after it are left out\n")
	}
	fmt.Fprintf(w, "injected %d attacks and %d look-alikes:\n", s.Attacks, s.Lookalikes)
	rules := make([]string, 0, len(s.ByRule))
	for r := range s.ByRule {
		rules = append(rules, r)
	}
	slices.Sort(rules)
	for _, r := range rules {
		c := s.ByRule[r]
		fmt.Fprintf(w, "  %-30s %d attack(s), %d look-alike(s)\n", r, c.Attacks, c.Lookalikes)
	}
	fmt.Fprintf(w, "files in %s:\n", dir)
	for _, f := range s.Files {
		note := ""
		if f == sim.PathCloudTrail+"/" {
			note = fmt.Sprintf(" (%d delivery files)", s.CloudTrailFiles)
		}
		fmt.Fprintf(w, "  %s%s\n", f, note)
	}
	fmt.Fprintf(w, "next: vigil ingest %s\n", filepath.Join(dir, "logs"))
}
