package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/detect/sigma"
)

func newRulesCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check and test Sigma rules",
		Long: `Check Sigma rules (each compiled, or unsupported with the reason) and run
their tests: positive and negative example records kept beside each rule in
<rule>.tests.yml. See docs/sigma.md for what Vigil supports and the test format.`,
	}
	cmd.AddCommand(newRulesCheckCmd(e), newRulesTestCmd(e))
	return cmd
}

func newRulesCheckCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check DIR|FILE",
		Short: "Report each Sigma rule as compiled or unsupported, with the reason",
		Long: `Load every Sigma rule file (*.yml, *.yaml; *.tests.yml are tests) under DIR,
or one FILE, and report each rule as compiled or unsupported with the reason
and the file and line. Exits 3 when any rule is unsupported.`,
		Example: `  vigil rules check rules/
  vigil rules check --json rules/okta_admin_role.yml`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			fsys, err := sigma.PathFS(args[0])
			if err != nil {
				return err
			}
			res := sigma.Check(fsys)
			bad := 0
			for _, r := range res {
				if r.Status != sigma.StatusCompiled {
					bad++
				}
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetEscapeHTML(false)
				for _, r := range res {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
			} else {
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "STATUS\tRULE\tLEVEL\tWHERE\tTITLE / REASON")
				for _, r := range res {
					where := fmt.Sprintf("%s:%d", r.File, r.Line)
					switch r.Status {
					case sigma.StatusCompiled:
						what := r.Title
						if len(r.Logs) > 0 {
							what += " [" + strings.Join(r.Logs, ", ") + "]"
						}
						if r.Kind == "correlation" {
							what += " [correlation]"
						}
						if !r.Standalone {
							what += " (feeds correlations only)"
						}
						fmt.Fprintf(tw, "ok\t%s\t%s\t%s\t%s\n", r.AlertID, r.Level, where, what)
					default:
						id := r.ID
						if id == "" {
							id = "-"
						}
						fmt.Fprintf(tw, "UNSUPPORTED\t%s\t-\t%s\t%s\n", id, where, r.Reason)
					}
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			fmt.Fprintf(e.stderr, "vigil: %d rules: %d compiled, %d unsupported\n", len(res), len(res)-bad, bad)
			if bad > 0 {
				return exitError{ExitFindings}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per rule")
	return cmd
}

func newRulesTestCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test DIR|FILE",
		Short: "Run the tests of Sigma rules against their example records",
		Long: `Load the Sigma rules under DIR (or one rule FILE) and run each rule-test file
<rule>.tests.yml: every record under match: must match the rule, none under
no_match: may, and each stream under streams: must give the number of hits it
names (for correlation rules). Records are vendor records in any format Vigil
reads. Exits 3 when a test fails.`,
		Example: `  vigil rules test rules/
  vigil rules test --json rules/okta_admin_role.yml`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			fsys, err := sigma.PathFS(args[0])
			if err != nil {
				return err
			}
			res := sigma.RunTests(fsys)
			failed := 0
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			for _, r := range res {
				if !r.Pass {
					failed++
				}
				if asJSON {
					if err := enc.Encode(r); err != nil {
						return err
					}
					continue
				}
				status := "PASS"
				if !r.Pass {
					status = "FAIL"
				}
				rule := r.Rule
				if rule == "" {
					rule = "-"
				}
				line := fmt.Sprintf("%s %s:%d %s %s", status, r.File, r.Line, rule, r.Case)
				if r.Detail != "" {
					line += ": " + r.Detail
				}
				fmt.Fprintln(e.stdout, line)
			}
			if len(res) == 0 {
				fmt.Fprintln(e.stderr, "vigil: no rule tests found (write <rule>.tests.yml beside a rule)")
				return nil
			}
			fmt.Fprintf(e.stderr, "vigil: %d passed, %d failed\n", len(res)-failed, failed)
			if failed > 0 {
				return exitError{ExitFindings}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per test case")
	return cmd
}
