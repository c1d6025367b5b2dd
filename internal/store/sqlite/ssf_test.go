package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-zt/vigil/internal/ssf"
	"github.com/vigil-zt/vigil/internal/ssf/ssftest"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func TestSSFStoreConformance(t *testing.T) {
	ssftest.TestStore(t, func(t *testing.T) ssf.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.SSF()
	})
}
