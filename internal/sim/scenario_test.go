package sim

import (
	"context"
	"io"
	"testing"
)

// Every scenario finds its people and machines and is written whole, for
// any seed and small organizations.
func TestScenariosEverySeed(t *testing.T) {
	for _, cfg := range []Config{
		{People: 60, ServiceAccounts: 8, Days: 8}, {People: 60, ServiceAccounts: 8, Days: 3},
		{People: 90, ServiceAccounts: 20, Days: 12},
	} {
		for seed := uint64(1); seed <= 5; seed++ {
			cfg.Seed = seed
			o, err := New(cfg)
			if err != nil {
				t.Fatalf("%+v: %v", cfg, err)
			}
			sum, err := o.Run(context.Background(), Output{Okta: io.Discard, Entra: io.Discard, CloudTrail: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if n := sum.Attacks + sum.Lookalikes; n != len(o.truth) {
				for _, tr := range o.truth {
					if !tr.complete() {
						t.Errorf("%+v: %s incomplete: %d of %d events", cfg, tr.ID, tr.EventCount, tr.planned)
					}
				}
			}
		}
	}
}
