package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Server configures the HTTP API.
type Server struct {
	// Listen is the address to listen on ("127.0.0.1:8080").
	Listen      string `yaml:"listen"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// MaxIngestBytes bounds one ingestion request's body.
	MaxIngestBytes int64 `yaml:"max_ingest_bytes"`
	// PublicURL is how receivers and browsers reach Vigil (the Shared
	// Signals issuer); default http://<listen>.
	PublicURL string `yaml:"public_url"`
}

// Store configures the database.
type Store struct {
	// Path of the SQLite database; default the user's data directory.
	Path string `yaml:"path"`
}

// Secret is a credential, read from an environment variable or a file —
// never written in the configuration itself, and never printed.
type Secret struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// UnmarshalYAML accepts only {env: NAME} or {file: PATH}.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: secrets come from {env: NAME} or {file: PATH}, never from the configuration file itself", n.Line)
	}
	type plain Secret
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	if (p.Env == "") == (p.File == "") {
		return fmt.Errorf("line %d: a secret needs exactly one of env or file", n.Line)
	}
	*s = Secret(p)
	return nil
}

// IsSet reports whether the secret was configured.
func (s Secret) IsSet() bool { return s.Env != "" || s.File != "" }

// String never shows the value.
func (s Secret) String() string {
	if s.Env != "" {
		return "env:" + s.Env
	}
	if s.File != "" {
		return "file:" + s.File
	}
	return "unset"
}

// ErrSecret is wrapped by errors resolving secrets.
var ErrSecret = errors.New("secret")

// Value reads the secret. Errors name the variable or file, never the
// value.
func (s Secret) Value() (string, error) {
	switch {
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("%w: environment variable %s is not set", ErrSecret, s.Env)
		}
		return v, nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrSecret, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%w: %s is empty", ErrSecret, s.File)
		}
		return v, nil
	}
	return "", fmt.Errorf("%w: not configured", ErrSecret)
}

// Sources configures live ingestion.
type Sources struct {
	OktaPoll  []OktaPoll  `yaml:"okta_poll"`
	GraphPoll []GraphPoll `yaml:"graph_poll"`
	Files     []FileTail  `yaml:"files"`
}

// OktaPoll polls an Okta org's System Log API.
type OktaPoll struct {
	Name     string   `yaml:"name"`
	URL      string   `yaml:"url"`
	Token    Secret   `yaml:"token"`
	Interval Duration `yaml:"interval"`
	Since    Duration `yaml:"since"`
}

// GraphPoll polls Microsoft Graph sign-in and audit logs.
type GraphPoll struct {
	Name         string   `yaml:"name"`
	Tenant       string   `yaml:"tenant"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret Secret   `yaml:"client_secret"`
	Logs         []string `yaml:"logs"` // signIns, directoryAudits
	Interval     Duration `yaml:"interval"`
	Since        Duration `yaml:"since"`
	GraphURL     string   `yaml:"graph_url"`
	LoginURL     string   `yaml:"login_url"`
}

// FileTail follows a growing log file.
type FileTail struct {
	Path   string `yaml:"path"`
	Source string `yaml:"source"`
}

// Connector configures one response connector. Which fields apply depends
// on Type: okta (url, token), entra (tenant, client_id, client_secret),
// gworkspace (admin, key), awsiam (access_key_id, secret_access_key,
// session_token, region), webhook (url, format, secret).
type Connector struct {
	Name            string `yaml:"name"`
	Type            string `yaml:"type"`
	URL             string `yaml:"url"`
	Token           Secret `yaml:"token"`
	Tenant          string `yaml:"tenant"`
	ClientID        string `yaml:"client_id"`
	ClientSecret    Secret `yaml:"client_secret"`
	Admin           string `yaml:"admin"`
	Key             Secret `yaml:"key"`
	AccessKeyID     Secret `yaml:"access_key_id"`
	SecretAccessKey Secret `yaml:"secret_access_key"`
	SessionToken    Secret `yaml:"session_token"`
	Region          string `yaml:"region"`
	Format          string `yaml:"format"` // webhook: json or slack
	Secret          Secret `yaml:"secret"` // webhook HMAC key
	SecretURL       Secret `yaml:"secret_url"`
	LoginURL        string `yaml:"login_url"`
	TokenURL        string `yaml:"token_url"`
}

// ConnectorTypes are the connector types Vigil has.
var ConnectorTypes = []string{"okta", "entra", "gworkspace", "awsiam", "webhook", "ssf"}

// SSF configures the OpenID Shared Signals transmitter (docs/ssf.md).
type SSF struct {
	Enabled bool `yaml:"enabled"`
	// Issuer is the transmitter's https URL (default server.public_url).
	Issuer string `yaml:"issuer"`
	// Algorithm signs SETs: RS256 (default) or ES256.
	Algorithm string `yaml:"algorithm"`
	// KeyGrace is how long a rotated-out key stays published (default 7 days).
	KeyGrace Duration `yaml:"key_grace"`
	// DefaultSubjects is ALL (default) or NONE.
	DefaultSubjects string `yaml:"default_subjects"`
	// AllowHTTP permits an http issuer and http push endpoints: labs only.
	AllowHTTP bool `yaml:"allow_http"`
}

