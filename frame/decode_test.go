package frame

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// frameRec is one decoded frame: its header and its whole payload.
type frameRec struct {
	H       Header
	Payload []byte
}

// stream is everything a Decoder made of an input, in a form that compares
// with reflect.DeepEqual however the input was split.
type stream struct {
	Frames  []frameRec
	Err     error
	Partial bool // input ended inside a header or a payload
}

func (s stream) String() string {
	var b strings.Builder
	for _, f := range s.Frames {
		p := f.Payload
		if len(p) > 40 {
			p = p[:40]
		}
		fmt.Fprintf(&b, "%+v %d bytes %q\n", f.H, len(f.Payload), p)
	}
	fmt.Fprintf(&b, "err=%v partial=%v", s.Err, s.Partial)
	return b.String()
}

// decodeChunks decodes a copy of in, fed in chunks of size bytes (size <= 0
// feeds it whole), and checks the invariants of Next on every call: n never
// exceeds len(p), KindNone consumes all of p, payload events are non-empty,
// End is set exactly on a frame's last event, Remaining counts down. After
// each chunk is consumed it is overwritten, so a decoder that kept a
// reference to it would give a different stream.
func decodeChunks(t testing.TB, in []byte, size int) stream {
	t.Helper()
	buf := bytes.Clone(in)
	if size <= 0 || size > len(buf) {
		size = max(len(buf), 1)
	}
	var (
		d     Decoder
		s     stream
		cur   *frameRec
		calls int
	)
	for off := 0; off < len(buf); off += size {
		chunk := buf[off:min(off+size, len(buf))]
		p := chunk
		for len(p) > 0 && s.Err == nil {
			// Alternate Next and NextInto (into an Event full of junk that
			// it must overwrite whole).
			calls++
			var (
				ev  Event
				n   int
				err error
			)
			if calls%2 == 0 {
				ev, n, err = d.Next(p)
			} else {
				ev = junkEvent
				n, err = d.NextInto(p, &ev)
				if err != nil && !reflect.DeepEqual(ev, Event{}) {
					t.Fatalf("NextInto left %+v with error %v", ev, err)
				}
			}
			if n < 0 || n > len(p) {
				t.Fatalf("Next consumed %d of %d bytes", n, len(p))
			}
			if err != nil {
				s.Err = err
				break
			}
			if n == 0 {
				t.Fatalf("Next(%d bytes) made no progress: %+v", len(p), ev)
			}
			if ev.Kind != KindHeader && ev.Header != (Header{}) || ev.Kind != KindPayload && ev.Data != nil ||
				ev.Kind == KindNone && ev.End {
				t.Fatalf("event with stray fields: %+v", ev)
			}
			switch ev.Kind {
			case KindNone:
				if n != len(p) {
					t.Fatalf("KindNone consumed %d of %d bytes", n, len(p))
				}
			case KindHeader:
				if cur != nil {
					t.Fatalf("header %+v inside a frame", ev.Header)
				}
				if ev.End != (ev.Header.Length == 0) {
					t.Fatalf("header %+v has End=%v", ev.Header, ev.End)
				}
				s.Frames = append(s.Frames, frameRec{H: ev.Header, Payload: []byte{}})
				cur = &s.Frames[len(s.Frames)-1]
			case KindPayload:
				if cur == nil || len(ev.Data) == 0 || len(ev.Data) != n {
					t.Fatalf("bad payload event: %d bytes of %d consumed, in frame %v", len(ev.Data), n, cur != nil)
				}
				cur.Payload = append(cur.Payload, ev.Data...)
				if got, want := ev.End, uint64(len(cur.Payload)) == cur.H.Length; got != want {
					t.Fatalf("End=%v after %d of %d bytes", got, len(cur.Payload), cur.H.Length)
				}
			}
			if cur != nil {
				if got, want := d.Remaining(), cur.H.Length-uint64(len(cur.Payload)); got != want {
					t.Fatalf("Remaining() = %d; want %d", got, want)
				}
				if ev.End {
					cur = nil
				}
			}
			p = p[n:]
		}
		for c := chunk; len(c) > 0; {
			c = c[copy(c, scribble):]
		}
		if s.Err != nil {
			break
		}
	}
	s.Partial = s.Err == nil && (cur != nil || d.nhdr != 0)
	return s
}

var junkEvent = Event{Kind: 7, Header: Header{true, 7, 0xF, true, [4]byte{1, 2, 3, 4}, 99}, Data: []byte("junk"), End: true}

