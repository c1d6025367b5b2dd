package geoip

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/vigil-zt/vigil/internal/event"
)

// writeDB writes a real MaxMind-format database of the given type.
func writeDB(t *testing.T, typ string, nets map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: typ, RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, v := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), typ+".mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestEnrich(t *testing.T) {
	asn := writeDB(t, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"45.155.205.0/24": {"autonomous_system_number": mmdbtype.Uint32(49505), "autonomous_system_organization": mmdbtype.String("Selectel")},
	})
	city := writeDB(t, "GeoLite2-City", map[string]mmdbtype.Map{
		"45.155.205.0/24": {
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Amsterdam")}},
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String("NL"), "names": mmdbtype.Map{"en": mmdbtype.String("Netherlands")}},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("North Holland")}}},
			"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(52.37), "longitude": mmdbtype.Float64(4.89)},
		},
	})
	d, err := Open(city, asn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	e := event.Event{Network: event.Network{IP: netip.MustParseAddr("45.155.205.233")}}
	d.Enrich(&e)
	n := e.Network
	if n.ASN != 49505 || n.ASOrg != "selectel" || n.Geo.Country != "Netherlands" || n.Geo.City != "Amsterdam" ||
		n.Geo.Region != "North Holland" || n.Geo.Point == nil || n.Geo.Point.Lat != 52.37 {
		t.Errorf("enriched network = %+v (geo %+v)", n, n.Geo)
	}

	// What the vendor said is kept.
	e = event.Event{Network: event.Network{IP: netip.MustParseAddr("45.155.205.1"), ASN: 1, ASOrg: "vendor says",
		Geo: event.Geo{Country: "Vendorland"}}}
	d.Enrich(&e)
	if e.Network.ASN != 1 || e.Network.Geo.Country != "Vendorland" || e.Network.Geo.City != "" {
		t.Errorf("vendor values overwritten: %+v", e.Network)
	}

	// Unknown and private addresses are left alone.
	for _, ip := range []string{"198.51.100.1", "10.20.31.44"} {
		e = event.Event{Network: event.Network{IP: netip.MustParseAddr(ip)}}
		d.Enrich(&e)
		if e.Network.ASN != 0 || e.Network.Geo.Country != "" {
			t.Errorf("%s enriched: %+v", ip, e.Network)
		}
	}
	if got := d.Types(); len(got) != 2 || got[0] != "GeoLite2-City" {
		t.Errorf("types = %v", got)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(); err != ErrNoDatabase {
		t.Errorf("Open() = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	os.WriteFile(bad, []byte("not a database"), 0o600)
	if _, err := Open(bad); err == nil {
		t.Error("opened a text file")
	}
}
