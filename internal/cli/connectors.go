package cli

import (
	"fmt"
	"net/http"
	"time"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/okta"
)

// buildConnectors makes the configured connectors, reading their secrets.
func buildConnectors(cfg *config.Config, client *http.Client) (map[string]respond.Connector, error) {
	out := make(map[string]respond.Connector, len(cfg.Connectors))
	for _, c := range cfg.Connectors {
		conn, err := buildConnector(c, client)
		if err != nil {
			return nil, fmt.Errorf("connectors: %s (%s): %w", c.Name, c.Type, err)
		}
		out[c.Name] = conn
	}
	return out, nil
}

func buildConnector(c config.Connector, client *http.Client) (respond.Connector, error) {
	switch c.Type {
	case "okta":
		tok, err := c.Token.Value()
		if err != nil {
			return nil, err
		}
		return okta.New(okta.Config{OrgURL: c.URL, APIToken: tok, Timeout: 10 * time.Second, Version: Version}, client)
	}
	return nil, fmt.Errorf("connector type %q is not available in this build", c.Type)
}
