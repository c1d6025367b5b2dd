package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxRecord bounds one record (a line, an array element or a
// top-level value). CloudTrail delivery files, Graph pages and Event Hubs
// batches are top-level values that hold many records, so it is generous.
const DefaultMaxRecord = 64 << 20

// Chunk is one top-level JSON value (or array element) cut from a stream,
// with the line it starts on. When Err is set, Data holds what could be
// read of the bad record (possibly truncated) and the record should be
// quarantined.
type Chunk struct {
	Data []byte
	Line int
	Err  error
}

// Scanner cuts a stream into records. It accepts newline-delimited JSON,
// a top-level JSON array (streamed element by element, as Okta API pages
// are), and one or more pretty-printed values one after the other. In
// NDJSON a bad line is isolated: scanning resumes at the next line.
type Scanner struct {
	r    io.Reader
	buf  []byte
	pos  int // start of unread data in buf
	eof  bool
	rerr error
	line int // line number at buf[pos]
	max  int

	mode    mode
	started bool
	stop    bool
}

type mode int

const (
	modeUnknown mode = iota
	modeLines        // NDJSON: one record per line
	modeValues       // pretty-printed or concatenated values
	modeArray        // inside a top-level array
)

// NewScanner returns a Scanner reading r. max bounds one record; 0 means
// DefaultMaxRecord.
func NewScanner(r io.Reader, max int) *Scanner {
	if max <= 0 {
		max = DefaultMaxRecord
	}
	return &Scanner{r: r, buf: make([]byte, 0, 256<<10), line: 1, max: max}
}

// ErrTooLarge is wrapped by chunk errors for records over the size limit.
var ErrTooLarge = errors.New("record too large")

// fill reads more input, keeping unread data. It returns false at EOF.
func (s *Scanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 && s.pos == len(s.buf) {
		s.buf = s.buf[:0]
		s.pos = 0
	} else if s.pos > len(s.buf)/2 && s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:])
		s.buf = s.buf[:n]
		s.pos = 0
	}
	if len(s.buf) == cap(s.buf) {
		nb := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.eof = true
		if err != io.EOF {
			s.rerr = err
		}
	}
	return n > 0 || !s.eof
}

// skipSpace skips whitespace (and a UTF-8 byte order mark at the very
// start), counting lines. It returns false at end of input.
func (s *Scanner) skipSpace() bool {
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case '\n':
				s.line++
			case ' ', '\t', '\r':
			default:
				if !s.started && s.buf[s.pos] == 0xef {
					for len(s.buf)-s.pos < 3 && s.fill() {
					}
					if bytes.HasPrefix(s.buf[s.pos:], []byte("\xef\xbb\xbf")) {
						s.pos += 3
						s.started = true
						continue
					}
				}
				s.started = true
				return true
			}
			s.pos++
		}
		if !s.fill() {
			return false
		}
	}
}

// Next returns the next record. It returns io.EOF at the end of input, and
// a read error (not a Chunk error) when the underlying reader fails.
func (s *Scanner) Next() (Chunk, error) {
	for {
		if s.stop {
			return Chunk{}, s.end()
		}
		if s.mode == modeArray {
			c, ok := s.nextElement()
			if ok {
				return c, nil
			}
			continue
		}
		if !s.skipSpace() {
			return Chunk{}, s.end()
		}
		switch s.mode {
		case modeLines:
			return s.nextLine(), nil
		case modeUnknown:
			if s.buf[s.pos] == '[' {
				s.mode = modeArray
				s.pos++
				continue
			}
			if s.firstLineIsValue() {
				s.mode = modeLines
				return s.nextLine(), nil
			}
			s.mode = modeValues
			return s.nextValue(), nil
		default:
			if s.buf[s.pos] == '[' {
				s.mode = modeArray
				s.pos++
				continue
			}
			return s.nextValue(), nil
		}
	}
}

func (s *Scanner) end() error {
	if s.rerr != nil {
		return s.rerr
	}
	return io.EOF
}

