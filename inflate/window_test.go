package inflate

import (
	"bytes"
	"compress/flate"
	"testing"
)

// TestWindowMoves inflates a stream that refers back across a sync flush in
// one Inflater, moves its window to a second Inflater at the flush, and
// checks the second decodes the rest exactly as an unmoved one would.
func TestWindowMoves(t *testing.T) {
	for _, histLen := range []int{0, 10, 1000, 40000, 70000} {
		hist := bytes.Repeat([]byte("abcdefghij0123456789"), histLen/20+1)[:histLen]
		next := append([]byte("prefix "), hist[len(hist)/2:]...) // refers back into hist
		var comp bytes.Buffer
		w, _ := flate.NewWriter(&comp, 6)
		w.Write(hist)
		w.Flush()
		cut := comp.Len()
		w.Write(next)
		w.Flush()
		stream := comp.Bytes()

		var a Inflater
		a.Reset(15)
		out := make([]byte, 200000)
		n, _, err := a.Inflate(out, stream[:cut])
		if err != nil || !bytes.Equal(out[:n], hist) || !a.Flushed() {
			t.Fatalf("hist %d: first part: %v, %d bytes, flushed %v", histLen, err, n, a.Flushed())
		}
		var b Inflater
		b.SetWindow(15, a.AppendWindow(nil))
		n, _, err = b.Inflate(out, stream[cut:])
		if err != nil || !bytes.Equal(out[:n], next) {
			t.Fatalf("hist %d: moved Inflater = %q..., %v; want %q...", histLen, out[:min(n, 20)], err, next[:20])
		}
		if got := len(a.AppendWindow(nil)); got != min(histLen, 1<<15) {
			t.Errorf("hist %d: window is %d bytes; want %d", histLen, got, min(histLen, 1<<15))
		}
	}
}
