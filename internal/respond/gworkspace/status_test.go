package gworkspace

import "testing"

func TestRetryableStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
		want   bool
	}{
		{429, "rateLimitExceeded", true},
		{403, "userRateLimitExceeded", true},
		{403, "quotaExceeded", true},
		{403, "forbidden", false},
		{403, "insufficientPermissions", false},
		{500, "backendError", true},
		{404, "notFound", false},
	} {
		if got := retryableStatus(tc.status, tc.reason); got != tc.want {
			t.Errorf("retryableStatus(%d, %q) = %v, want %v", tc.status, tc.reason, got, tc.want)
		}
	}
}
