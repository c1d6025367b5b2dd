package cli

import (
	"fmt"
	"net/http"
	"time"

	"github.com/vigil-zt/vigil/internal/config"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/respond/awsiam"
	"github.com/vigil-zt/vigil/internal/respond/entra"
	"github.com/vigil-zt/vigil/internal/respond/gworkspace"
	"github.com/vigil-zt/vigil/internal/respond/okta"
	"github.com/vigil-zt/vigil/internal/respond/signal"
	"github.com/vigil-zt/vigil/internal/respond/webhook"
)

// buildConnectors makes the configured connectors, reading their secrets.
// sig is the Shared Signals transmitter (nil when it is off).
func buildConnectors(cfg *config.Config, client *http.Client, sig signal.Emitter) (map[string]respond.Connector, error) {
	out := make(map[string]respond.Connector, len(cfg.Connectors))
	for _, c := range cfg.Connectors {
		conn, err := buildConnector(c, client, sig)
		if err != nil {
			return nil, fmt.Errorf("connectors: %s (%s): %w", c.Name, c.Type, err)
		}
		out[c.Name] = conn
	}
	return out, nil
}

// secrets reads the named secrets, stopping at the first that fails; unset
// optional ones read as "".
type secrets struct{ err error }

func (s *secrets) need(sec config.Secret) string {
	if s.err != nil {
		return ""
	}
	v, err := sec.Value()
	s.err = err
	return v
}

func (s *secrets) optional(sec config.Secret) string {
	if !sec.IsSet() {
		return ""
	}
	return s.need(sec)
}

func buildConnector(c config.Connector, client *http.Client, sig signal.Emitter) (respond.Connector, error) {
	const timeout = 10 * time.Second
	var sec secrets
	switch c.Type {
	case "okta":
		tok := sec.need(c.Token)
		if sec.err != nil {
			return nil, sec.err
		}
		return okta.New(okta.Config{OrgURL: c.URL, APIToken: tok, Timeout: timeout, Version: Version}, client)
	case "entra":
		secret := sec.need(c.ClientSecret)
		if sec.err != nil {
			return nil, sec.err
		}
		return entra.New(entra.Config{TenantID: c.Tenant, ClientID: c.ClientID, ClientSecret: secret,
			Authority: c.LoginURL, GraphURL: c.URL, Timeout: timeout, Version: Version}, client)
	case "gworkspace":
		key := sec.need(c.Key)
		if sec.err != nil {
			return nil, sec.err
		}
		return gworkspace.New(gworkspace.Config{ServiceAccountKey: []byte(key), Subject: c.Admin, BaseURL: c.URL,
			TokenURL: c.TokenURL, Timeout: timeout, Version: Version}, client)
	case "awsiam":
		creds := awsiam.Credentials{AccessKeyID: sec.need(c.AccessKeyID), SecretAccessKey: sec.need(c.SecretAccessKey),
			SessionToken: sec.optional(c.SessionToken)}
		if sec.err != nil {
			return nil, sec.err
		}
		return awsiam.New(awsiam.Config{Credentials: creds, Endpoint: c.URL, Region: c.Region, Timeout: timeout, Version: Version}, client)
	case "webhook":
		url := c.URL
		if c.SecretURL.IsSet() {
			url = sec.need(c.SecretURL)
		}
		secret := sec.optional(c.Secret)
		if sec.err != nil {
			return nil, sec.err
		}
		return webhook.New(webhook.Config{URL: url, Format: c.Format, Secret: secret, Timeout: timeout, Version: Version}, client)
	case "ssf":
		return signal.New(sig)
	}
	return nil, fmt.Errorf("connector type %q is not available in this build", c.Type)
}
