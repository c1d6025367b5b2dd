package field

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-03-02T09:14:07Z", time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC), true},
		{"2026-03-02T09:14:07.311Z", time.Date(2026, 3, 2, 9, 14, 7, 311e6, time.UTC), true},
		{"2025-01-15T14:20:35.4567890Z", time.Date(2025, 1, 15, 14, 20, 35, 456789000, time.UTC), true},
		{"2022-03-22 14:21:53.225", time.Date(2022, 3, 22, 14, 21, 53, 225e6, time.UTC), true},
		{"2020-11-25 21:27:03.496000000", time.Date(2020, 11, 25, 21, 27, 3, 496e6, time.UTC), true},
		{"2026-03-02T10:14:07+01:00", time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC), true},
		{"2026-03-02T04:14:07-0500", time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC), true},
		{"2026-03-02T09:14:07.1234567891Z", time.Date(2026, 3, 2, 9, 14, 7, 123456789, time.UTC), true},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2023-02-29T00:00:00Z", time.Time{}, false},
		{"2026-13-02T09:14:07Z", time.Time{}, false},
		{"2026-03-02T24:00:00Z", time.Time{}, false},
		{"redacted", time.Time{}, false},
		{"2026-03-02", time.Time{}, false},
		{"2026-03-02T09:14:07.Z", time.Time{}, false},
		{"2026-03-02T09:14:07 PST", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("ParseTime(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && !got.Equal(tt.want) {
				t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTimeNumbersAndErrors(t *testing.T) {
	var p fastjson.Parser
	v, _ := p.Parse(`{"s":1700000000,"ms":1700000000123,"us":1700000000123456,"neg":-5,"obj":{},"nul":null,"bad":"x"}`)
	for key, want := range map[string]time.Time{
		"s":  time.Unix(1700000000, 0).UTC(),
		"ms": time.UnixMilli(1700000000123).UTC(),
		"us": time.UnixMicro(1700000000123456).UTC(),
	} {
		got, err := Time(v, key)
		if err != nil || !got.Equal(want) {
			t.Errorf("Time(%s) = %v, %v; want %v", key, got, err, want)
		}
	}
	for _, key := range []string{"neg", "obj", "bad"} {
		_, err := Time(v, key)
		var fe *Error
		if !errors.As(err, &fe) || fe.Field != key {
			t.Errorf("Time(%s) error = %v, want a field error naming %s", key, err, key)
		}
	}
	for _, key := range []string{"nul", "absent"} {
		if _, err := Time(v, key); !errors.Is(err, ErrMissing) {
			t.Errorf("Time(%s) error = %v, want ErrMissing", key, err)
		}
	}
}

func TestGetCaseInsensitive(t *testing.T) {
	var p fastjson.Parser
	v, _ := p.Parse(`{"eventtype":"a","AuthenticationContext":{"externalSessionId":"s"},"eventType2":1,"list":[{"x":"y"}],"n":12,"b":"TRUE"}`)
	if got := Str(v, "eventType"); got != "a" {
		t.Errorf("eventType = %q", got)
	}
	if got := Str(v, "authenticationContext", "externalsessionid"); got != "s" {
		t.Errorf("nested = %q", got)
	}
	if got := Str(v, "list", "0", "x"); got != "y" {
		t.Errorf("array index = %q", got)
	}
	if got := Str(v, "n"); got != "12" {
		t.Errorf("number as text = %q", got)
	}
	if b, ok := Bool(v, "b"); !b || !ok {
		t.Errorf("Bool(TRUE) = %v, %v", b, ok)
	}
	if Has(v, "missing") || Get(v, "list", "5") != nil || Get(v, "n", "x") != nil {
		t.Error("absent paths must be nil")
	}
}

func TestStringsAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"198.51.100.7", "198.51.100.7"},
		{" 198.51.100.7\n", "198.51.100.7"},
		{"2001:db8::1", "2001:db8::1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"198.51.100.7:51234", "198.51.100.7"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80::1%eth0]:443", "fe80::1"},
		{"0.0.0.0", "invalid IP"}, // Azure's own services
		{"::", "invalid IP"},
		{"::ffff:0.0.0.0", "invalid IP"},
		{"0.0.0.0:443", "invalid IP"},
		{"AWS Internal", "invalid IP"},
		{"ec2.amazonaws.com", "invalid IP"},
		{"redacted", "invalid IP"},
		{"host:80", "invalid IP"},
		{"198.51.100.7:99999", "invalid IP"},
		{"[2001:db8::1", "invalid IP"},
		{"[", "invalid IP"},
		{"1.2.3", "invalid IP"},
		{"", "invalid IP"},
	}
	var s Strings
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := s.Addr([]byte(tt.in)).String(); got != tt.want {
				t.Errorf("Addr(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringsAddrAllocs(t *testing.T) {
	var s Strings
	for _, in := range []string{"198.51.100.7", "2001:db8::1", "198.51.100.7:51234", "[2001:db8::1]:443",
		"ec2.amazonaws.com", "AWS Internal", ""} {
		b := []byte(in)
		s.Addr(b)
		if allocs := testing.AllocsPerRun(100, func() { s.Addr(b) }); allocs != 0 {
			t.Errorf("Addr(%q) allocates %v times once interned", in, allocs)
		}
	}
}

func TestStringsFirstAddr(t *testing.T) {
	var s Strings
	got := s.FirstAddr(nil, []byte("AWS Internal"), []byte("0.0.0.0"), []byte("192.0.2.7:80"), []byte("198.51.100.1"))
	if got.String() != "192.0.2.7" {
		t.Errorf("FirstAddr = %s, want 192.0.2.7", got)
	}
	if got := s.FirstAddr(); got.IsValid() {
		t.Errorf("FirstAddr() = %s, want the zero Addr", got)
	}
}

func TestStringsLower(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"eli@example.com", "eli@example.com"},
		{"Eli.Martin@Example.COM", "eli.martin@example.com"},
		{"/SUBSCRIPTIONS/0B1C/resourceGroups/RG-1", "/subscriptions/0b1c/resourcegroups/rg-1"},
		{"José@example.com", "josé@example.com"},
		{"JOSÉ@EXAMPLE.COM", "josé@example.com"},
		{"ÉLODIE", "élodie"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"bad \xff utf-8", "bad \ufffd utf-8"},
		{"[@`{]", "[@`{]"},
	}
	var s Strings
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := s.Lower([]byte(tt.in))
			if got != tt.want {
				t.Errorf("Lower(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if std := strings.ToLower(tt.in); got != std {
				t.Errorf("Lower(%q) = %q, strings.ToLower = %q", tt.in, got, std)
			}
			b := []byte(tt.in)
			if allocs := testing.AllocsPerRun(100, func() { s.Lower(b) }); allocs != 0 {
				t.Errorf("Lower(%q) allocates %v times once interned", tt.in, allocs)
			}
		})
	}
}

