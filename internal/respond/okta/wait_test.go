package okta

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitWait(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &Connector{cfg: Config{Now: func() time.Time { return now }}}
	reset := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"nothing", http.Header{}, 0},
		{"retry-after seconds", http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{"retry-after date", http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 30 * time.Second},
		{"reset against our clock", http.Header{"X-Rate-Limit-Reset": {reset(40 * time.Second)}}, 40 * time.Second},
		{"reset against okta's date", http.Header{"X-Rate-Limit-Reset": {reset(40 * time.Second)}, "Date": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 10 * time.Second},
		{"later of both", http.Header{"X-Rate-Limit-Reset": {reset(5 * time.Second)}, "Retry-After": {"9"}}, 9 * time.Second},
		{"reset in the past", http.Header{"X-Rate-Limit-Reset": {reset(-time.Minute)}}, 0},
		{"absurd wait capped", http.Header{"Retry-After": {"999999999999999"}}, time.Hour},
		{"garbage", http.Header{"Retry-After": {"soon"}, "X-Rate-Limit-Reset": {"-1"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.rateLimitWait(tc.h); got != tc.want {
				t.Errorf("wait %s, want %s", got, tc.want)
			}
		})
	}
}
