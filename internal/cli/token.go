package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/server"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

// cliActor names the person at the command line in the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

func auditCLI(ctx context.Context, st *sqlite.Store, action, target string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = st.AppendAudit(ctx, store.AuditEntry{Time: time.Now(), Actor: cliActor(), Action: action, Target: target, Detail: string(b)})
	return err
}

func newTokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var name, role string
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token (shown once; only its hash is stored)",
		Long: `Create an API token for the service's API. Roles: ingest (push events only, for
vendor event hooks), viewer (read), responder (read and act), admin (also the
audit log). The token is printed once: store it in a secret manager.`,
		Example: `  vigil token create --name soc-console --role responder
  vigil token create --name okta-event-hook --role ingest`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || strings.ContainsAny(name, " \t\n") {
				return usagef("--name is required (no spaces)")
			}
			if !server.ValidRole(role) {
				return usagef("--role must be one of %s", strings.Join(server.Roles, ", "))
			}
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, rec, err := server.NewToken(name, role, time.Now())
			if err != nil {
				return err
			}
			if err := st.CreateToken(cmd.Context(), rec); err != nil {
				return err
			}
			if err := auditCLI(cmd.Context(), st, "token.create", name, map[string]string{"role": role, "id": rec.ID}); err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(map[string]string{"name": name, "role": role, "token": tok})
			}
			fmt.Fprintln(e.stdout, tok)
			fmt.Fprintf(e.stderr, "vigil: token %q (%s) created; it is shown only now\n", name, role)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "a name for the token (who or what uses it)")
	create.Flags().StringVar(&role, "role", server.RoleViewer, "role: "+strings.Join(server.Roles, ", "))
	create.Flags().BoolVar(&asJSON, "json", false, "print as JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			toks, err := st.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED\tSTATE")
			for _, t := range toks {
				used := "never"
				if !t.LastUsed.IsZero() {
					used = t.LastUsed.Format(time.RFC3339)
				}
				state := "active"
				if t.Revoked {
					state = "revoked"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format(time.RFC3339), used, state)
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an API token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			return auditCLI(cmd.Context(), st, "token.revoke", args[0], map[string]string{})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read and verify the audit log"}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain",
		Long:  "Recompute the hash chain of the audit log. Exit status 0 when it holds, 1 (naming the first broken entry) when it does not.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "audit log intact: %d entries\n", n)
			return nil
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List audit log entries, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			enc := json.NewEncoder(e.stdout)
			return st.AuditEntries(cmd.Context(), func(a store.AuditEntry) error {
				if asJSON {
					return enc.Encode(map[string]any{"seq": a.Seq, "time": a.Time, "actor": a.Actor, "action": a.Action, "target": a.Target, "detail": json.RawMessage(a.Detail)})
				}
				_, err := fmt.Fprintf(e.stdout, "%d  %s  %-24s  %-24s  %s  %s\n", a.Seq, a.Time.Format(time.RFC3339), a.Actor, a.Action, a.Target, a.Detail)
				return err
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	cmd.AddCommand(verify, list)
	return cmd
}
