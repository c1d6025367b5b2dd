package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func newEventsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Query stored events",
	}
	cmd.AddCommand(newEventsListCmd(e))
	return cmd
}

// jsonEvent is the --json line format: the normalized event, plus the
// original record with --raw.
type jsonEvent struct {
	event.Event
	Raw json.RawMessage `json:"raw,omitempty"`
}

func newEventsListCmd(e *env) *cobra.Command {
	var (
		q            store.Query
		src, cat     string
		since, until string
		asJSON, raw  bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List stored events, as Vigil understood them",
		Long: `List stored events in event-time order, normalized.

With --json, each line is one normalized event (add --raw for the original
vendor record), so that people and scripts can see exactly what Vigil
understood. Times for --since and --until are RFC 3339 ("2026-03-02T09:00:00Z"),
a date ("2026-03-02", UTC), or a duration before now ("36h").`,
		Example: `  vigil events list --identity dana.reyes@example.com --since 2026-03-01
  vigil events list --session 102Xy7Qm2LkR0uWc1pO9eA8 --json
  vigil events list --source cloudtrail --category credential --limit 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if q.Since, err = parseWhen(since, now); err != nil {
				return usagef("--since: %v", err)
			}
			if q.Until, err = parseWhen(until, now); err != nil {
				return usagef("--until: %v", err)
			}
			if src != "" {
				q.Source = event.Source(src)
				if !knownSource(q.Source) {
					return usagef("--source: unknown source %q (known: %s)", src, sourceList())
				}
			}
			if cat != "" {
				q.Category = event.Category(cat)
				if !q.Category.Valid() {
					return usagef("--category: unknown category %q (known: %s)", cat, categoryList())
				}
			}
			q.Identity = strings.ToLower(strings.TrimSpace(q.Identity))
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			set, err := source.NewSet("")
			if err != nil {
				return err
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "TIME\tSOURCE\tCATEGORY\tACTIVITY\tRESULT\tACTOR\tIP\tSESSION\tTYPE")
			}
			n := 0
			err = st.Events(cmd.Context(), q, func(row store.Row) error {
				ev, err := ingest.Rehydrate(set, row)
				if err != nil {
					return err
				}
				n++
				if asJSON {
					je := jsonEvent{Event: ev}
					if raw {
						je.Raw = json.RawMessage(row.Raw)
					}
					return enc.Encode(je)
				}
				ip := ""
				if ev.Network.IP.IsValid() {
					ip = ev.Network.IP.String()
				}
				_, err = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
					ev.Time.Format(time.RFC3339), ev.Source, ev.Category, ev.Activity, dash(string(ev.Outcome.Result)),
					dash(ev.Actor.ID), dash(ip), dash(ev.Session.Key()), ev.VendorType)
				return err
			})
			if err != nil {
				return err
			}
			if !asJSON {
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			if q.Limit > 0 && n == q.Limit {
				fmt.Fprintf(e.stderr, "vigil: showing the first %d events; use --limit 0 for all\n", n)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Identity, "identity", "", "only events by this canonical identity (login, UPN, IAM user, e-mail)")
	f.StringVar(&src, "source", "", "only events from this source ("+sourceList()+")")
	f.StringVar(&cat, "category", "", "only events of this category ("+categoryList()+")")
	f.StringVar(&q.Session, "session", "", "only events of this session or token (any session key)")
	f.StringVar(&since, "since", "", "only events at or after this time")
	f.StringVar(&until, "until", "", "only events before this time")
	f.IntVar(&q.Limit, "limit", 100, "at most this many events; 0 for all")
	f.BoolVar(&q.Desc, "reverse", false, "newest first")
	f.BoolVar(&asJSON, "json", false, "one normalized event per line as JSON")
	f.BoolVar(&raw, "raw", false, "with --json, include the original vendor record")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func knownSource(s event.Source) bool {
	for _, x := range source.Sources() {
		if x == s {
			return true
		}
	}
	return false
}

func categoryList() string {
	var s []string
	for _, c := range event.Categories {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

// parseWhen parses --since/--until values.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date (2006-01-02) or a duration (36h)", s)
}
