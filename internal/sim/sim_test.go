package sim

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
)

func TestOktaRecordsDecode(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if err := NewOrg(7, 50).WriteOkta(&buf, start, 3000); err != nil {
		t.Fatal(err)
	}
	set, err := source.NewSet("")
	if err != nil {
		t.Fatal(err)
	}
	sc := source.NewScanner(&buf, 0)
	var n int
	last := start
	types := map[string]int{}
	actors := map[string]bool{}
	for {
		c, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range set.Decode(nil, c.Data) {
			if r.Err != nil {
				t.Fatalf("line %d: %v", c.Line, r.Err)
			}
			e := r.Events[0]
			if e.Source != event.SourceOkta || e.Actor.ID == "" || !e.Network.IP.IsValid() || e.Network.ASN == 0 || e.Device.Browser == "" {
				t.Fatalf("line %d: incomplete event %+v", c.Line, e)
			}
			if e.Time.Before(last) {
				t.Fatalf("line %d: time goes backwards", c.Line)
			}
			last = e.Time
			types[e.VendorType]++
			actors[e.Actor.ID] = true
			n++
		}
	}
	if n != 3000 {
		t.Fatalf("decoded %d events, want 3000", n)
	}
	for _, typ := range []string{"user.session.start", "user.authentication.sso", "user.authentication.auth_via_mfa", "policy.evaluate_sign_on"} {
		if types[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	if len(actors) < 30 {
		t.Errorf("only %d distinct people active", len(actors))
	}
}

func TestDeterministic(t *testing.T) {
	gen := func() []byte {
		var b bytes.Buffer
		NewOrg(3, 10).WriteOkta(&b, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 100)
		return b.Bytes()
	}
	if !bytes.Equal(gen(), gen()) {
		t.Fatal("same seed, different output")
	}
}
