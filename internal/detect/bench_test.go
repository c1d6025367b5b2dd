package detect

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// BenchmarkMemoryPerIdentity tracks 100,000 identities, each with a
// realistic spread of history (a few devices and networks, sessions, API
// services and resources for machines, data access), and reports the heap
// the engine holds per identity.
func BenchmarkMemoryPerIdentity(b *testing.B) {
	const n = 100_000
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		e := New(DefaultConfig())
		var ev event.Event
		for i := range n {
			who := fmt.Sprintf("person%06d@example.com", i)
			machine := i%10 == 0
			for j := range 40 {
				at := t0.Add(time.Duration(j) * 6 * time.Hour)
				ev = event.Event{
					Time: at, Source: event.SourceOkta, VendorType: "user.session.start",
					Category: event.CategoryAuthentication, Activity: event.ActivityLogin,
					Actor:   event.Principal{ID: who, Kind: event.KindHuman},
					Outcome: event.Outcome{Result: event.ResultSuccess},
					Session: event.Session{ID: fmt.Sprintf("s%d-%d", i, j/4), DTHash: fmt.Sprintf("dt%d-%d", i, j/4%3)},
					Device:  event.Device{Browser: []string{"Chrome", "Safari", "Edge"}[j/4%3], OS: "macOS"},
					Network: event.Network{IP: netip.AddrFrom4([4]byte{85, byte(i >> 8), byte(i), byte(j % 5)}), ASN: uint32(3000 + j%2),
						Geo: event.Geo{Country: "Portugal", City: "Lisbon", Point: &event.Point{Lat: 38.7, Lon: -9.1}}},
				}
				if machine {
					ev.Source, ev.Category, ev.Activity = event.SourceCloudTrail, event.CategoryDataAccess, event.ActivityRead
					ev.Actor.Kind = event.KindService
					ev.Resource = event.Resource{Service: []string{"s3.amazonaws.com", "dynamodb.amazonaws.com", "sqs.amazonaws.com"}[j%3],
						Type: "object", Container: fmt.Sprintf("bucket-%d", j%12)}
				}
				e.Process(&ev)
			}
		}
		if a := e.Stats().Alerts; a != 0 {
			b.Fatalf("%d alerts: the population is meant to be benign", a)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/identity")
		runtime.KeepAlive(e)
	}
}
