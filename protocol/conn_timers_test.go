package protocol

import (
	"slices"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// Timer tests (issue 4) on the fake clock: handshake timeout, ping and
// idle, close timeout. Every one ends with no timer pending.

func timerConfig() Config {
	cfg := testConfig()
	cfg.HandshakeTimeout = 10 * time.Second
	cfg.PingInterval = 30 * time.Second
	cfg.CloseTimeout = 5 * time.Second
	return cfg
}

// endClean loses the connection and checks nothing is left behind.
func (h *harness) endClean() {
	h.t.Helper()
	h.lost()
	if n := h.clk.Pending(); n != 0 {
		h.t.Errorf("%d timers pending after ConnectionLost", n)
	}
	if n := h.srv.Open(); n != 0 {
		h.t.Errorf("Server.Open() = %d after ConnectionLost", n)
	}
}

// abortsAfter checks that the connection is aborted d from now, not
// before.
func (h *harness) abortsAfter(d time.Duration) {
	h.t.Helper()
	h.clk.Advance(d - 1)
	if h.tr.aborted {
		h.t.Fatalf("aborted before %v", d)
	}
	h.clk.Advance(1)
	if !h.tr.aborted {
		h.t.Fatalf("not aborted after %v", d)
	}
}

func TestConnHandshakeTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		sent string
	}{
		{"nothing sent", ""},
		{"half a request", seedRequest[:40]},
		{"head without its end", seedRequest[:len(seedRequest)-2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, timerConfig(), nil)
			h.feed([]byte(tc.sent))
			h.clk.Advance(10*time.Second - 1)
			if h.tr.aborted || h.tr.lost {
				t.Fatal("dropped before the handshake timeout")
			}
			h.clk.Advance(1)
			if !h.tr.aborted {
				t.Fatal("not dropped at the handshake timeout")
			}
			if len(h.tr.out) != 0 {
				t.Errorf("wrote %q to a stalled handshake; no response is owed", h.tr.out)
			}
			h.feed([]byte(seedRequest)) // too late: ignored
			if len(h.tr.out) != 0 {
				t.Errorf("answered a request after the timeout: %q", h.tr.out)
			}
			h.endClean()
		})
	}
}

func TestConnHandshakeTimeoutOff(t *testing.T) {
	cfg := timerConfig()
	cfg.HandshakeTimeout = 0
	cfg.PingInterval = 0
	h := newHarness(t, cfg, nil)
	h.feed([]byte(seedRequest[:10]))
	if h.clk.Pending() != 0 {
		t.Fatal("a timer is pending with HandshakeTimeout 0")
	}
	h.clk.Advance(time.Hour)
	h.feed([]byte(seedRequest[10:]))
	if o := h.output(); o.status != "HTTP/1.1 101 Switching Protocols" {
		t.Fatalf("status %q", o.status)
	}
	h.endClean()
}

func TestConnHandshakeTimerStopsAtUpgrade(t *testing.T) {
	cfg := timerConfig()
	cfg.PingInterval = 0
	h := newHarness(t, cfg, nil)
	h.clk.Advance(9 * time.Second)
	h.open()
	if n := h.clk.Pending(); n != 0 {
		t.Errorf("%d timers pending on an open connection without pings", n)
	}
	h.clk.Advance(time.Hour)
	if h.tr.aborted || h.tr.lost {
		t.Fatal("open connection dropped")
	}
	h.endClean()
}

