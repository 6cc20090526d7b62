package protocol

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// Stats tests: each scenario runs on a fresh Server and compares the whole
// Stats with the expected counts, so that a counter that moves when it
// should not fails too.

func TestStatsScenarios(t *testing.T) {
	ti, bi := 0, 1
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		run  func(h *harness)
		want func(w *Stats)
	}{{
		name: "echo exchange and client close",
		run: func(h *harness) {
			h.open()
			h.feed(text("hello"))
			h.feed(bin([]byte{1, 2, 3}))
			h.feed(cat(cf(false, frame.OpText, []byte("ab")), ping("p"), cf(true, frame.OpContinuation, []byte("cde"))))
			h.feedChunks(bin(make([]byte, 300)), 7) // one message in 7-byte reads: many fragments back
			h.feed(closeFrame(closeBody(1000, "bye")))
			h.lost()
		},
		want: func(w *Stats) {
			w.Accepted = 1
			w.Responses[responseSlot(101)] = 1
			w.MessagesIn[ti], w.MessagesIn[bi] = 2, 2
			w.BytesIn[ti], w.BytesIn[bi] = 10, 303
			w.MessagesOut, w.BytesOut = w.MessagesIn, w.BytesIn
			w.ClosesIn[0], w.ClosesOut[0] = 1, 1
		},
	}, {
		name: "bad method",
		run:  func(h *harness) { h.feed([]byte("POST /chat HTTP/1.1\r\nHost: x\r\n\r\n")); h.lost() },
		want: func(w *Stats) {
			w.Accepted = 1
			w.Responses[responseSlot(405)] = 1
			w.HandshakeFailures[CauseMethod] = 1
		},
	}, {
		name: "malformed request",
		run:  func(h *harness) { h.feed([]byte("GET /chat HTTP/1.1\r\nHost x\r\n\r\n")); h.lost() },
		want: func(w *Stats) {
			w.Accepted = 1
			w.Responses[responseSlot(400)] = 1
			w.HandshakeFailures[CauseBadRequest] = 1
		},
	}, {
		name: "origin refused",
		cfg:  func(c *Config) { c.Origins = []string{"https://other.example"} },
		run:  func(h *harness) { h.feed([]byte(seedRequest)); h.lost() },
		want: func(w *Stats) {
			w.Accepted = 1
			w.Responses[responseSlot(403)] = 1
			w.HandshakeFailures[CauseOrigin] = 1
		},
	}, {
		name: "at capacity, then shutting down",
		cfg:  func(c *Config) { c.MaxConns = 1 },
		run: func(h *harness) {
			h.open()
			first := h.c
			h.add().feed([]byte(seedRequest)) // 503: at the cap
			h.lost()
			h.srv.Shutdown()
			h.add().feed([]byte(seedRequest)) // 503: shutting down
			h.lost()
			first.ConnectionLost(nil)
		},
		want: func(w *Stats) {
			w.Accepted = 3
			w.Responses[responseSlot(101)] = 1
			w.Responses[responseSlot(503)] = 2
			w.HandshakeFailures[CauseAtCapacity] = 1
			w.HandshakeFailures[CauseShuttingDown] = 1
		},
	}, {
		name: "handshake timeout",
		run: func(h *harness) {
			h.feed([]byte("GET /chat HTTP/1.1\r\n"))
			h.abortsAfter(10 * time.Second)
			h.lost()
		},
		want: func(w *Stats) {
			w.Accepted = 1
			w.Timeouts[TimeoutHandshake] = 1
			w.HandshakeFailures[CauseTimeout] = 1
		},
	}, {
		name: "client gone mid-handshake",
		run:  func(h *harness) { h.feed([]byte("GET /chat HTTP/1.1\r\n")); h.lost() },
		want: func(w *Stats) {
			w.Accepted = 1
			w.HandshakeFailures[CauseClientClosed] = 1
		},
	}, {
		name: "ping timeout, then close timeout",
		run: func(h *harness) {
			h.open()
			h.clk.Advance(60 * time.Second) // ping, then 1001 "ping timeout"
			h.abortsAfter(5 * time.Second)  // the client never answers the close
			h.lost()
		},
		want: func(w *Stats) {
			w.Accepted = 1
			w.Responses[responseSlot(101)] = 1
			w.Timeouts[TimeoutPing] = 1
			w.Timeouts[TimeoutClose] = 1
			w.ClosesOut[closeSlot(frame.CloseGoingAway)] = 1
		},
	}, {
		name: "write buffer limit",
		cfg:  func(c *Config) { c.WriteBufferLimit = 1000 },
		run: func(h *harness) {
			h.open()
			h.tr.buffered = 5000
			h.feed(text("x"))
			h.lost()
		},
		want: func(w *Stats) {
			w.Accepted = 1
			w.Responses[responseSlot(101)] = 1
			w.MessagesIn[ti], w.BytesIn[ti] = 1, 1
			w.MessagesOut[ti], w.BytesOut[ti] = 1, 1
			w.WriteLimitCloses = 1
			w.ClosesOut[closeSlot(frame.ClosePolicyViolation)] = 1
		},
	}, {
		name: "protocol error and application close codes",
		run: func(h *harness) {
			h.open()
			h.feed(rawFrame(0x83, nil)) // reserved opcode: 1002
			h.lost()
			h.add().open()
			h.feed(closeFrame(closeBody(4000, ""))) // an application's code: "other"
			h.lost()
			h.add().open()
			h.feed(closeFrame([]byte{3})) // a 1-byte body: "other" in, 1002 out
			h.lost()
		},
		want: func(w *Stats) {
			w.Accepted = 3
			w.Responses[responseSlot(101)] = 3
			w.ClosesOut[closeSlot(frame.CloseProtocolError)] = 2
			w.ClosesIn[NumCloseSlots-1] = 2
			w.ClosesOut[NumCloseSlots-1] = 1 // 4000 echoed
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := timerConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			h := newHarness(t, cfg, nil)
			tc.run(h)
			var want Stats
			tc.want(&want)
			if got := *h.srv.LoopStats(0); got != want {
				t.Errorf("Stats = %+v\nwant    %+v", got, want)
			}
		})
	}
}