func TestStringsCopy(t *testing.T) {
	var s Strings
	tests := []struct {
		in   []string
		want [4]string
	}{
		{nil, [4]string{}},
		{[]string{"evt-1"}, [4]string{"evt-1"}},
		{[]string{"evt-1", "", "corr-3"}, [4]string{"evt-1", "", "corr-3"}},
		{[]string{"a", "b", "c", "d", "e"}, [4]string{"a", "b", "c", "d"}},
	}
	for _, tt := range tests {
		bs := make([][]byte, len(tt.in))
		for i, x := range tt.in {
			bs[i] = []byte(x)
		}
		got := s.Copy(bs...)
		if got != tt.want {
			t.Errorf("Copy(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, b := range bs { // the strings must not share the input's memory
			for i := range b {
				b[i] = 'x'
			}
		}
		if got != tt.want {
			t.Errorf("Copy(%q) results change with their input: %q", tt.in, got)
		}
	}
	a, b := []byte("event-id"), []byte("request-id")
	if allocs := testing.AllocsPerRun(100, func() { copySink = s.Copy(a, b) }); allocs != 1 {
		t.Errorf("Copy of two values allocates %v times, want 1", allocs)
	}
}

var copySink [4]string

func TestFirst(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"", ""}, ""},
		{[]string{"a"}, "a"},
		{[]string{"", "b", "c"}, "b"},
	}
	for _, tt := range tests {
		var bs [][]byte
		for _, x := range tt.in {
			bs = append(bs, []byte(x))
		}
		if got := string(First(bs...)); got != tt.want {
			t.Errorf("First(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		s, sub        string
		index         int
		equal, prefix bool
	}{
		{"Microsoft.Authorization/roleAssignments/write", "microsoft.authorization/", 0, false, true},
		{"/tenants/t/providers/Microsoft.AADIAM", "/providers/microsoft.aadiam", 10, false, false},
		{"SUCCESS", "success", 0, true, true},
		{"Success", "SuCcEsS", 0, true, true},
		{"succeeded", "success", -1, false, false},
		{"", "", 0, true, true},
		{"abc", "", 0, false, true},
		{"", "a", -1, false, false},
		{"ab", "abc", -1, false, false},
		{"@", "`", -1, false, false},     // 0x40 and 0x60 differ by the case bit but are not letters
		{"[x]", "{x}", -1, false, false}, // likewise 0x5b and 0x7b
		{"É", "é", -1, false, false},     // only ASCII folds
		{"Text Message", "text message", 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.s+"/"+tt.sub, func(t *testing.T) {
			if got := IndexFold(tt.s, tt.sub); got != tt.index {
				t.Errorf("IndexFold(%q, %q) = %d, want %d", tt.s, tt.sub, got, tt.index)
			}
			if got := IndexFold([]byte(tt.s), tt.sub); got != tt.index {
				t.Errorf("IndexFold([]byte(%q), %q) = %d, want %d", tt.s, tt.sub, got, tt.index)
			}
			if got := EqualFold(tt.s, tt.sub); got != tt.equal {
				t.Errorf("EqualFold(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.equal)
			}
			if got := HasPrefixFold([]byte(tt.s), tt.sub); got != tt.prefix {
				t.Errorf("HasPrefixFold(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.prefix)
			}
		})
	}
}

func TestAppendLower(t *testing.T) {
	got := AppendLower([]byte("type:"), []byte("Microsoft.Storage"))
	got = AppendLower(append(got, '/'), []byte("ÄB"))
	if string(got) != "type:microsoft.storage/äb" {
		t.Errorf("AppendLower = %q", got)
	}
}

func FuzzLower(f *testing.F) {
	f.Add("Eli.Martin@Example.COM")
	f.Add("JOSÉ@example.com")
	f.Add("\xff\xfe")
	var s Strings
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := s.Lower([]byte(in)), strings.ToLower(in); got != want {
			t.Fatalf("Lower(%q) = %q, strings.ToLower = %q", in, got, want)
		}
	})
}

func TestStringsInterns(t *testing.T) {
	var s Strings
	a := s.Get([]byte("user.session.start"))
	b := s.Get([]byte("user.session.start"))
	if a != b || s.Get(nil) != "" {
		t.Fatal("interned strings differ")
	}
	if allocs := testing.AllocsPerRun(100, func() { s.Get([]byte("user.session.start")) }); allocs != 0 {
		t.Errorf("interned lookup allocates %v times", allocs)
	}
}

func FuzzParseTime(f *testing.F) {
	f.Add("2026-03-02T09:14:07.311Z")
	f.Add("2022-03-22 14:21:53.225")
	f.Add("2026-03-02T10:14:07+01:00")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime([]byte(s))
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not in UTC", s)
		}
		// Whatever parses must agree with the standard library where the
		// standard library accepts the same text.
		if std, err := time.Parse(time.RFC3339Nano, s); err == nil && !std.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, time.Parse = %v", s, got, std)
		}
	})
}
