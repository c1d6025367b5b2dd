package azureactivity

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/cloudtrail"
	"github.com/vigil-zt/vigil/internal/source/entra"
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
		operation, category string
		c                   event.Category
		a                   event.Activity
	}{
		{"Microsoft.Authorization/roleAssignments/write", "Administrative", event.CategoryPrivilege, event.ActivityGrant},
		{"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/DELETE", "Administrative", event.CategoryPrivilege, event.ActivityRevoke},
		{"Microsoft.Authorization/roleDefinitions/write", "Administrative", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Microsoft.Authorization/roleDefinitions/delete", "Administrative", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"Microsoft.Authorization/elevateAccess/action", "Administrative", event.CategoryPrivilege, event.ActivityGrant},
		{"Microsoft.Storage/storageAccounts/write", "Administrative", event.CategoryAPIActivity, event.ActivityWrite},
		{"microsoft.compute/virtualmachines/delete", "Administrative", event.CategoryAPIActivity, event.ActivityDelete},
		{"MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", "Administrative", event.CategoryAPIActivity, event.ActivityRead},
		{"Microsoft.Compute/virtualMachines/runCommand/action", "Administrative", event.CategoryAPIActivity, event.ActivityOther},
		{"Microsoft.Storage/storageAccounts/listKeys/action", "Administrative", event.CategoryAPIActivity, event.ActivityRead},
		{"Microsoft.KeyVault/vaults/secrets/getSecret/action", "Administrative", event.CategoryAPIActivity, event.ActivityRead},
		{"Microsoft.Storage/storageAccounts/regenerateKey/action", "Administrative", event.CategoryCredential, event.ActivityKeyUpdate},
		{"Microsoft.Authorization/locks/delete", "Administrative", event.CategoryAPIActivity, event.ActivityDelete},
		{"Microsoft.Authorization/policies/audit/action", "Policy", event.CategoryAPIActivity, event.ActivityOther},
		{"Microsoft.Advisor/recommendations/available/action", "Recommendation", event.CategoryOther, event.ActivityOther},
		{"Microsoft.ServiceHealth/incident/action", "ServiceHealth", event.CategoryOther, event.ActivityOther},
		{"Microsoft.Security/locations/alerts/activate/action", "Security", event.CategoryOther, event.ActivityOther},
		{"Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/extend", "Administrative", event.CategoryAPIActivity, event.ActivityOther},
	}
	for _, tt := range tests {
		t.Run(tt.operation, func(t *testing.T) {
			c, a := Classify(tt.operation, tt.category)
			if c != tt.c || a != tt.a {
				t.Errorf("Classify(%q, %q) = %s/%s, want %s/%s", tt.operation, tt.category, c, a, tt.c, tt.a)
			}
		})
	}
}

func TestClassifyKube(t *testing.T) {
	tests := []struct {
		verb, resource, subresource string
		c                           event.Category
		a                           event.Activity
	}{
		{"create", "clusterrolebindings", "", event.CategoryPrivilege, event.ActivityGrant},
		{"patch", "rolebindings", "", event.CategoryPrivilege, event.ActivityGrant},
		{"delete", "clusterrolebindings", "", event.CategoryPrivilege, event.ActivityRevoke},
		{"list", "rolebindings", "", event.CategoryAPIActivity, event.ActivityList},
		{"create", "clusterroles", "", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"delete", "roles", "", event.CategoryPrivilege, event.ActivityPolicyChange},
		{"create", "serviceaccounts", "token", event.CategoryCredential, event.ActivityTokenCreate},
		{"create", "certificatesigningrequests", "", event.CategoryCredential, event.ActivityKeyCreate},
		{"get", "secrets", "", event.CategoryAPIActivity, event.ActivityRead},
		{"list", "secrets", "", event.CategoryAPIActivity, event.ActivityList},
		{"watch", "pods", "", event.CategoryAPIActivity, event.ActivityRead},
		{"create", "pods", "exec", event.CategoryAPIActivity, event.ActivityCreate},
		{"update", "cronjobs", "", event.CategoryAPIActivity, event.ActivityUpdate},
		{"deletecollection", "pods", "", event.CategoryAPIActivity, event.ActivityDelete},
		{"impersonate", "users", "", event.CategorySession, event.ActivityImpersonate},
		{"proxy", "services", "", event.CategoryAPIActivity, event.ActivityOther},
	}
	for _, tt := range tests {
		t.Run(tt.verb+" "+tt.resource+"/"+tt.subresource, func(t *testing.T) {
			c, a := ClassifyKube(tt.verb, tt.resource, tt.subresource)
			if c != tt.c || a != tt.a {
				t.Errorf("ClassifyKube(%q, %q, %q) = %s/%s, want %s/%s", tt.verb, tt.resource, tt.subresource, c, a, tt.c, tt.a)
			}
		})
	}
}

