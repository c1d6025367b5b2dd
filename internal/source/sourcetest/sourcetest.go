// Package sourcetest holds the checks every decoder package runs: golden
// files (one input and one expected output per case under testdata/), a
// fuzz body, a pass over the shared validation corpus when present, and
// the decode benchmark.
package sourcetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source/field"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Decoder is the contract of source.Decoder, repeated here so that
// decoder packages can test without importing package source (which
// imports them).
type Decoder interface {
	Source() event.Source
	Detect(v *fastjson.Value) bool
	Decode(dst []event.Event, v *fastjson.Value) ([]event.Event, error)
}

// Golden decodes every testdata/*.json file (one record each, any layout)
// with a fresh decoder from newDec and compares the events, as indented
// JSON, with the .golden file of the same name. A case whose name starts
// with "bad_" must fail to decode; its .golden holds the error text. Run
// `go test -update` to rewrite the golden files after a deliberate change.
func Golden(t *testing.T, newDec func() Decoder) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.json cases")
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var p fastjson.Parser
			v, err := p.ParseBytes(raw)
			if err != nil {
				t.Fatalf("test input is not JSON: %v", err)
			}
			d := newDec()
			bad := strings.HasPrefix(name, "bad_")
			if !bad && !d.Detect(v) {
				t.Errorf("Detect = false for a %s record", d.Source())
			}
			evs, err := d.Decode(nil, v)
			var got []byte
			switch {
			case bad && err == nil:
				t.Fatalf("decoded a bad record without error: %+v", evs)
			case bad:
				got = []byte(err.Error() + "\n")
			case err != nil:
				t.Fatalf("Decode: %v", err)
			default:
				for _, e := range evs {
					if e.Actor.ID != strings.ToLower(e.Actor.ID) {
						t.Errorf("actor id %q is not lower-case: canonical ids are", e.Actor.ID)
					}
				}
				got, err = json.MarshalIndent(evs, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, '\n')
			}
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("events differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// Seeds adds every testdata/*.json file to the fuzz corpus.
func Seeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, in := range files {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Fuzz is the body of a decoder fuzz target: any input must decode or fail
// with an error, never panic, and successful events must be well formed.
func Fuzz(t *testing.T, d Decoder, data []byte) {
	var p fastjson.Parser
	v, err := p.ParseBytes(data)
	if err != nil || v.Type() != fastjson.TypeObject {
		return
	}
	d.Detect(v)
	evs, err := d.Decode(nil, v)
	if err != nil {
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		return
	}
	if len(evs) == 0 {
		t.Fatal("no events and no error")
	}
	for _, e := range evs {
		if e.Time.IsZero() {
			t.Fatal("event without time")
		}
		if e.Source != d.Source() {
			t.Fatalf("source %q, want %q", e.Source, d.Source())
		}
		if !e.Category.Valid() {
			t.Fatalf("invalid category %q", e.Category)
		}
		if e.VendorType == "" {
			t.Fatal("event without vendor type")
		}
		if e.Actor.ID != strings.ToLower(e.Actor.ID) {
			t.Fatalf("actor id %q is not lower-case", e.Actor.ID)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("event does not marshal: %v", err)
		}
	}
}

// CorpusFile returns the path of a file in the shared validation corpus
// (../shared/corpus relative to the repository root), or skips the test
// when the corpus is absent.
func CorpusFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "corpus", rel)
	if env := os.Getenv("VIGIL_CORPUS"); env != "" {
		p = filepath.Join(env, rel)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("validation corpus not present: %v", err)
	}
	return p
}

// Lines returns the non-empty lines of a file.
func Lines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// DetectCase is a record and whether a decoder's Detect should claim it.
type DetectCase struct {
	Name   string
	Record string // JSON
	Want   bool
}

// Detect runs Detect on each case's record, as a named subtest.
func Detect(t *testing.T, dec Decoder, cases []DetectCase) {
	t.Helper()
	var p fastjson.Parser
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			v, err := p.Parse(tc.Record)
			if err != nil {
				t.Fatal(err)
			}
			if got := dec.Detect(v); got != tc.Want {
				t.Errorf("Detect = %v, want %v", got, tc.Want)
			}
		})
	}
}

// CorpusCounts is what Corpus saw in a corpus file.
type CorpusCounts struct {
	Records    int            // non-empty lines
	Decoded    int            // records that decoded
	Events     int            // events the decoded records gave
	Undetected int            // records Detect did not claim (none of which decoded)
	Logs       map[string]int // events by Log
	Failures   map[string]int // failed records by error text
}

