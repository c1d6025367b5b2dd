package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/detect"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/geoip"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/risk"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store"
)

type detectFlags struct {
	asJSON, incidents, stats bool
	configFile, state, src   string
	geoIP                    []string
	rules                    string
}

func newDetectCmd(e *env) *cobra.Command {
	var f detectFlags
	cmd := &cobra.Command{
		Use:   "detect PATH... | -",
		Short: "Detect identity threats in logs, in event-time order",
		Long: `Read logs (the same inputs as 'vigil ingest': files, directories, gzip,
standard input, any supported source, mixed), order them by event time across
inputs, and run the built-in detectors (and Sigma rules with --rules) on every
event, keeping a baseline per identity. Alerts are printed as they complete;
each raises its identity's risk and joins an incident.

Built-in rules: ` + strings.Join(detect.Rules, ", ") + `.

Exit status is 3 when any alert fired, 0 when none did.`,
		Example: `  vigil detect okta/ cloudtrail/
  vigil detect --json --geoip GeoLite2-ASN.mmdb --geoip GeoLite2-City.mmdb logs/
  vigil detect --incidents --state baselines.bin today.ndjson
  vigil detect --stats last-month/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDetect(cmd, e, f, args) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.asJSON, "json", false, "one JSON object per line")
	fl.BoolVar(&f.incidents, "incidents", false, "print incidents (grouped alerts) instead of alerts")
	fl.BoolVar(&f.stats, "stats", false, "print alerts per rule per day instead of alerts")
	fl.StringVar(&f.configFile, "config", "", "configuration file (YAML; see docs/detect.md)")
	fl.StringArrayVar(&f.geoIP, "geoip", nil, "MaxMind-format database to enrich addresses (repeat for ASN and City)")
	fl.StringVar(&f.rules, "rules", "", "directory of Sigma rules to run as well")
	fl.StringVar(&f.state, "state", "", "baseline state file: restored before, saved after (keeps what was learned)")
	fl.StringVar(&f.src, "source", "", "decode every record as this source ("+sourceList()+")")
	return cmd
}

// engineConfig turns the configuration file into the engine's settings.
// newEngine builds the detection engine a configuration describes: its
// settings, and the Sigma rules it names.
func newEngine(e *env, cfg *config.Config) (*detect.Engine, error) {
	dc, err := engineConfig(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	var matchers []detect.RuleMatcher
	if cfg.Rules != "" {
		m, err := loadSigma(e, cfg.Rules)
		if err != nil {
			return nil, err
		}
		matchers = append(matchers, m)
	}
	return detect.New(dc, matchers...), nil
}

func engineConfig(c *config.Config) (detect.Config, error) {
	d := detect.DefaultConfig()
	cd := c.Detect
	d.Baseline.Learning = time.Duration(cd.Learning)
	d.Baseline.MinEvents = cd.LearningMinEvents
	d.MaxSpeedKmh, d.MinDistanceKm = cd.ImpossibleTravel.MaxSpeedKmh, cd.ImpossibleTravel.MinDistanceKm
	d.MFAThreshold, d.MFAWindow = cd.MFAFatigue.Threshold, time.Duration(cd.MFAFatigue.Window)
	d.MFASuccessWithin = time.Duration(cd.MFAFatigue.SuccessWithin)
	d.RecoveryWindow = time.Duration(cd.Recovery.Window)
	d.VolumeFactor, d.VolumeMin = cd.VolumeSpike.Factor, cd.VolumeSpike.MinCount
	d.RiskyScore = cd.RiskyScore
	d.SessionsPerIdentity = cd.Sessions
	d.SharedNetwork = cd.SharedNetwork
	for _, n := range cd.CorporateEgress {
		if n.ASN != 0 {
			d.CorporateASNs = append(d.CorporateASNs, n.ASN)
		} else {
			d.CorporateEgress = append(d.CorporateEgress, n.Prefix)
		}
	}
	for _, r := range cd.Disabled {
		if !slices.Contains(detect.Rules, r) && !slices.Contains(detect.ResponseRules, r) && !strings.HasPrefix(r, "sigma.") {
			return d, fmt.Errorf("detect.disabled: unknown rule %q (built-in rules: %s)", r, strings.Join(detect.Rules, ", "))
		}
	}
	d.Disabled = cd.Disabled
	d.Risk = risk.Config{HalfLife: time.Duration(c.Risk.HalfLife), Window: time.Duration(c.Risk.IncidentWindow)}
	return d, nil
}

// throughputGC trades memory for speed in batch commands that stream
// millions of records through (each record's bytes are garbage soon after):
// the collector runs a fourth as often as by default. GOGC, when set,
// wins.
func throughputGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func runDetect(cmd *cobra.Command, e *env, f detectFlags, args []string) error {
	throughputGC()
	if f.incidents && f.stats {
		return usagef("--incidents and --stats are different outputs: choose one")
	}
	if f.src != "" && !knownSource(event.Source(f.src)) {
		return usagef("--source: unknown source %q (known: %s)", f.src, sourceList())
	}
	cfg := config.Default()
	if f.configFile != "" {
		var err error
		if cfg, err = config.Load(f.configFile); err != nil {
			return usageError{err}
		}
	}
	if f.rules != "" {
		cfg.Rules = f.rules
	}
	cfg.GeoIP = append(cfg.GeoIP, f.geoIP...)
	eng, err := newEngine(e, cfg)
	if err != nil {
		return err
	}
	var geo *geoip.DB
	if len(cfg.GeoIP) > 0 {
		if geo, err = geoip.Open(cfg.GeoIP...); err != nil {
			return err
		}
		defer geo.Close()
	}
	if f.state != "" {
		if err := restoreState(eng, f.state); err != nil {
			return err
		}
	}
	inputs, skipped, err := ingest.Resolve(args, e.stdin, false)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(e.stderr, "vigil: skipped %d file(s) without a log extension in directories (first: %s)\n", len(skipped), skipped[0])
	}
	out := newAlertWriter(e.stdout, f.asJSON)
	var alerts []event.Alert
	emit := func(got []event.Alert) error {
		switch {
		case len(got) == 0 || f.incidents:
		case f.stats:
			alerts = append(alerts, got...)
		default:
			for i := range got {
				if err := out.write(&got[i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	quarantined := map[string]int{}
	sum, runErr := ingest.Stream(cmd.Context(), inputs, ingest.StreamOptions{
		Source:   event.Source(f.src),
		Lateness: time.Duration(cfg.Detect.Lateness),
		Quarantine: func(q store.Quarantined) {
			quarantined[q.Reason]++
		},
	}, func(ev *event.Event) error {
		if geo != nil {
			geo.Enrich(ev)
		}
		return emit(eng.Process(ev))
	})
	if runErr == nil || errors.Is(runErr, ingest.ErrInputs) {
		if err := emit(eng.Flush()); err != nil {
			return err
		}
	}
	if runErr != nil && !errors.Is(runErr, ingest.ErrInputs) {
		if errors.Is(runErr, source.ErrUnknownSource) {
			return usageError{runErr}
		}
		return runErr
	}
	if err := out.flush(); err != nil {
		return err
	}
	switch {
	case f.incidents:
		if err := writeIncidents(e.stdout, eng.Incidents(), f.asJSON); err != nil {
			return err
		}
	case f.stats:
		if err := writeStats(e.stdout, alerts, f.asJSON); err != nil {
			return err
		}
	}
	if f.state != "" {
		if err := saveState(eng, f.state); err != nil {
			return err
		}
	}
	st := eng.Stats()
	fmt.Fprintf(e.stderr, "vigil: %d events from %d records (%d quarantined) of %d identities; %d alerts in %d incidents",
		sum.Events, sum.Read, sum.Quarantined, st.Identities, st.Alerts, len(eng.Incidents()))
	if sum.Late > 0 {
		fmt.Fprintf(e.stderr, "; %d events arrived later than the reordering window and were processed late", sum.Late)
	}
	fmt.Fprintln(e.stderr)
	if len(quarantined) > 0 {
		reasons := make([]string, 0, len(quarantined))
		for r := range quarantined {
			reasons = append(reasons, r)
		}
		sort.Slice(reasons, func(i, j int) bool {
			return quarantined[reasons[i]] > quarantined[reasons[j]] || quarantined[reasons[i]] == quarantined[reasons[j]] && reasons[i] < reasons[j]
		})
		for i, r := range reasons {
			if i == 5 {
				fmt.Fprintf(e.stderr, "vigil:   … and %d other reasons (vigil ingest keeps every quarantined record)\n", len(reasons)-5)
				break
			}
			fmt.Fprintf(e.stderr, "vigil:   quarantined %d × %s\n", quarantined[r], r)
		}
	}
	if runErr != nil {
		return runErr
	}
	if st.Alerts > 0 {
		return exitError{ExitFindings}
	}
	return nil
}

func restoreState(eng *detect.Engine, path string) error {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // the first run starts from nothing
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := eng.Restore(fh); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// saveState writes the state next to path and renames it into place, so a
// crash never leaves a half-written file.
func saveState(eng *detect.Engine, path string) error {
	tmp := path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := eng.Snapshot(fh, time.Now()); err != nil {
		fh.Close()
		os.Remove(tmp)
		return err
	}
	if err := fh.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// alertWriter prints alerts as text lines or JSON lines.
type alertWriter struct {
	w      io.Writer
	enc    *json.Encoder
	asJSON bool
}

func newAlertWriter(w io.Writer, asJSON bool) *alertWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &alertWriter{w: w, enc: enc, asJSON: asJSON}
}

func (a *alertWriter) write(al *event.Alert) error {
	if a.asJSON {
		return a.enc.Encode(al)
	}
	_, err := fmt.Fprintf(a.w, "%s  %-8s  %-26s  %-32s  risk %3.0f  %s\n", al.Time.Format(time.RFC3339),
		strings.ToUpper(string(al.Severity)), al.Rule, al.Identity, al.Risk, al.Summary)
	return err
}

func (a *alertWriter) flush() error { return nil }

func writeIncidents(w io.Writer, incs []*event.Incident, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, inc := range incs {
			if err := enc.Encode(inc); err != nil {
				return err
			}
		}
		return nil
	}
	for _, inc := range incs {
		fmt.Fprintf(w, "%s  %s  %s  risk %.0f  %s → %s  %d alerts: %s\n", inc.ID, strings.ToUpper(string(inc.Severity)), inc.Identity,
			inc.Risk, inc.Opened.Format(time.RFC3339), inc.Updated.Format(time.RFC3339), len(inc.Alerts), strings.Join(inc.Rules, ", "))
		fmt.Fprintf(w, "    %s\n", inc.Summary)
		for _, a := range inc.Alerts {
			fmt.Fprintf(w, "    %s  %-8s  %-26s  %s\n", a.Time.Format(time.RFC3339), a.Severity, a.Rule, a.Summary)
		}
	}
	return nil
}

// writeStats prints alerts per rule per day (UTC), to size alert volume
// before automatic response is turned on.
func writeStats(w io.Writer, alerts []event.Alert, asJSON bool) error {
	type key struct{ day, rule string }
	counts := map[key]int{}
	for _, a := range alerts {
		counts[key{a.Time.UTC().Format("2006-01-02"), a.Rule}]++
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].day != keys[j].day {
			return keys[i].day < keys[j].day
		}
		return keys[i].rule < keys[j].rule
	})
	if asJSON {
		enc := json.NewEncoder(w)
		for _, k := range keys {
			if err := enc.Encode(struct {
				Day    string `json:"day"`
				Rule   string `json:"rule"`
				Alerts int    `json:"alerts"`
			}{k.day, k.rule, counts[k]}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tRULE\tALERTS")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", k.day, k.rule, counts[k])
	}
	return tw.Flush()
}
