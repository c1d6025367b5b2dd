package entra

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/azureactivity"
	"github.com/vigil-zt/vigil/internal/source/cloudtrail"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/source/gworkspace"
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
	sourcetest.Detect(t, New(), []sourcetest.DetectCase{
		{Name: "activity log administrative", Record: `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/0b1c/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa","operationName":"Microsoft.Storage/storageAccounts/write","category":"Administrative","resultType":"Success","properties":{"statusCode":"OK"}}`, Want: false},
		{Name: "activity log policy", Record: `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/0b1c/resourceGroups/rg","operationName":"Microsoft.Authorization/policies/audit/action","category":"Policy","properties":{"isComplianceCheck":"True"}}`, Want: false},
		{Name: "activity log REST", Record: `{"eventDataId":"1","eventTimestamp":"2026-03-02T10:00:00Z","operationName":{"value":"Microsoft.Authorization/roleAssignments/write"},"category":{"value":"Administrative"},"caller":"a@b.c"}`, Want: false},
		{Name: "fhir audit logs", Record: `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/0b1c/resourceGroups/rg/providers/Microsoft.HealthcareApis/services/fhir","operationName":"read","category":"AuditLogs","properties":{"callerAgent":"x"}}`, Want: false},
		{Name: "okta", Record: `{"uuid":"1","published":"2026-03-02T10:00:00Z","eventType":"user.session.start","actor":{}}`, Want: false},
		{Name: "cloudtrail", Record: `{"eventVersion":"1.08","eventTime":"2026-03-02T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}`, Want: false},
		{Name: "empty", Record: `{}`, Want: false},
		{Name: "monitor policy under aadiam", Record: `{"time":"2026-03-02T10:00:00Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"x","category":"Policy","properties":{}}`, Want: true},
		{Name: "monitor sign-in", Record: `{"time":"2026-03-02T10:00:00Z","category":"SignInLogs","properties":{}}`, Want: true},
		{Name: "graph signIn", Record: `{"id":"1","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":0}}`, Want: true},
		{Name: "graph directoryAudit", Record: `{"id":"1","activityDateTime":"2026-03-02T10:00:00Z","activityDisplayName":"Add user","initiatedBy":{}}`, Want: true},
		{Name: "graph riskDetection", Record: `{"id":"1","riskEventType":"unlikelyTravel","detectedDateTime":"2026-03-02T10:00:00Z"}`, Want: true},
		{Name: "graph riskyUser", Record: `{"id":"1","riskLastUpdatedDateTime":"2026-03-02T10:00:00Z","riskState":"atRisk","userPrincipalName":"a@b.c"}`, Want: true},
	})
}

// TestCorpus decodes the shared validation corpus (see sourcetest.Corpus):
// every record with a timestamp decodes, and Detect claims every record,
// those that fail included, so that their quarantine names Entra.
func TestCorpus(t *testing.T) {
	c := sourcetest.Corpus(t, "itdr/events/entra_audit.ndjson", New(), hasTimestamp,
		azureactivity.New(), cloudtrail.New(), gworkspace.New(), ocsf.New(), okta.New())
	if c.Undetected > 0 {
		t.Errorf("Detect = false for %d records", c.Undetected)
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
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() }, sourcetest.Cases(b))
}
