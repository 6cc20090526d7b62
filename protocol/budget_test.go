package protocol

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/wsreactor/wsreactor/frame"
)

// The memory budget against the fake transport: what counts, the slack
// refusal from 7/8 of the budget, the largest holders closed past it, and a
// reading client served throughout.

// budgetConfig is timerConfig with a memory budget over two event loops.
func budgetConfig(budget int64, writeBufferLimit int) Config {
	cfg := timerConfig()
	cfg.MemoryBudget = budget
	cfg.Loops = 2
	cfg.WriteBufferLimit = writeBufferLimit
	return cfg
}

// bconn is one connection of a budget test.
type bconn struct {
	c  *Conn
	tr *fakeTransport
}

// addOn is add for a connection on event loop loop (a Conn takes its loop
// from the transport when it is made).
func (h *harness) addOn(loop int) *harness {
	h.tr = &fakeTransport{clk: h.clk, loop: loop}
	h.c = h.srv.NewConn()
	h.c.ConnectionMade(h.tr)
	return h
}

// openOn opens a new connection on h's server, on event loop loop.
func (h *harness) openOn(loop int) bconn {
	h.t.Helper()
	h.addOn(loop).open()
	if int(h.c.loop) != loop {
		h.t.Fatalf("connection on loop %d; want %d", h.c.loop, loop)
	}
	return bconn{h.c, h.tr}
}

// hold makes c hold n bytes of unread output: the transport reports n
// queued after c answers a ping.
func (c bconn) hold(n int) {
	c.tr.buffered = n
	c.c.DataReceived(ping("h"))
}

// check runs the budget's periodic check over both loops, as the reactor's
// ForEachLoop would.
func (h *harness) check() {
	h.srv.Budget().Check(func(fn func(loop int)) {
		fn(0)
		fn(1)
	})
}

// exactHeld is the sum of the loops' accounts (what Held publishes within a
// quantum).
func exactHeld(b *Budget) int64 {
	var n int64
	for _, s := range b.shards {
		n += s.total
	}
	return n
}

// budgetClosed reports whether c was closed with 1008 "memory budget
// exceeded".
func budgetClosed(c bconn) bool {
	o := parseOutput(c.tr.out)
	return o.closed && o.code == frame.ClosePolicyViolation && o.reason == "memory budget exceeded"
}

// TestBudgetCounts: what a connection holds is counted, and uncounted when
// it goes: its unread output (also once drained without a write, at the
// next check), a partial request head, a control frame split across reads.
func TestBudgetCounts(t *testing.T) {
	h := newHarness(t, budgetConfig(6000, 1<<20), nil)
	b := h.srv.Budget()
	want := func(what string, n int64) {
		t.Helper()
		if got := exactHeld(b); got != n {
			t.Fatalf("%s: held %d; want %d", what, got, n)
		}
	}
	a := h.openOn(0)
	want("an open connection with nothing queued", 0)
	a.hold(5000)
	want("5000 bytes of output queued", 5000)
	a.tr.buffered = 0
	want("drained, not yet checked", 5000)
	h.check()
	want("drained and checked", 0)
	if b.Held() != 0 {
		t.Fatalf("Held() = %d after a check; want the exact 0", b.Held())
	}

	h.addOn(1)
	hs := bconn{h.c, h.tr}
	h.feed([]byte(seedRequest[:40]))
	h.feed([]byte(seedRequest[40:80]))
	if c := int64(hs.c.hp.Held()); c < 80 || exactHeld(b) != c {
		t.Fatalf("partial head: held %d, parser buffer %d; want the buffer, at least 80", exactHeld(b), c)
	}
	h.feed([]byte(seedRequest[80:]))
	want("head complete", 0)

	p := ping("split")
	a.c.DataReceived(append([]byte(nil), p[:len(p)-2]...))
	want("control frame split across reads", ctlHeld)
	a.c.DataReceived(append([]byte(nil), p[len(p)-2:]...))
	want("control frame complete", 0)

	a.hold(3000)
	hs.hold(2000)
	want("two holders on two loops", 5000)
	a.c.ConnectionLost(nil)
	want("one lost", 2000)
	hs.c.ConnectionLost(nil)
	want("both lost", 0)
	for i, s := range b.shards {
		if len(s.holders) != 0 {
			t.Errorf("loop %d: %d holders left", i, len(s.holders))
		}
	}
}

