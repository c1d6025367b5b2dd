package sigma

import (
	"strings"
	"testing"
)

func TestLit(t *testing.T) {
	tests := []struct {
		lit, in string
		want    bool
	}{
		{"core.user_auth.login_failed", `{"legacyEventType":"CORE.USER_AUTH.LOGIN_FAILED"}`, true},
		{"core.user_auth.login_failed", `{"legacyEventType":"core.user_auth.login_success"}`, false},
		{"abc", "abc", true},
		{"abc", "ab", false},
		{"abc", "xxABc", true},
		{"a_b", "a_a_a_b", true},
		{"a_b", "a_a_a_c", false},
		{"zzz", "", false},
	}
	for _, tt := range tests {
		if got := newLit([]byte(tt.lit)).in([]byte(tt.in)); got != tt.want {
			t.Errorf("%q in %q = %v, want %v", tt.lit, tt.in, got, tt.want)
		}
	}
	if !escapesASCII([]byte(`{"a":"\u0041"}`)) || escapesASCII([]byte(`{"a":"\\u0041"}`)) || escapesASCII([]byte(`{"a":"\u00e9"}`)) {
		t.Error("escapesASCII")
	}
	if l := bestLit([][]byte{[]byte(`say "hi" there`), []byte("ab")}); l == nil || string(l.s) != " there" {
		t.Errorf("bestLit: %+v", l)
	}
}

func BenchmarkLit(b *testing.B) {
	rec := []byte(strings.Repeat(`{"uuid":"85633f62","eventType":"policy.evaluate_sign_on","legacyEventType":null,"credentialType":"OKTA_VERIFY_PUSH",`, 16))
	if testing.Short() {
		a := strings.TrimSpace(oktaAttacks)
		rec = []byte(a[:strings.IndexByte(a, '\n')])
	}
	l := newLit([]byte("core.user_auth.login_failed"))
	b.SetBytes(int64(len(rec)))
	for i := 0; i < b.N; i++ {
		l.in(rec)
		escapesASCII(rec)
	}
}