var scribble = bytes.Repeat([]byte{0xEE}, 4096)

// chunkSizes lists the chunk sizes a case of n bytes is replayed at: every
// size from 1 to n, or for inputs over 1 KiB every size up to 130 (all the
// ways to split a header, at every mask offset) and a spread of larger ones
// (all n sizes of a 64 KiB frame would copy 4 GiB).
func chunkSizes(n int) []int {
	var s []int
	limit := n
	if n > 1024 {
		limit = 130
	}
	for c := 1; c <= limit; c++ {
		s = append(s, c)
	}
	if n > 1024 {
		for c := limit + 1; c < n; c = c*3/2 + 7 {
			s = append(s, c)
		}
		s = append(s, n-1, n)
	}
	return s
}

// maskPlain is the obvious masking loop of RFC 6455 §5.3.
func maskPlain(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

// hdr builds header bytes by hand: b0, b1, extended length and key bytes.
func hdr(b ...byte) []byte { return b }

// masked returns key followed by payload masked with key.
func masked(key [4]byte, payload []byte) []byte {
	p := bytes.Clone(payload)
	maskPlain(key, 0, p)
	return append(key[:], p...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

var (
	key1 = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	key2 = [4]byte{0x01, 0x80, 0xfe, 0x5a}
)

type decodeCase struct {
	name    string
	in      []byte
	want    []frameRec
	err     error
	partial bool
}

func decodeCases() []decodeCase {
	hello := []byte("Hello")
	big16 := seq(256)
	max16 := seq(65535)
	big64 := seq(65536)
	many, manyWant := manyFrames()
	return []decodeCase{
		{name: "empty input"},
		{
			name: "rfc 5.7 unmasked text",
			in:   hdr(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
			want: []frameRec{{Header{Fin: true, Opcode: OpText, Length: 5}, hello}},
		},
		{
			name: "rfc 5.7 masked text",
			in:   hdr(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
			want: []frameRec{{Header{Fin: true, Opcode: OpText, Masked: true, Mask: key1, Length: 5}, hello}},
		},
		{
			name: "rfc 5.7 fragmented text",
			in:   hdr(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f),
			want: []frameRec{
				{Header{Opcode: OpText, Length: 3}, []byte("Hel")},
				{Header{Fin: true, Opcode: OpContinuation, Length: 2}, []byte("lo")},
			},
		},
		{
			name: "rfc 5.7 ping and masked pong",
			in:   hdr(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
			want: []frameRec{
				{Header{Fin: true, Opcode: OpPing, Length: 5}, hello},
				{Header{Fin: true, Opcode: OpPong, Masked: true, Mask: key1, Length: 5}, hello},
			},
		},
		{
			name: "zero-length frames",
			in:   cat(hdr(0x81, 0x00), hdr(0x82, 0x80), key2[:], hdr(0x88, 0x80), key1[:], hdr(0x00, 0x00)),
			want: []frameRec{
				{Header{Fin: true, Opcode: OpText}, []byte{}},
				{Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key2}, []byte{}},
				{Header{Fin: true, Opcode: OpClose, Masked: true, Mask: key1}, []byte{}},
				{Header{Opcode: OpContinuation}, []byte{}},
			},
		},
		{
			name: "7-bit length 125 masked",
			in:   cat(hdr(0x82, 0x80|125), masked(key2, seq(125))),
			want: []frameRec{{Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key2, Length: 125}, seq(125)}},
		},
		{
			name: "16-bit length 126 masked",
			in:   cat(hdr(0x82, 0x80|126, 0x00, 126), masked(key1, seq(126))),
			want: []frameRec{{Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key1, Length: 126}, seq(126)}},
		},
		{
			name: "rfc 5.7 16-bit length 256 unmasked",
			in:   cat(hdr(0x82, 0x7E, 0x01, 0x00), big16),
			want: []frameRec{{Header{Fin: true, Opcode: OpBinary, Length: 256}, big16}},
		},
		{
			name: "16-bit length 65535 masked",
			in:   cat(hdr(0x82, 0xFE, 0xFF, 0xFF), masked(key2, max16)),
			want: []frameRec{{Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key2, Length: 65535}, max16}},
		},
		{
			name: "rfc 5.7 64-bit length 65536 unmasked",
			in:   cat(hdr(0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0), big64),
			want: []frameRec{{Header{Fin: true, Opcode: OpBinary, Length: 65536}, big64}},
		},
		{
			name: "64-bit length 65536 masked",
			in:   cat(hdr(0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0), masked(key1, big64)),
			want: []frameRec{{Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key1, Length: 65536}, big64}},
		},
		{
			name: "non-minimal 16-bit length accepted",
			in:   cat(hdr(0x81, 0xFE, 0x00, 0x03), masked(key1, []byte("abc"))),
			want: []frameRec{{Header{Fin: true, Opcode: OpText, Masked: true, Mask: key1, Length: 3}, []byte("abc")}},
		},
		{
			name: "non-minimal 64-bit length accepted",
			in:   cat(hdr(0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 7), masked(key2, []byte("abcdefg")), hdr(0x8A, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0)),
			want: []frameRec{
				{Header{Fin: true, Opcode: OpText, Masked: true, Mask: key2, Length: 7}, []byte("abcdefg")},
				{Header{Fin: true, Opcode: OpPong}, []byte{}},
			},
		},
		{
			name: "reserved bits and opcodes are decoded, not judged",
			in:   cat(hdr(0xF3, 0x81), masked(key1, []byte{9}), hdr(0x4B, 0x01, 'x')),
			want: []frameRec{
				{Header{Fin: true, Rsv: 7, Opcode: 3, Masked: true, Mask: key1, Length: 1}, []byte{9}},
				{Header{Rsv: 4, Opcode: 0xB, Length: 1}, []byte("x")},
			},
		},
		{
			name: "control frames between fragments",
			in: cat(hdr(0x01, 0x83), masked(key1, []byte("Hel")),
				hdr(0x89, 0x82), masked(key2, []byte("hi")),
				hdr(0x8A, 0x80), key1[:],
				hdr(0x80, 0x82), masked(key2, []byte("lo")),
				hdr(0x88, 0x82), masked(key1, []byte{0x03, 0xE8})),
			want: []frameRec{
				{Header{Opcode: OpText, Masked: true, Mask: key1, Length: 3}, []byte("Hel")},
				{Header{Fin: true, Opcode: OpPing, Masked: true, Mask: key2, Length: 2}, []byte("hi")},
				{Header{Fin: true, Opcode: OpPong, Masked: true, Mask: key1}, []byte{}},
				{Header{Fin: true, Opcode: OpContinuation, Masked: true, Mask: key2, Length: 2}, []byte("lo")},
				{Header{Fin: true, Opcode: OpClose, Masked: true, Mask: key1, Length: 2}, []byte{0x03, 0xE8}},
			},
		},
		{name: "many frames in one buffer", in: many, want: manyWant},
		{
			name: "64-bit length with top bit set",
			in:   hdr(0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0, 'x', 'y'),
			err:  ErrLengthOverflow,
		},
		{
			name: "64-bit length all ones masked after a good frame",
			in:   cat(hdr(0x81, 0x01, 'a'), hdr(0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), key1[:]),
			want: []frameRec{{Header{Fin: true, Opcode: OpText, Length: 1}, []byte("a")}},
			err:  ErrLengthOverflow,
		},
		{
			name:    "largest length declared, 10 bytes sent",
			in:      cat(hdr(0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), masked(key2, seq(10))),
			want:    []frameRec{{Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: key2, Length: 1<<63 - 1}, seq(10)}},
			partial: true,
		},
		{
			name:    "2^40 declared, 10 bytes sent",
			in:      cat(hdr(0x82, 0x7F, 0, 0, 1, 0, 0, 0, 0, 0), seq(10)),
			want:    []frameRec{{Header{Fin: true, Opcode: OpBinary, Length: 1 << 40}, seq(10)}},
			partial: true,
		},
		{name: "one header byte", in: hdr(0x81), partial: true},
		{name: "header cut in extended length", in: hdr(0x82, 0x7E, 0x01), partial: true},
		{name: "header cut in mask key", in: hdr(0x82, 0xFE, 0x01, 0x00, 0x37, 0xfa), partial: true},
		{
			name:    "payload cut short",
			in:      cat(hdr(0x81, 0x85), masked(key1, hello)[:7]),
			want:    []frameRec{{Header{Fin: true, Opcode: OpText, Masked: true, Mask: key1, Length: 5}, []byte("Hel")}},
			partial: true,
		},
	}
}

