package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/store"
)

func TestStreamMergesInputsByTime(t *testing.T) {
	dir := t.TempDir()
	at := func(m int) string { return time.Date(2026, 3, 2, 9, m, 0, 0, time.UTC).Format(time.RFC3339) }
	// Okta: in order. CloudTrail-like files (Okta records here, the
	// format does not matter): one unordered inside, one later file.
	write(t, filepath.Join(dir, "okta.ndjson"), strings.Join([]string{
		okta("o1", at(0), "dana@example.com"), okta("o2", at(10), "dana@example.com"), okta("o3", at(40), "dana@example.com"),
	}, "\n")+"\n")
	write(t, filepath.Join(dir, "trail", "a.json.gz"), gz(t, `{"Records":[`+okta("a2", at(7), "eli@example.com")+","+okta("a1", at(5), "eli@example.com")+","+okta("a3", at(12), "eli@example.com")+`]}`))
	write(t, filepath.Join(dir, "trail", "b.json"), `{"Records":[`+okta("b1", at(35), "eli@example.com")+`,{"bad":1}]}`)
	write(t, filepath.Join(dir, "trail", "c.json"), "not json\n")
	inputs, _, err := Resolve([]string{filepath.Join(dir, "trail"), filepath.Join(dir, "okta.ndjson")}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var quarantined []string
	sum, err := Stream(context.Background(), inputs, StreamOptions{
		Quarantine: func(q store.Quarantined) {
			quarantined = append(quarantined, filepath.Base(q.Origin)+":"+fmt.Sprint(q.Line))
		},
	}, func(e *event.Event) error {
		got = append(got, e.VendorID)
		if len(e.Raw) == 0 {
			t.Errorf("%s: no raw record", e.VendorID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"o1", "a1", "a2", "o2", "a3", "b1", "o3"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if sum.Read != 9 || sum.Events != 7 || sum.Quarantined != 2 || sum.Late != 0 {
		t.Errorf("summary %+v", sum)
	}
	if diff := cmp.Diff([]string{"c.json:1", "b.json:1"}, quarantined); diff != "" {
		t.Errorf("quarantined (-want +got):\n%s", diff)
	}
}

func TestStreamLateEventsAreCounted(t *testing.T) {
	at := func(m int) string { return time.Date(2026, 3, 2, 9, m, 0, 0, time.UTC).Format(time.RFC3339) }
	// An export in reverse order, far beyond the lateness window: events
	// are delivered anyway, and counted late.
	var b strings.Builder
	for i := 5000; i > 0; i-- {
		b.WriteString(okta(fmt.Sprint(i), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC3339), "dana@example.com") + "\n")
	}
	inputs, _, _ := Resolve([]string{"-"}, strings.NewReader(b.String()), false)
	n := 0
	sum, err := Stream(context.Background(), inputs, StreamOptions{Lateness: 10 * time.Minute}, func(e *event.Event) error {
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Late == 0 || n != 5000 {
		t.Errorf("late %d, delivered %d", sum.Late, n)
	}
	in := okta("x3", at(50), "dana@example.com") + "\n" + okta("x2", at(25), "dana@example.com") + "\n" + okta("x1", at(0), "dana@example.com") + "\n"
	var got []string
	// Within the window they come out in order.
	inputs, _, _ = Resolve([]string{"-"}, strings.NewReader(in), false)
	got = nil
	sum, _ = Stream(context.Background(), inputs, StreamOptions{Lateness: time.Hour}, func(e *event.Event) error {
		got = append(got, e.VendorID)
		return nil
	})
	if diff := cmp.Diff([]string{"x1", "x2", "x3"}, got); diff != "" || sum.Late != 0 {
		t.Errorf("order (-want +got):\n%s late %d", diff, sum.Late)
	}
}
