package frame

// CheckClientFrame applies the single-frame rules of RFC 6455 to a header
// that a server received, in this order:
//
//   - §5.1: "The server MUST close the connection upon receiving a frame that
//     is not masked" (ErrUnmasked);
//   - §5.2: RSV bits "MUST be 0 unless an extension is negotiated that
//     defines meanings for non-zero values"; bits set in rsvAllowed (RSV1=4,
//     RSV2=2, RSV3=1) are allowed (ErrReservedBits);
//   - §5.2: "If an unknown opcode is received, the receiving endpoint MUST
//     _Fail the WebSocket Connection_" (ErrReservedOpcode);
//   - §5.5: "All control frames MUST have a payload length of 125 bytes or
//     less and MUST NOT be fragmented" (ErrControlTooLong,
//     ErrControlFragmented).
//
// It returns nil or one of those sentinels (all close 1002), so callers may
// compare with ==. Rules that span frames (continuations, §5.4) are the
// caller's. It may be called from any goroutine and never allocates.
func CheckClientFrame(h Header, rsvAllowed byte) error {
	switch {
	case !h.Masked:
		return ErrUnmasked
	case h.Rsv&^rsvAllowed != 0:
		return ErrReservedBits
	case h.Opcode.IsReserved():
		return ErrReservedOpcode
	case h.Opcode.IsControl() && h.Length > 125:
		return ErrControlTooLong
	case h.Opcode.IsControl() && !h.Fin:
		return ErrControlFragmented
	}
	return nil
}