// TestBudgetRecountsFarFromTheBudget: output that drained without a write
// stays counted until the holders are recounted: at every check near the
// budget, and every budgetRecountEvery checks far from it, so that a stale
// total cannot make a later rise refuse slack wrongly.
func TestBudgetRecountsFarFromTheBudget(t *testing.T) {
	h := newHarness(t, budgetConfig(1<<20, 1<<20), nil)
	b := h.srv.Budget()
	a := h.openOn(1)
	a.hold(100000)
	a.tr.buffered = 0 // the client read it all
	for i := 1; i < budgetRecountEvery; i++ {
		h.check()
	}
	if b.Held() != 100000 {
		t.Fatalf("Held() = %d after %d checks far from the budget; want the stale 100000 (no recount yet)", b.Held(), budgetRecountEvery-1)
	}
	h.check()
	if b.Held() != 0 || exactHeld(b) != 0 {
		t.Fatalf("Held() = %d, exact %d after %d checks; want 0", b.Held(), exactHeld(b), budgetRecountEvery)
	}
}

// TestBudgetThresholds: at 7/8 of the budget slack is refused; at the
// budget nothing is closed; one byte past it the largest holder is closed
// with 1008; far past it at once, the largest are closed until the rest
// fits, largest first, whichever loop they are on.
func TestBudgetThresholds(t *testing.T) {
	const budget = 80000 // 7/8: 70000, 3/4: 60000
	for _, tc := range []struct {
		name     string
		sizes    []int
		pressure bool
		closed   []int // indexes in sizes
	}{
		{"under 7/8", []int{40000, 29999}, false, nil},
		{"at 7/8", []int{40000, 30000}, true, nil},
		{"at the budget", []int{40000, 30000, 10000}, true, nil},
		{"one past", []int{30000, 40000, 10001}, true, []int{1}},
		// Past the budget but under 9/8 of it, where the loops would
		// brake on their own (TestBudgetBrake).
		{"many past at once", []int{7000, 8000, 7300, 7900, 7100, 7800, 7200, 7700, 6900, 7600, 7400, 7500}, true, []int{1, 3}},
		{"many equal past at once", append(slices.Repeat([]int{5000}, 16), 5001), true, []int{16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, budgetConfig(budget, 1<<20), nil)
			conns := make([]bconn, len(tc.sizes))
			for i, n := range tc.sizes {
				conns[i] = h.openOn(i % 2)
				conns[i].hold(n)
			}
			h.check()
			st := h.srv.Budget().Stats()
			if st.SlackRefused != tc.pressure {
				t.Errorf("slack refused %v; want %v", st.SlackRefused, tc.pressure)
			}
			var closed []int
			for i, c := range conns {
				if budgetClosed(c) {
					closed = append(closed, i)
					if !c.tr.lost || c.tr.aborted {
						t.Errorf("conn %d: LoseConnection %v, aborted %v; want a close after the output", i, c.tr.lost, c.tr.aborted)
					}
				} else if c.tr.lost || c.tr.aborted {
					t.Errorf("conn %d (%d bytes) closed without 1008", i, tc.sizes[i])
				}
			}
			if !slices.Equal(closed, tc.closed) {
				t.Errorf("closed %v; want %v", closed, tc.closed)
			}
			if st.BudgetCloses != int64(len(tc.closed)) || st.BudgetAborts != 0 || st.SlackRefusals != 0 {
				t.Errorf("stats %+v; want %d closes, nothing else", st, len(tc.closed))
			}
		})
	}
}

