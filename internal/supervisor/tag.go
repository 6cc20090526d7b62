package supervisor

import (
	"bytes"
	"io"
	"strconv"
	"sync"
)

// maxLine is the longest line a tagger holds back waiting for its newline;
// a longer one is written out in pieces of this size, each tagged, so a
// worker printing without newlines cannot grow the parent's memory.
const maxLine = 64 << 10

// tagger is an io.Writer that copies a worker's output to the parent's
// writer line by line, each line tagged with the worker's index: a line that
// starts with '{' (a JSON log record, as log/slog's JSONHandler writes) gets
// a "worker":N field as its first field; any other line gets the prefix
// "worker=N " (a logfmt field, as log/slog's TextHandler writes them). Lines of several workers sharing one writer never interleave
// (mu is shared). Write is called by one goroutine (os/exec's copier);
// Close writes out an unfinished last line.
type tagger struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix []byte // "worker=N "
	field  []byte // `"worker":N`
	buf    []byte // the unfinished line
	out    []byte // scratch for one tagged line
}

func newTagger(mu *sync.Mutex, w io.Writer, index int) *tagger {
	n := strconv.Itoa(index)
	return &tagger{
		mu:     mu,
		w:      w,
		prefix: []byte("worker=" + n + " "),
		field:  []byte(`"worker":` + n),
	}
}

// Write tags and copies every whole line of p, keeping the rest for the
// next call. It never fails: a worker's output is not worth stopping the
// worker for, and the parent's own writer failing is not the worker's fault.
func (t *tagger) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLine - len(t.buf)
			if len(p) < room {
				t.buf = append(t.buf, p...)
				return n, nil
			}
			t.buf = append(t.buf, p[:room]...)
			p = p[room:]
			t.emit(t.buf)
			t.buf = t.buf[:0]
			continue
		}
		line := p[:i]
		if len(t.buf) > 0 {
			t.buf = append(t.buf, line...)
			line = t.buf
		}
		t.emit(line)
		t.buf = t.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// Close writes out the unfinished last line, if any.
func (t *tagger) Close() error {
	if len(t.buf) > 0 {
		t.emit(t.buf)
		t.buf = t.buf[:0]
	}
	return nil
}

// emit writes one line (without its newline) tagged, and a newline.
func (t *tagger) emit(line []byte) {
	t.out = appendTagged(t.out[:0], line, t.prefix, t.field)
	t.mu.Lock()
	t.w.Write(t.out)
	t.mu.Unlock()
}

// appendTagged appends line, tagged, and a newline to dst.
func appendTagged(dst, line, prefix, field []byte) []byte {
	if len(line) > 0 && line[0] == '{' {
		rest := line[1:]
		dst = append(dst, '{')
		dst = append(dst, field...)
		if len(bytes.TrimLeft(rest, " \t")) > 0 && bytes.TrimLeft(rest, " \t")[0] != '}' {
			dst = append(dst, ',')
		}
		dst = append(dst, rest...)
		return append(dst, '\n')
	}
	dst = append(dst, prefix...)
	dst = append(dst, line...)
	return append(dst, '\n')
}
