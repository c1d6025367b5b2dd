package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/internal/store/sqlite"
)

func okta(uuid, published, login string) string {
	return fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start","actor":{"alternateId":%q,"type":"User"},"authenticationContext":{"externalSessionId":"s-%s"},"outcome":{"result":"SUCCESS"}}`,
		uuid, published, login, login)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var fixedNow = func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }

func TestRunMixedInputs(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a-okta.ndjson"),
		okta("u1", "2026-03-02T09:00:00Z", "dana@example.com")+"\n"+
			okta("u2", "redacted", "dana@example.com")+"\n"+
			"{\"not\": json\n"+
			okta("u3", "2026-03-02T09:02:00Z", "eli@example.com")+"\n")
	write(t, filepath.Join(dir, "pages", "b-page.json"),
		"[\n  "+okta("u4", "2026-03-02T09:03:00Z", "maya@example.com")+",\n  "+okta("u1", "2026-03-02T09:00:00Z", "dana@example.com")+"\n]\n")
	write(t, filepath.Join(dir, "c-trail.json.gz"), gz(t, `{"Records":[`+okta("u5", "2026-03-02T09:04:00Z", "omar@example.com")+`,{"who":"knows"}]}`))
	write(t, filepath.Join(dir, "README.md"), "# not a log\n")
	write(t, filepath.Join(dir, ".git", "x.json"), "{}")

	inputs, skipped, err := Resolve([]string{dir}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range inputs {
		names = append(names, strings.TrimPrefix(in.Name, dir+"/"))
	}
	if diff := cmp.Diff([]string{"a-okta.ndjson", "c-trail.json.gz", "pages/b-page.json"}, names); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if len(skipped) != 1 || !strings.HasSuffix(skipped[0], "README.md") {
		t.Errorf("skipped = %v", skipped)
	}

	st := openStore(t)
	sum, err := Run(context.Background(), st, inputs, Options{Now: fixedNow, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// u1, u3, u4, u5 stored; u1 again in the page is a duplicate; the bad
	// time, the bad JSON line and the unrecognized envelope element are
	// quarantined (the last two under "unknown": no source claimed them).
	want := Summary{Read: 8, Stored: 4, Duplicates: 1, Quarantined: 3, Events: 4, Inputs: 3,
		BySource: map[event.Source]*SourceSum{
			"okta":    {Read: 6, Stored: 4, Duplicates: 1, Quarantined: 1},
			"unknown": {Read: 2, Quarantined: 2},
		}}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	var q []string
	st.Quarantined(context.Background(), store.QuarantineQuery{}, func(r store.QuarantineRow) error {
		q = append(q, fmt.Sprintf("%s:%d[%d] %s", strings.TrimPrefix(r.Origin, dir+"/"), r.Line, r.Elem, r.Reason))
		return nil
	})
	wantQ := []string{
		`a-okta.ndjson:2[-1] okta: published: not a timestamp: "redacted"`,
		`a-okta.ndjson:3[-1] invalid JSON at line 1, column 9: invalid character 'j' looking for beginning of value`,
		`c-trail.json.gz:1[1] unrecognized record: no decoder (` + sourceNames() + `) matches an object with keys who`,
	}
	if diff := cmp.Diff(wantQ, q); diff != "" {
		t.Errorf("quarantine (-want +got):\n%s", diff)
	}

	// Idempotent: the second run stores nothing and counts duplicates.
	sum2, err := Run(context.Background(), st, inputs, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Read != 8 || sum2.Stored != 0 || sum2.Duplicates != 5 || sum2.Quarantined != 3 || sum2.Events != 0 {
		t.Errorf("second run: %+v", sum2)
	}
	if n, _ := st.CountEvents(context.Background()); n != 4 {
		t.Errorf("%d events stored, want 4", n)
	}
}

func sourceNames() string {
	var s []string
	for _, x := range source.Sources() {
		s = append(s, string(x))
	}
	return strings.Join(s, ", ")
}

func TestRehydrate(t *testing.T) {
	st := openStore(t)
	rec := okta("u1", "2026-03-02T09:00:00.5Z", "Dana@Example.com")
	inputs, _, err := Resolve([]string{"-"}, strings.NewReader(rec), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), st, inputs, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	set, _ := source.NewSet("")
	want := set.Decode(nil, []byte(rec))[0].Events[0]
	want.Received = fixedNow()
	var got []event.Event
	err = st.Events(context.Background(), store.Query{}, func(r store.Row) error {
		e, err := Rehydrate(set, r)
		got = append(got, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	if diff := cmp.Diff(want, got[0], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("rehydrated event (-want +got):\n%s", diff)
	}
	if got[0].Actor.ID != "dana@example.com" {
		t.Errorf("actor %q", got[0].Actor.ID)
	}
}

func TestBadGzipIsReportedAndOthersIngested(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ndjson")
	bad := filepath.Join(dir, "bad.json.gz")
	write(t, good, okta("u1", "2026-03-02T09:00:00Z", "dana@example.com")+"\n")
	full := gz(t, strings.Repeat(okta("u9", "2026-03-02T09:00:00Z", "eli@example.com")+"\n", 50))
	write(t, bad, full[:len(full)/2]) // truncated download
	inputs, _, err := Resolve([]string{bad, good}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	sum, err := Run(context.Background(), st, inputs, Options{})
	if !errors.Is(err, ErrInputs) || len(sum.Errors) != 1 || !strings.Contains(sum.Errors[0], bad) {
		t.Fatalf("err = %v, errors = %v", err, sum.Errors)
	}
	var got []string
	st.Events(context.Background(), store.Query{}, func(r store.Row) error { got = append(got, r.VendorID); return nil })
	if len(got) == 0 || got[0] != "u1" {
		t.Errorf("stored %v: the good file's record should be stored", got)
	}
}

type failingSink struct{}

func (failingSink) Append(context.Context, *store.Batch) (store.Result, error) {
	return store.Result{}, errors.New("disk full")
}

func TestSinkFailureStops(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		b.WriteString(okta(fmt.Sprint(i), "2026-03-02T09:00:00Z", "dana@example.com") + "\n")
	}
	inputs, _, _ := Resolve([]string{"-"}, strings.NewReader(b.String()), false)
	_, err := Run(context.Background(), failingSink{}, inputs, Options{BatchSize: 10})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	if _, _, err := Resolve([]string{"/no/such/file.json"}, nil, false); err == nil || !strings.Contains(err.Error(), "/no/such/file.json") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := Resolve([]string{"-"}, strings.NewReader(""), true); err == nil {
		t.Error("--follow on stdin accepted")
	}
	if _, _, err := Resolve([]string{t.TempDir()}, nil, true); err == nil {
		t.Error("--follow on a directory accepted")
	}
}

func TestUnknownForcedSource(t *testing.T) {
	if _, err := Run(context.Background(), failingSink{}, nil, Options{Source: "splunk"}); !errors.Is(err, source.ErrUnknownSource) {
		t.Fatalf("err = %v", err)
	}
}

// waitFor polls cond until it holds; the deadline only guards against a
// hang, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.ndjson")
	write(t, path, okta("f1", "2026-03-02T09:00:00Z", "dana@example.com")+"\n")
	inputs, _, err := Resolve([]string{path}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Run(ctx, st, inputs, Options{})
		done <- result{sum, err}
	}()
	stored := func(n int64) func() bool {
		return func() bool { c, _ := st.CountEvents(context.Background()); return c == n }
	}
	waitFor(t, "the first record", stored(1))

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A record written in two pieces is read once it is complete.
	rec2 := okta("f2", "2026-03-02T09:01:00Z", "dana@example.com") + "\n"
	f.WriteString(rec2[:40])
	f.Sync()
	time.Sleep(300 * time.Millisecond)
	f.WriteString(rec2[40:] + okta("f3", "2026-03-02T09:02:00Z", "dana@example.com") + "\n")
	f.Close()
	waitFor(t, "appended records", stored(3))

	// Rotation: the file is renamed away and a new one created.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, path, okta("f4", "2026-03-02T09:03:00Z", "dana@example.com")+"\n")
	waitFor(t, "the rotated file's record", stored(4))

	cancel()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sum.Stored != 4 || r.sum.Quarantined != 0 {
		t.Errorf("summary %+v", r.sum)
	}
}

func TestInterruptedRunStoresWhatItRead(t *testing.T) {
	// A file that is still being written (as with --follow, but not
	// followed): interrupting the run must keep the records read so far.
	pr, pw := io.Pipe()
	defer pw.Close()
	inputs := []Input{{Name: "pipe", open: func(context.Context, func()) (io.ReadCloser, error) { return pr, nil }}}
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var sum Summary
	go func() {
		var err error
		sum, err = Run(ctx, st, inputs, Options{BatchSize: 1})
		done <- err
	}()
	fmt.Fprintln(pw, okta("i1", "2026-03-02T09:00:00Z", "dana@example.com"))
	fmt.Fprintln(pw, okta("i2", "2026-03-02T09:01:00Z", "dana@example.com"))
	waitFor(t, "two records", func() bool { n, _ := st.CountEvents(context.Background()); return n == 2 })
	cancel()
	fmt.Fprintln(pw, okta("i3", "2026-03-02T09:02:00Z", "dana@example.com")) // unblocks the read
	err := <-done
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if sum.Read < 2 || sum.Read != sum.Stored+sum.Duplicates+sum.Quarantined {
		t.Errorf("summary %+v", sum)
	}
	if n, _ := st.CountEvents(context.Background()); int(n) != sum.Stored {
		t.Errorf("%d events stored, summary says %d", n, sum.Stored)
	}
}