// Corpus decodes every record of the corpus file rel (see CorpusFile) with
// dec and checks that each line is JSON; that every failure is a
// *field.Error or wraps field.ErrMissing (quarantine reasons name the
// field); that no record fails for which hasTime (if not nil) reports
// that it holds a timestamp the decoder reads; that every record that decodes is one Detect claims and gives
// well-formed events of dec's source; that none of others claims any
// record; and that dec claims no record of the other corpus files beside
// rel (see Unclaimed). It logs and returns the counts, for the package to
// assert what is particular to its format.
func Corpus(t *testing.T, rel string, dec Decoder, hasTime func(*fastjson.Value) bool, others ...Decoder) CorpusCounts {
	t.Helper()
	path := CorpusFile(t, rel)
	c := CorpusCounts{Logs: map[string]int{}, Failures: map[string]int{}}
	var p fastjson.Parser
	for i, line := range Lines(t, path) {
		c.Records++
		v, err := p.ParseBytes(line)
		if err != nil {
			t.Errorf("line %d: not JSON: %v", i+1, err)
			continue
		}
		for _, o := range others {
			if o.Detect(v) {
				t.Errorf("line %d: the %s decoder claims a %s record", i+1, o.Source(), dec.Source())
			}
		}
		detected := dec.Detect(v)
		if !detected {
			c.Undetected++
		}
		evs, err := dec.Decode(nil, v)
		if err != nil {
			var fe *field.Error
			if !errors.As(err, &fe) && !errors.Is(err, field.ErrMissing) {
				t.Errorf("line %d: error names no field: %v", i+1, err)
			}
			if hasTime != nil && hasTime(v) {
				t.Errorf("line %d: a record with a timestamp failed: %v", i+1, err)
			}
			c.Failures[err.Error()]++
			continue
		}
		c.Decoded++
		if !detected {
			t.Errorf("line %d: decodes but Detect = false", i+1)
		}
		if len(evs) == 0 {
			t.Errorf("line %d: no events and no error", i+1)
		}
		for _, e := range evs {
			if e.Time.IsZero() || !e.Category.Valid() || e.VendorType == "" || e.Source != dec.Source() {
				t.Errorf("line %d: malformed event %+v", i+1, e)
			}
			c.Logs[e.Log]++
		}
		c.Events += len(evs)
	}
	t.Logf("%d records: %d decoded (%d events %v), %d failed, %d not detected",
		c.Records, c.Decoded, c.Events, c.Logs, c.Records-c.Decoded, c.Undetected)
	reasons := make([]string, 0, len(c.Failures))
	for r := range c.Failures {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := reasons[i], reasons[j]
		return c.Failures[a] > c.Failures[b] || c.Failures[a] == c.Failures[b] && a < b
	})
	for _, r := range reasons {
		t.Logf("  %3d × %s", c.Failures[r], r)
	}
	Unclaimed(t, dec, filepath.Dir(rel), filepath.Base(rel))
	return c
}

// Unclaimed checks that dec.Detect claims no record of the *.ndjson files
// in the corpus directory dir (see CorpusFile) but those named in except,
// and returns how many records it checked. A wrong claim would send
// another format's records down the wrong decoder.
func Unclaimed(t *testing.T, dec Decoder, dir string, except ...string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(CorpusFile(t, dir), "*.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var p fastjson.Parser
	n := 0
	for _, f := range files {
		name := filepath.Base(f)
		if slices.Contains(except, name) {
			continue
		}
		for i, line := range Lines(t, f) {
			v, err := p.ParseBytes(line)
			if err != nil {
				continue // the file's own decoder reports it
			}
			n++
			if dec.Detect(v) {
				t.Errorf("%s line %d: the %s decoder claims it", name, i+1, dec.Source())
			}
		}
	}
	if n == 0 {
		t.Errorf("no records of other formats in %s", dir)
	}
	return n
}

// Cases returns the testdata/*.json records that must decode (the cases
// not named bad_*), each compacted to one line as streams carry them.
func Cases(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad_") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, buf.Bytes())
	}
	if len(out) == 0 {
		tb.Fatal("no testdata/*.json cases")
	}
	return out
}

// Benchmark measures parsing and decoding, as source.Set does: one
// operation is a pass over all inputs with a decoder from newDec, reported
// with its bytes (MB/s) and the events decoded per second. Inputs must be
// JSON; one that fails to decode (the corpus holds damaged records on
// purpose) gives no events, but a decoder that decodes none of them fails
// the benchmark.
func Benchmark(b *testing.B, newDec func() Decoder, inputs [][]byte) {
	b.Helper()
	d := newDec() // checks the inputs; the timed loop starts cold, as ingestion does
	var p fastjson.Parser
	var dst []event.Event
	size := 0
	perPass := 0
	for i, r := range inputs {
		size += len(r)
		v, err := p.ParseBytes(r)
		if err != nil {
			b.Fatalf("input %d is not JSON: %v", i, err)
		}
		if dst, err = d.Decode(dst[:0], v); err == nil {
			perPass += len(dst)
		}
	}
	if perPass == 0 {
		b.Fatal("no input decodes")
	}
	d = newDec()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		for _, r := range inputs {
			v, _ := p.ParseBytes(r)
			dst, _ = d.Decode(dst[:0], v)
			events += len(dst)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
