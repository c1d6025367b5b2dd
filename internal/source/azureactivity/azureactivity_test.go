package azureactivity

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
	"github.com/vigil-zt/vigil/internal/source/entra"
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
	tests := []struct {
		name string
		rec  string
		want bool
	}{
		{"entra sign-in", `{"time":"2026-03-02T10:00:00Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","properties":{}}`, false},
		{"entra audit", `{"time":"2026-03-02T10:00:00Z","operationName":"Add user","category":"AuditLogs","properties":{"activityDisplayName":"Add user"}}`, false},
		{"entra policy under aadiam", `{"time":"2026-03-02T10:00:00Z","resourceId":"/tenants/t/providers/microsoft.AADIAM","operationName":"x","category":"Policy","properties":{}}`, false},
		{"entra risky users", `{"time":"2026-03-02T10:00:00Z","operationName":"Risky user","category":"RiskyUsers","properties":{}}`, false},
		{"entra provisioning", `{"time":"2026-03-02T10:00:00Z","operationName":"Provisioning","category":"ProvisioningLogs","properties":{}}`, false},
		{"graph signIn", `{"id":"1","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":0}}`, false},
		{"key vault audit event", `{"time":"2026-03-02T10:00:00Z","operationName":"SecretGet","category":"AuditEvent","properties":{}}`, false},
		{"okta", `{"uuid":"1","published":"2026-03-02T10:00:00Z","eventType":"user.session.start"}`, false},
		{"no operation", `{"time":"2026-03-02T10:00:00Z","category":"Administrative"}`, false},
		{"administrative", `{"time":"2026-03-02T10:00:00Z","operationName":"Microsoft.Storage/storageAccounts/write","category":"Administrative"}`, true},
		{"rest", `{"eventTimestamp":"2026-03-02T10:00:00Z","operationName":{"value":"x/write"},"category":{"value":"Administrative"},"caller":"a@b.c"}`, true},
		{"rest without category", `{"eventDataId":"1","eventTimestamp":"2026-03-02T10:00:00Z","operationName":{"value":"x/write"},"caller":"a@b.c"}`, true},
		{"kube-audit", `{"category":"kube-audit","properties":{"log":"{}"}}`, true},
		{"storage", `{"time":"2026-03-02T10:00:00Z","category":"StorageRead","operationName":"GetBlob"}`, true},
		{"storage without category", `{"time":"2026-03-02T10:00:00Z","operationName":"GetBlob","properties":{"accountName":"a","objectKey":"/a/b/c"}}`, true},
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
// or fail with an error naming a field, every record with a timestamp must
// decode, and the Entra decoder must claim none of them.
func TestCorpus(t *testing.T) {
	lines := sourcetest.Lines(t, sourcetest.CorpusFile(t, "itdr/events/azure_activity.ndjson"))
	d, other := New(), entra.New()
	var p fastjson.Parser
	decoded := 0
	logs := map[string]int{}
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
			t.Errorf("line %d: the Entra decoder claims an Azure Activity record", i+1)
		}
		evs, err := d.Decode(nil, v)
		if err != nil {
			var fe *field.Error
			if !errors.As(err, &fe) && !errors.Is(err, field.ErrMissing) {
				t.Errorf("line %d: error names no field: %v", i+1, err)
			}
			if d.hasTimestamp(v) {
				t.Errorf("line %d: a record with a timestamp failed: %v", i+1, err)
			}
			failed[err.Error()]++
			continue
		}
		for _, e := range evs {
			if e.Time.IsZero() || !e.Category.Valid() || e.VendorType == "" || e.Source != event.SourceAzureActivity {
				t.Errorf("line %d: malformed event %+v", i+1, e)
			}
			logs[e.Log]++
		}
		decoded++
	}
	t.Logf("%d records: %d decoded %v, %d failed", len(lines), decoded, logs, len(lines)-decoded)
	reasons := make([]string, 0, len(failed))
	for r := range failed {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t.Logf("  %d× %s", failed[r], r)
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
