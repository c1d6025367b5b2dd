package gworkspace

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/source/azureactivity"
	"github.com/vigil-zt/vigil/internal/source/cloudtrail"
	"github.com/vigil-zt/vigil/internal/source/entra"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/source/ocsf"
	"github.com/vigil-zt/vigil/internal/source/okta"
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

func TestClassify(t *testing.T) {
	tests := []struct {
		app, typ, name     string
		category, activity string
	}{
		{"login", "login", "login_success", "authentication", "login"},
		{"login", "login", "login_failure", "authentication", "login"},
		{"login", "login", "login_challenge", "mfa", "mfa_challenge"},
		{"login", "login", "login_verification", "mfa", "mfa_verify"},
		{"login", "logout", "logout", "authentication", "logout"},
		{"login", "account_warning", "suspicious_login", "authentication", "other"},
		{"login", "account_warning", "suspicious_login ", "authentication", "other"}, // trailing space in some exports
		{"login", "account_warning", "account_disabled_password_leak", "account_change", "disable"},
		{"login", "login", "something_new", "authentication", "other"},
		{"user_accounts", "2sv_change", "2sv_enroll", "mfa", "mfa_enroll"},
		{"user_accounts", "2sv_change", "2sv_disable", "mfa", "mfa_remove"},
		{"user_accounts", "password_change", "password_edit", "account_change", "password_change"},
		{"user_accounts", "recovery_info_change", "recovery_phone_edit", "account_change", "update"},
		{"saml", "login", "login_success", "authentication", "sso"},
		{"admin", "USER_SETTINGS", "CREATE_USER", "account_change", "create"},
		{"admin", "USER_SETTINGS", "DELETE_USER", "account_change", "delete"},
		{"admin", "USER_SETTINGS", "CHANGE_PASSWORD", "account_change", "password_reset"},
		{"admin", "DELEGATED_ADMIN_SETTINGS", "ASSIGN_ROLE", "privilege", "grant"},
		{"admin", "USER_SETTINGS", "GRANT_ADMIN_PRIVILEGE", "privilege", "grant"},
		{"admin", "DELEGATED_ADMIN_SETTINGS", "ADD_PRIVILEGE", "privilege", "grant"},
		{"admin", "DELEGATED_ADMIN_SETTINGS", "UNASSIGN_ROLE", "privilege", "revoke"},
		{"admin", "USER_SETTINGS", "REVOKE_ADMIN_PRIVILEGE", "privilege", "revoke"},
		{"admin", "DELEGATED_ADMIN_SETTINGS", "CREATE_ROLE", "privilege", "policy_change"},
		{"admin", "DELEGATED_ADMIN_SETTINGS", "DELETE_ROLE", "privilege", "policy_change"},
		{"admin", "SECURITY_SETTINGS", "CHANGE_ALLOWED_TWO_STEP_VERIFICATION_METHODS", "privilege", "policy_change"},
		{"admin", "SECURITY_SETTINGS", "SOME_NEW_SECURITY_TOGGLE", "privilege", "policy_change"},
		{"admin", "USER_SETTINGS", "RESET_SIGNIN_COOKIES", "session", "session_revoke"},
		{"admin", "CALENDAR_SETTINGS", "CHANGE_CALENDAR_SETTING", "api_activity", "update"},
		{"admin", "APPLICATION_SETTINGS", "CREATE_APPLICATION_SETTING", "api_activity", "create"},
		{"admin", "GMAIL_SETTINGS", "DELETE_GMAIL_SETTING", "api_activity", "delete"},
		{"token", "auth", "authorize", "authentication", "token_issue"},
		{"token", "auth", "revoke", "credential", "token_revoke"},
		{"drive", "access", "download", "data_access", "download"},
		{"drive", "access", "view", "data_access", "read"},
		{"drive", "access", "edit", "data_access", "write"},
		{"drive", "acl_change", "change_user_access", "data_access", "share"},
		{"drive", "acl_change", "change_document_visibility", "data_access", "share"},
		{"drive", "acl_change", "change_acl_editors", "data_access", "share"},
		{"drive", "access", "delete", "data_access", "delete"},
		{"drive", "access", "trash", "data_access", "delete"},
		{"drive", "access", "rename", "data_access", "update"},
		{"drive", "access", "approval_requested", "data_access", "other"},
		{"gmail", "delivery", "delivery", "api_activity", "other"},
		{"calendar", "calendar_change", "change_calendar_acls", "api_activity", "other"},
		{"", "", "login_success", "api_activity", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.app+"/"+tt.name, func(t *testing.T) {
			c, a := Classify(tt.app, tt.typ, tt.name)
			if string(c) != tt.category || string(a) != tt.activity {
				t.Errorf("Classify(%q, %q, %q) = %s/%s, want %s/%s", tt.app, tt.typ, tt.name, c, a, tt.category, tt.activity)
			}
		})
	}
}

// TestMultipleEvents checks that each event of an activity dedupes on its
// own and that the API and export spellings of one activity share ids.
func TestMultipleEvents(t *testing.T) {
	var p fastjson.Parser
	d := New()
	v, err := p.Parse(`{"kind":"admin#reports#activity","id":{"time":"2026-03-05T14:02:11.830Z",
		"uniqueQualifier":"55","applicationName":"admin"},"actor":{"email":"a@example.com"},
		"events":[{"name":"CREATE_USER"},{"name":"ASSIGN_ROLE"},{"name":"DELETE_USER"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := d.Decode(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.VendorID)
	}
	want := []string{"admin:2026-03-05T14:02:11.83Z:55#0", "admin:2026-03-05T14:02:11.83Z:55#1", "admin:2026-03-05T14:02:11.83Z:55#2"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("vendor ids %q, want %q", ids, want)
	}
	v, err = p.Parse(`{"id":{"time":"2026-03-05 14:02:11.830000000","uniqueQualifier":"55","applicationName":"admin"},
		"name":"CREATE_USER"}`)
	if err != nil {
		t.Fatal(err)
	}
	evs, err = d.Decode(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if got := evs[0].VendorID; got != "admin:2026-03-05T14:02:11.83Z:55" {
		t.Errorf("flattened vendor id %q", got)
	}
}

// TestCorpus decodes the shared validation corpus (panther-analysis rule
// tests, hand-made and partly redacted; see sourcetest.Corpus): every
// record with a readable timestamp decodes, and Detect claims every
// record, those that fail included.
func TestCorpus(t *testing.T) {
	c := sourcetest.Corpus(t, "itdr/events/gworkspace.ndjson", New(), hasTime,
		okta.New(), cloudtrail.New(), ocsf.New(), entra.New(), azureactivity.New())
	if c.Undetected > 0 {
		t.Errorf("Detect = false for %d records", c.Undetected)
	}
}

// hasTime reports whether the record holds a timestamp Decode should
// read: id.time or Panther's p_event_time, parseable.
func hasTime(v *fastjson.Value) bool {
	if _, err := field.Time(v, "id", "time"); err == nil {
		return true
	}
	_, err := field.Time(v, "p_event_time")
	return err == nil
}

func BenchmarkDecode(b *testing.B) {
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() }, sourcetest.Cases(b))
}

// BenchmarkCorpus decodes the validation corpus (skipped when absent).
func BenchmarkCorpus(b *testing.B) {
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() },
		sourcetest.Lines(b, sourcetest.CorpusFile(b, "itdr/events/gworkspace.ndjson")))
}
