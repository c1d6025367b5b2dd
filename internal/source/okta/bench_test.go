package okta_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/sim"
	"github.com/vigil-zt/vigil/internal/source/okta"
)

// records returns realistic System Log records from the simulator.
func records(b *testing.B) ([][]byte, int64) {
	var buf bytes.Buffer
	if err := sim.NewOrg(1, 300).WriteOkta(&buf, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 5000); err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	return lines, int64(buf.Len())
}

// BenchmarkDecode is parse + normalize per record, as ingestion does it.
func BenchmarkDecode(b *testing.B) {
	lines, size := records(b)
	d := okta.New()
	var p fastjson.Parser
	var evs []event.Event
	b.SetBytes(size / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		v, err := p.ParseBytes(lines[i%len(lines)])
		if err != nil {
			b.Fatal(err)
		}
		if evs, err = d.Decode(evs[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// logEvent is the System Log record as a plain encoding/json user would
// declare it (only the fields the decoder reads).
type logEvent struct {
	UUID           string    `json:"uuid"`
	Published      time.Time `json:"published"`
	EventType      string    `json:"eventType"`
	Severity       string    `json:"severity"`
	DisplayMessage string    `json:"displayMessage"`
	Actor          struct {
		ID, Type, AlternateID, DisplayName string
	} `json:"actor"`
	Client struct {
		UserAgent               struct{ RawUserAgent, OS, Browser string } `json:"userAgent"`
		Zone, Device, IPAddress string
		GeographicalContext     struct {
			City, State, Country string
			Geolocation          struct{ Lat, Lon float64 }
		} `json:"geographicalContext"`
	} `json:"client"`
	AuthenticationContext struct {
		ExternalSessionID, RootSessionID, CredentialType, AuthenticationProvider string
	} `json:"authenticationContext"`
	Outcome         struct{ Result, Reason string } `json:"outcome"`
	SecurityContext struct {
		AsNumber           int
		AsOrg, ISP, Domain string
		IsProxy            bool
	} `json:"securityContext"`
	DebugContext struct {
		DebugData map[string]any `json:"debugData"`
	} `json:"debugContext"`
	Target []struct{ ID, Type, AlternateID, DisplayName string } `json:"target"`
}

// BenchmarkStdlibBaseline is decoding alone with encoding/json into the
// struct above: the baseline the decoder's choice of parser must beat
// (it does not even normalize).
func BenchmarkStdlibBaseline(b *testing.B) {
	lines, size := records(b)
	b.SetBytes(size / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var e logEvent
		if err := json.Unmarshal(lines[i%len(lines)], &e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
