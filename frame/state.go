package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Moving a decoder between processes (a binary upgrade that keeps every
// connection): a Decoder and a UTF8 validator are plain values, and their
// state goes out and comes back as bytes, so that a frame split across the
// move (mid-header, mid-payload with its masking key and offset, mid-code
// point) decodes on as if nothing had happened.

// DecoderStateLen is the length of AppendState's output.
const DecoderStateLen = 8 + MaxHeaderLen + 1 + 1 + 1 + 1 + 4

// ErrBadState is returned for a decoder or validator state that no
// AppendState could have produced.
var ErrBadState = errors.New("frame: invalid decoder state")

// AppendState appends d's state (DecoderStateLen bytes) to dst.
func (d *Decoder) AppendState(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, d.remaining)
	dst = append(dst, d.hdr[:]...)
	dst = append(dst, d.nhdr, d.state, b2u(d.masked), d.pos)
	return binary.LittleEndian.AppendUint32(dst, d.key)
}

// SetState restores a state from AppendState (the first DecoderStateLen
// bytes of p). An impossible state is an error wrapping ErrBadState, and d
// is left unchanged.
func (d *Decoder) SetState(p []byte) error {
	if len(p) < DecoderStateLen {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadState, len(p), DecoderStateLen)
	}
	var n Decoder
	n.remaining = binary.LittleEndian.Uint64(p)
	copy(n.hdr[:], p[8:8+MaxHeaderLen])
	q := p[8+MaxHeaderLen:]
	n.nhdr, n.state, n.pos = q[0], q[1], q[3]
	n.masked = q[2] == 1
	n.key = binary.LittleEndian.Uint32(q[4:])
	switch {
	case n.state > stateFailed, q[2] > 1, n.pos > 3, n.nhdr > MaxHeaderLen,
		n.state == statePayload && (n.remaining == 0 || n.nhdr != 0),
		n.state == stateHeader && n.remaining != 0:
		return fmt.Errorf("%w: state %d, header bytes %d, mask offset %d, remaining %d", ErrBadState, n.state, n.nhdr, n.pos, n.remaining)
	}
	*d = n
	return nil
}

// State is the validator's state as one byte, for SetState.
func (v *UTF8) State() uint8 { return v.state }

// SetState restores a state from State; an impossible one is an error
// wrapping ErrBadState, and v is left unchanged.
func (v *UTF8) SetState(s uint8) error {
	if s%6 != 0 || s/6 >= dfaStates {
		return fmt.Errorf("%w: UTF-8 state %d", ErrBadState, s)
	}
	v.state = s
	return nil
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}
