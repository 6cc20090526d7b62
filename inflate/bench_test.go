package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
)

// BenchmarkInflate decodes the same streams with this package and with
// compress/flate, side by side (MB/s is of inflated bytes):
//
//	go test -run '^$' -bench Inflate -benchmem ./inflate
//
// Ours is fed the stream in 4 KiB pieces (as a reactor receives it) into a
// 16 KiB out buffer; compress/flate reads it from a bytes.Reader into the
// same out buffer, its Reader reused through flate.Resetter.
func BenchmarkInflate(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"json1k", jsonText(1<<10, 41)},
		{"json64k", jsonText(64<<10, 42)},
		{"random64k", randomBytes(64<<10, 43)},
		{"zeros1m", make([]byte, 1<<20)}, // a bomb's shape: long matches at distance 1
	}
	for _, in := range inputs {
		stream := compress(b, in.data, flate.DefaultCompression, 0)
		b.Run(fmt.Sprintf("%s/inflate", in.name), func(b *testing.B) {
			var f Inflater
			out := make([]byte, 16<<10)
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				f.Reset(15)
				n := 0
				for s := stream; len(s) > 0 || !f.Final(); {
					piece := s[:min(len(s), 4096)]
					nOut, nIn, err := f.Inflate(out, piece)
					if err != nil {
						b.Fatal(err)
					}
					n += nOut
					s = s[nIn:]
				}
				if n != len(in.data) {
					b.Fatalf("got %d bytes; want %d", n, len(in.data))
				}
			}
		})
		b.Run(fmt.Sprintf("%s/stdlib", in.name), func(b *testing.B) {
			br := bytes.NewReader(stream)
			r := flate.NewReader(br)
			out := make([]byte, 16<<10)
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				br.Reset(stream)
				r.(flate.Resetter).Reset(br, nil)
				n := 0
				for {
					k, err := r.Read(out)
					n += k
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if n != len(in.data) {
					b.Fatalf("got %d bytes; want %d", n, len(in.data))
				}
			}
		})
	}
}
