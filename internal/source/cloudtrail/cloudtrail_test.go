package cloudtrail

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/azureactivity"
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

// TestCorpus decodes the shared validation corpus (panther-analysis rule
// tests, hand-made and partly redacted; see sourcetest.Corpus): every
// record with a readable timestamp decodes, and Detect claims every record,
// damaged ones included, so that their quarantine reason names the
// missing field.
func TestCorpus(t *testing.T) {
	c := sourcetest.Corpus(t, "itdr/events/cloudtrail.ndjson", New(), hasTime,
		okta.New(), gworkspace.New(), ocsf.New(), entra.New(), azureactivity.New())
	if c.Undetected > 0 {
		t.Errorf("Detect = false for %d records", c.Undetected)
	}
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
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() }, sourcetest.Cases(b))
}

// BenchmarkCorpus decodes the validation corpus (skipped when absent).
func BenchmarkCorpus(b *testing.B) {
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() },
		sourcetest.Lines(b, sourcetest.CorpusFile(b, "itdr/events/cloudtrail.ndjson")))
}
