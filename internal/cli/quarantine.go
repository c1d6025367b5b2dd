package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func newQuarantineCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quarantine",
		Short: "Inspect records that could not be decoded",
	}
	var (
		q      store.QuarantineQuery
		asJSON bool
		raw    bool
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List quarantined records with their reason, file and line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "ORIGIN\tLINE\tSOURCE\tREASON")
			}
			err = st.Quarantined(cmd.Context(), q, func(r store.QuarantineRow) error {
				if asJSON {
					out := struct {
						ID       int64           `json:"id"`
						Received time.Time       `json:"received"`
						Origin   string          `json:"origin"`
						Line     int             `json:"line"`
						Elem     *int            `json:"elem,omitempty"`
						Source   string          `json:"source,omitempty"`
						Reason   string          `json:"reason"`
						Raw      json.RawMessage `json:"raw,omitempty"`
					}{ID: r.ID, Received: r.Received, Origin: r.Origin, Line: r.Line, Source: string(r.Source), Reason: r.Reason}
					if r.Elem >= 0 {
						out.Elem = &r.Elem
					}
					if raw {
						if json.Valid(r.Raw) {
							out.Raw = r.Raw
						} else {
							b, _ := json.Marshal(string(r.Raw))
							out.Raw = b
						}
					}
					return enc.Encode(out)
				}
				loc := fmt.Sprint(r.Line)
				if r.Elem >= 0 {
					loc += fmt.Sprintf("[%d]", r.Elem)
				}
				_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Origin, loc, dash(string(r.Source)), r.Reason)
				return err
			})
			if err != nil {
				return err
			}
			if !asJSON {
				return tw.Flush()
			}
			return nil
		},
	}
	list.Flags().StringVar(&q.Origin, "origin", "", "only records from this file")
	list.Flags().IntVar(&q.Limit, "limit", 0, "at most this many records; 0 for all")
	list.Flags().BoolVar(&asJSON, "json", false, "one record per line as JSON")
	list.Flags().BoolVar(&raw, "raw", false, "with --json, include the record itself")
	cmd.AddCommand(list)
	return cmd
}
