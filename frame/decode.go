package frame

// Kind says what an Event carries.
type Kind uint8

// The kinds of Event.
const (
	KindNone    Kind = iota // p exhausted, need more bytes
	KindHeader              // Event.Header holds a complete frame header
	KindPayload             // Event.Data holds a non-empty, unmasked chunk of payload
)

// String returns "none", "header" or "payload".
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindHeader:
		return "header"
	case KindPayload:
		return "payload"
	}
	return "kind(?)"
}

// Event is one step of decoding, returned by Decoder.Next.
type Event struct {
	Kind   Kind
	Header Header // KindHeader: the frame's header
	// Data is, for KindPayload, a chunk of payload, UNMASKED IN PLACE,
	// aliasing the p given to Next: it is valid as long as p is.
	Data []byte
	// End is true when this event completes the frame's payload: a
	// KindHeader with Length 0, or the last KindPayload of the frame.
	End bool
}

// Decoder states.
const (
	stateHeader  uint8 = iota // collecting header bytes (nhdr of them so far)
	statePayload              // returning payload; remaining > 0
	stateFailed               // a header was invalid; the decoder is unusable
)

// Decoder is an incremental frame decoder (RFC 6455 §5.2). It is fed
// whatever bytes have arrived and never blocks. The zero value is ready to
// use; it is 32 bytes and holds no pointer.
//
// It never keeps p: a header split across calls is copied into the decoder
// (at most MaxHeaderLen bytes). It never allocates, and a declared length is
// never allocated up front: payload is handed back in the pieces it arrives.
//
// A Decoder is not safe for concurrent use; call it from the goroutine that
// owns the connection (its event loop).
type Decoder struct {
	remaining uint64             // payload bytes of the current frame not yet returned
	hdr       [MaxHeaderLen]byte // header bytes collected across calls
	nhdr      uint8              // len of hdr in use
	state     uint8              // stateHeader, statePayload or stateFailed
	masked    bool               // current frame is masked
	pos       uint8              // mask offset of the next payload byte (0..3)
	key       uint32             // current frame's masking key, little-endian
}

// Next consumes a prefix of p and returns one event and the number of bytes
// consumed.
//
// Payload is unmasked in place in p (RFC 6455 §5.3: "octet i of the
// transformed data is the XOR of octet i of the original data with octet at
// index i modulo 4 of the masking key"), so the caller lends p writable;
// masking continues correctly across calls. A frame with Length 0 yields a
// single KindHeader event with End = true. A KindPayload event is never
// empty. KindNone means every byte of p was consumed (n == len(p)) without
// completing a header or yielding payload; call again with more bytes.
//
// The only error is ErrLengthOverflow (a 64-bit length with its most
// significant bit set, §5.2). After an error the decoder is unusable: Next
// keeps returning the error until Reset. Next applies no policy: the rules of
// §5.1 and §5.5 for a server are in CheckClientFrame.
//
// Call it from the goroutine that owns the connection. It does not keep p;
// Data aliases p and is valid as long as p is. A hot loop may prefer
// NextInto, which is the same without the copy of a returned Event.
func (d *Decoder) Next(p []byte) (ev Event, n int, err error) {
	n, err = d.NextInto(p, &ev)
	return ev, n, err
}

// NextInto is Next writing the event into *ev, which it overwrites whole.
// On the hot path it saves the caller the copy of the 56-byte Event that
// returning it by value costs (a copy that stalls on the fields just
// written). ev is not kept.
func (d *Decoder) NextInto(p []byte, ev *Event) (n int, err error) {
	switch d.state {
	case statePayload:
		if len(p) == 0 {
			*ev = Event{}
			return 0, nil
		}
		m := len(p)
		if uint64(m) > d.remaining {
			m = int(d.remaining)
		}
		data := p[:m:m]
		if d.masked {
			d.pos = uint8(maskKey(d.key, int(d.pos), data))
		}
		d.remaining -= uint64(m)
		end := d.remaining == 0
		if end {
			d.state = stateHeader
		}
		*ev = Event{}
		ev.Kind, ev.Data, ev.End = KindPayload, data, end
		return m, nil
	case stateFailed:
		*ev = Event{}
		return 0, ErrLengthOverflow
	}
	b := p
	if d.nhdr == 0 && len(p) >= 2 && len(p) >= headerLen(p[1]) {
		// Fast path: the whole header is in p; parse it where it lies.
		n = headerLen(p[1])
	} else {
		var done bool
		if n, done = d.collect(p); !done {
			*ev = Event{}
			return n, nil
		}
		b = d.hdr[:]
		d.nhdr = 0
	}
	length, key, err := parseHeader(b)
	if err != nil {
		d.state = stateFailed
		*ev = Event{}
		return n, err
	}
	// Written field by field from scalars: a composite literal or a Header
	// value would be built on the stack and copied, and copying a Header or
	// an Event through memory costs more than decoding a small frame.
	b0, b1 := b[0], b[1]
	*ev = Event{}
	ev.Kind = KindHeader
	ev.Header.Fin = b0&bitFin != 0
	ev.Header.Rsv = (b0 & maskRsv) >> 4
	ev.Header.Opcode = Opcode(b0 & maskOp)
	ev.Header.Masked = b1&bitMask != 0
	ev.Header.Mask = keyBytes(key)
	ev.Header.Length = length
	ev.End = length == 0
	if length != 0 {
		d.state = statePayload
		d.remaining = length
		d.masked = b1&bitMask != 0
		d.key = key
		d.pos = 0
	}
	return n, nil
}

// collect copies header bytes of p into d.hdr and reports how many it took
// and whether the header is now complete.
func (d *Decoder) collect(p []byte) (n int, done bool) {
	want := 2
	if d.nhdr >= 2 {
		want = headerLen(d.hdr[1])
	}
	for {
		c := copy(d.hdr[d.nhdr:want], p[n:])
		d.nhdr += uint8(c)
		n += c
		if int(d.nhdr) < want {
			return n, false // p exhausted
		}
		if want == 2 {
			if want = headerLen(d.hdr[1]); want > 2 {
				continue
			}
		}
		return n, true
	}
}

// Remaining returns the payload bytes of the current frame not yet returned
// by Next (0 between frames and while a header is being collected).
func (d *Decoder) Remaining() uint64 { return d.remaining }

// Reset makes d ready to decode a new stream, as the zero value.
func (d *Decoder) Reset() { *d = Decoder{} }
