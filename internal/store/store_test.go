package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestCompact(t *testing.T) {
	tests := map[string]string{
		"{\n  \"a\": 1,\n  \"b\": [1, 2]\n}":       `{"a":1,"b":[1,2]}`,
		`{"s": "keep  spaces \" and \\"  , "t":1}`: `{"s":"keep  spaces \" and \\","t":1}`,
		`{"u": "unterminated  `:                    `{"u":"unterminated  `,
		"":                                         "",
	}
	for in, want := range tests {
		if got := string(compact(nil, []byte(in))); got != want {
			t.Errorf("compact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecordDigestIgnoresLayoutOnly(t *testing.T) {
	a := RecordDigest([]byte(`{"a":1,"b":"x y"}`))
	if b := RecordDigest([]byte("{ \"a\" : 1,\n\t\"b\" : \"x y\" }")); a != b {
		t.Error("whitespace between tokens changed the digest")
	}
	if c := RecordDigest([]byte(`{"a":1,"b":"x  y"}`)); a == c {
		t.Error("whitespace inside a string did not change the digest")
	}
}

func TestEventKey(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := RecordDigest([]byte(`{}`))
	k := EventKey(t0, "okta", "id", 0, d)
	for name, other := range map[string]Key{
		"time":   EventKey(t0.Add(time.Nanosecond), "okta", "id", 0, d),
		"source": EventKey(t0, "entra", "id", 0, d),
		"id":     EventKey(t0, "okta", "id2", 0, d),
		"part":   EventKey(t0, "okta", "id", 1, d),
		"digest": EventKey(t0, "okta", "id", 0, RecordDigest([]byte(`{"x":1}`))),
		// Length-prefixing keeps ("ok","taid") apart from ("okta","id").
		"boundary": EventKey(t0, "ok", "taid", 0, d),
	} {
		if other == k {
			t.Errorf("changing %s did not change the key", name)
		}
	}
	if k != EventKey(t0, "okta", "id", 0, d) {
		t.Error("key is not deterministic")
	}
	later := EventKey(t0.Add(time.Second), "okta", "a", 0, d)
	if bytes.Compare(k[:], later[:]) >= 0 {
		t.Error("keys do not sort by time")
	}
}

func TestBlockRoundTrip(t *testing.T) {
	var recs [][]byte
	for i := range 500 {
		recs = append(recs, []byte(fmt.Sprintf(`{"uuid":"%d","eventType":"user.session.start","n":%d}`, i, i*i)))
	}
	recs = append(recs, []byte{})
	block := PackBlock(recs, nil)
	got, err := UnpackBlock(block)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		if !bytes.Equal(got[i], recs[i]) {
			t.Fatalf("record %d = %q, want %q", i, got[i], recs[i])
		}
	}
	if len(block)*5 > len(bytes.Join(recs, nil)) {
		t.Errorf("block of similar records compresses poorly: %d bytes", len(block))
	}
	if _, err := UnpackBlock([]byte("not zstd")); !errors.Is(err, ErrCorruptBlock) {
		t.Errorf("corrupt block: %v", err)
	}
}

func FuzzUnpackBlock(f *testing.F) {
	f.Add(PackBlock([][]byte{[]byte(`{"a":1}`), []byte(`{}`)}, nil))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := UnpackBlock(data)
		if err != nil {
			return
		}
		// Whatever unpacks packs back to the same records.
		again, err := UnpackBlock(PackBlock(recs, nil))
		if err != nil || len(again) != len(recs) {
			t.Fatalf("repack: %v, %d vs %d records", err, len(again), len(recs))
		}
	})
}

func FuzzCompact(f *testing.F) {
	f.Add([]byte("{\n \"a\": \"b \\\" c\" }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := compact(nil, data)
		if len(out) > len(data) {
			t.Fatal("compact grew the input")
		}
		if json.Valid(data) {
			var a, b any
			if err := json.Unmarshal(data, &a); err != nil {
				return
			}
			if err := json.Unmarshal(out, &b); err != nil {
				t.Fatalf("compact broke valid JSON %q -> %q: %v", data, out, err)
			}
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("compact changed the value of %q", data)
			}
		}
	})
}
