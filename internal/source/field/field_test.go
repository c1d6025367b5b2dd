package field

import (
	"errors"
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

func TestAddr(t *testing.T) {
	tests := map[string]string{
		"198.51.100.7":       "198.51.100.7",
		"2001:db8::1":        "2001:db8::1",
		"::ffff:192.0.2.1":   "192.0.2.1",
		"198.51.100.7:51234": "198.51.100.7",
		"[2001:db8::1]:443":  "2001:db8::1",
		"AWS Internal":       "invalid IP",
		"redacted":           "invalid IP",
		"":                   "invalid IP",
	}
	for in, want := range tests {
		if got := Addr([]byte(in)).String(); got != want {
			t.Errorf("Addr(%q) = %s, want %s", in, got, want)
		}
	}
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
