package baseline

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

func TestLabelKeyMatchesString(t *testing.T) {
	l := Label{"dt:", "abc123"}
	if l.Key() != Key("dt:abc123") || l.String() != "dt:abc123" {
		t.Fatal("a label in parts must hash as its joined string")
	}
	if !(Label{}).IsZero() || l.IsZero() {
		t.Fatal("IsZero")
	}
}

func TestSetKeepsHabitsWhenFull(t *testing.T) {
	var s Set
	for i := range 5 {
		s.Touch("habit", int64(i), 3)
	}
	s.Touch("once-a", 10, 3)
	s.Touch("once-b", 11, 3)
	s.Touch("once-c", 12, 3) // full: the least used and oldest goes
	if !s.Has(Key("habit")) || s.Has(Key("once-a")) || !s.Has(Key("once-c")) || s.Len() != 3 {
		t.Fatalf("set %+v", s.E)
	}
	e, _ := s.Get(Key("habit"))
	if e.Count != 5 || e.Last != 4 {
		t.Errorf("habit entry %+v", e)
	}
	if got := s.Describe(1); got != "habit (5×, last 1970-01-01), … 2 more" {
		t.Errorf("Describe = %q", got)
	}
}

func TestNetworkLevels(t *testing.T) {
	var p Profile
	seen := event.Event{Time: time.Unix(1000, 0), Network: event.Network{IP: netip.MustParseAddr("85.240.12.34"), ASN: 3243,
		Geo: event.Geo{Country: "Portugal"}}}
	p.Observe(&seen)
	for _, tt := range []struct {
		ip      string
		asn     uint32
		country string
		want    NetLevel
	}{
		{"85.240.12.34", 3243, "Portugal", NetAddr},
		{"85.240.12.99", 3243, "Portugal", NetPrefix},
		{"85.241.1.1", 3243, "Portugal", NetASN},
		{"1.2.3.4", 1, "Portugal", NetCountry},
		{"1.2.3.4", 1, "Brazil", NetUnknown},
	} {
		n := event.Network{IP: netip.MustParseAddr(tt.ip), ASN: tt.asn, Geo: event.Geo{Country: tt.country}}
		if got := p.Network(&n); got != tt.want {
			t.Errorf("%s AS%d %s: %v, want %v", tt.ip, tt.asn, tt.country, got, tt.want)
		}
	}
	// Private addresses are grouped by /16: one VPC.
	if PrefixOf(netip.MustParseAddr("10.20.31.44")) != netip.MustParsePrefix("10.20.0.0/16") {
		t.Error("private prefix")
	}
}

func TestLearned(t *testing.T) {
	var p Profile
	c := Config{Learning: 7 * 24 * time.Hour, MinEvents: 3}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		e := event.Event{Time: start.Add(time.Duration(i) * time.Hour)}
		p.Observe(&e)
	}
	if p.Learned(c, start.Add(6*24*time.Hour)) || !p.Learned(c, start.Add(7*24*time.Hour)) {
		t.Error("learning period")
	}
	var few Profile
	e := event.Event{Time: start}
	few.Observe(&e)
	if few.Learned(c, start.Add(30*24*time.Hour)) {
		t.Error("learned with too few events")
	}
}

func TestHourly(t *testing.T) {
	var h Hourly
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	for day := range 10 {
		for hour := 9; hour < 17; hour++ {
			h.Add(base+int64(day*24+hour)*3600, 20+day%3)
		}
	}
	now := base + int64(10*24+10)*3600
	h.Add(now, 7)
	st := h.Past(now)
	if st.Hours != 80 || st.Median != 21 || st.MAD > 1.5 || st.Max != 22 {
		t.Errorf("stats %+v", st)
	}
	if h.Current(now) != 7 || h.Current(now+3600) != 0 {
		t.Error("current hour")
	}
	// Three weeks later the history has rolled away.
	later := now + 21*24*3600
	h.Add(later, 1)
	if st := h.Past(later); st.Hours != 0 {
		t.Errorf("old history still counted: %+v", st)
	}
}
