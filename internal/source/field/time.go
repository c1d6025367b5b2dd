package field

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"
)

var errTime = errors.New("not a timestamp")

// Time returns the timestamp at path, which must be present. Strings are
// parsed with ParseTime; numbers are Unix epoch seconds, milliseconds or
// microseconds, told apart by magnitude (OCSF uses milliseconds).
func Time(v *fastjson.Value, path ...string) (time.Time, error) {
	x := Get(v, path...)
	if x == nil || x.Type() == fastjson.TypeNull {
		return time.Time{}, Missing(dotted(path))
	}
	switch x.Type() {
	case fastjson.TypeNumber:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, Errorf(dotted(path), "not a number")
		}
		t, err := epoch(f)
		if err != nil {
			return time.Time{}, Errorf(dotted(path), "%v: %s is not a plausible Unix time", err, x.String())
		}
		return t, nil
	case fastjson.TypeString:
		b, _ := x.StringBytes()
		t, err := ParseTime(b)
		if err != nil {
			return time.Time{}, Errorf(dotted(path), "%v", err)
		}
		return t, nil
	}
	return time.Time{}, Errorf(dotted(path), "want a timestamp, got %s", x.Type())
}

func dotted(path []string) string {
	n := 0
	for _, p := range path {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range path {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, p...)
	}
	return string(b)
}

func epoch(f float64) (time.Time, error) {
	switch {
	case f <= 0 || f > 1e17:
		return time.Time{}, errTime
	case f < 1e11: // seconds until the year 5138
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	case f < 1e14:
		return time.UnixMilli(int64(f)).UTC(), nil
	default:
		return time.UnixMicro(int64(f)).UTC(), nil
	}
}

// ParseTime parses the layouts identity vendors write: RFC 3339 with any
// number of fractional digits ("2024-05-01T10:00:00.1234567Z"), the same with
// a space instead of "T", and either without a zone, which means UTC
// ("2022-03-22 14:21:53.225"). The result is in UTC.
func ParseTime(b []byte) (time.Time, error) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ' && b[10] != 't') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, timeErr(b)
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, timeErr(b)
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100000000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, timeErr(b)
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case (rest[0] == '+' || rest[0] == '-') && (len(rest) == 6 && rest[3] == ':' || len(rest) == 5 || len(rest) == 3):
		h, okh := digits(rest[1:3])
		m, okm := 0, true
		switch len(rest) {
		case 6:
			m, okm = digits(rest[4:6])
		case 5:
			m, okm = digits(rest[3:5])
		}
		if !okh || !okm || h > 23 || m > 59 {
			return time.Time{}, timeErr(b)
		}
		offset = (h*60 + m) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, timeErr(b)
	}
	if sec == 60 { // leap second: time.Date normalizes it to the next minute
		sec = 59
		nsec = 999999999
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	t = t.Add(-time.Duration(offset) * time.Second)
	// Audit logs are not older than Unix time, and RFC 3339 cannot write a
	// year outside 0–9999 ("0000-01-01T00:00:00+01:00" is year -1).
	if y := t.Year(); y < 1970 || y > 9999 {
		return time.Time{}, fmt.Errorf("%w: year %d is outside 1970–9999", errTime, y)
	}
	return t, nil
}

func timeErr(b []byte) error {
	// Timestamps are not secrets, but a wrong field can hold anything:
	// quote only a short prefix.
	if len(b) > 40 {
		return fmt.Errorf("%w: %q…", errTime, b[:40])
	}
	return fmt.Errorf("%w: %q", errTime, b)
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
