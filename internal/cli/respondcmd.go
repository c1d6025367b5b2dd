package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func newRespondCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "respond", Short: "Act on an identity by hand"}
	var identity, configFile, incident string
	var connectors []string
	kill := &cobra.Command{
		Use:   "kill-sessions",
		Short: "End an identity's sessions everywhere a connector can",
		Long: `Queue session-ending actions for an identity on every configured connector
that clears sessions or signs out, and tell Shared Signals receivers (ssf
connectors) to end theirs (or only --connector ones). The running
service delivers them through its outbox; the actions and who asked are in the
audit log.`,
		Example: `  vigil respond kill-sessions --identity dana.reyes@example.com --config /etc/vigil/vigil.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if identity == "" {
				return usagef("--identity is required")
			}
			if configFile == "" {
				return usagef("--config is required: it names the connectors")
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return usageError{err}
			}
			st, err := sqlite.Open(cmd.Context(), e.db)
			if err != nil {
				return err
			}
			defer st.Close()
			identity = strings.ToLower(identity)
			now := time.Now()
			var queued []respond.Action
			for _, c := range cfg.Connectors {
				if len(connectors) > 0 && !slices.Contains(connectors, c.Name) {
					continue
				}
				kind := ""
				switch c.Type {
				case "okta", "entra":
					kind = respond.KindClearSessions
				case "gworkspace":
					kind = respond.KindSignOut
				case "ssf":
					kind = respond.KindSignal // receivers end their own sessions
				default:
					continue
				}
				a := respond.ManualAction(respond.Request{Connector: c.Name, Kind: kind, Identity: identity, DecidedBy: cliActor(), Incident: incident}, now)
				if _, err := st.EnqueueAction(cmd.Context(), a); err != nil {
					return err
				}
				queued = append(queued, a)
			}
			if len(queued) == 0 {
				return usagef("no configured connector (okta, entra, gworkspace, ssf) can end sessions")
			}
			ids := make([]string, len(queued))
			for i, a := range queued {
				ids[i] = a.ID
				fmt.Fprintf(e.stdout, "queued %s: %s %s %s\n", a.ID, a.Connector, a.Kind, a.Target)
			}
			return auditCLI(cmd.Context(), st, "respond.kill_sessions", identity, map[string]any{"actions": ids, "incident": incident})
		},
	}
	kill.Flags().StringVar(&identity, "identity", "", "canonical identity (login, UPN, e-mail)")
	kill.Flags().StringVar(&configFile, "config", "", "service configuration naming the connectors")
	kill.Flags().StringSliceVar(&connectors, "connector", nil, "only these connectors")
	kill.Flags().StringVar(&incident, "incident", "", "the incident this is for")
	cmd.AddCommand(kill)
	return cmd
}
