// Package storetest is the conformance suite every store backend passes:
// deduplication, quarantine, queries, raw records returned byte for byte,
// and durability across reopening.
package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/store"
)

// Store is what the suite exercises.
type Store interface {
	Append(ctx context.Context, b *store.Batch) (store.Result, error)
	Events(ctx context.Context, q store.Query, fn func(store.Row) error) error
	Quarantined(ctx context.Context, q store.QuarantineQuery, fn func(store.QuarantineRow) error) error
	CountEvents(ctx context.Context) (int64, error)
	Close() error
}

// Opener opens one fresh database; calling it again reopens the same one.
type Opener func(t *testing.T) Store

// Run runs the suite. newDB returns an Opener for a new, empty database.
func Run(t *testing.T, newDB func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Dedupe", testDedupe},
		{"DuplicateWithinBatch", testDuplicateWithinBatch},
		{"ReusedVendorID", testReusedVendorID},
		{"PartialDuplicatesKeepRawAligned", testPartialDuplicates},
		{"Query", testQuery},
		{"Quarantine", testQuarantine},
		{"Reopen", testReopen},
		{"EmptyBatch", testEmptyBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newDB(t)) })
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// rec builds a record with one event per vendor id.
func rec(raw string, src event.Source, actor string, at time.Time, vendorIDs ...string) store.Record {
	r := store.Record{Raw: []byte(raw), Digest: store.RecordDigest([]byte(raw))}
	for _, id := range vendorIDs {
		r.Events = append(r.Events, event.Event{
			Time: at, Received: t0.Add(time.Hour), Source: src, VendorID: id, VendorType: "user.session.start",
			Category: event.CategoryAuthentication, Activity: event.ActivityLogin,
			Actor:   event.Principal{ID: actor, Kind: event.KindHuman},
			Session: event.Session{ID: "sess-" + actor, RootID: "root-" + actor},
			Network: event.Network{IP: netip.MustParseAddr("198.51.100.7")},
			Outcome: event.Outcome{Result: event.ResultSuccess},
		})
	}
	return r
}

func batch(recs ...store.Record) *store.Batch {
	b := &store.Batch{Records: recs}
	var raws [][]byte
	for _, r := range recs {
		raws = append(raws, r.Raw)
	}
	b.Block = store.PackBlock(raws, nil)
	return b
}

func mustAppend(t *testing.T, s Store, b *store.Batch) store.Result {
	t.Helper()
	res, err := s.Append(context.Background(), b)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}

