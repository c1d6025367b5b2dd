package ssf_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-zt/vigil/internal/ssf"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

// The transmitter's tests run against the production store: a real SQLite
// file with the service's migrations.
func init() {
	ssf.SetTestStore(func(t testing.TB) ssf.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.SSF()
	})
}
