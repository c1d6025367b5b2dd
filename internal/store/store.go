// Package store holds Vigil's persistence contracts: the batches ingestion
// writes, the queries the CLI and API read with, and the pieces every
// backend shares (deduplication keys, raw-record blocks). The embedded
// SQLite backend lives in store/sqlite; store/storetest is the conformance
// suite every backend passes.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
)

// Key identifies an event for deduplication: the event time (big-endian
// Unix nanoseconds) followed by 16 bytes of a hash. The time prefix keeps
// the unique index append-mostly for time-ordered input; a random key would
// dirty a different index page for almost every insert.
type Key [24]byte

// EventKey derives an event's deduplication key from its source, vendor
// event id, its index within the record, and the digest of the record's
// content. Two deliveries of the same record (the same file ingested twice,
// an API page fetched again, an array export and an NDJSON export of the same
// events) give the same key. A vendor id reused for different content (test
// fixtures, replayed ids) gives different keys, so distinct events are never
// discarded as duplicates on the strength of an id alone.
func EventKey(t time.Time, src event.Source, vendorID string, part int, digest Digest) Key {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, s := range []string{string(src), vendorID} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	h.Write(n[:binary.PutUvarint(n[:], uint64(part))])
	h.Write(digest[:])
	var k Key
	binary.BigEndian.PutUint64(k[:8], uint64(t.UnixNano()))
	copy(k[8:], h.Sum(nil))
	return k
}

// Digest is the SHA-256 of a record's content with insignificant JSON
// whitespace removed.
type Digest [32]byte

// RecordDigest returns the Digest of a JSON record.
func RecordDigest(raw []byte) Digest {
	h := sha256.New()
	eachRun(raw, func(run []byte) { h.Write(run) })
	var d Digest
	h.Sum(d[:0])
	return d
}

// compact removes whitespace outside JSON strings. It does not validate.
func compact(dst, src []byte) []byte {
	eachRun(src, func(run []byte) { dst = append(dst, run...) })
	return dst
}

// eachRun calls fn with the runs of src between insignificant whitespace
// (whitespace outside JSON strings), in order, without copying: a compact
// record is one run. Strings are skipped with IndexByte, since most of a
// record's bytes are inside them. It does not validate.
func eachRun(src []byte, fn func([]byte)) {
	start, i := 0, 0
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			if start < i {
				fn(src[start:i])
			}
			i++
			start = i
		case '"':
			j := i + 1
			for {
				k := bytes.IndexByte(src[j:], '"')
				if k < 0 { // unterminated: the rest is one run
					fn(src[start:])
					return
				}
				j += k
				bs := 0
				for m := j - 1; m > i && src[m] == '\\'; m-- {
					bs++
				}
				if bs%2 == 0 {
					break
				}
				j++
			}
			i = j + 1
		default:
			i++
		}
	}
	if start < len(src) {
		fn(src[start:])
	}
}

// Batch is what ingestion writes in one transaction.
type Batch struct {
	Records    []Record
	Quarantine []Quarantined
	// Block, when set, is PackBlock of every Record's Raw in order; the
	// backend uses it as is when every record turns out to be new.
	Block []byte
}

// Record is one vendor record and the events decoded from it.
type Record struct {
	Raw    []byte
	Digest Digest
	Events []event.Event
}

// Quarantined is a record that could not be decoded, kept with the reason.
type Quarantined struct {
	Origin   string // file path, "-" for standard input, or a URL
	Line     int    // line the record starts on, 0 when unknown
	Elem     int    // index within an envelope, -1 when not in one
	Source   event.Source
	Reason   string
	Raw      []byte
	Received time.Time
}

// Result counts what one Append did, in records.
type Result struct {
	Stored      int // records with at least one new event
	Duplicates  int // records whose events were all stored before
	Events      int // new events stored
	Quarantined int // quarantined records in the batch (stored once)
	BySource    map[event.Source]SourceCounts
	// Fresh says, for each of the batch's records, whether it held an
	// event not stored before: live detection judges only those.
	Fresh []bool
}

// SourceCounts is Result for one source.
type SourceCounts struct {
	Stored     int `json:"stored"`
	Duplicates int `json:"duplicates"`
}

// Query selects stored events. Zero fields do not filter.
type Query struct {
	Identity string // canonical actor id
	Source   event.Source
	Category event.Category
	Session  string // any session key: id, root id, token id, access key
	Since    time.Time
	Until    time.Time // exclusive
	Limit    int
	Desc     bool // newest first
}

// Row is a stored event as the store keeps it: the indexed fields and the
// original record. The full normalized event is re-derived from Raw by the
// source's decoder (ingest.Rehydrate), so stored events gain from decoder
// improvements without a migration.
type Row struct {
	ID       int64
	Source   event.Source
	VendorID string
	Time     time.Time
	Received time.Time
	Part     int // index of the event within its record
	Raw      []byte
}

// QuarantineQuery selects quarantined records.
type QuarantineQuery struct {
	Origin string
	Limit  int
}

// QuarantineRow is a stored quarantined record.
type QuarantineRow struct {
	ID int64
	Quarantined
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("store closed")
