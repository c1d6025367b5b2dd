package store

import (
	"crypto/sha256"

	"encoding/binary"
	"errors"
	"github.com/vigil-zt/vigil/internal/event"
	"time"
)

// ErrNotFound is returned for lookups of what does not exist.
var ErrNotFound = errors.New("not found")

// IncidentQuery selects incidents. Zero fields do not filter.
type IncidentQuery struct {
	Identity string
	Status   string
	Severity string
	// Rule selects incidents with an alert of that rule.
	Rule  string
	Since time.Time // updated at or after
	// Before and BeforeID page back: incidents after (Before, BeforeID)
	// in the list's order (updated newest first, then id).
	Before   time.Time
	BeforeID string
	Limit    int
}

// AlertQuery selects alerts. Zero fields do not filter.
type AlertQuery struct {
	Identity string
	Incident string
	Rule     string
	Since    time.Time
	Limit    int
}

// ActionQuery selects outbox actions. Zero fields do not filter.
type ActionQuery struct {
	Identity string
	Incident string
	State    string
	// Before and BeforeID page back: actions after (Before, BeforeID) in
	// the list's order (created newest first, then id).
	Before   time.Time
	BeforeID string
	Limit    int
}

// AlertBucket counts the alerts of one severity in one time bucket, and
// the highest identity risk they left.
type AlertBucket struct {
	Bucket   int // 0-based, from the series' start
	Severity event.Severity
	Count    int
	MaxRisk  float64
}

// Incident statuses.
const (
	StatusOpen          = "open"
	StatusClosed        = "closed"
	StatusDismissed     = "dismissed"
	StatusFalsePositive = "false_positive"
)

// IncidentRow is an incident with its status, which people set.
type IncidentRow struct {
	event.Incident
	Status string `json:"status"`
}

// Token is an API token as stored: its secret only as a hash.
type Token struct {
	ID       string
	Name     string
	Role     string
	Hash     []byte // SHA-256 of the secret
	Created  time.Time
	LastUsed time.Time
	Revoked  bool
}

// AuditEntry is one entry of the hash-chained audit log.
type AuditEntry struct {
	Seq    int64
	Time   time.Time
	Actor  string // "token:<name>", "playbook:<name>", "cli"
	Action string // "respond.kill_sessions", "token.create", "incident.dismiss"
	Target string
	Detail string // JSON
	Prev   []byte
	Hash   []byte
}

// AuditHash chains an entry to the previous one: SHA-256 over the previous
// hash and the entry's fields, each length-prefixed. Every backend uses it,
// and `vigil audit verify` recomputes it.
func AuditHash(prev []byte, e AuditEntry) []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		h.Write(b)
	}
	put(prev)
	put(binary.AppendVarint(nil, e.Seq))
	put(binary.AppendVarint(nil, e.Time.UnixNano()))
	put([]byte(e.Actor))
	put([]byte(e.Action))
	put([]byte(e.Target))
	put([]byte(e.Detail))
	return h.Sum(nil)
}