// manyFrames builds 40 frames of varied forms, masked with varied keys, back
// to back, and the stream they decode to.
func manyFrames() ([]byte, []frameRec) {
	var (
		in   []byte
		want []frameRec
	)
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 125, 126, 127, 200, 300}
	for i := 0; i < 40; i++ {
		n := sizes[i%len(sizes)]
		op := []Opcode{OpText, OpBinary, OpContinuation, OpPing, OpPong}[i%5]
		if op.IsControl() {
			n %= 126
		}
		key := [4]byte{byte(i), byte(i * 3), byte(255 - i), byte(i * 11)}
		h := Header{Fin: i%3 != 0 || op.IsControl(), Opcode: op, Masked: i%4 != 3, Length: uint64(n)}
		b0 := byte(op)
		if h.Fin {
			b0 |= 0x80
		}
		var b1 byte
		if h.Masked {
			b1 = 0x80
			h.Mask = key
		}
		switch {
		case n <= 125:
			in = append(in, b0, b1|byte(n))
		default:
			in = append(in, b0, b1|126, byte(n>>8), byte(n))
		}
		p := seq(n)
		if h.Masked {
			in = append(in, masked(key, p)...)
		} else {
			in = append(in, p...)
		}
		want = append(want, frameRec{h, p})
	}
	return in, want
}

