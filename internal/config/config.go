// Package config reads Vigil's YAML configuration file strictly: unknown
// keys and malformed values are errors that name the file and line,
// defaults fill what is absent, and Validate checks the result before any
// subsystem sees it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole file.
type Config struct {
	Server Server `yaml:"server"`
	Store  Store  `yaml:"store"`
	Detect Detect `yaml:"detect"`
	Risk   Risk   `yaml:"risk"`
	// Sources, Connectors, Playbooks and Guardrails configure vigil serve.
	Sources    Sources     `yaml:"sources"`
	Connectors []Connector `yaml:"connectors"`
	Playbooks  []Playbook  `yaml:"playbooks"`
	Guardrails Guardrails  `yaml:"guardrails"`
	// SSF configures the Shared Signals transmitter.
	SSF SSF `yaml:"ssf"`
	// GeoIP lists MaxMind-format databases (ASN, City, Country).
	GeoIP []string `yaml:"geoip"`
	// Rules is a directory of Sigma rules to load.
	Rules string `yaml:"rules"`
}

// Detect tunes the built-in detectors.
type Detect struct {
	Learning          Duration    `yaml:"learning"`
	LearningMinEvents int         `yaml:"learning_min_events"`
	ImpossibleTravel  Travel      `yaml:"impossible_travel"`
	MFAFatigue        MFAFatigue  `yaml:"mfa_fatigue"`
	Recovery          Recovery    `yaml:"recovery"`
	VolumeSpike       VolumeSpike `yaml:"volume_spike"`
	RiskyScore        float64     `yaml:"risky_score"`
	CorporateEgress   []Network   `yaml:"corporate_egress"`
	Disabled          []string    `yaml:"disabled"`
	Lateness          Duration    `yaml:"lateness"`
	Sessions          int         `yaml:"sessions_per_identity"`
	// SharedNetwork is how many identities signing in from one network
	// make it the organization's egress; 0 turns that off.
	SharedNetwork int      `yaml:"shared_network_identities"`
	_             struct{} `yaml:"-"`
}

// Travel tunes session.impossible_travel.
type Travel struct {
	MaxSpeedKmh   float64 `yaml:"max_speed_kmh"`
	MinDistanceKm float64 `yaml:"min_distance_km"`
}

// MFAFatigue tunes mfa.fatigue.
type MFAFatigue struct {
	Threshold     int      `yaml:"threshold"`
	Window        Duration `yaml:"window"`
	SuccessWithin Duration `yaml:"success_within"`
}

// Recovery tunes account.recovery_takeover.
type Recovery struct {
	Window Duration `yaml:"window"`
}

// VolumeSpike tunes activity.volume_spike.
type VolumeSpike struct {
	Factor   float64 `yaml:"factor"`
	MinCount int     `yaml:"min_count"`
}

// Risk tunes scoring and incidents.
type Risk struct {
	HalfLife       Duration `yaml:"half_life"`
	IncidentWindow Duration `yaml:"incident_window"`
}

// Duration is a time.Duration written as Go does ("90m", "1h30m") or in
// days ("7d").
type Duration time.Duration

// UnmarshalYAML parses a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses "90m", "1h30m" or "7d".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (use 90m, 1h30m or 7d)", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration (use 90m, 1h30m or 7d)", s)
	}
	return v, nil
}

// Network is an address prefix ("203.0.113.0/24", "198.51.100.7") or an
// autonomous system ("AS64500").
type Network struct {
	Prefix netip.Prefix
	ASN    uint32
}

// UnmarshalYAML parses a network.
func (nw *Network) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(strings.ToUpper(s), "AS"); ok {
		v, err := strconv.ParseUint(rest, 10, 32)
		if err != nil || v == 0 {
			return fmt.Errorf("line %d: %q is not an AS number", n.Line, s)
		}
		nw.ASN = uint32(v)
		return nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		nw.Prefix = p.Masked()
		return nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		nw.Prefix = netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	return fmt.Errorf("line %d: %q is not a prefix, an address or an AS number", n.Line, s)
}

