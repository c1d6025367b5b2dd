package entra

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/azureactivity"
	"github.com/vigil-zt/vigil/internal/source/field"
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
		activity, operationType string
		category                event.Category
		activityWant            event.Activity
	}{
		{"Add member to role", "Assign", event.CategoryPrivilege, event.ActivityGrant},
		{"Add eligible member to role", "Assign", event.CategoryPrivilege, event.ActivityGrant},
		{"Add app role assignment to service principal", "Assign", event.CategoryPrivilege, event.ActivityGrant},
		{"Add member to role in PIM completed (timebound)", "Assign", event.CategoryPrivilege, event.ActivityGrant},
		{"Add eligible member to role in PIM completed (permanent)", "Assign", event.CategoryPrivilege, event.ActivityGrant},
		{"Add member to role in PIM requested (permanent)", "Update", event.CategoryPrivilege, event.ActivityOther},
		{"Remove member from role", "Unassign", event.CategoryPrivilege, event.ActivityRevoke},
		{"Remove permanent eligible member from role in PIM completed", "Unassign", event.CategoryPrivilege, event.ActivityRevoke},
		{"Consent to application", "Assign", event.CategoryPrivilege, event.ActivityGrant},
		{"Reset user password", "Update", event.CategoryAccountChange, event.ActivityPasswordReset},
		{"Reset password (by admin)", "Update", event.CategoryAccountChange, event.ActivityPasswordReset},
		{"Reset password (self-service)", "Update", event.CategoryAccountChange, event.ActivityRecovery},
		{"Change user password", "Update", event.CategoryAccountChange, event.ActivityPasswordChange},
		{"User registered security info", "Add", event.CategoryMFA, event.ActivityMFAEnroll},
		{"User registered all required security info", "Add", event.CategoryMFA, event.ActivityMFAEnroll},
		{"User deleted security info", "Delete", event.CategoryMFA, event.ActivityMFARemove},
		{"Admin deleted security info", "Delete", event.CategoryMFA, event.ActivityMFARemove},
		{"Admin reset security info", "Update", event.CategoryMFA, event.ActivityMFARemove},
		{"User changed default security info", "Update", event.CategoryMFA, event.ActivityUpdate},
		{"Disable Strong Authentication", "Update", event.CategoryMFA, event.ActivityMFARemove},
		{"Add service principal credentials", "Update", event.CategoryCredential, event.ActivityKeyCreate},
		{"Remove service principal credentials", "Update", event.CategoryCredential, event.ActivityKeyDelete},
		{"Update application – Certificates and secrets management ", "Update", event.CategoryCredential, event.ActivityKeyCreate},
		{"Add federated identity credential", "Add", event.CategoryCredential, event.ActivityKeyCreate},
		{"Add user", "Add", event.CategoryAccountChange, event.ActivityCreate},
		{"Delete user", "Delete", event.CategoryAccountChange, event.ActivityDelete},
		{"Disable account", "Update", event.CategoryAccountChange, event.ActivityDisable},
		{"Update user", "Update", event.CategoryAccountChange, event.ActivityUpdate},
		{"Invite external user", "Add", event.CategoryAccountChange, event.ActivityCreate},
		{"Update password protection policy", "Update", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Update role setting in PIM", "Update", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Add owner to application", "Add", event.CategoryPrivilege, event.ActivityGrant},
		{"Revoke sign-in sessions", "Update", event.CategorySession, event.ActivitySessionRevoke},
		{"Invalidate all refresh tokens for a user", "Update", event.CategorySession, event.ActivitySessionRevoke},
		{"Update conditional access policy", "Update", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Add named location", "Add", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Update authorization policy", "Update", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Set federation settings on domain", "Update", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Read BitLocker key", "Read", event.CategoryDataAccess, event.ActivityRead},
		{"Add service principal", "Add", event.CategoryAPIActivity, event.ActivityCreate},
		{"Update application", "Update", event.CategoryAPIActivity, event.ActivityUpdate},
		{"Delete application", "Delete", event.CategoryAPIActivity, event.ActivityDelete},
		{"Assign license", "Assign", event.CategoryAPIActivity, event.ActivityGrant},
		{"Remove license", "Unassign", event.CategoryAPIActivity, event.ActivityRevoke},
		{"Something new", "Other", event.CategoryAPIActivity, event.ActivityOther},
	}
	for _, tt := range tests {
		t.Run(tt.activity, func(t *testing.T) {
			c, a := Classify(tt.activity, tt.operationType)
			if c != tt.category || a != tt.activityWant {
				t.Errorf("Classify(%q, %q) = %s/%s, want %s/%s", tt.activity, tt.operationType, c, a, tt.category, tt.activityWant)
			}
		})
	}
}

