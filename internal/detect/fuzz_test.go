package detect

import (
	"bytes"
	"testing"

	"github.com/vigil-zt/vigil/internal/event"
)

// FuzzRestore: a state file is read from disk; whatever it holds must be
// restored or refused, never crash the engine.
func FuzzRestore(f *testing.F) {
	var good bytes.Buffer
	e := New(DefaultConfig())
	for _, evs := range [][]event.Event{history(dana), attack()} {
		for i := range evs {
			e.Process(&evs[i])
		}
	}
	if err := e.Snapshot(&good, after(0)); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(snapshotMagic))
	f.Add([]byte(snapshotMagic + "\x00\x01garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		eng := New(DefaultConfig())
		if err := eng.Restore(bytes.NewReader(data)); err != nil {
			return
		}
		// A restored engine keeps working.
		evs := attack()
		for i := range evs {
			eng.Process(&evs[i])
		}
	})
}

// FuzzAllowsEverything: policy documents come from the logs.
func FuzzAllowsEverything(f *testing.F) {
	f.Add([]byte(`{"requestParameters":{"policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}}`))
	f.Add([]byte(`{"requestParameters":{"policyDocument":"%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%7D%7D"}}`))
	f.Add([]byte(`{"detail":{"requestParameters":{"policyDocument":"{}"}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		allowsEverything(raw)
	})
}
