package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yml")
	if len(files) == 0 {
		t.Fatal("no good files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatal(err)
			}
		})
	}
	c, err := Load("testdata/full.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	d := c.Detect
	if time.Duration(d.Learning) != 14*24*time.Hour || d.MFAFatigue.Threshold != 4 || time.Duration(d.MFAFatigue.SuccessWithin) != time.Hour ||
		d.VolumeSpike.Factor != 8 || len(d.CorporateEgress) != 3 || d.CorporateEgress[2].ASN != 64500 ||
		d.CorporateEgress[1].Prefix != netip.MustParsePrefix("198.51.100.7/32") || len(c.GeoIP) != 2 || c.Rules != "/etc/vigil/sigma" ||
		time.Duration(c.Risk.HalfLife) != 12*time.Hour {
		t.Errorf("parsed %+v", c)
	}
	e, err := Load("testdata/empty.good.yml")
	if err != nil || e.Detect.MFAFatigue.Threshold != 5 || time.Duration(e.Risk.IncidentWindow) != 6*time.Hour {
		t.Errorf("empty file: %+v, %v (want the defaults)", e, err)
	}
}

func TestBadFiles(t *testing.T) {
	want := map[string]string{
		"unknown_key.bad.yml":                "unknown_key.bad.yml:3: field mfa_fatige not found",
		"bad_duration.bad.yml":               `bad_duration.bad.yml:3: "ten minutes" is not a duration`,
		"bad_network.bad.yml":                `bad_network.bad.yml:3: "203.0.113.0/33" is not a prefix`,
		"invalid_value.bad.yml":              "invalid_value.bad.yml: detect.volume_spike.factor must be at least 1",
		"not_yaml.bad.yml":                   "not_yaml.bad.yml:1:",
		"literal_secret.bad.yml":             "literal_secret.bad.yml:5: secrets come from {env: NAME} or {file: PATH}",
		"playbook_unknown_connector.bad.yml": `action "octa.clear_sessions" names no configured connector`,
	}
	files, _ := filepath.Glob("testdata/*.bad.yml")
	if len(files) != len(want) {
		t.Fatalf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("accepted")
			}
			w := want[filepath.Base(f)]
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q, want it to contain %q", err, w)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/full.good.yml", "testdata/unknown_key.bad.yml"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("fuzz.yml", b)
		if err == nil && c.Validate() != nil {
			t.Fatal("Parse accepted what Validate rejects")
		}
	})
}

func TestServiceConfig(t *testing.T) {
	c, err := Load("testdata/service.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:8443" || len(c.Sources.OktaPoll) != 1 || len(c.Connectors) != 4 || len(c.Playbooks) != 2 ||
		c.Guardrails.Breaker.Max != 10 || c.Connectors[0].Token.Env != "OKTA_API_TOKEN" || c.Sources.GraphPoll[0].ClientSecret.File == "" {
		t.Fatalf("parsed %+v", c)
	}
	t.Setenv("OKTA_API_TOKEN", "s3cret")
	if v, err := c.Connectors[0].Token.Value(); err != nil || v != "s3cret" {
		t.Errorf("env secret: %q %v", v, err)
	}
	if s := c.Connectors[0].Token.String(); strings.Contains(s, "s3cret") {
		t.Errorf("String() shows the value: %s", s)
	}
	_, err = c.Connectors[2].AccessKeyID.Value()
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("unset env: %v", err)
	}
	f := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(f, []byte("from-file\n"), 0o600)
	if v, err := (Secret{File: f}).Value(); err != nil || v != "from-file" {
		t.Errorf("file secret: %q %v", v, err)
	}
}
