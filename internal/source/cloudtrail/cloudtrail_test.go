package cloudtrail

import (
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
		source, name       string
		category, activity string
	}{
		{"signin.amazonaws.com", "ConsoleLogin", "authentication", "login"},
		{"", "ConsoleLogin", "authentication", "login"}, // exports that drop eventSource
		{"sts.amazonaws.com", "AssumeRole", "session", "session_start"},
		{"sts.amazonaws.com", "AssumeRoleWithSAML", "session", "session_start"},
		{"sts.amazonaws.com", "AssumeRoleWithWebIdentity", "session", "session_start"},
		{"sts.amazonaws.com", "GetSessionToken", "session", "session_start"},
		{"sts.amazonaws.com", "GetFederationToken", "session", "session_start"},
		{"signin.amazonaws.com", "GetSigninToken", "authentication", "sso"},
		{"iam.amazonaws.com", "CreateAccessKey", "credential", "key_create"},
		{"iam.amazonaws.com", "DeleteAccessKey", "credential", "key_delete"},
		{"iam.amazonaws.com", "UpdateAccessKey", "credential", "key_update"},
		{"iam.amazonaws.com", "CreateLoginProfile", "account_change", "password_reset"},
		{"iam.amazonaws.com", "UpdateLoginProfile", "account_change", "password_reset"},
		{"iam.amazonaws.com", "ChangePassword", "account_change", "password_change"},
		{"iam.amazonaws.com", "AttachUserPolicy", "privilege", "grant"},
		{"iam.amazonaws.com", "PutRolePolicy", "privilege", "grant"},
		{"iam.amazonaws.com", "AddUserToGroup", "privilege", "grant"},
		{"iam.amazonaws.com", "CreatePolicyVersion", "privilege", "policy_change"},
		{"iam.amazonaws.com", "SetDefaultPolicyVersion", "privilege", "policy_change"},
		{"iam.amazonaws.com", "UpdateAssumeRolePolicy", "privilege", "policy_change"},
		{"iam.amazonaws.com", "DetachRolePolicy", "privilege", "revoke"},
		{"iam.amazonaws.com", "DeleteGroupPolicy", "privilege", "revoke"},
		{"iam.amazonaws.com", "RemoveUserFromGroup", "privilege", "revoke"},
		{"iam.amazonaws.com", "CreateUser", "account_change", "create"},
		{"iam.amazonaws.com", "DeleteUser", "account_change", "delete"},
		{"iam.amazonaws.com", "EnableMFADevice", "mfa", "mfa_enroll"},
		{"iam.amazonaws.com", "CreateVirtualMFADevice", "mfa", "mfa_enroll"},
		{"iam.amazonaws.com", "DeactivateMFADevice", "mfa", "mfa_remove"},
		{"iam.amazonaws.com", "DeleteVirtualMFADevice", "mfa", "mfa_remove"},
		{"s3.amazonaws.com", "GetObject", "data_access", "read"},
		{"s3.amazonaws.com", "PutObject", "data_access", "write"},
		{"s3.amazonaws.com", "DeleteObject", "data_access", "delete"},
		{"s3.amazonaws.com", "PutBucketPolicy", "privilege", "policy_change"},
		{"secretsmanager.amazonaws.com", "GetSecretValue", "data_access", "read"},
		{"dynamodb.amazonaws.com", "Query", "data_access", "read"},
		{"dynamodb.amazonaws.com", "BatchGetItem", "data_access", "read"},
		{"ssm.amazonaws.com", "GetParameter", "api_activity", "read"}, // data_access only with decryption
		// The same name in another service is not the table's call.
		{"transfer.amazonaws.com", "CreateUser", "api_activity", "create"},
		{"timestream.amazonaws.com", "Query", "api_activity", "read"},
		// Verb fallback.
		{"ec2.amazonaws.com", "DescribeInstances", "api_activity", "read"},
		{"s3.amazonaws.com", "HeadBucket", "api_activity", "read"},
		{"s3.amazonaws.com", "ListBuckets", "api_activity", "list"},
		{"ec2.amazonaws.com", "RunInstances", "api_activity", "create"},
		{"s3.amazonaws.com", "PutBucketLogging", "api_activity", "write"},
		{"ec2.amazonaws.com", "TerminateInstances", "api_activity", "delete"},
		{"rds.amazonaws.com", "ModifyDBInstance", "api_activity", "update"},
		{"lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", "api_activity", "update"},
		{"ecr.amazonaws.com", "BatchDeleteImage", "api_activity", "delete"},
		{"cloudtrail.amazonaws.com", "StopLogging", "api_activity", "update"},
		{"kms.amazonaws.com", "Decrypt", "api_activity", "other"},
		{"", "", "api_activity", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.name, func(t *testing.T) {
			c, a := Classify(tt.source, tt.name)
			if string(c) != tt.category || string(a) != tt.activity {
				t.Errorf("Classify(%q, %q) = %s/%s, want %s/%s", tt.source, tt.name, c, a, tt.category, tt.activity)
			}
		})
	}
}

// others are the decoders that must not claim a CloudTrail record.
func others() []sourcetest.Decoder {
	return []sourcetest.Decoder{okta.New(), gworkspace.New(), ocsf.New(), entra.New()}
}

