package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func newIngestCmd(e *env) *cobra.Command {
	var (
		asJSON    bool
		follow    bool
		src       string
		batch     int
		maxRecord int
	)
	cmd := &cobra.Command{
		Use:   "ingest PATH... | -",
		Short: "Read identity and cloud audit logs into the database",
		Long: `Read logs in their vendors' own formats and store the normalized events.

PATH may be a file (optionally gzip-compressed), a directory (read recursively:
.json, .jsonl, .ndjson, .log and .txt files, optionally .gz), or - for standard
input. Records may be newline-delimited JSON, JSON arrays (API pages), envelopes
(CloudTrail {"Records":[...]}, Graph {"value":[...]}, Event Hubs {"records":[...]},
Okta event hooks, Admin SDK responses) or pretty-printed JSON.

Each record's format is detected (` + sourceList() + `) unless --source says.
Ingesting the same data twice stores nothing new. Records that cannot be decoded
are quarantined with the reason, file and line: see 'vigil quarantine list'.`,
		Example: `  vigil ingest okta-2026-03.ndjson cloudtrail/
  gunzip -c export.json.gz | vigil ingest --json -
  vigil ingest --follow /var/log/okta/system.ndjson`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			inputs, skipped, err := ingest.Resolve(args, e.stdin, follow)
			if err != nil {
				return err
			}
			if len(skipped) > 0 {
				fmt.Fprintf(e.stderr, "vigil: skipped %d file(s) without a log extension in directories (first: %s); name files explicitly to read them\n", len(skipped), skipped[0])
			}
			st, err := sqlite.Open(ctx, e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			prog := &ingest.Progress{}
			var total int64
			for _, in := range inputs {
				total += in.Size
			}
			stopBar := func() {}
			if e.stderrTTY && !follow {
				stopBar = startProgress(e.stderr, prog, total)
			}
			start := time.Now()
			sum, runErr := ingest.Run(ctx, st, inputs, ingest.Options{
				Source: event.Source(src), BatchSize: batch, MaxRecord: maxRecord, Log: e.log, Progress: prog,
			})
			stopBar()
			if errors.Is(runErr, source.ErrUnknownSource) {
				return usageError{runErr}
			}
			if runErr != nil && !errors.Is(runErr, ingest.ErrInputs) && !errors.Is(runErr, ingest.ErrInterrupted) {
				return runErr
			}
			if asJSON {
				if err := json.NewEncoder(e.stdout).Encode(sum); err != nil {
					return err
				}
			} else {
				printSummary(e.stdout, sum, time.Since(start), e.db)
			}
			return runErr
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep reading a growing file (like tail -F) until interrupted")
	cmd.Flags().StringVar(&src, "source", "", "decode every record as this source instead of detecting it ("+sourceList()+")")
	cmd.Flags().IntVar(&batch, "batch", 4096, "records per write transaction")
	cmd.Flags().IntVar(&maxRecord, "max-record", source.DefaultMaxRecord, "largest record accepted, in bytes")
	return cmd
}

func sourceList() string {
	var s []string
	for _, x := range source.Sources() {
		s = append(s, string(x))
	}
	return strings.Join(s, ", ")
}

func printSummary(w io.Writer, s ingest.Summary, took time.Duration, db string) {
	rate := ""
	if secs := took.Seconds(); secs > 0 && s.Read > 0 {
		rate = fmt.Sprintf(" (%.0f records/s)", float64(s.Read)/secs)
	}
	fmt.Fprintf(w, "read %d records from %d input(s) in %s%s\n", s.Read, s.Inputs, took.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "  stored       %d (%d events)\n", s.Stored, s.Events)
	fmt.Fprintf(w, "  duplicates   %d\n", s.Duplicates)
	fmt.Fprintf(w, "  quarantined  %d\n", s.Quarantined)
	for _, k := range s.SortedSources() {
		c := s.BySource[k]
		fmt.Fprintf(w, "  %-15s read %d, stored %d, duplicates %d, quarantined %d\n", k, c.Read, c.Stored, c.Duplicates, c.Quarantined)
	}
	if s.Quarantined > 0 {
		fmt.Fprintf(w, "see why with: vigil quarantine list --db %s\n", db)
	}
}

// startProgress draws a progress line on a terminal until the returned
// function is called.
func startProgress(w io.Writer, p *ingest.Progress, total int64) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				drawProgress(w, p.Bytes.Load(), total, p.Records.Load(), time.Since(start))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func drawProgress(w io.Writer, n, total, records int64, took time.Duration) {
	const width = 30
	rate := float64(records) / max(took.Seconds(), 0.001)
	if total <= 0 {
		fmt.Fprintf(w, "\r\033[K%d records, %.0f/s", records, rate)
		return
	}
	frac := min(float64(n)/float64(total), 1)
	fill := int(frac * width)
	fmt.Fprintf(w, "\r\033[K[%s%s] %3.0f%%  %d records  %.0f/s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, records, rate)
}
