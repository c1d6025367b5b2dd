package source

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type gotChunk struct {
	Data string
	Line int
	Err  string
}

func scanAll(t *testing.T, r io.Reader, max int) []gotChunk {
	t.Helper()
	sc := NewScanner(r, max)
	var out []gotChunk
	for {
		c, err := sc.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		g := gotChunk{Data: string(c.Data), Line: c.Line}
		if c.Err != nil {
			g.Err = c.Err.Error()
		}
		out = append(out, g)
		if len(out) > 1000000 {
			t.Fatal("scanner does not terminate")
		}
	}
}

func TestScanner(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []gotChunk
	}{
		{
			name: "ndjson with blank lines and CRLF",
			in:   "{\"a\":1}\r\n\n{\"b\":\"x}\"}\n  \n{\"c\":[1,2]}",
			want: []gotChunk{{`{"a":1}`, 1, ""}, {`{"b":"x}"}`, 3, ""}, {`{"c":[1,2]}`, 5, ""}},
		},
		{
			name: "bad line is isolated",
			in:   "{\"a\":1}\n{\"truncated\": \n{\"c\":3}\n",
			want: []gotChunk{{`{"a":1}`, 1, ""}, {`{"truncated":`, 2, ""}, {`{"c":3}`, 3, ""}},
		},
		{
			name: "garbage line in ndjson",
			in:   "{\"a\":1}\nnot json at all\n{\"c\":3}\n",
			want: []gotChunk{{`{"a":1}`, 1, ""}, {"not json at all", 2, ""}, {`{"c":3}`, 3, ""}},
		},
		{
			name: "top-level array streamed by element",
			in:   "[\n  {\"a\": 1},\n  {\"b\": \"]\"},\n  {\"c\": {\"d\": [3]}}\n]\n",
			want: []gotChunk{{`{"a": 1}`, 2, ""}, {`{"b": "]"}`, 3, ""}, {`{"c": {"d": [3]}}`, 4, ""}},
		},
		{
			name: "empty array",
			in:   "[]",
			want: nil,
		},
		{
			name: "pretty objects one after another",
			in:   "{\n  \"a\": 1\n}\n{\n  \"b\": \"esc \\\" }\"\n}\n",
			want: []gotChunk{{"{\n  \"a\": 1\n}", 1, ""}, {"{\n  \"b\": \"esc \\\" }\"\n}", 4, ""}},
		},
		{
			name: "byte order mark",
			in:   "\xef\xbb\xbf{\"a\":1}\n",
			want: []gotChunk{{`{"a":1}`, 1, ""}},
		},
		{
			name: "unterminated pretty value",
			in:   "{\n  \"a\": 1\n}\n{\n  \"b\": 2\n",
			want: []gotChunk{{"{\n  \"a\": 1\n}", 1, ""}, {"{\n  \"b\": 2\n", 4, "unexpected end of input inside a JSON value"}},
		},
		{
			name: "unterminated array",
			in:   "[{\"a\":1},",
			want: []gotChunk{{`{"a":1}`, 1, ""}, {"", 1, "unexpected end of input inside a top-level array"}},
		},
		{
			name: "scalar at top level of pretty input",
			in:   "{\n\"a\":1\n}\n42\n",
			want: []gotChunk{{"{\n\"a\":1\n}", 1, ""}, {"42", 4, "not a JSON object or array"}},
		},
		{
			name: "over-long line is skipped with an error and the next line read",
			in:   "{\"a\":\"" + strings.Repeat("x", 100) + "\"}\n{\"b\":1}\n",
			max:  50,
			want: []gotChunk{{`{"a":"` + strings.Repeat("x", 100) + `"}`, 1, "record too large: over 50 bytes"}, {`{"b":1}`, 2, ""}},
		},
		{
			name: "empty input",
			in:   "  \n\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanAll(t, strings.NewReader(tt.in), tt.max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("chunks differ (-want +got):\n%s", diff)
			}
			// The same input one byte at a time must give the same chunks:
			// records straddle buffer refills in real files.
			got = scanAll(t, iotest.OneByteReader(strings.NewReader(tt.in)), tt.max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("one byte at a time, chunks differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScannerLargeInput(t *testing.T) {
	// Many records across many buffer refills keep their line numbers.
	var b bytes.Buffer
	for i := range 20000 {
		b.WriteString(`{"n":`)
		b.WriteString(strings.Repeat("1", i%50+1))
		b.WriteString("}\n")
	}
	got := scanAll(t, &b, 0)
	if len(got) != 20000 {
		t.Fatalf("got %d records, want 20000", len(got))
	}
	for i, c := range got {
		if c.Line != i+1 || c.Err != "" {
			t.Fatalf("record %d: line %d err %q", i, c.Line, c.Err)
		}
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	sc := NewScanner(io.MultiReader(strings.NewReader("{\"a\":1}\n"), iotest.ErrReader(boom)), 0)
	c, err := sc.Next()
	if err != nil || string(c.Data) != `{"a":1}` {
		t.Fatalf("first record: %q, %v", c.Data, err)
	}
	if _, err := sc.Next(); !errors.Is(err, boom) {
		t.Fatalf("want the read error, got %v", err)
	}
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte("[{\"a\":1},{\"b\":\"]\"}]"))
	f.Add([]byte("{\n\"a\":\"\\\"\"\n}\n[1,2]"))
	f.Add([]byte("\xef\xbb\xbf[{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := NewScanner(bytes.NewReader(data), 1<<16)
		last := 0
		for i := 0; ; i++ {
			c, err := sc.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("read error from a bytes.Reader: %v", err)
			}
			if c.Line < last {
				t.Fatalf("line numbers go backwards: %d after %d", c.Line, last)
			}
			last = c.Line
			if i > len(data)+1 {
				t.Fatalf("more records (%d) than input bytes (%d)", i, len(data))
			}
		}
	})
}