func TestDecoder(t *testing.T) {
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := stream{Frames: tc.want, Err: tc.err, Partial: tc.partial}
			got := decodeChunks(t, tc.in, 0)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decode whole:\n%v\nwant:\n%v", got, want)
			}
			for _, size := range chunkSizes(len(tc.in)) {
				if got := decodeChunks(t, tc.in, size); !reflect.DeepEqual(got, want) {
					t.Fatalf("decode in chunks of %d:\n%v\nwant:\n%v", size, got, want)
				}
			}
		})
	}
}

func TestDecoderErrorSticks(t *testing.T) {
	var d Decoder
	in := hdr(0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0)
	if _, n, err := d.Next(in); err != ErrLengthOverflow || n != len(in) {
		t.Fatalf("Next(%q) = %d, %v; want %d, %v", in, n, err, len(in), ErrLengthOverflow)
	}
	if _, n, err := d.Next(hdr(0x81, 0x00)); err != ErrLengthOverflow || n != 0 {
		t.Fatalf("Next after error = %d, %v; want 0, %v", n, err, ErrLengthOverflow)
	}
	if CodeOf(ErrLengthOverflow) != CloseProtocolError {
		t.Fatalf("CodeOf(ErrLengthOverflow) = %v", CodeOf(ErrLengthOverflow))
	}
	d.Reset()
	ev, n, err := d.Next(hdr(0x81, 0x00))
	if err != nil || n != 2 || ev.Kind != KindHeader || !ev.End {
		t.Fatalf("Next after Reset = %+v, %d, %v", ev, n, err)
	}
}

func TestDecoderEmptyInput(t *testing.T) {
	var d Decoder
	for _, p := range [][]byte{nil, {}} {
		if ev, n, err := d.Next(p); ev.Kind != KindNone || n != 0 || err != nil {
			t.Fatalf("Next(%q) = %+v, %d, %v", p, ev, n, err)
		}
	}
	d.Next(hdr(0x81, 0x05, 'a')) // header, then in payload
	d.Next([]byte("a"))
	if ev, n, err := d.Next(nil); ev.Kind != KindNone || n != 0 || err != nil || d.Remaining() != 4 {
		t.Fatalf("Next(nil) in payload = %+v, %d, %v, remaining %d", ev, n, err, d.Remaining())
	}
}

// TestDecoderPayloadAliasesInput pins the zero-copy contract: Data is a
// subslice of p, unmasked where it lies.
func TestDecoderPayloadAliasesInput(t *testing.T) {
	in := cat(hdr(0x81, 0x85), masked(key1, []byte("Hello")))
	var d Decoder
	_, n, _ := d.Next(in)
	ev, _, _ := d.Next(in[n:])
	if &ev.Data[0] != &in[n] || string(in[n:]) != "Hello" {
		t.Fatalf("payload %q does not alias the input %q", ev.Data, in[n:])
	}
}

func TestDecoderSize(t *testing.T) {
	// design.md asks for at most 48 bytes; the doc comment says 32.
	if size := reflect.TypeFor[Decoder]().Size(); size != 32 {
		t.Fatalf("Decoder is %d bytes; want 32", size)
	}
	if size := reflect.TypeFor[UTF8]().Size(); size > 2 {
		t.Fatalf("UTF8 is %d bytes; want <= 2", size)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindNone: "none", KindHeader: "header", KindPayload: "payload", 9: "kind(?)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q; want %q", k, got, want)
		}
	}
}
