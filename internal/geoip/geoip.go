// Package geoip enriches events from MaxMind-format databases (GeoLite2
// ASN, City and Country; DB-IP's compatible Lite files): the address's
// autonomous system and location, for sources whose records carry none
// (CloudTrail, some Entra exports). Without a database, detectors fall back
// to address prefixes.
package geoip

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/vigil-zt/vigil/internal/event"
)

// DB is one or more opened databases. Safe for concurrent use.
type DB struct {
	dbs []db
}

type db struct {
	path string
	r    *maxminddb.Reader
}

// record holds the fields Vigil reads, in the names MaxMind and DB-IP use.
type record struct {
	ASN     uint32 `maxminddb:"autonomous_system_number"`
	ASOrg   string `maxminddb:"autonomous_system_organization"`
	City    names  `maxminddb:"city"`
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	Subdivisions []names `maxminddb:"subdivisions"`
	Location     struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

type names struct {
	Names map[string]string `maxminddb:"names"`
}

func (n names) en() string { return n.Names["en"] }

// ErrNoDatabase is returned by Open without paths.
var ErrNoDatabase = errors.New("geoip: no database given")

// Open opens the databases at paths. Give an ASN database and a City (or
// Country) database to get both; the order does not matter.
func Open(paths ...string) (*DB, error) {
	if len(paths) == 0 {
		return nil, ErrNoDatabase
	}
	d := &DB{}
	for _, p := range paths {
		r, err := maxminddb.Open(p)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("geoip: %s: %w", p, err)
		}
		d.dbs = append(d.dbs, db{path: p, r: r})
	}
	return d, nil
}

// Types returns the database types opened ("GeoLite2-ASN", …).
func (d *DB) Types() []string {
	var out []string
	for _, x := range d.dbs {
		out = append(out, x.r.Metadata.DatabaseType)
	}
	return out
}

// Close closes the databases.
func (d *DB) Close() error {
	var errs []error
	for _, x := range d.dbs {
		errs = append(errs, x.r.Close())
	}
	return errors.Join(errs...)
}

// Enrich fills what e's record did not say: the ASN and its organization,
// and the country, region, city and coordinates. Values the vendor gave are
// kept. Private and other non-routable addresses are left alone.
func (d *DB) Enrich(e *event.Event) {
	ip := e.Network.IP
	if !ip.IsValid() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
		return
	}
	n := &e.Network
	needASN := n.ASN == 0
	needGeo := n.Geo.Country == "" && n.Geo.Point == nil
	if !needASN && !needGeo {
		return
	}
	for _, x := range d.dbs {
		var r record
		res := x.r.Lookup(ip)
		if !res.Found() || res.Decode(&r) != nil {
			continue
		}
		if needASN && r.ASN != 0 {
			n.ASN, needASN = r.ASN, false
			if n.ASOrg == "" {
				n.ASOrg = strings.ToLower(r.ASOrg)
			}
		}
		if needGeo && (r.Country.ISOCode != "" || r.Location.Latitude != nil) {
			needGeo = false
			n.Geo.Country = r.Country.Names["en"]
			if n.Geo.Country == "" {
				n.Geo.Country = r.Country.ISOCode
			}
			n.Geo.City = r.City.en()
			if len(r.Subdivisions) > 0 {
				n.Geo.Region = r.Subdivisions[0].en()
			}
			if r.Location.Latitude != nil && r.Location.Longitude != nil {
				n.Geo.Point = &event.Point{Lat: *r.Location.Latitude, Lon: *r.Location.Longitude}
			}
		}
	}
}
