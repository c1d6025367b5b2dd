package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Input is one stream of records: a file, standard input, or a followed
// file.
type Input struct {
	// Name is what quarantine entries and errors call the input: the file
	// path, or "-" for standard input.
	Name string
	// Size is the input's size in bytes on disk, 0 when unknown.
	Size   int64
	follow bool
	open   func(ctx context.Context, idle func()) (io.ReadCloser, error)
}

// logExts are the file extensions read when walking a directory; files
// named explicitly are always read.
var logExts = []string{".json", ".jsonl", ".ndjson", ".log", ".txt"}

// Resolve turns command-line arguments into inputs: files, directories
// (walked recursively, in lexical order, reading files with log
// extensions, optionally gzipped), and "-" for stdin. It returns the files
// it skipped in directories so that the caller can say so.
func Resolve(args []string, stdin io.Reader, follow bool) (inputs []Input, skipped []string, err error) {
	for _, a := range args {
		if a == "-" {
			if follow {
				return nil, nil, errors.New("--follow needs a file, not standard input (stdin is already read until it ends)")
			}
			inputs = append(inputs, Input{Name: "-", open: func(context.Context, func()) (io.ReadCloser, error) {
				return io.NopCloser(stdin), nil
			}})
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			return nil, nil, fmt.Errorf("input %s: %w", a, err)
		}
		if !fi.IsDir() {
			inputs = append(inputs, fileInput(a, fi.Size(), follow))
			continue
		}
		if follow {
			return nil, nil, fmt.Errorf("input %s: --follow needs a file, not a directory", a)
		}
		var files []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if hasLogExt(d.Name()) {
				files = append(files, p)
			} else {
				skipped = append(skipped, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("input %s: %w", a, err)
		}
		sort.Strings(files)
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil {
				return nil, nil, fmt.Errorf("input %s: %w", f, err)
			}
			inputs = append(inputs, fileInput(f, fi.Size(), false))
		}
	}
	return inputs, skipped, nil
}

func hasLogExt(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	for _, e := range logExts {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}

func fileInput(path string, size int64, follow bool) Input {
	return Input{Name: path, Size: size, follow: follow, open: func(ctx context.Context, idle func()) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		if follow {
			return &followReader{ctx: ctx, path: path, f: f, idle: idle, poll: 250 * time.Millisecond}, nil
		}
		return f, nil
	}}
}

// countingReader counts bytes read, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// decompress returns r itself, or a gzip reader when r starts with the gzip
// magic number (CloudTrail delivers .json.gz; users pipe gzip to stdin).
func decompress(r io.Reader) (io.Reader, io.Closer, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, zr, nil
	}
	return br, io.NopCloser(nil), nil
}

// followReader reads a growing file like tail -F: at the end it waits for
// more, starts over when the file is truncated, and moves to the new file
// when it is rotated. It ends (io.EOF) when ctx is done.
type followReader struct {
	ctx  context.Context
	path string
	f    *os.File
	off  int64
	idle func()
	poll time.Duration
	// pending is what was appended to a rotated file after the last read,
	// returned before the new file's contents.
	pending []byte
}

func (r *followReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	for {
		n, err := r.f.Read(p)
		r.off += int64(n)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if r.ctx.Err() != nil {
			return 0, io.EOF
		}
		if r.idle != nil {
			r.idle()
		}
		select {
		case <-r.ctx.Done():
			return 0, io.EOF
		case <-time.After(r.poll):
		}
		if err := r.reopenIfChanged(); err != nil {
			return 0, err
		}
		if len(r.pending) > 0 {
			n := copy(p, r.pending)
			r.pending = r.pending[n:]
			return n, nil
		}
	}
}

func (r *followReader) reopenIfChanged() error {
	cur, err := r.f.Stat()
	if err != nil {
		return err
	}
	if cur.Size() < r.off { // truncated in place
		if _, err := r.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r.off = 0
		return nil
	}
	now, err := os.Stat(r.path)
	if err != nil {
		return nil // rotated away and not yet recreated: keep waiting
	}
	if !os.SameFile(cur, now) {
		// Drain what was appended to the old file before it was rotated;
		// the next Read continues from the new file's start.
		nf, err := os.Open(r.path)
		if err != nil {
			return nil
		}
		rest, err := io.ReadAll(r.f)
		r.f.Close()
		if err != nil {
			nf.Close()
			return err
		}
		r.f = nf
		r.off = 0
		r.pending = rest
	}
	return nil
}

func (r *followReader) Close() error { return r.f.Close() }
