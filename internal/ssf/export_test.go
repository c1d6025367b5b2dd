package ssf

import "testing"

// SetTestStore lets an external test file give the package's tests the
// production store.
func SetTestStore(open func(t testing.TB) Store) { openStore = open }