func TestClassifyStorage(t *testing.T) {
	tests := []struct {
		operation, category string
		a                   event.Activity
	}{
		{"GetBlob", "StorageRead", event.ActivityRead},
		{"GetBlobProperties", "StorageRead", event.ActivityRead},
		{"ListBlobs", "StorageRead", event.ActivityList},
		{"PutBlob", "StorageWrite", event.ActivityWrite},
		{"CopyBlob", "StorageWrite", event.ActivityWrite},
		{"DeleteBlob", "StorageDelete", event.ActivityDelete},
		{"deleteblob", "", event.ActivityDelete},
		{"SetContainerACL", "StorageWrite", event.ActivityShare},
		{"SomethingNew", "StorageRead", event.ActivityRead},
		{"SomethingNew", "", event.ActivityOther},
	}
	for _, tt := range tests {
		t.Run(tt.operation+"/"+tt.category, func(t *testing.T) {
			c, a := ClassifyStorage(tt.operation, tt.category)
			if c != event.CategoryDataAccess || a != tt.a {
				t.Errorf("ClassifyStorage(%q, %q) = %s/%s, want data_access/%s", tt.operation, tt.category, c, a, tt.a)
			}
		})
	}
}

// TestDetect checks the records an Activity Log record could be confused
// with, Entra's above all.
func TestDetect(t *testing.T) {
	sourcetest.Detect(t, New(), []sourcetest.DetectCase{
		{Name: "entra sign-in", Record: `{"time":"2026-03-02T10:00:00Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","properties":{}}`, Want: false},
		{Name: "entra audit", Record: `{"time":"2026-03-02T10:00:00Z","operationName":"Add user","category":"AuditLogs","properties":{"activityDisplayName":"Add user"}}`, Want: false},
		{Name: "entra policy under aadiam", Record: `{"time":"2026-03-02T10:00:00Z","resourceId":"/tenants/t/providers/microsoft.AADIAM","operationName":"x","category":"Policy","properties":{}}`, Want: false},
		{Name: "entra risky users", Record: `{"time":"2026-03-02T10:00:00Z","operationName":"Risky user","category":"RiskyUsers","properties":{}}`, Want: false},
		{Name: "entra provisioning", Record: `{"time":"2026-03-02T10:00:00Z","operationName":"Provisioning","category":"ProvisioningLogs","properties":{}}`, Want: false},
		{Name: "graph signIn", Record: `{"id":"1","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":0}}`, Want: false},
		{Name: "key vault audit event", Record: `{"time":"2026-03-02T10:00:00Z","operationName":"SecretGet","category":"AuditEvent","properties":{}}`, Want: false},
		{Name: "okta", Record: `{"uuid":"1","published":"2026-03-02T10:00:00Z","eventType":"user.session.start"}`, Want: false},
		{Name: "no operation", Record: `{"time":"2026-03-02T10:00:00Z","category":"Administrative"}`, Want: false},
		{Name: "administrative", Record: `{"time":"2026-03-02T10:00:00Z","operationName":"Microsoft.Storage/storageAccounts/write","category":"Administrative"}`, Want: true},
		{Name: "rest", Record: `{"eventTimestamp":"2026-03-02T10:00:00Z","operationName":{"value":"x/write"},"category":{"value":"Administrative"},"caller":"a@b.c"}`, Want: true},
		{Name: "rest without category", Record: `{"eventDataId":"1","eventTimestamp":"2026-03-02T10:00:00Z","operationName":{"value":"x/write"},"caller":"a@b.c"}`, Want: true},
		{Name: "kube-audit", Record: `{"category":"kube-audit","properties":{"log":"{}"}}`, Want: true},
		{Name: "storage", Record: `{"time":"2026-03-02T10:00:00Z","category":"StorageRead","operationName":"GetBlob"}`, Want: true},
		{Name: "storage without category", Record: `{"time":"2026-03-02T10:00:00Z","operationName":"GetBlob","properties":{"accountName":"a","objectKey":"/a/b/c"}}`, Want: true},
	})
}

// TestCorpus decodes the shared validation corpus (see sourcetest.Corpus):
// every record with a timestamp decodes, Detect claims every record, those
// that fail included, and the Entra decoder (like every other) claims none.
func TestCorpus(t *testing.T) {
	c := sourcetest.Corpus(t, "itdr/events/azure_activity.ndjson", New(), New().hasTimestamp,
		entra.New(), cloudtrail.New(), gworkspace.New(), ocsf.New(), okta.New())
	if c.Undetected > 0 {
		t.Errorf("Detect = false for %d records", c.Undetected)
	}
}

// hasTimestamp reports whether any field the decoder reads time from,
// including those of a kube-audit event, holds a parseable timestamp.
func (d *Decoder) hasTimestamp(v *fastjson.Value) bool {
	for _, p := range [][]string{{"time"}, {"eventTimestamp"}, {"p_event_time"}} {
		if _, err := field.Time(v, p...); err == nil {
			return true
		}
	}
	a := d.nested(field.Get(v, "properties", "log"))
	for _, p := range [][]string{{"stageTimestamp"}, {"requestReceivedTimestamp"}} {
		if _, err := field.Time(a, p...); err == nil {
			return true
		}
	}
	return false
}

func BenchmarkDecode(b *testing.B) {
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() }, sourcetest.Cases(b))
}