func TestConnHandshakeErrorThenClose(t *testing.T) {
	h := newHarness(t, timerConfig(), nil)
	h.feed([]byte("POST / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if o := h.output(); o.status[:12] != "HTTP/1.1 405" || !h.tr.lost {
		t.Fatalf("POST: status %q, LoseConnection %v", o.status, h.tr.lost)
	}
	// A client that does not read its error response is dropped after
	// CloseTimeout.
	h.abortsAfter(5 * time.Second)
	h.endClean()
}

// TestConnPingIdle: a silent connection is pinged after an interval and
// closed (1001) after another; the close is aborted after CloseTimeout.
func TestConnPingIdle(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	h.clk.Advance(30*time.Second - 1)
	if o := h.output(); o.pings != 0 {
		t.Fatal("pinged early")
	}
	h.clk.Advance(1)
	if o := h.output(); o.pings != 1 || o.closed {
		t.Fatalf("after 30s: %d pings, closed %v; want 1 ping", o.pings, o.closed)
	}
	h.clk.Advance(30 * time.Second)
	o := h.output()
	if !o.closed || o.code != frame.CloseGoingAway || o.reason != "ping timeout" || !h.tr.lost {
		t.Fatalf("after 60s silent: closed %v %v %q, LoseConnection %v; want 1001 \"ping timeout\"", o.closed, o.code, o.reason, h.tr.lost)
	}
	h.feed(text("late")) // ignored
	h.abortsAfter(5 * time.Second)
	if o := h.output(); len(o.msgs) != 0 || len(o.problems) != 0 {
		t.Errorf("output %+v", o)
	}
	h.endClean()
	if !slices.Equal(h.rec.closes, []string{"1006 "}) {
		t.Errorf("OnClose %q; want 1006", h.rec.closes)
	}
}

// TestConnPingAnswered: a client that answers every ping, and sends nothing
// else, is never closed.
func TestConnPingAnswered(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	for i := 0; i < 100; i++ {
		h.clk.Advance(30 * time.Second)
		o := h.output()
		if o.closed || h.tr.lost || h.tr.aborted {
			t.Fatalf("closed after %d answered pings", i)
		}
		if o.pings != i+1 {
			t.Fatalf("%d pings after %d intervals", o.pings, i+1)
		}
		h.feed(cf(true, frame.OpPong, nil))
		h.clk.Advance(30 * time.Second) // traffic seen: no ping this time
	}
	if n := h.clk.Pending(); n != 1 {
		t.Errorf("%d timers pending; want the one ping timer", n)
	}
	h.endClean()
}

// TestConnTrafficNoPing: traffic within every interval means no ping.
func TestConnTrafficNoPing(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	for i := 0; i < 50; i++ {
		h.clk.Advance(20 * time.Second)
		h.feed(text("x"))
	}
	if o := h.output(); o.pings != 0 || o.closed || len(o.msgs) != 50 {
		t.Fatalf("%d pings, closed %v, %d echoes; want 0, false, 50", o.pings, o.closed, len(o.msgs))
	}
	h.endClean()
}

// TestConnTrafficDoesNotTouchTimer: a read only sets a flag; the timer is
// created once and never rescheduled by traffic.
func TestConnTrafficDoesNotTouchTimer(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	tm := h.c.timer.(*fakeCall)
	when, seq := tm.when, tm.seq
	for i := 0; i < 10; i++ {
		h.feed(text("x"))
	}
	if tm.when != when || tm.seq != seq || len(h.clk.calls) != 1 {
		t.Errorf("traffic rescheduled the timer or made another (%d calls)", len(h.clk.calls))
	}
	h.endClean()
}

// TestConnCloseTimeout: after the server's close (Close, GoingAway), it
// waits CloseTimeout for the client's close, then aborts.
func TestConnCloseTimeout(t *testing.T) {
	h := newHarness(t, timerConfig(), nil).open()
	h.c.Close(frame.CloseNormal, "done")
	o := h.output()
	if !o.closed || o.code != 1000 || o.reason != "done" || h.tr.lost {
		t.Fatalf("after Close: closed %v %v %q, LoseConnection %v", o.closed, o.code, o.reason, h.tr.lost)
	}
	h.feed(text("discarded")) // after our close, data is discarded
	h.feed(ping("discarded"))
	h.abortsAfter(5 * time.Second)
	if o := h.output(); len(o.msgs) != 0 || len(o.pongs) != 0 || len(o.problems) != 0 {
		t.Errorf("output after close: %+v", o)
	}
	h.endClean()
}

// TestConnCloseHandshakeServerFirst: the client answers the server's close:
// the server closes TCP at once, and reports the client's code.
func TestConnCloseHandshakeServerFirst(t *testing.T) {
	for k := 1; k <= 8; k++ {
		h := newHarness(t, timerConfig(), nil).open()
		h.c.Close(frame.CloseNormal, "")
		h.feedChunks(cat(cf(false, frame.OpText, []byte("ab")), closeFrame(closeBody(1000, "ok")), text("after")), k)
		if !h.tr.lost {
			t.Fatalf("chunks of %d: no LoseConnection after the client's close", k)
		}
		if !slices.Equal(h.rec.closes, []string{"1000 ok"}) {
			t.Errorf("chunks of %d: OnClose %q", k, h.rec.closes)
		}
		if o := h.output(); len(o.frames) != 1 || len(o.problems) != 0 {
			t.Errorf("chunks of %d: wrote %d frames (%v); want only the close", k, len(o.frames), o.problems)
		}
		h.abortsAfter(5 * time.Second) // the client does not read
		h.endClean()
	}
}

// TestConnCloseTimeoutZero: with no CloseTimeout the server closes TCP as
// soon as its close frame is flushed and never aborts.
func TestConnCloseTimeoutZero(t *testing.T) {
	cfg := timerConfig()
	cfg.CloseTimeout = 0
	cfg.PingInterval = 0
	h := newHarness(t, cfg, nil).open()
	h.c.Close(frame.CloseGoingAway, "")
	if !h.tr.lost || h.clk.Pending() != 0 {
		t.Fatalf("LoseConnection %v, %d timers", h.tr.lost, h.clk.Pending())
	}
	h.endClean()
}