// Playbook maps alerts to actions.
type Playbook struct {
	Name        string   `yaml:"name"`
	Rules       []string `yaml:"rules"`
	MinSeverity string   `yaml:"min_severity"`
	MinRisk     float64  `yaml:"min_risk"`
	Kinds       []string `yaml:"kinds"`
	// Actions are "<connector>.<kind>" ("okta.clear_sessions").
	Actions []string `yaml:"actions"`
	Mode    string   `yaml:"mode"`
}

// Guardrails limit automatic response.
type Guardrails struct {
	// Protected identities are never acted on automatically.
	Protected []string `yaml:"protected"`
	Breaker   Breaker  `yaml:"breaker"`
}

// Breaker stops automatic actions when more than Max are queued in Window.
type Breaker struct {
	Max    int      `yaml:"max"`
	Window Duration `yaml:"window"`
}

func (c *Config) validateService() []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	names := map[string]bool{}
	for i, cn := range c.Connectors {
		switch {
		case cn.Name == "":
			add("connectors[%d]: name is required", i)
		case names[cn.Name]:
			add("connectors[%d]: the name %q is used twice", i, cn.Name)
		case strings.Contains(cn.Name, "."):
			add("connectors[%d]: the name %q must not contain a dot (actions are written connector.kind)", i, cn.Name)
		}
		names[cn.Name] = true
		if !slices.Contains(ConnectorTypes, cn.Type) {
			add("connectors[%d] (%s): type %q is not one of %s", i, cn.Name, cn.Type, strings.Join(ConnectorTypes, ", "))
		}
		if cn.Type == "ssf" && !c.SSF.Enabled {
			add("connectors[%d] (%s): an ssf connector needs ssf.enabled: true", i, cn.Name)
		}
	}
	for i, p := range c.Playbooks {
		if p.Name == "" {
			add("playbooks[%d]: name is required", i)
		}
		switch p.Mode {
		case "enforce", "recommend", "dry-run":
		default:
			add("playbooks[%d] (%s): mode %q is not enforce, recommend or dry-run", i, p.Name, p.Mode)
		}
		if len(p.Actions) == 0 {
			add("playbooks[%d] (%s): no actions", i, p.Name)
		}
		for _, a := range p.Actions {
			conn, _, ok := strings.Cut(a, ".")
			if !ok {
				add("playbooks[%d] (%s): action %q is not connector.kind", i, p.Name, a)
			} else if !names[conn] {
				add("playbooks[%d] (%s): action %q names no configured connector", i, p.Name, a)
			}
		}
		switch p.MinSeverity {
		case "", "low", "medium", "high", "critical":
		default:
			add("playbooks[%d] (%s): min_severity %q is not low, medium, high or critical", i, p.Name, p.MinSeverity)
		}
		for _, k := range p.Kinds {
			if !slices.Contains([]string{"human", "service", "admin", "vendor_support"}, k) {
				add("playbooks[%d] (%s): kind %q is not human, service, admin or vendor_support", i, p.Name, k)
			}
		}
	}
	if c.Guardrails.Breaker.Max < 0 || c.Guardrails.Breaker.Max > 0 && c.Guardrails.Breaker.Window <= 0 {
		add("guardrails.breaker: max must not be negative, and window must be positive when max is set")
	}
	if c.SSF.Enabled {
		switch c.SSF.Algorithm {
		case "", "RS256", "ES256":
		default:
			add("ssf.algorithm: %q is not RS256 or ES256", c.SSF.Algorithm)
		}
		switch c.SSF.DefaultSubjects {
		case "", "ALL", "NONE":
		default:
			add("ssf.default_subjects: %q is not ALL or NONE", c.SSF.DefaultSubjects)
		}
		if c.SSF.Issuer == "" && c.Server.PublicURL == "" {
			add("ssf: set ssf.issuer (or server.public_url) to the https URL receivers reach Vigil at")
		}
		if c.SSF.KeyGrace < 0 {
			add("ssf.key_grace: must not be negative")
		}
	}
	for i, s := range c.Sources.OktaPoll {
		if s.Name == "" || s.URL == "" || !s.Token.IsSet() {
			add("sources.okta_poll[%d]: name, url and token are required", i)
		}
	}
	for i, s := range c.Sources.GraphPoll {
		if s.Name == "" || s.Tenant == "" || s.ClientID == "" || !s.ClientSecret.IsSet() {
			add("sources.graph_poll[%d]: name, tenant, client_id and client_secret are required", i)
		}
		for _, lg := range s.Logs {
			if lg != "signIns" && lg != "directoryAudits" {
				add("sources.graph_poll[%d] (%s): log %q is not signIns or directoryAudits", i, s.Name, lg)
			}
		}
	}
	for i, f := range c.Sources.Files {
		if f.Path == "" {
			add("sources.files[%d]: path is required", i)
		}
	}
	return problems
}

// serviceDefaults fills what a service needs when unset.
func serviceDefaults(c *Config) {
	if c.Server.Listen == "" {
		c.Server.Listen = "127.0.0.1:8080"
	}
	if c.Server.MaxIngestBytes == 0 {
		c.Server.MaxIngestBytes = 16 << 20
	}
	if c.Guardrails.Breaker.Max == 0 && c.Guardrails.Breaker.Window == 0 {
		c.Guardrails.Breaker = Breaker{Max: 25, Window: Duration(10 * time.Minute)}
	}
}
