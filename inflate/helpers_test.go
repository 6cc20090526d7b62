package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// push feeds stream to a freshly Reset f in the pieces given by cuts
// (increasing offsets into stream), draining with an out buffer of outSize
// bytes, and returns everything that came out. It fails the test if Inflate
// breaks its contract: returning with input left while out still had room
// and the stream had not ended.
func push(t testing.TB, f *Inflater, windowBits int, stream []byte, cuts []int, outSize int) ([]byte, error) {
	t.Helper()
	f.Reset(windowBits)
	var got []byte
	out := make([]byte, outSize)
	lent := make([]byte, 0, len(stream))
	prev := 0
	for k := 0; k <= len(cuts); k++ {
		end := len(stream)
		if k < len(cuts) {
			end = cuts[k]
		}
		in := stream[prev:end]
		prev = end
		for {
			// Lend a copy of in and scribble over it and over out after
			// the call: Inflate must keep no reference to either.
			lent = append(lent[:0], in...)
			nOut, nIn, err := f.Inflate(out, lent)
			got = append(got, out[:nOut]...)
			scribble(out[:nOut])
			scribble(lent)
			if err != nil {
				return got, err
			}
			if nIn > len(in) || nOut > len(out) {
				t.Fatalf("Inflate returned nOut=%d nIn=%d for len(out)=%d len(in)=%d", nOut, nIn, len(out), len(in))
			}
			in = in[nIn:]
			if f.Final() {
				if len(in) > 0 || k < len(cuts) && prev < len(stream) {
					return got, fmt.Errorf("%d bytes after the final block", len(in)+len(stream)-prev)
				}
				return got, nil
			}
			if nOut < len(out) && len(in) > 0 {
				t.Fatalf("Inflate returned with %d input bytes left, out not full (%d of %d) and not final", len(in), nOut, len(out))
			}
			if len(in) == 0 && nOut < len(out) {
				break
			}
		}
	}
	return got, nil
}

// scribble overwrites p with a pattern (with copy: cheap under -race).
func scribble(p []byte) {
	for len(p) > 0 {
		p = p[copy(p, garbage[:]):]
	}
}

var garbage = func() (g [4096]byte) {
	for i := range g {
		g[i] = byte(i*7 + 0x55)
	}
	return g
}()

// inflateWith decodes stream with compress/flate, the reference.
func inflateWith(stream []byte) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(flate.NewReader(bytes.NewReader(stream)))
	return b.Bytes(), err
}

// compress deflates data with compress/flate at level, with a sync flush
// after every flushEvery bytes (0: none), and closes the stream (BFINAL).
func compress(t testing.TB, data []byte, level, flushEvery int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	writeFlushing(t, w, data, flushEvery)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// compressWindow deflates data with klauspost's writer restricted to a
// window of 1<<windowBits bytes, ending with a sync flush only (as
// permessage-deflate does), not BFINAL.
func compressWindow(t testing.TB, data []byte, windowBits int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := kflate.NewWriterWindow(&b, 1<<windowBits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type flusher interface {
	Write([]byte) (int, error)
	Flush() error
}

func writeFlushing(t testing.TB, w flusher, data []byte, flushEvery int) {
	t.Helper()
	for len(data) > 0 {
		n := len(data)
		if flushEvery > 0 {
			n = min(n, flushEvery)
		}
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
		if flushEvery > 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Test inputs.

func jsonText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"id", "name", "value", "status", "ok", "error", "items", "price", "count", "user", "created_at", "tags"}
	var b strings.Builder
	b.WriteString("[")
	for b.Len() < n {
		fmt.Fprintf(&b, `{"%s":%d,"%s":"%s-%d","%s":[%d,%d,%d],"%s":%t},`,
			words[r.IntN(len(words))], r.IntN(100000),
			words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1000),
			words[r.IntN(len(words))], r.IntN(10), r.IntN(100), r.IntN(1000),
			words[r.IntN(len(words))], r.IntN(2) == 0)
	}
	return []byte(b.String()[:n])
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// repetitive has long runs and short periods: overlapping back-references.
func repetitive(n int) []byte {
	p := make([]byte, 0, n)
	for i := 0; len(p) < n; i++ {
		switch i % 3 {
		case 0:
			p = append(p, bytes.Repeat([]byte{'a'}, 300)...)
		case 1:
			p = append(p, bytes.Repeat([]byte("xyz"), 100)...)
		default:
			p = append(p, byte(i))
		}
	}
	return p[:n]
}

type sample struct {
	name string
	data []byte
}

func samples() []sample {
	return []sample{
		{"empty", nil},
		{"one", []byte("x")},
		{"hello", []byte("Hello")},
		{"json1k", jsonText(1024, 1)},
		{"json64k", jsonText(64<<10, 2)},
		{"random4k", randomBytes(4096, 3)},
		{"random70k", randomBytes(70000, 4)},
		{"repetitive100k", repetitive(100000)},
		{"zeros200k", make([]byte, 200000)},
	}
}
