package ocsf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/source/azureactivity"
	"github.com/vigil-zt/vigil/internal/source/cloudtrail"
	"github.com/vigil-zt/vigil/internal/source/entra"
	"github.com/vigil-zt/vigil/internal/source/field"
	"github.com/vigil-zt/vigil/internal/source/gworkspace"
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
		class, activity        int64
		category, activityName string
	}{
		{3002, 1, "authentication", "login"},
		{3002, 2, "authentication", "logout"},
		{3002, 3, "authentication", "token_issue"},
		{3002, 4, "authentication", "token_issue"},
		{3002, 5, "authentication", "token_refresh"},
		{3002, 99, "authentication", "other"},
		{3001, 1, "account_change", "create"},
		{3001, 2, "account_change", "enable"},
		{3001, 3, "account_change", "password_change"},
		{3001, 4, "account_change", "password_reset"},
		{3001, 5, "account_change", "disable"},
		{3001, 6, "account_change", "delete"},
		{3001, 7, "privilege", "grant"},
		{3001, 8, "privilege", "revoke"},
		{3001, 9, "account_change", "lock"},
		{3001, 10, "mfa", "mfa_enroll"},
		{3001, 11, "mfa", "mfa_remove"},
		{3001, 12, "account_change", "unlock"},
		{3001, 0, "account_change", "other"},
		{3003, 1, "session", "grant"},
		{3005, 1, "privilege", "grant"},
		{3005, 2, "privilege", "revoke"},
		{3006, 3, "privilege", "grant"},
		{3006, 4, "privilege", "revoke"},
		{6003, 1, "api_activity", "create"},
		{6003, 2, "api_activity", "read"},
		{6003, 3, "api_activity", "update"},
		{6003, 4, "api_activity", "delete"},
		{6003, 42, "api_activity", "other"},
		{6005, 4, "data_access", "read"},
		{6005, 5, "data_access", "write"},
		{6005, 8, "data_access", "list"},
		{4001, 6, "other", "other"},
		{0, 0, "other", "other"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.class, tt.activity), func(t *testing.T) {
			c, a := Classify(tt.class, tt.activity)
			if string(c) != tt.category || string(a) != tt.activityName {
				t.Errorf("Classify(%d, %d) = %s/%s, want %s/%s", tt.class, tt.activity, c, a, tt.category, tt.activityName)
			}
		})
	}
}

// TestCorpus checks that Detect claims no record of the vendor formats in
// the shared validation corpus: OCSF is detected by its class_uid, and a
// wrong claim would send vendor records down the generic path.
func TestCorpus(t *testing.T) {
	n := sourcetest.Unclaimed(t, New(), "itdr/events")
	t.Logf("Detect claimed none of %d vendor records", n)
}

// TestNotClaimedByOthers checks that no vendor decoder claims the OCSF
// fixtures.
func TestNotClaimedByOthers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	others := []sourcetest.Decoder{okta.New(), cloudtrail.New(), gworkspace.New(), entra.New(), azureactivity.New()}
	var p fastjson.Parser
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := p.ParseBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range others {
			if o.Detect(v) {
				t.Errorf("%s: %s Detect claims an OCSF record", f, o.Source())
			}
		}
	}
}

// TestErrorsNameFields checks that every bad fixture fails with an error
// that names a field.
func TestErrorsNameFields(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bad_*.json"))
	var p fastjson.Parser
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		v, err := p.ParseBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New().Decode(nil, v)
		var fe *field.Error
		if err == nil || !errors.As(err, &fe) && !errors.Is(err, field.ErrMissing) {
			t.Errorf("%s: error %v does not name a field", f, err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	sourcetest.Benchmark(b, func() sourcetest.Decoder { return New() }, sourcetest.Cases(b))
}
