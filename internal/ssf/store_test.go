package ssf

import "testing"

// openStore opens a fresh production store (a SQLite file) for one test.
// The store lives in a package that imports this one, so it is set by an
// external test file (conformance_test.go) through SetTestStore.
var openStore func(t testing.TB) Store

func openTestStore(t testing.TB) Store {
	t.Helper()
	if openStore == nil {
		t.Fatal("no test store: conformance_test.go sets it")
	}
	return openStore(t)
}
