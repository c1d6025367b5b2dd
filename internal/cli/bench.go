package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/detect"
	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/sim"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func newBenchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Vigil's speed on this machine with simulated data",
	}
	var (
		n      int
		dir    string
		keep   bool
		asJSON bool
		prof   string
	)
	addFlags := func(c *cobra.Command) {
		c.Flags().IntVar(&n, "events", 1_000_000, "number of simulated Okta events")
		c.Flags().StringVar(&dir, "dir", "", "work directory (default: a new temporary directory)")
		c.Flags().BoolVar(&keep, "keep", false, "keep the generated file and database")
		c.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
		c.Flags().StringVar(&prof, "cpuprofile", "", "write a CPU profile of the timed part to this file")
	}
	startProfile := func() (func(), error) {
		if prof == "" {
			return func() {}, nil
		}
		f, err := os.Create(prof)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		return func() { pprof.StopCPUProfile(); f.Close() }, nil
	}
	workdir := func() (string, func(), error) {
		if dir != "" {
			return dir, func() {}, os.MkdirAll(dir, 0o755)
		}
		d, err := os.MkdirTemp("", "vigil-bench-")
		if err != nil {
			return "", nil, err
		}
		return d, func() {
			if !keep {
				os.RemoveAll(d)
			}
		}, nil
	}
	report := func(r benchResult) error {
		if asJSON {
			return json.NewEncoder(e.stdout).Encode(r)
		}
		_, err := fmt.Fprintf(e.stdout, "%s: %d events, %.1f MB in %s: %.0f events/s, %.1f MB/s%s\n",
			r.Name, r.Events, float64(r.Bytes)/1e6, time.Duration(r.Seconds*float64(time.Second)).Round(time.Millisecond),
			r.EventsPerSec, r.MBPerSec, r.Extra)
		return err
	}

	ingestCmd := &cobra.Command{
		Use:   "ingest",
		Short: "Generate an Okta NDJSON file and time 'vigil ingest' of it into a new database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, cleanup, err := workdir()
			if err != nil {
				return err
			}
			defer cleanup()
			path, size, err := benchFile(d, n)
			if err != nil {
				return err
			}
			db := filepath.Join(d, "bench.db")
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(db + suffix)
			}
			st, err := sqlite.Open(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			inputs, _, err := ingest.Resolve([]string{path}, nil, false)
			if err != nil {
				return err
			}
			stopProf, err := startProfile()
			if err != nil {
				return err
			}
			start := time.Now()
			sum, err := ingest.Run(cmd.Context(), st, inputs, ingest.Options{Log: e.log})
			took := time.Since(start)
			stopProf()
			if err != nil {
				return err
			}
			if sum.Events != n {
				return fmt.Errorf("bench: stored %d events of %d (quarantined %d)", sum.Events, n, sum.Quarantined)
			}
			dbSize := fileSize(db) + fileSize(db+"-wal")
			return report(benchResult{Name: "ingest", Events: n, Bytes: size, Seconds: took.Seconds(),
				EventsPerSec: float64(n) / took.Seconds(), MBPerSec: float64(size) / 1e6 / took.Seconds(),
				Cores: runtime.GOMAXPROCS(0), DBBytes: dbSize,
				Extra: fmt.Sprintf(" (%d cores; database %.1f MB)", runtime.GOMAXPROCS(0), float64(dbSize)/1e6)})
		},
	}
	addFlags(ingestCmd)

	decodeCmd := &cobra.Command{
		Use:   "decode",
		Short: "Time record scanning and decoding of simulated Okta NDJSON on one core",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var buf bytes.Buffer
			if err := sim.NewOrg(1, 300).WriteOkta(&buf, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), n); err != nil {
				return err
			}
			data := buf.Bytes()
			set, err := source.NewSet("")
			if err != nil {
				return err
			}
			stopProf, err := startProfile()
			if err != nil {
				return err
			}
			defer stopProf()
			start := time.Now()
			sc := source.NewScanner(bytes.NewReader(data), 0)
			var recs []source.Record
			events := 0
			for {
				c, err := sc.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				recs = set.Decode(recs[:0], c.Data)
				for _, r := range recs {
					if r.Err != nil {
						return fmt.Errorf("bench: line %d: %v", c.Line, r.Err)
					}
					events += len(r.Events)
				}
			}
			took := time.Since(start)
			return report(benchResult{Name: "decode", Events: events, Bytes: int64(len(data)), Seconds: took.Seconds(),
				EventsPerSec: float64(events) / took.Seconds(), MBPerSec: float64(len(data)) / 1e6 / took.Seconds(), Cores: 1})
		},
	}
	addFlags(decodeCmd)
	var rulesDir string
	detectCmd := &cobra.Command{
		Use:   "detect",
		Short: "Generate an Okta NDJSON file and time 'vigil detect' of it (built-ins, and Sigma rules with --rules)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, cleanup, err := workdir()
			if err != nil {
				return err
			}
			defer cleanup()
			path, size, err := benchFile(d, n)
			if err != nil {
				return err
			}
			var matchers []detect.RuleMatcher
			if rulesDir != "" {
				m, err := loadSigma(e, rulesDir)
				if err != nil {
					return err
				}
				matchers = append(matchers, m)
			}
			throughputGC()
			eng := detect.New(detect.DefaultConfig(), matchers...)
			inputs, _, err := ingest.Resolve([]string{path}, nil, false)
			if err != nil {
				return err
			}
			stopProf, err := startProfile()
			if err != nil {
				return err
			}
			cpu0 := cpuTime()
			start := time.Now()
			alerts := 0
			sum, err := ingest.Stream(cmd.Context(), inputs, ingest.StreamOptions{}, func(ev *event.Event) error {
				alerts += len(eng.Process(ev))
				return nil
			})
			alerts += len(eng.Flush())
			took, cpu := time.Since(start), cpuTime()-cpu0
			stopProf()
			if err != nil {
				return err
			}
			return report(benchResult{Name: "detect", Events: sum.Events, Bytes: size, Seconds: took.Seconds(),
				EventsPerSec: float64(sum.Events) / took.Seconds(), MBPerSec: float64(size) / 1e6 / took.Seconds(), Cores: runtime.GOMAXPROCS(0),
				EventsPerCPUSec: float64(sum.Events) / cpu.Seconds(),
				Extra:           fmt.Sprintf(" (%.0f events per CPU-second; %d alerts; %d identities)", float64(sum.Events)/cpu.Seconds(), alerts, eng.Stats().Identities)})
		},
	}
	addFlags(detectCmd)
	detectCmd.Flags().StringVar(&rulesDir, "rules", "", "Sigma rules to load as well")
	cmd.AddCommand(ingestCmd, decodeCmd, detectCmd, newBenchRespondCmd(e))
	return cmd
}

type benchResult struct {
	Name         string  `json:"name"`
	Events       int     `json:"events"`
	Bytes        int64   `json:"bytes"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	MBPerSec     float64 `json:"mb_per_sec"`
	Cores        int     `json:"cores"`
	DBBytes      int64   `json:"db_bytes,omitempty"`
	// EventsPerCPUSec is throughput per core: events over the process's
	// CPU time.
	EventsPerCPUSec float64 `json:"events_per_cpu_sec,omitempty"`
	Extra           string  `json:"-"`
}

// benchFile writes (or reuses) a simulated Okta NDJSON file of n events.
func benchFile(dir string, n int) (string, int64, error) {
	path := filepath.Join(dir, fmt.Sprintf("okta-%d.ndjson", n))
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return path, fi.Size(), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	if err := sim.NewOrg(1, 300).WriteOkta(f, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), n); err != nil {
		f.Close()
		return "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	return path, fileSize(path), nil
}

// cpuTime returns the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}