// Error is a problem in the file, with its place.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Load reads and checks the file at path. Secrets never belong in it (they
// come from the environment), so errors may quote it.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse reads and checks configuration text; name is used in errors.
func Parse(name string, b []byte) (*Config, error) {
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty configuration
		return nil, yamlError(name, err)
	}
	if err := c.Validate(); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.File = name
		}
		return nil, err
	}
	return c, nil
}

// yamlError turns yaml's "yaml: line 3: …" into file:line errors.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return &Error{File: name, Line: lineOf(te.Errors[0]), Msg: stripLine(te.Errors[0])}
	}
	msg := err.Error()
	return &Error{File: name, Line: lineOf(msg), Msg: stripLine(msg)}
}

func lineOf(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	rest := msg[i+5:]
	j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if j <= 0 {
		return 0
	}
	n, _ := strconv.Atoi(rest[:j])
	return n
}

func stripLine(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.Index(msg, "line "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			return strings.TrimSpace(msg[:i] + msg[i+j+2:])
		}
	}
	return msg
}

// Default returns the configuration with every default filled in.
func Default() *Config {
	c := &Config{
		Detect: Detect{
			Learning:          Duration(7 * 24 * time.Hour),
			LearningMinEvents: 20,
			ImpossibleTravel:  Travel{MaxSpeedKmh: 1000, MinDistanceKm: 300},
			MFAFatigue:        MFAFatigue{Threshold: 5, Window: Duration(10 * time.Minute), SuccessWithin: Duration(30 * time.Minute)},
			Recovery:          Recovery{Window: Duration(24 * time.Hour)},
			VolumeSpike:       VolumeSpike{Factor: 5, MinCount: 50},
			RiskyScore:        50,
			Lateness:          Duration(15 * time.Minute),
			Sessions:          8,
			SharedNetwork:     5,
		},
		Risk: Risk{HalfLife: Duration(24 * time.Hour), IncidentWindow: Duration(6 * time.Hour)},
	}
	serviceDefaults(c)
	return c
}

// Validate checks values for sense.
func (c *Config) Validate() error {
	d := c.Detect
	var problems []string
	check := func(ok bool, msg string) {
		if !ok {
			problems = append(problems, msg)
		}
	}
	check(d.LearningMinEvents >= 0, "detect.learning_min_events must not be negative")
	check(d.ImpossibleTravel.MaxSpeedKmh > 0, "detect.impossible_travel.max_speed_kmh must be positive")
	check(d.ImpossibleTravel.MinDistanceKm >= 0, "detect.impossible_travel.min_distance_km must not be negative")
	check(d.MFAFatigue.Threshold >= 2, "detect.mfa_fatigue.threshold must be at least 2")
	check(d.MFAFatigue.Window > 0, "detect.mfa_fatigue.window must be positive")
	check(d.Recovery.Window > 0, "detect.recovery.window must be positive")
	check(d.VolumeSpike.Factor >= 1, "detect.volume_spike.factor must be at least 1")
	check(d.VolumeSpike.MinCount >= 1, "detect.volume_spike.min_count must be at least 1")
	check(d.RiskyScore > 0 && d.RiskyScore <= 100, "detect.risky_score must be within (0, 100]")
	check(d.Sessions >= 1, "detect.sessions_per_identity must be at least 1")
	check(d.SharedNetwork >= 0, "detect.shared_network_identities must not be negative")
	check(c.Risk.HalfLife > 0, "risk.half_life must be positive")
	check(c.Risk.IncidentWindow > 0, "risk.incident_window must be positive")
	problems = append(problems, c.validateService()...)
	if len(problems) > 0 {
		return &Error{Msg: strings.Join(problems, "; ")}
	}
	return nil
}
