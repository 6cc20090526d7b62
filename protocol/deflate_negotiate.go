package protocol

import (
	"strconv"
	"strings"

	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// permessage-deflate negotiation (RFC 7692 §5, §7.1).

// deflateExt is the extension's name (RFC 7692 §7).
const deflateExt = "permessage-deflate"

// DeflateConfig is the server's permessage-deflate policy (RFC 7692).
type DeflateConfig struct {
	// Enabled accepts a client's permessage-deflate offer. Off, the server
	// answers every handshake without the extension (RFC 6455 §9.1).
	Enabled bool

	// ContextTakeover lets the LZ77 window carry over from one message to
	// the next, in each direction where the client allows it (RFC 7692
	// §7.1.1): better compression of similar messages, at the cost of a
	// compressor and a decompressor kept by every connection for its whole
	// life. Off (the default), the server answers with
	// server_no_context_takeover and client_no_context_takeover, so both
	// exist only while a message is in flight and come from pools shared
	// by the connections of one event loop: an idle connection costs no
	// more than one without compression.
	ContextTakeover bool

	// Level is the compression level, 1 (fastest) to 9 (smallest).
	// Default 1.
	Level int

	// MinSize: a message whose first fragment is shorter than this is sent
	// uncompressed (RSV1 is per message, RFC 7692 §6: "An endpoint MAY
	// send a message without compression"). 0 compresses every message.
	MinSize int
}

// deflateParams is permessage-deflate as negotiated on one connection,
// and which of its current messages are compressed, in one byte; 0 when
// the extension was not negotiated.
type deflateParams uint8

const (
	dflOn          deflateParams = 1 << iota // negotiated
	dflServerNoCtx                           // server_no_context_takeover (§7.1.1.1)
	dflClientNoCtx                           // client_no_context_takeover (§7.1.1.2)
	dflReadComp                              // the message being received is compressed (RSV1)
	dflWriteComp                             // the message being sent is compressed
	dflBitsShift   = 5                       // bits 5-7: the server's window bits - 8 (§7.1.2.1)
)

// on reports whether the extension was negotiated.
func (p deflateParams) on() bool { return p&dflOn != 0 }

// has reports whether flag f is set.
func (p deflateParams) has(f deflateParams) bool { return p&f != 0 }

// set sets or clears flag f.
func (p *deflateParams) set(f deflateParams, v bool) {
	if v {
		*p |= f
	} else {
		*p &^= f
	}
}

// serverBits is the window size (log2) of the server's compressor, 8..15.
func (p deflateParams) serverBits() uint8 { return 8 + uint8(p>>dflBitsShift) }

// deflateAnswer is the outcome of a negotiation: the parameters, and
// whether the answer names server_max_window_bits (only when the offer
// did, §7.1.2.1).
type deflateAnswer struct {
	p       deflateParams
	srvBits bool
}

// negotiateDeflate picks the first acceptable permessage-deflate offer in
// a Sec-WebSocket-Extensions value (RFC 7692 §5: "the server ... accepts
// ... by choosing an offer"; §5.1). An offer is declined, and the next one
// considered, when it has a parameter that is unknown, repeated, or
// without the value it requires or with one it must not have, or a window
// size other than 8 to 15 (§7.1: "A server MUST decline an extension
// negotiation offer for this extension if any of the following conditions
// are met"). Other extensions are ignored: the server answers none of them.
// A list that breaks the §9.1 grammar ends the search where it breaks.
func negotiateDeflate(header string, cfg *DeflateConfig) (a deflateAnswer, ok bool) {
	if !cfg.Enabled {
		return a, false
	}
	for i, more := 0, true; more; {
		var o handshake.Extension
		var valid bool
		o, i, more, valid = handshake.NextExtension(header, i)
		if !valid {
			return deflateAnswer{}, false
		}
		if !more {
			break
		}
		if !strings.EqualFold(o.Name, deflateExt) {
			continue
		}
		if a, ok = acceptDeflate(&o, cfg); ok {
			return a, true
		}
	}
	return deflateAnswer{}, false
}

// acceptDeflate decides one permessage-deflate offer (RFC 7692 §7.1).
func acceptDeflate(o *handshake.Extension, cfg *DeflateConfig) (a deflateAnswer, ok bool) {
	if o.N > len(o.Params) {
		return deflateAnswer{}, false // more parameters than there are distinct ones (four)
	}
	var seen uint8
	p, bits := dflOn, uint8(15)
	for _, q := range o.Params[:o.N] {
		var bit uint8
		switch {
		case strings.EqualFold(q.Name, "server_no_context_takeover"):
			// §7.1.1.1: the client asks the server not to keep its
			// window between messages; the answer MUST include it.
			bit = 1
			if q.HasValue {
				return deflateAnswer{}, false
			}
			p |= dflServerNoCtx
		case strings.EqualFold(q.Name, "client_no_context_takeover"):
			// §7.1.1.2: the client will not keep its window; the server
			// MAY say so too.
			bit = 2
			if q.HasValue {
				return deflateAnswer{}, false
			}
			p |= dflClientNoCtx
		case strings.EqualFold(q.Name, "server_max_window_bits"):
			// §7.1.2.1: the server MUST use at most this window, and say
			// so in the answer; the value is required.
			bit = 4
			b, valid := parseWindowBits(q.Value)
			if !q.HasValue || !valid {
				return deflateAnswer{}, false
			}
			bits, a.srvBits = b, true
		case strings.EqualFold(q.Name, "client_max_window_bits"):
			// §7.1.2.2: the client supports a window limit (no value) or
			// will use at most this window (a value).
			bit = 8
			if q.HasValue {
				if _, valid := parseWindowBits(q.Value); !valid {
					return deflateAnswer{}, false
				}
			}
		default:
			return deflateAnswer{}, false
		}
		if seen&bit != 0 {
			return deflateAnswer{}, false
		}
		seen |= bit
	}
	if !cfg.ContextTakeover {
		// §7.1.1.1 and §7.1.1.2: a server MAY include either parameter
		// even when the offer did not.
		p |= dflServerNoCtx | dflClientNoCtx
	}
	a.p = p | deflateParams(bits-8)<<dflBitsShift
	return a, true
}

// parseWindowBits parses a window size value: "8" to "15", without
// leading zeros (RFC 7692 §7.1.2.1: "a decimal integer value without
// leading zeroes between 8 to 15, inclusive"), quoted or not.
func parseWindowBits(v string) (uint8, bool) {
	switch {
	case len(v) == 1 && v[0] >= '8' && v[0] <= '9':
		return v[0] - '0', true
	case len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5':
		return 10 + v[1] - '0', true
	}
	return 0, false
}

// appendDeflateAnswer appends the Sec-WebSocket-Extensions line (with its
// CR LF) of a 101 that accepts the offer a came from (RFC 7692 §7.1), to
// go after handshake.AppendResponseHeader: the parameters the
// RFC requires and those of the server's policy. It never names a
// parameter the RFC forbids in an answer (client_max_window_bits when the
// offer had none, §7.1.2.2).
func appendDeflateAnswer(dst []byte, a deflateAnswer) []byte {
	p := a.p
	dst = append(dst, "Sec-WebSocket-Extensions: permessage-deflate"...)
	if p.has(dflServerNoCtx) {
		dst = append(dst, "; server_no_context_takeover"...)
	}
	if p.has(dflClientNoCtx) {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if a.srvBits {
		dst = append(dst, "; server_max_window_bits="...)
		dst = strconv.AppendUint(dst, uint64(p.serverBits()), 10)
	}
	return append(dst, "\r\n"...)
}