// loopTransport is a fakeTransport on event loop n.
type loopTransport struct {
	*fakeTransport
	n int
}

func (t loopTransport) Loop() int { return t.n }

// TestStatsPerLoop: a connection counts in its loop's Stats only, and Add
// sums loops.
func TestStatsPerLoop(t *testing.T) {
	cfg := timerConfig()
	cfg.Loops = 3
	h := newHarness(t, cfg, nil) // on loop 0 (no Loop method)
	h.open()
	h.tr = &fakeTransport{clk: h.clk}
	h.c = h.srv.NewConn()
	h.c.ConnectionMade(loopTransport{h.tr, 2})
	h.open()
	h.feed(text("on loop two"))
	if s0, s1, s2 := h.srv.LoopStats(0), h.srv.LoopStats(1), h.srv.LoopStats(2); s0.Open != 1 || s0.MessagesIn[0] != 0 ||
		*s1 != (Stats{}) || s2.Open != 1 || s2.MessagesIn[0] != 1 || s2.BytesIn[0] != 11 {
		t.Errorf("loop 0: %+v\nloop 1: %+v\nloop 2: %+v\nwant one open on 0 and on 2, the message on 2", *s0, *s1, *s2)
	}
	var sum Stats
	for i := range 3 {
		sum.Add(h.srv.LoopStats(i))
	}
	if sum.Open != 2 || sum.Accepted != 2 || sum.Responses[responseSlot(101)] != 2 || sum.BytesIn[0] != 11 || sum.BytesOut[0] != 11 {
		t.Errorf("sum = %+v; want 2 open, 2 accepted, 2 upgrades, 11 bytes each way", sum)
	}
}

// TestStatsLoopOutOfRange: Loops 0 means runtime.GOMAXPROCS(0) accounts, and a
// connection on a loop past Config.Loops panics in ConnectionMade (the
// reactor logs it and aborts the connection) instead of writing another
// loop's counters from a second goroutine; the ConnectionLost that follows
// counts nothing.
func TestStatsLoopOutOfRange(t *testing.T) {
	if got := NewServer(Config{}, nil).Config().Loops; got != runtime.GOMAXPROCS(0) {
		t.Errorf("NewServer(Config{}).Config().Loops = %d; want runtime.GOMAXPROCS(0) = %d", got, runtime.GOMAXPROCS(0))
	}
	cfg := timerConfig()
	cfg.Loops = 2
	srv := NewServer(cfg, nil)
	for _, loop := range []int{2, 3, 100, -1} {
		c := srv.NewConn()
		func() {
			defer func() {
				msg := fmt.Sprint(recover())
				if want := fmt.Sprintf("protocol: connection on event loop %d, but Config.Loops is 2", loop); !strings.Contains(msg, want) {
					t.Errorf("ConnectionMade on loop %d panicked with %q; want it to say %q", loop, msg, want)
				}
			}()
			c.ConnectionMade(loopTransport{&fakeTransport{clk: &fakeClock{}}, loop})
		}()
		c.ConnectionLost(nil)
	}
	for i := range 2 {
		if s := srv.LoopStats(i); *s != (Stats{}) {
			t.Errorf("loop %d: %+v; want nothing counted", i, *s)
		}
	}
}

func TestStatsLabels(t *testing.T) {
	for i, want := range map[int]string{0: "1000", 1: "1001", 15: "1015", 16: "other"} {
		if got := CloseSlotLabel(i); got != want {
			t.Errorf("CloseSlotLabel(%d) = %q; want %q", i, got, want)
		}
	}
	for code, want := range map[frame.CloseCode]int{1000: 0, 1011: 11, 1015: 15, 999: 16, 1016: 16, 3000: 16, 4999: 16} {
		if got := closeSlot(code); got != want {
			t.Errorf("closeSlot(%d) = %d; want %d", code, got, want)
		}
	}
	for _, st := range []int{101, 200, 400, 403, 405, 426, 431, 503, 505} {
		if ResponseStatus(responseSlot(st)) != st {
			t.Errorf("ResponseStatus(responseSlot(%d)) = %d", st, ResponseStatus(responseSlot(st)))
		}
	}
	if got := ResponseStatus(responseSlot(418)); got != 0 {
		t.Errorf("ResponseStatus(responseSlot(418)) = %d; want 0 (other)", got)
	}
	if CauseAtCapacity.String() != "at_capacity" || HandshakeCause(99).String() != "cause(99)" {
		t.Errorf("cause names: %q %q", CauseAtCapacity, HandshakeCause(99))
	}
}