// firstLineIsValue reports whether the input's first line holds exactly one
// complete JSON object: then the input is NDJSON. A line longer than the
// record limit counts as NDJSON too (pretty-printed JSON has short lines),
// so that it is skipped as one over-long line.
func (s *Scanner) firstLineIsValue() bool {
	depth, inStr, esc := 0, false, false
	for i := s.pos; ; i++ {
		for i >= len(s.buf) {
			if i-s.pos > s.max {
				return true
			}
			off := i - s.pos
			if !s.fill() {
				return depth == 0 && !inStr
			}
			i = s.pos + off
		}
		c := s.buf[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '\n':
			return depth == 0
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		if i-s.pos > s.max {
			return true
		}
	}
}

// nextLine returns the rest of the current line as a record.
func (s *Scanner) nextLine() Chunk {
	start := s.line
	scanned := 0 // bytes after s.pos known to hold no newline
	for {
		if i := bytes.IndexByte(s.buf[s.pos+scanned:], '\n'); i >= 0 {
			i += scanned
			data := bytes.TrimRight(s.buf[s.pos:s.pos+i], " \t\r")
			s.pos += i + 1
			s.line++
			if len(data) > s.max {
				return Chunk{Data: data[:min(len(data), 4096)], Line: start, Err: fmt.Errorf("%w: over %d bytes", ErrTooLarge, s.max)}
			}
			return Chunk{Data: data, Line: start}
		}
		scanned = len(s.buf) - s.pos
		if scanned > s.max {
			return s.skipLongLine(start)
		}
		if !s.fill() {
			data := bytes.TrimRight(s.buf[s.pos:], " \t\r")
			s.pos = len(s.buf)
			return Chunk{Data: data, Line: start}
		}
	}
}

// skipLongLine discards an over-long line, keeping its first bytes.
func (s *Scanner) skipLongLine(start int) Chunk {
	var head []byte
	for {
		i := bytes.IndexByte(s.buf[s.pos:], '\n')
		end := len(s.buf)
		if i >= 0 {
			end = s.pos + i
		}
		if len(head) < 4096 {
			head = append(head, s.buf[s.pos:min(end, s.pos+4096-len(head))]...)
		}
		if i >= 0 {
			s.pos = end + 1
			s.line++
			break
		}
		s.pos = len(s.buf)
		if !s.fill() {
			break
		}
	}
	return Chunk{Data: head, Line: start, Err: fmt.Errorf("%w: over %d bytes", ErrTooLarge, s.max)}
}

// nextValue cuts one JSON value starting at s.pos by tracking nesting and
// strings; the decoder validates it. A value that is not an object or array
// is cut at the end of its line.
func (s *Scanner) nextValue() Chunk {
	start := s.line
	if c := s.buf[s.pos]; c != '{' && c != '[' {
		c := s.nextLine()
		c.Err = errors.New("not a JSON object or array")
		return c
	}
	depth, inStr, esc := 0, false, false
	lines := 0
	i := s.pos
	for {
		for ; i < len(s.buf); i++ {
			c := s.buf[i]
			if c == '\n' {
				lines++
			}
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					if i+1-s.pos > s.max {
						s.stop = true
						return Chunk{Data: append([]byte(nil), s.buf[s.pos:s.pos+4096]...), Line: start,
							Err: fmt.Errorf("%w: over %d bytes; the rest of the input was not read", ErrTooLarge, s.max)}
					}
					data := s.buf[s.pos : i+1]
					s.pos = i + 1
					s.line += lines
					return Chunk{Data: data, Line: start}
				}
			}
		}
		if i-s.pos > s.max {
			// Pretty-printed values cannot be resynchronized reliably: stop.
			s.stop = true
			return Chunk{Data: append([]byte(nil), s.buf[s.pos:s.pos+min(4096, len(s.buf)-s.pos)]...), Line: start,
				Err: fmt.Errorf("%w: over %d bytes; the rest of the input was not read", ErrTooLarge, s.max)}
		}
		off := i - s.pos
		if !s.fill() {
			data := s.buf[s.pos:]
			s.pos = len(s.buf)
			s.line += lines
			return Chunk{Data: data, Line: start, Err: errors.New("unexpected end of input inside a JSON value")}
		}
		i = s.pos + off
	}
}

// nextElement returns the next element of a top-level array. ok is false
// when the array ended (the scanner then continues in value mode).
func (s *Scanner) nextElement() (Chunk, bool) {
	if !s.skipSpace() {
		s.stop = true
		return Chunk{Line: s.line, Err: errors.New("unexpected end of input inside a top-level array")}, true
	}
	switch s.buf[s.pos] {
	case ']':
		s.pos++
		s.mode = modeValues
		return Chunk{}, false
	case ',':
		s.pos++
		if !s.skipSpace() {
			s.stop = true
			return Chunk{Line: s.line, Err: errors.New("unexpected end of input inside a top-level array")}, true
		}
	}
	c := s.nextValue()
	if c.Err != nil && !s.stop {
		// A scalar or garbage inside the array: the array's structure is
		// lost, so report once and stop.
		s.stop = true
	}
	return c, true
}