func rows(t *testing.T, s Store, q store.Query) []store.Row {
	t.Helper()
	var out []store.Row
	if err := s.Events(context.Background(), q, func(r store.Row) error {
		r.Raw = append([]byte(nil), r.Raw...)
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Events: %v", err)
	}
	return out
}

func count(t *testing.T, s Store) int64 {
	t.Helper()
	n, err := s.CountEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type counts struct{ Stored, Duplicates, Events, Quarantined int }

func got(r store.Result) counts { return counts{r.Stored, r.Duplicates, r.Events, r.Quarantined} }

func testDedupe(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	b := batch(
		rec(`{"id":"1"}`, "okta", "dana@example.com", t0, "1"),
		rec(`{"id":"2"}`, "okta", "eli@example.com", t0.Add(time.Second), "2"),
		rec(`{"id":"w","events":2}`, "gworkspace", "maya@example.com", t0.Add(2*time.Second), "w#0", "w#1"),
	)
	if diff := cmp.Diff(counts{3, 0, 4, 0}, got(mustAppend(t, s, b))); diff != "" {
		t.Errorf("first append (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(counts{0, 3, 0, 0}, got(mustAppend(t, s, b))); diff != "" {
		t.Errorf("second append of the same batch (-want +got):\n%s", diff)
	}
	// The same record formatted differently is the same record.
	pretty := batch(rec("{\n  \"id\": \"1\"\n}", "okta", "dana@example.com", t0, "1"))
	if diff := cmp.Diff(counts{0, 1, 0, 0}, got(mustAppend(t, s, pretty))); diff != "" {
		t.Errorf("re-formatted record (-want +got):\n%s", diff)
	}
	if n := count(t, s); n != 4 {
		t.Errorf("stored %d events, want 4", n)
	}
}

func testDuplicateWithinBatch(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	r := rec(`{"id":"1"}`, "okta", "dana@example.com", t0, "1")
	if diff := cmp.Diff(counts{1, 1, 1, 0}, got(mustAppend(t, s, batch(r, r)))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func testReusedVendorID(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	// Test fixtures and replays reuse ids for different content: both are
	// real events and both are kept.
	b := batch(
		rec(`{"eventID":"1","eventName":"GetObject"}`, "cloudtrail", "alice", t0, "1"),
		rec(`{"eventID":"1","eventName":"PutObject"}`, "cloudtrail", "alice", t0, "1"),
	)
	if diff := cmp.Diff(counts{2, 0, 2, 0}, got(mustAppend(t, s, b))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func testPartialDuplicates(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	old := rec(`{"id":"old"}`, "okta", "dana@example.com", t0, "old")
	mustAppend(t, s, batch(old))
	// A batch whose precomputed block holds a record already stored: the
	// new records' raw bytes must still come back exactly.
	b := batch(
		rec(`{"id":"new1"}`, "okta", "dana@example.com", t0.Add(time.Minute), "new1"),
		old,
		rec(`{"id":"new2"}`, "okta", "dana@example.com", t0.Add(2*time.Minute), "new2"),
	)
	res := mustAppend(t, s, b)
	if diff := cmp.Diff(counts{2, 1, 2, 0}, got(res)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false, true}, res.Fresh); diff != "" {
		t.Errorf("fresh records (-want +got):\n%s", diff)
	}
	var raws []string
	for _, r := range rows(t, s, store.Query{}) {
		raws = append(raws, r.VendorID+"="+string(r.Raw))
	}
	want := []string{`old={"id":"old"}`, `new1={"id":"new1"}`, `new2={"id":"new2"}`}
	if diff := cmp.Diff(want, raws); diff != "" {
		t.Errorf("raw records (-want +got):\n%s", diff)
	}
}

func testQuery(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	var recs []store.Record
	for i := range 30 {
		actor := []string{"dana@example.com", "eli@example.com", "maya@example.com"}[i%3]
		src := event.Source([]string{"okta", "entra"}[i%2])
		r := rec(fmt.Sprintf(`{"n":%d}`, i), src, actor, t0.Add(time.Duration(i)*time.Minute), fmt.Sprint(i))
		if i%5 == 0 {
			r.Events[0].Category = event.CategoryPrivilege
		}
		recs = append(recs, r)
	}
	// Written out of time order, read back in time order.
	mustAppend(t, s, batch(recs[15:]...))
	mustAppend(t, s, batch(recs[:15]...))

	ids := func(q store.Query) []string {
		var out []string
		for _, r := range rows(t, s, q) {
			out = append(out, r.VendorID)
		}
		return out
	}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"identity", store.Query{Identity: "eli@example.com", Limit: 4}, []string{"1", "4", "7", "10"}},
		{"source", store.Query{Source: "entra", Since: t0.Add(20 * time.Minute)}, []string{"21", "23", "25", "27", "29"}},
		{"category", store.Query{Category: event.CategoryPrivilege}, []string{"0", "5", "10", "15", "20", "25"}},
		{"session id", store.Query{Session: "sess-maya@example.com", Until: t0.Add(10 * time.Minute)}, []string{"2", "5", "8"}},
		{"root session id", store.Query{Session: "root-maya@example.com", Until: t0.Add(10 * time.Minute)}, []string{"2", "5", "8"}},
		{"time range", store.Query{Since: t0.Add(3 * time.Minute), Until: t0.Add(6 * time.Minute)}, []string{"3", "4", "5"}},
		{"newest first", store.Query{Desc: true, Limit: 3}, []string{"29", "28", "27"}},
		{"no match", store.Query{Identity: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ids(tt.q)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Rows carry what the event said.
	r := rows(t, s, store.Query{Identity: "dana@example.com", Limit: 1})[0]
	if r.Source != "okta" || !r.Time.Equal(t0) || !r.Received.Equal(t0.Add(time.Hour)) || string(r.Raw) != `{"n":0}` || r.Part != 0 {
		t.Errorf("row = %+v", r)
	}
}

func testQuarantine(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	q := store.Quarantined{Origin: "okta.ndjson", Line: 41, Elem: -1, Source: "okta",
		Reason: `okta: published: not a timestamp: "redacted"`, Raw: []byte(`{"published":"redacted"}`), Received: t0}
	q2 := store.Quarantined{Origin: "ct.json.gz", Line: 1, Elem: 3, Reason: "unrecognized record", Raw: []byte(`{"x":1}`), Received: t0}
	b := &store.Batch{Quarantine: []store.Quarantined{q, q2}}
	if diff := cmp.Diff(counts{0, 0, 0, 2}, got(mustAppend(t, s, b))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	mustAppend(t, s, b) // again: counted, not stored twice
	var out []store.Quarantined
	err := s.Quarantined(context.Background(), store.QuarantineQuery{}, func(r store.QuarantineRow) error {
		out = append(out, r.Quarantined)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Quarantined{q, q2}, out); diff != "" {
		t.Errorf("quarantine (-want +got):\n%s", diff)
	}
	out = nil
	s.Quarantined(context.Background(), store.QuarantineQuery{Origin: "ct.json.gz"}, func(r store.QuarantineRow) error {
		out = append(out, r.Quarantined)
		return nil
	})
	if len(out) != 1 || out[0].Elem != 3 {
		t.Errorf("by origin: %+v", out)
	}
}

func testReopen(t *testing.T, open Opener) {
	s := open(t)
	mustAppend(t, s, batch(rec(`{"id":"1"}`, "okta", "dana@example.com", t0, "1")))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t)
	defer s.Close()
	if n := count(t, s); n != 1 {
		t.Fatalf("after reopen: %d events, want 1", n)
	}
	// Deduplication state survives too.
	if diff := cmp.Diff(counts{0, 1, 0, 0}, got(mustAppend(t, s, batch(rec(`{"id":"1"}`, "okta", "dana@example.com", t0, "1"))))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func testEmptyBatch(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	if diff := cmp.Diff(counts{}, got(mustAppend(t, s, &store.Batch{}))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
