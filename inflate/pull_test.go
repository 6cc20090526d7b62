package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// growingReader returns what has been pushed so far, then io.EOF: what an
// event loop can offer a pull decoder between two reads of a socket.
type growingReader struct{ buf bytes.Buffer }

func (r *growingReader) Read(p []byte) (int, error) { return r.buf.Read(p) }

// TestPullDecodersCannotResume is why this package exists: compress/flate
// and klauspost/compress/flate, read from a source that has run dry
// mid-stream, fail with io.ErrUnexpectedEOF and keep failing after the
// rest of the stream arrives, while an Inflater takes the rest and
// finishes.
func TestPullDecodersCannotResume(t *testing.T) {
	data := jsonText(10000, 61)
	stream := compress(t, data, flate.DefaultCompression, 0)
	half := len(stream) / 2
	for name, newReader := range map[string]func(io.Reader) io.Reader{
		"compress/flate":           func(r io.Reader) io.Reader { return flate.NewReader(r) },
		"klauspost/compress/flate": func(r io.Reader) io.Reader { return kflate.NewReader(r) },
	} {
		src := &growingReader{}
		src.buf.Write(stream[:half])
		r := newReader(src)
		_, err := io.ReadAll(r)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%s, half the stream: err = %v; want io.ErrUnexpectedEOF", name, err)
		}
		src.buf.Write(stream[half:])
		if n, err := r.Read(make([]byte, 100)); n != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s after the rest arrived: %d, %v; the claim is that it stays io.ErrUnexpectedEOF", name, n, err)
		}
	}
	var f Inflater
	got, err := push(t, &f, 15, stream, []int{half}, 4096)
	if err != nil || !bytes.Equal(got, data) || !f.Final() {
		t.Fatalf("Inflater: %d bytes, %v, Final %v; want %d, nil, true", len(got), err, f.Final(), len(data))
	}
}
