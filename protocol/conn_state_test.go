package protocol

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"testing"

	"github.com/wsreactor/wsreactor/frame"
)

// TestStateMovesAtEveryCut feeds a client stream (a fragmented text message
// with code points split across fragments, a ping between fragments, a
// large binary frame) to one connection up to a cut, moves the connection
// (ExportState, ImportState, ConnectionAdopted on a new transport), feeds
// the rest to the moved one, and checks that what the two transports got
// together reads, as a client reads it, exactly as an unmoved connection's
// output: the same messages and pongs, no close (the streaming echo's
// fragment boundaries follow the reads, so the frames may differ).
func TestStateMovesAtEveryCut(t *testing.T) {
	euro := "\u20ac" // E2 82 AC
	stream := cat(
		cf(false, frame.OpText, []byte("ab"+euro[:1])),
		ping("p"),
		cf(false, frame.OpContinuation, []byte(euro[1:]+"cd"+"\U0001F600"[:3])),
		cf(true, frame.OpContinuation, []byte("\U0001F600"[3:]+"end")),
		bin(bytes.Repeat([]byte{7, 8, 9}, 100)),
		text("last"),
	)
	cfg := testConfig()
	cfg.Subprotocols = []string{"chat"}
	ref := newHarness(t, cfg, nil).open()
	ref.feed(stream)
	want := parseOutput(ref.tr.out)
	if len(want.msgs) != 3 || want.closed || len(want.problems) > 0 {
		t.Fatalf("unmoved connection: %+v", want)
	}

	moved := 0
	for cut := 0; cut <= len(stream); cut++ {
		h := newHarness(t, cfg, nil).open()
		h.feed(stream[:cut])
		rec := h.rec
		st, err := h.c.ExportState(nil)
		if err != nil {
			t.Fatalf("cut %d: ExportState: %v", cut, err)
		}
		if h.srv.Open() != 0 {
			t.Fatalf("cut %d: %d connections counted after export; want 0", cut, h.srv.Open())
		}
		var c Conn
		if err := h.srv.ImportState(&c, st); err != nil {
			t.Fatalf("cut %d: ImportState: %v", cut, err)
		}
		tr := &fakeTransport{clk: h.clk}
		if err := c.ConnectionAdopted(tr, st); err != nil {
			t.Fatal(err)
		}
		if c.Subprotocol() != "chat" || h.srv.Open() != 1 {
			t.Fatalf("cut %d: moved connection has subprotocol %q and %d counted", cut, c.Subprotocol(), h.srv.Open())
		}
		c.DataReceived(append([]byte(nil), stream[cut:]...))
		got := parseOutput(append(append([]byte(nil), h.tr.out...), tr.out...))
		if fmt.Sprint(got.msgs, got.pongs) != fmt.Sprint(want.msgs, want.pongs) || got.closed || len(got.problems) > 0 ||
			h.tr.lost || tr.lost || h.tr.aborted || tr.aborted {
			t.Fatalf("cut %d: moved connection's output %v %v %v; want %v %v", cut, got.msgs, got.pongs, got.problems, want.msgs, want.pongs)
		}
		if len(rec.closes) != 0 {
			t.Fatalf("cut %d: the handler was told OnClose on export", cut)
		}
		moved++
	}
	if moved < len(stream) {
		t.Fatalf("moved at %d cuts of %d", moved, len(stream))
	}
}

func TestStateNotMovable(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	h.feed([]byte(seedRequest[:20]))
	if _, err := h.c.ExportState(nil); !errors.Is(err, ErrNotMovable) {
		t.Errorf("ExportState in the handshake = %v; want ErrNotMovable", err)
	}
	h = newHarness(t, testConfig(), nil).open()
	h.feed(ping("xyz")[:7]) // a control frame split across reads
	if _, err := h.c.ExportState(nil); !errors.Is(err, ErrNotMovable) {
		t.Errorf("ExportState mid control frame = %v; want ErrNotMovable", err)
	}
	h = newHarness(t, testConfig(), nil).open()
	h.feed(closeFrame(closeBody(1000, "")))
	if _, err := h.c.ExportState(nil); !errors.Is(err, ErrNotMovable) {
		t.Errorf("ExportState when closing = %v; want ErrNotMovable", err)
	}
}

