package cli

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/server"
)

func TestLiveStatsRate(t *testing.T) {
	var s liveStats
	t0 := time.Unix(1_700_000_000, 0)
	// 100 events a second for 12 seconds, then nothing.
	for i := range 12 {
		s.events(t0.Add(time.Duration(i)*time.Second+300*time.Millisecond), 60)
		s.events(t0.Add(time.Duration(i)*time.Second+700*time.Millisecond), 40)
	}
	if got := s.rate(t0.Add(12 * time.Second)); got != 100 {
		t.Errorf("rate over the last 10 complete seconds = %v, want 100", got)
	}
	// The second in progress does not count; 5 s later half the window is quiet.
	s.events(t0.Add(12*time.Second), 5000)
	if got := s.rate(t0.Add(17*time.Second + 500*time.Millisecond)); got != (5*100+5000)/10.0 {
		t.Errorf("rate = %v, want %v", got, (5*100+5000)/10.0)
	}
	// Buckets of a ring position reused long after do not leak into the rate.
	if got := s.rate(t0.Add(time.Hour)); got != 0 {
		t.Errorf("an hour later the rate is %v, want 0", got)
	}
	if s.total != 12*100+5000 {
		t.Errorf("total %d", s.total)
	}
}

func TestLiveStatsLatency(t *testing.T) {
	s := samples{max: 100}
	if got := s.latency(); got != (server.Latency{}) {
		t.Errorf("no samples: %+v", got)
	}
	// 1..250 ms: the ring keeps the latest 100 (151..250 ms).
	for i := 1; i <= 250; i++ {
		s.add(time.Duration(i) * time.Millisecond)
	}
	want := server.Latency{Count: 250, Window: 100, P50Ms: 201, P95Ms: 246, P99Ms: 250, MaxMs: 250}
	if diff := cmp.Diff(want, s.latency()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