// TestBudgetDropsClosingHolders: a connection closed for the budget that
// still has not read its output by the next check, when the total is still
// past the budget, is dropped at once, before any other is closed; so is a
// stalled handshake that is the largest holder.
func TestBudgetDropsClosingHolders(t *testing.T) {
	h := newHarness(t, budgetConfig(80000, 1<<20), nil)
	big, mid, small := h.openOn(0), h.openOn(1), h.openOn(0)
	big.hold(50000)
	mid.hold(25000)
	small.hold(5001)
	h.check()
	if !budgetClosed(big) || budgetClosed(mid) || budgetClosed(small) {
		t.Fatal("first check: want only the largest closed")
	}
	h.check() // big has read nothing: still 80001 held
	if !big.tr.aborted || mid.tr.lost || small.tr.lost {
		t.Fatalf("second check: big aborted %v, mid closed %v, small closed %v; want only big dropped",
			big.tr.aborted, mid.tr.lost, small.tr.lost)
	}
	if got := exactHeld(h.srv.Budget()); got != 30001 {
		t.Errorf("held %d after the drop; want 30001", got)
	}
	st := h.srv.Budget().Stats()
	if st.BudgetCloses != 1 || st.BudgetAborts != 1 {
		t.Errorf("stats %+v; want 1 close, 1 abort", st)
	}

	// A head that stalls holds at most handshake.MaxHeadBytes; with a small budget
	// such connections are the largest holders and are dropped (RFC 6455
	// §4.2.1 owes no answer to half a request).
	h2 := newHarness(t, budgetConfig(4000, 1<<20), nil)
	var heads []bconn
	for i := 0; i < 12; i++ {
		h2.addOn(i % 2)
		h2.feed([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
		h2.feed(bytes.Repeat([]byte("X-Pad: 1\r\n"), 30))
		heads = append(heads, bconn{h2.c, h2.tr})
	}
	h2.check()
	dropped := 0
	for _, c := range heads {
		if c.tr.aborted {
			dropped++
		} else if c.tr.lost {
			t.Error("a stalled head was closed without being dropped")
		}
	}
	// Twelve parser buffers of 512 bytes: dropping five leaves 3584.
	if held := exactHeld(h2.srv.Budget()); held != 3584 || dropped != 5 {
		t.Errorf("%d heads dropped, %d bytes left held; want 5 dropped, 3584 left", dropped, held)
	}
}

// TestBudgetBrake: a loop that publishes a total past the budget drops its
// own closing connections at once, largest first, without waiting for a
// check; it closes no open connection (that is Check's, largest first over
// all loops) and touches no other loop's.
func TestBudgetBrake(t *testing.T) {
	h := newHarness(t, budgetConfig(80000, 1<<20), nil) // quantum 2500
	x, other := h.openOn(0), h.openOn(1)
	x.hold(50000)
	other.hold(20000)
	h.check() // 70000: under the budget
	other.c.Close(frame.CloseNormal, "")
	if other.c.state != stateCloseSent {
		t.Fatal("other is not closing")
	}
	y := h.openOn(0)
	y.hold(10001) // 80001: past the budget, nothing closing on loop 0
	if x.tr.lost || x.tr.aborted || other.tr.aborted || y.tr.lost {
		t.Fatalf("the brake closed an open connection or touched another loop's: %v %v %v %v", x.tr.lost, x.tr.aborted, other.tr.aborted, y.tr.lost)
	}
	h.check() // closes x, the largest, with 1008
	if !budgetClosed(x) || x.tr.aborted {
		t.Fatal("the check did not close the largest holder with 1008")
	}
	z := h.openOn(0)
	z.hold(3000) // a rise on loop 0, still past the budget: x is dropped now
	if !x.tr.aborted || other.tr.aborted || y.tr.lost || z.tr.lost {
		t.Fatalf("x aborted %v, other aborted %v, y closed %v, z closed %v; want only x dropped",
			x.tr.aborted, other.tr.aborted, y.tr.lost, z.tr.lost)
	}
	if st := h.srv.Budget().Stats(); st.BudgetAborts != 1 || st.BudgetCloses != 1 {
		t.Errorf("stats %+v; want 1 close, 1 drop", st)
	}
	if got := exactHeld(h.srv.Budget()); got != 33001 {
		t.Errorf("held %d; want 33001 once x is dropped", got)
	}

	// Past 9/8 of the budget (90000) the loop also closes its own largest
	// open connections with 1008, without waiting for a check.
	big := h.openOn(1)
	// 113001 in all; loop 1 (other 20000, big 80000) must free its share,
	// 33001 × 100000/113001 = 29204: dropping other frees 20000, not
	// enough.
	big.hold(80000)
	if budgetClosed(y) || budgetClosed(z) || !budgetClosed(big) {
		t.Fatalf("past 9/8: y %v, z %v, big %v closed; want the largest open on the loop that rose (big)",
			budgetClosed(y), budgetClosed(z), budgetClosed(big))
	}
	if !other.tr.aborted {
		t.Error("past 9/8: the closing connection on the same loop was not dropped first")
	}
}

// TestBudgetBrakeMidWrite: a connection that brakes on itself in the middle
// of writing a large message outside DataReceived (the payload is written
// after its header, apart) still sends well-formed frames: the message,
// then the close.
func TestBudgetBrakeMidWrite(t *testing.T) {
	h := newHarness(t, budgetConfig(80000, 1<<20), nil)
	c := h.openOn(0)
	c.tr.buffered = 100000 // past 9/8 of the budget after the write
	msg := bytes.Repeat([]byte{9}, directAt)
	if err := c.c.WriteMessage(frame.OpBinary, msg); err != nil {
		t.Fatal(err)
	}
	o := parseOutput(c.tr.out)
	if len(o.problems) != 0 || len(o.msgs) != 1 || len(o.msgs[0].data) != directAt || !budgetClosed(c) || !c.tr.lost {
		t.Fatalf("problems %v, %d messages, closed %v %v %q, LoseConnection %v; want the message, then 1008",
			o.problems, len(o.msgs), o.closed, o.code, o.reason, c.tr.lost)
	}
}

// TestBudgetSlackRefusedBeforeClosing: from 7/8 of the budget, a client
// whose echo backs up past WriteBufferLimit on slack and still grows is
// closed with 1008; nothing else is closed while the total stays under the
// budget; a client that reads its echoes is served throughout; once the
// output drains under 3/4, slack is granted again.
func TestBudgetSlackRefusedBeforeClosing(t *testing.T) {
	const budget, lim = 80000, 1000
	h := newHarness(t, budgetConfig(budget, lim), nil)
	var fill []bconn
	for i := 0; i < 50; i++ {
		c := h.openOn(1)
		c.hold(lim) // at WriteBufferLimit: no slack used
		fill = append(fill, c)
	}
	reader := h.openOn(1)
	served := 0
	echo := func() {
		t.Helper()
		reader.tr.out = reader.tr.out[:0]
		msg := fmt.Sprintf("still served %d", served)
		reader.c.DataReceived(text(msg))
		if o := parseOutput(reader.tr.out); len(o.msgs) != 1 || o.msgs[0].data != msg || o.closed {
			t.Fatalf("reader: %+v; want its echo", o)
		}
		served++
	}

	// Two clients send a 60000-byte message each without reading; the
	// echo backs up as it arrives. a goes first, b is idle past the limit.
	a := h.openOn(0)
	msg := bin(bytes.Repeat([]byte{1}, 60000))
	// step feeds c the message up to byte end and reports its whole echo
	// so far queued.
	step := func(c bconn, from, end int) {
		c.tr.buffered = end
		c.c.DataReceived(append([]byte(nil), msg[from:end]...))
	}
	step(a, 0, 10000) // 60000 held: slack granted
	echo()
	if a.tr.lost || h.srv.Budget().Stats().SlackRefused {
		t.Fatal("slack refused under 7/8 of the budget")
	}
	h.check()
	echo()
	// 75000: past 7/8 (by more than the loops' publication quantum) and
	// growing.
	step(a, 10000, 25000)
	if o := parseOutput(a.tr.out); !budgetClosed(a) {
		t.Fatalf("a: closed %v, code %v, %q; want 1008 once its slack passes 7/8 of the budget", o.closed, o.code, o.reason)
	}
	h.check()
	echo()
	st := h.srv.Budget().Stats()
	if !st.SlackRefused || st.SlackRefusals != 1 || st.BudgetCloses != 0 || st.BudgetAborts != 0 {
		t.Errorf("stats %+v; want slack refused once, nothing closed for the budget", st)
	}
	for i, c := range fill {
		if c.tr.lost {
			t.Fatalf("filler %d closed; want only the growing slack user", i)
		}
	}

	// Everyone reads: under 3/4 slack is granted again.
	for _, c := range append(fill, a) {
		c.tr.buffered = 0
	}
	h.check()
	if h.srv.Budget().Stats().SlackRefused {
		t.Fatal("slack still refused after the output drained")
	}
	c := h.openOn(0)
	for k := 1; k <= 3; k++ {
		step(c, (k-1)*10000, k*10000)
	}
	if c.tr.lost {
		t.Fatal("slack refused after the budget recovered")
	}
	echo()
}

// TestBudgetEchoDoesNotAllocate: with a budget, the echo of a slow reader
// whose backlog changes at every write (published at every write, past the
// quantum) allocates nothing.
func TestBudgetEchoDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	h := openDiscard(t, budgetConfig(256<<10, 1<<20))
	in := bin(make([]byte, 64))
	buf := make([]byte, len(in))
	n := 0
	run := func() {
		n++
		h.tr.buffered = 100 + (n%2)*20000
		copy(buf, in)
		h.c.DataReceived(buf)
	}
	run()
	if a := testing.AllocsPerRun(500, run); a != 0 {
		t.Errorf("%v allocations per echo; want 0", a)
	}
	if h.tr.lost || exactHeld(h.srv.Budget()) == 0 {
		t.Fatal("the slow reader was closed, or not counted")
	}
}