// TestDetect checks that Detect claims no record of the formats an Entra
// record could be confused with.
func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		rec  string
		want bool
	}{
		{"activity log administrative", `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/0b1c/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa","operationName":"Microsoft.Storage/storageAccounts/write","category":"Administrative","resultType":"Success","properties":{"statusCode":"OK"}}`, false},
		{"activity log policy", `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/0b1c/resourceGroups/rg","operationName":"Microsoft.Authorization/policies/audit/action","category":"Policy","properties":{"isComplianceCheck":"True"}}`, false},
		{"activity log REST", `{"eventDataId":"1","eventTimestamp":"2026-03-02T10:00:00Z","operationName":{"value":"Microsoft.Authorization/roleAssignments/write"},"category":{"value":"Administrative"},"caller":"a@b.c"}`, false},
		{"fhir audit logs", `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/0b1c/resourceGroups/rg/providers/Microsoft.HealthcareApis/services/fhir","operationName":"read","category":"AuditLogs","properties":{"callerAgent":"x"}}`, false},
		{"okta", `{"uuid":"1","published":"2026-03-02T10:00:00Z","eventType":"user.session.start","actor":{}}`, false},
		{"cloudtrail", `{"eventVersion":"1.08","eventTime":"2026-03-02T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}`, false},
		{"empty", `{}`, false},
		{"monitor policy under aadiam", `{"time":"2026-03-02T10:00:00Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"x","category":"Policy","properties":{}}`, true},
		{"monitor sign-in", `{"time":"2026-03-02T10:00:00Z","category":"SignInLogs","properties":{}}`, true},
		{"graph signIn", `{"id":"1","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":0}}`, true},
		{"graph directoryAudit", `{"id":"1","activityDateTime":"2026-03-02T10:00:00Z","activityDisplayName":"Add user","initiatedBy":{}}`, true},
		{"graph riskDetection", `{"id":"1","riskEventType":"unlikelyTravel","detectedDateTime":"2026-03-02T10:00:00Z"}`, true},
		{"graph riskyUser", `{"id":"1","riskLastUpdatedDateTime":"2026-03-02T10:00:00Z","riskState":"atRisk","userPrincipalName":"a@b.c"}`, true},
	}
	var p fastjson.Parser
	d := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := p.Parse(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Detect(v); got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCorpus decodes the shared validation corpus: every record must decode
// or fail with an error naming a field, and every record with a timestamp
// must decode.
func TestCorpus(t *testing.T) {
	lines := sourcetest.Lines(t, sourcetest.CorpusFile(t, "itdr/events/entra_audit.ndjson"))
	d, other := New(), azureactivity.New()
	var p fastjson.Parser
	decoded := 0
	failed := map[string]int{}
	for i, line := range lines {
		v, err := p.ParseBytes(line)
		if err != nil {
			t.Errorf("line %d: not JSON: %v", i+1, err)
			continue
		}
		if !d.Detect(v) {
			t.Errorf("line %d: Detect = false", i+1)
		}
		if other.Detect(v) {
			t.Errorf("line %d: the Azure Activity decoder claims an Entra record", i+1)
		}
		evs, err := d.Decode(nil, v)
		if err != nil {
			var fe *field.Error
			if !errors.As(err, &fe) && !errors.Is(err, field.ErrMissing) {
				t.Errorf("line %d: error names no field: %v", i+1, err)
			}
			if hasTimestamp(v) {
				t.Errorf("line %d: a record with a timestamp failed: %v", i+1, err)
			}
			failed[err.Error()]++
			continue
		}
		for _, e := range evs {
			if e.Time.IsZero() || !e.Category.Valid() || e.VendorType == "" || e.Source != event.SourceEntra {
				t.Errorf("line %d: malformed event %+v", i+1, e)
			}
		}
		decoded++
	}
	t.Logf("%d records: %d decoded, %d failed", len(lines), decoded, len(lines)-decoded)
	reasons := make([]string, 0, len(failed))
	for r := range failed {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t.Logf("  %d× %s", failed[r], r)
	}
}

// hasTimestamp reports whether any field the decoder reads time from holds
// a parseable timestamp.
func hasTimestamp(v *fastjson.Value) bool {
	for _, p := range [][]string{
		{"time"}, {"p_event_time"}, {"createdDateTime"}, {"activityDateTime"}, {"detectedDateTime"},
		{"riskLastUpdatedDateTime"}, {"properties", "createdDateTime"}, {"properties", "activityDateTime"},
		{"properties", "detectedDateTime"}, {"properties", "riskLastUpdatedDateTime"},
	} {
		if _, err := field.Time(v, p...); err == nil {
			return true
		}
	}
	return false
}

func BenchmarkDecode(b *testing.B) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		b.Fatal(err)
	}
	var recs [][]byte
	var size int64
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad_") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, buf.Bytes())
		size += int64(buf.Len())
	}
	d := New()
	var p fastjson.Parser
	var dst []event.Event
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			v, err := p.ParseBytes(r)
			if err != nil {
				b.Fatal(err)
			}
			if dst, err = d.Decode(dst[:0], v); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds(), "events/s")
}