func TestImportStateRefuses(t *testing.T) {
	cfg := testConfig()
	cfg.Subprotocols = []string{"chat"}
	h := newHarness(t, cfg, nil).open()
	st, err := h.c.ExportState(nil)
	if err != nil {
		t.Fatal(err)
	}
	ocfg := testConfig()
	ocfg.Subprotocols = []string{"superchat"}
	other := NewServer(ocfg, nil) // does not offer "chat"
	var c Conn
	if err := other.ImportState(&c, st); !errors.Is(err, ErrBadState) {
		t.Errorf("ImportState with an unknown subprotocol = %v; want ErrBadState", err)
	}
	for _, bad := range [][]byte{nil, {StateVersion + 1}, append([]byte{StateVersion + 1}, st[1:]...)} {
		if err := h.srv.ImportState(&c, bad); !errors.Is(err, ErrStateVersion) {
			t.Errorf("ImportState(%x) = %v; want ErrStateVersion", bad, err)
		}
	}
	for i := 1; i < len(st); i++ {
		if err := h.srv.ImportState(&c, st[:i]); !errors.Is(err, ErrBadState) {
			t.Errorf("ImportState of %d of %d bytes = %v; want ErrBadState", i, len(st), err)
		}
	}
	if err := h.srv.ImportState(&c, append(st, 0)); !errors.Is(err, ErrBadState) {
		t.Errorf("ImportState with a trailing byte = %v; want ErrBadState", err)
	}
}

// TestStateMovesDeflateTakeover moves a permessage-deflate connection with
// context takeover both ways between messages, at every message boundary
// (and tries mid-message, where it must refuse): the client's stream goes
// on referring back into the window, and the server's output, inflated as
// one stream by the client, must give every message.
func TestStateMovesDeflateTakeover(t *testing.T) {
	cfg := dfConfig()
	cfg.Deflate.ContextTakeover = true
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 6)
	var msgs [][]byte
	var want []string
	for i := 0; i < 6; i++ {
		msg := dfText(3000) // the same text each time: all back-references after the first
		want = append(want, string(msg))
		b.Reset()
		w.Write(msg)
		w.Flush()
		msgs = append(msgs, dfFrames(frame.OpText, bytes.Clone(b.Bytes()[:b.Len()-4]), 2))
	}
	for cut := 1; cut < len(msgs); cut++ {
		h := dfOpen(t, cfg, "permessage-deflate", "permessage-deflate")
		for _, m := range msgs[:cut] {
			h.feed(m)
		}
		h.feed(msgs[cut][:len(msgs[cut])/2])
		if _, err := h.c.ExportState(nil); !errors.Is(err, ErrNotMovable) {
			t.Fatalf("cut %d: ExportState in the middle of a compressed message = %v; want ErrNotMovable", cut, err)
		}
		h.feed(msgs[cut][len(msgs[cut])/2:])
		st, err := h.c.ExportState(nil)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		var c Conn
		if err := h.srv.ImportState(&c, st); err != nil {
			t.Fatal(err)
		}
		tr := &fakeTransport{clk: h.clk}
		if err := c.ConnectionAdopted(tr, st); err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[cut+1:] {
			c.DataReceived(append([]byte(nil), m...))
		}
		got := dfParse(append(append([]byte(nil), h.tr.out...), tr.out...), true)
		if len(got.problems) > 0 || got.closed || len(got.msgs) != len(want) {
			t.Fatalf("cut %d: %d messages, closed %v %d %q, problems %q", cut, len(got.msgs), got.closed, got.code, got.reason, got.problems)
		}
		for i, m := range got.msgs {
			if m.data != want[i] {
				t.Fatalf("cut %d: message %d is %q...; want %q...", cut, i, m.data[:20], want[i][:20])
			}
		}
	}
}
