package flatecmp

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// sink collects compressed output without growing once warm.
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }

// jsonText is n bytes of JSON-like text, the benchmark payload.
func jsonText(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user%d","active":%v,"tags":["a","b%d"],"score":%d.%d},`, i, i*7, i%3 == 0, i%11, i*13%1000, i%10)
	}
	return b.Bytes()[:n]
}

type writer interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

var libs = []struct {
	name string
	new  func(w io.Writer, level int) writer
}{
	{"stdlib", func(w io.Writer, level int) writer { f, _ := stdflate.NewWriter(w, level); return f }},
	{"klauspost", func(w io.Writer, level int) writer { f, _ := kflate.NewWriter(w, level); return f }},
}

// BenchmarkMessage: one message as the server compresses it without
// context takeover: Reset, Write, sync Flush. wire-B is the compressed size.
func BenchmarkMessage(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		data := jsonText(size)
		for _, level := range []int{1, 6} {
			for _, lib := range libs {
				b.Run(fmt.Sprintf("%dKiB/level%d/%s", size>>10, level, lib.name), func(b *testing.B) {
					s := &sink{b: make([]byte, 0, 2*size)}
					w := lib.new(s, level)
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						s.b = s.b[:0]
						w.Reset(s)
						w.Write(data)
						w.Flush()
					}
					b.ReportMetric(float64(len(s.b)), "wire-B")
				})
			}
		}
	}
}

// BenchmarkNewWriter: the memory one compressor holds (B/op), including
// klauspost's custom-window writer for server_max_window_bits below 15.
func BenchmarkNewWriter(b *testing.B) {
	for _, level := range []int{1, 6, 9} {
		for _, lib := range libs {
			b.Run(fmt.Sprintf("level%d/%s", level, lib.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					w := lib.new(io.Discard, level)
					w.Write([]byte("hello hello hello"))
					w.Flush()
				}
			})
		}
	}
	b.Run("window512/klauspost", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			w, _ := kflate.NewWriterWindow(io.Discard, 512)
			w.Write([]byte("hello hello hello"))
			w.Flush()
		}
	})
}
