package protocol

import (
	"bytes"
	"slices"
	"testing"

	"github.com/wsreactor/wsreactor/frame"
)

// TestMessages: the whole-message adapter calls fn once per message,
// whatever the framing and the reads, and the size limit still applies.
func TestMessages(t *testing.T) {
	var got []message
	app := func() Handler {
		return Messages(func(c *Conn, op frame.Opcode, msg []byte) {
			got = append(got, message{op, string(msg)})
			c.WriteMessage(op, bytes.ToUpper(msg))
		})
	}
	T, C := frame.OpText, frame.OpContinuation
	in := cat(text("one"), cf(false, T, []byte("tw")), ping("p"), cf(false, C, nil), cf(true, C, []byte("o κ")), bin([]byte("three")), cf(false, T, []byte("abc")))
	want := []message{{T, "one"}, {T, "two κ"}, {frame.OpBinary, "three"}}
	for _, k := range chunkSizes(len(in)) {
		got = nil
		h := newHarness(t, timerConfig(), app).open()
		h.feedChunks(in, k)
		if !slices.Equal(got, want) {
			t.Fatalf("chunks of %d: messages %v; want %v", k, got, want)
		}
		o := h.output()
		if len(o.msgs) != 3 || o.msgs[1].data != "TWO Κ" || len(o.pongs) != 1 {
			t.Fatalf("chunks of %d: output %v %q", k, o.msgs, o.pongs)
		}
		h.endClean()
		if h.rec.inner.(*messages).buf != nil {
			t.Fatal("message buffer kept after close")
		}
	}

	cfg := timerConfig()
	cfg.MaxMessageSize = 8
	got = nil
	h := newHarness(t, cfg, app).open()
	h.feed(cat(cf(false, T, []byte("12345")), cf(true, C, []byte("6789"))))
	if o := h.output(); o.code != frame.CloseTooBig || len(got) != 0 {
		t.Fatalf("over the limit: close %v, messages %v; want 1009 and none", o.code, got)
	}
	h.endClean()
}
