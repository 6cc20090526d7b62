package frame

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Micro-benchmarks per payload size. Compare runs with benchstat; whole
// server comparisons belong to bench/.

var benchSizes = []int{16, 64, 1024, 4096, 65536}

func sizeName(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// BenchmarkDecode decodes one masked client frame (header and payload,
// unmasking in place) per iteration.
func BenchmarkDecode(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			wire := AppendMaskedFrame(nil, true, OpBinary, key1, seq(n))
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				var d Decoder
				for p := wire; len(p) > 0; {
					_, m, _ := d.Next(p)
					p = p[m:]
				}
			}
		})
	}
}

// BenchmarkDecodeBatch decodes 16 masked 64-byte frames that arrived in one
// read, as with 16 messages in flight, and looks at each event as a caller
// does; with Next (the Event returned by value) and with NextInto.
func BenchmarkDecodeBatch(b *testing.B) {
	var wire []byte
	for range 16 {
		wire = AppendMaskedFrame(wire, true, OpText, key2, seq(64))
	}
	use := func(ev *Event) {
		switch ev.Kind {
		case KindHeader:
			sink += int(ev.Header.Opcode)
		case KindPayload:
			sink += len(ev.Data)
		}
	}
	b.Run("Next", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16 * 64)
		var d Decoder
		for b.Loop() {
			for p := wire; len(p) > 0; {
				ev, m, _ := d.Next(p)
				use(&ev)
				p = p[m:]
			}
		}
	})
	b.Run("NextInto", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(16 * 64)
		var (
			d  Decoder
			ev Event
		)
		for b.Loop() {
			for p := wire; len(p) > 0; {
				m, _ := d.NextInto(p, &ev)
				use(&ev)
				p = p[m:]
			}
		}
	})
}

var sink int

// BenchmarkEncode appends one frame to a reused buffer: unmasked as a
// server sends it, or masked as a client does.
func BenchmarkEncode(b *testing.B) {
	for _, masked := range []bool{false, true} {
		for _, n := range benchSizes {
			name := "unmasked/" + sizeName(n)
			if masked {
				name = "masked/" + sizeName(n)
			}
			b.Run(name, func(b *testing.B) {
				payload := seq(n)
				dst := make([]byte, 0, n+MaxHeaderLen)
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if masked {
						dst = AppendMaskedFrame(dst[:0], true, OpBinary, key2, payload)
					} else {
						dst = AppendFrame(dst[:0], true, OpBinary, payload)
					}
				}
			})
		}
	}
}

// BenchmarkMask masks in place at an odd key offset.
func BenchmarkMask(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			buf := seq(n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				Mask(key1, 1, buf)
			}
		})
	}
}

func benchText(kind string, n int) []byte {
	unit := "plain ascii text, "
	if kind == "multibyte" {
		unit = "Grüße, 世界 🌍! κόσμε "
	}
	return []byte(strings.Repeat(unit, n/len(unit)+1)[:n])
}

// BenchmarkUTF8 validates ASCII and multibyte text; stdlib is
// unicode/utf8.Valid on the same bytes, for reference.
func BenchmarkUTF8(b *testing.B) {
	for _, kind := range []string{"ascii", "multibyte"} {
		for _, n := range benchSizes {
			text := benchText(kind, n)
			b.Run(kind+"/"+sizeName(n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					var v UTF8
					v.Validate(text)
				}
			})
			b.Run("stdlib-"+kind+"/"+sizeName(n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					utf8.Valid(text)
				}
			})
		}
	}
}