// foreign are corpus files of other formats, which Detect must not claim.
var foreign = []string{"okta.ndjson", "gworkspace.ndjson", "entra_audit.ndjson", "azure_activity.ndjson"}

// TestCorpus decodes the shared validation corpus (panther-analysis rule
// tests, hand-made and partly redacted): every record decodes or fails
// naming a field, every record with a readable timestamp decodes, no other
// decoder's Detect claims one, and Detect claims no record of another
// format.
func TestCorpus(t *testing.T) {
	path := sourcetest.CorpusFile(t, "itdr/events/cloudtrail.ndjson")
	d := New()
	var p fastjson.Parser
	var decoded int
	reasons := map[string]int{}
	for i, line := range sourcetest.Lines(t, path) {
		v, err := p.ParseBytes(line)
		if err != nil {
			t.Errorf("line %d: not JSON: %v", i+1, err)
			continue
		}
		for _, o := range others() {
			if o.Detect(v) {
				t.Errorf("line %d: %s Detect claims a CloudTrail record", i+1, o.Source())
			}
		}
		detected := d.Detect(v)
		evs, err := d.Decode(nil, v)
		if err != nil {
			if !namesField(err) {
				t.Errorf("line %d: error does not name a field: %v", i+1, err)
			}
			if hasTime(v) {
				t.Errorf("line %d: record with a timestamp failed: %v", i+1, err)
			}
			reasons[err.Error()]++
			continue
		}
		decoded++
		if !detected {
			t.Errorf("line %d: decodes but Detect = false", i+1)
		}
		for _, e := range evs {
			if e.Time.IsZero() || e.VendorType == "" || !e.Category.Valid() {
				t.Errorf("line %d: malformed event %+v", i+1, e)
			}
		}
	}
	t.Logf("decoded %d records; %d failed:", decoded, total(reasons))
	for _, r := range sortedKeys(reasons) {
		t.Logf("  %3d × %s", reasons[r], r)
	}
	for _, f := range foreign {
		claimed := 0
		for _, line := range sourcetest.Lines(t, filepath.Join(filepath.Dir(path), f)) {
			if v, err := p.ParseBytes(line); err == nil && d.Detect(v) {
				claimed++
			}
		}
		if claimed > 0 {
			t.Errorf("Detect claims %d records of %s", claimed, f)
		}
	}
}

func namesField(err error) bool {
	var fe *field.Error
	return errors.As(err, &fe) || errors.Is(err, field.ErrMissing)
}

// hasTime reports whether the record holds a timestamp Decode should
// read: eventTime or Panther's p_event_time, parseable.
func hasTime(v *fastjson.Value) bool {
	for _, k := range []string{"eventTime", "p_event_time"} {
		if _, err := field.Time(v, k); err == nil {
			return true
		}
	}
	return false
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}

// TestSessionChain checks that the key AssumeRole issues, kept as a
// target, is the Session.AccessKeyID of the calls made with it.
func TestSessionChain(t *testing.T) {
	d := New()
	var p fastjson.Parser
	v, err := p.Parse(`{"eventVersion":"1.08","eventTime":"2026-02-15T11:20:05Z","eventSource":"sts.amazonaws.com",
		"eventName":"AssumeRole","userIdentity":{"type":"IAMUser","userName":"deploy-bot"},
		"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE1"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := d.Decode(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	issued := ""
	for _, tg := range evs[0].Targets {
		if tg.Type == "AccessKey" {
			issued = tg.ID
		}
	}
	v, err = p.Parse(`{"eventVersion":"1.08","eventTime":"2026-02-15T11:21:00Z","eventSource":"ec2.amazonaws.com",
		"eventName":"DescribeInstances","userIdentity":{"type":"AssumedRole","accessKeyId":"ASIAEXAMPLE1",
		"arn":"arn:aws:sts::111122223333:assumed-role/deployer/deploy-20260215"}}`)
	if err != nil {
		t.Fatal(err)
	}
	evs, err = d.Decode(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if issued == "" || evs[0].Session.Key() != issued {
		t.Errorf("issued key %q, later session key %q", issued, evs[0].Session.Key())
	}
	if evs[0].Actor.ID != "role/deployer" || evs[0].Actor.Kind != event.KindService {
		t.Errorf("actor = %+v, want role/deployer (service)", evs[0].Actor)
	}
}

func BenchmarkDecode(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	var recs [][]byte
	size := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad_") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, raw)
		size += len(raw)
	}
	benchmarkRecords(b, recs, size)
}

// BenchmarkCorpus decodes the validation corpus (skipped when absent).
func BenchmarkCorpus(b *testing.B) {
	recs := sourcetest.Lines(b, sourcetest.CorpusFile(b, "itdr/events/cloudtrail.ndjson"))
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	benchmarkRecords(b, recs, size)
}

// benchmarkRecords measures parsing and decoding, as source.Set does.
func benchmarkRecords(b *testing.B, recs [][]byte, size int) {
	d := New()
	var p fastjson.Parser
	var dst []event.Event
	b.SetBytes(int64(size))
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		for _, r := range recs {
			v, err := p.ParseBytes(r)
			if err != nil {
				b.Fatal(err)
			}
			dst, _ = d.Decode(dst[:0], v)
			events += len(dst)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
