package inflate

// Moving a stream between processes: between two DEFLATE blocks (Flushed
// reports true) an Inflater's whole state is its window, the history that
// later back-references copy from (RFC 1951 §3.2.5). AppendWindow exports
// it and SetWindow starts a fresh Inflater over it, so a stream (a
// permessage-deflate connection with client context takeover, RFC 7692
// §7.1.1.2) can continue in another Inflater, in another process.

// AppendWindow appends the window, oldest byte first (at most
// 1<<windowBits bytes), to dst and returns the result. It is meaningful
// only while Flushed reports true; the window itself is not changed.
func (f *Inflater) AppendWindow(dst []byte) []byte {
	if f.whave < f.winSize {
		return append(dst, f.win[:f.whave]...)
	}
	dst = append(dst, f.win[f.wpos:f.winSize]...)
	return append(dst, f.win[:f.wpos]...)
}

// SetWindow resets f for a new stream as Reset(windowBits) does and fills
// its window with hist (its last 1<<windowBits bytes if longer), as if f
// had just written hist: the stream's back-references may reach into it.
func (f *Inflater) SetWindow(windowBits int, hist []byte) {
	f.Reset(windowBits)
	if len(f.win) < f.winSize {
		if cap(f.win) >= f.winSize {
			f.win = f.win[:f.winSize]
		} else {
			f.win = make([]byte, f.winSize)
		}
	}
	f.remember(hist)
}
