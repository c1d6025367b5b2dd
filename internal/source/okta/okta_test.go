package okta

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/source/azureactivity"
	"github.com/vigil-zt/vigil/internal/source/cloudtrail"
	"github.com/vigil-zt/vigil/internal/source/entra"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/source/gworkspace"
	"github.com/vigil-zt/vigil/internal/source/ocsf"
	"github.com/vigil-zt/vigil/internal/source/sourcetest"
)

func TestGolden(t *testing.T) {
	sourcetest.Golden(t, func() sourcetest.Decoder { return New() })
}

func FuzzDecode(f *testing.F) {
	sourcetest.Seeds(f)
	d := New()
	f.Fuzz(func(t *testing.T, data []byte) { sourcetest.Fuzz(t, d, data) })
}

// TestCorpus decodes the shared validation corpus (panther-analysis rule
// tests, hand-made and partly redacted; see sourcetest.Corpus): every
// record with a readable timestamp decodes. Fragments without an
// eventType are not Okta's to claim.
func TestCorpus(t *testing.T) {
	sourcetest.Corpus(t, "itdr/events/okta.ndjson", New(), hasTime,
		cloudtrail.New(), gworkspace.New(), ocsf.New(), entra.New(), azureactivity.New())
}

// hasTime reports whether the record holds a timestamp Decode should
// read: published or Panther's p_event_time, parseable.
func hasTime(v *fastjson.Value) bool {
	for _, k := range []string{"published", "p_event_time"} {
		if _, err := field.Time(v, k); err == nil {
			return true
		}
	}
	return false
}

func TestClassify(t *testing.T) {
	tests := []struct {
		typ      string
		category string
		activity string
	}{
		{"user.session.start", "authentication", "login"},
		{"user.session.end", "authentication", "logout"},
		{"user.session.expire", "authentication", "logout"},
		{"user.session.clear", "session", "session_revoke"},
		{"user.session.something_new", "session", "other"},
		{"user.mfa.okta_verify.deny_push", "mfa", "mfa_deny"},
		{"user.mfa.factor.reset_all", "mfa", "mfa_remove"},
		{"user.account.privilege.grant", "privilege", "grant"},
		{"system.api_token.create", "credential", "token_create"},
		{"user.authentication.auth_via_radius", "authentication", "login"},
		{"app.oauth2.as.token.grant.access_token", "authentication", "token_issue"},
		{"policy.rule.update", "privilege", "policy_change"},
		{"group.user_membership.add", "privilege", "grant"},
		{"application.lifecycle.create", "api_activity", "create"},
		{"something.new", "other", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			c, a := Classify(tt.typ)
			if string(c) != tt.category || string(a) != tt.activity {
				t.Errorf("Classify(%q) = %s/%s, want %s/%s", tt.typ, c, a, tt.category, tt.activity)
			}
		})
	}
}

func TestEachPair(t *testing.T) {
	tests := map[string][]string{
		"{level=HIGH}": {"level=HIGH"},
		"{reasons=Anomalous Device, Anomalous Location, level=MEDIUM}": {"reasons=Anomalous Device, Anomalous Location", "level=MEDIUM"},
		"{New Device=POSITIVE, New IP=NEGATIVE}":                       {"New Device=POSITIVE", "New IP=NEGATIVE"},
		"New City=POSITIVE":                                            {"New City=POSITIVE"},
		"{}":                                                           nil,
		"{stray, a=1}":                                                 {"a=1"},
		"":                                                             nil,
	}
	for in, want := range tests {
		var got []string
		eachPair([]byte(in), func(k, v []byte) { got = append(got, string(k)+"="+string(v)) })
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("eachPair(%q) = %q, want %q", in, got, want)
		}
	}
}
