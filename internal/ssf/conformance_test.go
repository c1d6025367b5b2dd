package ssf_test

import (
	"testing"

	"github.com/vigil-zt/vigil/internal/ssf"
	"github.com/vigil-zt/vigil/internal/ssf/ssftest"
)

// The test store keeps the contract the production stores must keep, so the
// transmitter's tests exercise what they will meet.
func TestTestStoreConformance(t *testing.T) {
	ssftest.TestStore(t, ssf.OpenTestStore)
}
