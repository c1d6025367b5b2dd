package ssf

import "testing"

// OpenTestStore gives the external conformance test the SQLite test store.
func OpenTestStore(t *testing.T) Store { return openTestStore(t) }
