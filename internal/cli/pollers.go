package cli

import (
	"context"
	"log/slog"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

// startPollers starts the configured vendor log pollers.
func startPollers(ctx context.Context, cfg *config.Config, l *live, st *sqlite.Store, log *slog.Logger, run func(string, func(context.Context) error)) error {
	if len(cfg.Sources.OktaPoll)+len(cfg.Sources.GraphPoll) > 0 {
		return usagef("sources: the Okta and Graph pollers are not available in this build yet")
	}
	return nil
}
