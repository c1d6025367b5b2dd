package detect

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// snapshotMagic starts every snapshot; the number is the format version.
const snapshotMagic = "vigil-detect-state 1\n"

type snapshot struct {
	Saved      time.Time
	Identities []*identity
	Shared     map[netip.Prefix]*sharedNet
	Proxies    proxyNets
}

// ErrSnapshot is wrapped by errors about unreadable snapshots.
var ErrSnapshot = errors.New("bad detection state snapshot")

// Snapshot writes what the engine has learned (baselines, detector memory,
// risk scores) so that Restore can continue where it stopped. now is
// recorded for information.
func (e *Engine) Snapshot(w io.Writer, now time.Time) error {
	s := snapshot{Saved: now, Identities: make([]*identity, 0, len(e.ids)), Shared: e.shared.m, Proxies: e.proxies}
	for _, id := range e.Identities() {
		s.Identities = append(s.Identities, e.ids[id])
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(snapshotMagic); err != nil {
		return err
	}
	if err := gob.NewEncoder(bw).Encode(&s); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return bw.Flush()
}

// Restore replaces the engine's state with a snapshot's.
func (e *Engine) Restore(r io.Reader) error {
	br := bufio.NewReader(r)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return fmt.Errorf("%w: not a vigil detection state (or another version)", ErrSnapshot)
	}
	var s snapshot
	if err := gob.NewDecoder(br).Decode(&s); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	ids := make(map[string]*identity, len(s.Identities))
	for _, st := range s.Identities {
		if st == nil || st.ID == "" {
			return fmt.Errorf("%w: identity without id", ErrSnapshot)
		}
		st.Profile.Rehash()
		ids[st.ID] = st
	}
	e.ids = ids
	e.shared.m = s.Shared
	e.proxies = s.Proxies
	return nil
}
