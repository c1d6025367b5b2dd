// Package sourcetest holds the checks every decoder package runs: golden
// files (one input and one expected output per case under testdata/), a
// fuzz body, and a pass over the shared validation corpus when present.
package sourcetest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
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
