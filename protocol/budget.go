package protocol

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/wsreactor/wsreactor/frame"
)

// BudgetCheckInterval is how often Budget.Check should run: the time within
// which drained output is seen and the largest holders are closed past the
// budget.
const BudgetCheckInterval = 10 * time.Millisecond

// Budget bounds the memory that clients can make a Server hold, summed over
// all its connections (Config.MemoryBudget). What a connection holds:
//
//   - its output queued for a slow reader (Transport.OutboundBuffered),
//     including what the echo slack of checkLimit lets queue past
//     WriteBufferLimit;
//   - a partial request head (the handshake parser's buffer, at most
//     handshake.MaxHeadBytes);
//   - a control frame split across reads (its 125-byte buffer, RFC 6455
//     §5.5);
//   - permessage-deflate state (RFC 7692): a decompressor while a
//     compressed message arrives (about 50 KiB), and for context takeover
//     the decompressor and a compressor for the connection's life (about
//     1 MiB more).
//
// The measures, by the total held:
//
//   - from 7/8 of the budget on, no more echo slack is granted: a
//     connection whose output is past WriteBufferLimit and still grows is
//     closed with 1008 (RFC 6455 §7.4.1) "memory budget exceeded" at its
//     next write (SlackRefusals), and stops reading. Slack is granted
//     again once the total is back under 3/4 of the budget.
//   - past the budget, at the next Check, the connections that hold the
//     most are closed, largest first, until the rest fits: an open one
//     with 1008 "memory budget exceeded" (its close frame follows its
//     output; BudgetCloses), one that was already closing, or is still in
//     its handshake, is dropped at once (RST; BudgetAborts), since its
//     close frame waits behind output it does not read. A loop that
//     publishes a total past the budget does not wait for Check: it drops
//     its own closing connections at once, and past 9/8 of the budget also
//     closes its own largest open ones (brake).
//
// A client that reads its echoes holds next to nothing and is never among
// the largest.
//
// Accounting stays off the hot path: each event loop keeps the total of its
// own connections in plain fields (one shard per loop, touched only by that
// loop), and publishes it (one atomic store, read by others) only when it
// has moved by a quantum, budget/(16×loops) and at most 1 MiB. A
// connection whose output is empty, as an echo client's is after each
// write, costs one comparison per write.
//
// How far a burst can pass the budget: a loop publishing a rise sums the
// shards and acts itself, so each measure starts within loops×quantum (at
// most budget/16) of its threshold. Slack stops at 7/8; after that a
// connection past WriteBufferLimit grows by at most flushAt (128 KiB: a
// read's output is written and checked at least that often, whatever the
// read buffer) before it is closed, and at most budget/WriteBufferLimit
// connections can be past it: budget/8 with the command's defaults, so with
// the quantum the total can pass the budget by budget/16 until Check
// closes the largest. What remains is growth of connections under WriteBufferLimit: Check handles
// it past the budget, within an interval; past 9/8 the loops brake at every
// rise they publish, so the total stays within loops×quantum of 9/8 of the
// budget, at most 19/16 of it.
//
// Drained output is seen only when the holders are recounted (Check), so
// between recounts the totals overstate what is held, never understate it.
//
// Check must be called every BudgetCheckInterval from one goroutine; the
// other methods are safe from any goroutine.
type Budget struct {
	limit, soft, low int64
	quantum          int64
	shards           []*budgetShard

	pressure atomic.Bool // past soft, until under low: slack refused

	closes, aborts, refusals atomic.Int64

	wake chan struct{} // a loop published a total past the budget (Wake)
	peak atomic.Int64  // the most held at a recount (Stats.Peak)

	cands  []budgetCand // Check's scratch
	checks int          // Check calls
}

// budgetRecountEvery: far from the budget, Check recounts the holders every
// this many calls.
const budgetRecountEvery = 10

// budgetShard is one event loop's account. Apart from published, its fields
// are touched only on that loop's goroutine (or by Check between the loops'
// passes, which ForEachLoop orders).
type budgetShard struct {
	published atomic.Int64 // total as last published
	_         [56]byte     // published sits alone on its cache line

	total   int64        // bytes held by this loop's connections
	pub     int64        // total at the last publication
	holders []budgetHold // connections holding something; Conn.hidx-1 indexes it
	cands   []budgetCand // refresh's candidates for Check
	victims []*Conn      // Check's choice, acted on by the loop
	drops   []budgetHold // brake's scratch
	braking bool         // inside brake: the drops it makes publish no rise
	_       [64]byte
}

type budgetHold struct {
	c    *Conn
	held int64
}

type budgetCand struct {
	c     *Conn
	held  int64
	shard int32
}

// BudgetStats is a snapshot of a Budget's state and counters.
type BudgetStats struct {
	Limit         int64 // the budget in bytes
	Held          int64 // bytes held over all connections, as last published
	Peak          int64 // the most held at a recount of the holders, since the start
	SlackRefused  bool  // slack is not granted now
	SlackRefusals int64 // connections closed because slack was refused
	BudgetCloses  int64 // open connections closed with 1008 as the largest holders
	BudgetAborts  int64 // closing or handshaking connections dropped as the largest holders
}

// newBudget returns a budget of limit bytes for connections spread over
// loops event loops (Conn.loop is below loops).
func newBudget(limit int64, loops int) *Budget {
	loops = max(loops, 1)
	b := &Budget{
		limit:   limit,
		soft:    limit - limit/8,
		low:     limit - limit/4,
		quantum: max(min(limit/int64(16*loops), 1<<20), 1),
		shards:  make([]*budgetShard, loops),
		wake:    make(chan struct{}, 1),
	}
	for i := range b.shards {
		b.shards[i] = new(budgetShard)
	}
	return b
}

// Limit is the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Held is the sum of the loops' published totals: within loops×quantum of
// the truth, and possibly above it for output drained since the last Check.
// Any goroutine.
func (b *Budget) Held() int64 {
	var n int64
	for _, s := range b.shards {
		n += s.published.Load()
	}
	return n
}

// Stats returns the budget's state and counters, for metrics. Any
// goroutine.
func (b *Budget) Stats() BudgetStats {
	return BudgetStats{
		Limit:         b.limit,
		Held:          b.Held(),
		Peak:          b.peak.Load(),
		SlackRefused:  b.pressure.Load(),
		SlackRefusals: b.refusals.Load(),
		BudgetCloses:  b.closes.Load(),
		BudgetAborts:  b.aborts.Load(),
	}
}

// Check brings the accounts up to date and applies the budget. Call it
// every BudgetCheckInterval from one goroutine that is not an event loop,
// with forEachLoop running a function on the goroutine of every event loop
// (with the loop's index) and returning when all have run:
// reactor.Reactor.ForEachLoop.
//
// Output drains without the connection writing, so the published totals
// only ever overstate what is held, by what drained since the holders were
// last recounted. Check recounts them on their loops at every call once the
// total may be near 3/4 of the budget (the published sum plus a quantum per
// loop), else every budgetRecountEvery calls (100 ms) while anything is
// held; otherwise it only sums the shards.
func (b *Budget) Check(forEachLoop func(fn func(loop int))) {
	b.checks++
	held := b.Held()
	near := held+int64(len(b.shards))*b.quantum >= b.low || b.pressure.Load()
	if !near && (held == 0 || b.checks%budgetRecountEvery != 0) {
		return
	}
	// Output drains without the connection writing: recount every holder.
	forEachLoop(func(loop int) { b.shards[loop].refresh(b, int32(loop)) })
	held = b.Held()
	if held > b.peak.Load() {
		b.peak.Store(held)
	}
	switch {
	case held >= b.soft:
		b.pressure.Store(true)
	case held < b.low:
		b.pressure.Store(false)
	}
	if held <= b.limit {
		for _, s := range b.shards { // the loops write cands only in refresh
			clear(s.cands)
			s.cands = s.cands[:0]
		}
		return
	}
	cands := b.cands[:0]
	for _, s := range b.shards {
		cands = append(cands, s.cands...)
	}
	slices.SortFunc(cands, func(x, y budgetCand) int { return cmpHeld(x.held, y.held) })
	for _, cd := range cands {
		if held <= b.limit {
			break
		}
		s := b.shards[cd.shard]
		s.victims = append(s.victims, cd.c)
		held -= cd.held
	}
	clear(cands)
	b.cands = cands[:0]
	forEachLoop(func(loop int) { b.shards[loop].act(b) })
}

// set records that c holds n bytes (its shard's loop only) and returns what
// it held before. The shard publishes when its total has moved by a
// quantum; a rise that brings the sum to 7/8 of the budget stops slack.
func (s *budgetShard) set(b *Budget, c *Conn, n int64) (before int64) {
	if c.hidx == 0 {
		if n == 0 {
			return 0
		}
		s.holders = append(s.holders, budgetHold{c, n})
		c.hidx = int32(len(s.holders))
	} else {
		h := &s.holders[c.hidx-1]
		before = h.held
		if n == before {
			return before
		}
		if n == 0 {
			s.remove(c)
		} else {
			h.held = n
		}
	}
	s.total += n - before
	if d := s.total - s.pub; d >= b.quantum || d <= -b.quantum {
		s.publish()
		if d > 0 && !s.braking {
			b.rose(s, c)
		}
	}
	return before
}

// rose follows shard s's publication of a rise (a quantum of growth, so
// rare): from 7/8 of the budget slack is refused at once; past the budget
// the loop drops its own closing connections at once (brake) and wakes the
// checker rather than leave the rest to its next tick.
func (b *Budget) rose(s *budgetShard, cur *Conn) {
	held := b.Held()
	if held >= b.soft && !b.pressure.Load() {
		b.pressure.Store(true)
	}
	if held > b.limit {
		s.brake(b, held, cur)
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// brake runs on the loop that published a total past the budget (held),
// to free this loop's share of the excess (in proportion to what the loop
// holds) without waiting for Check:
//
//   - it drops the loop's closing connections, largest first: each was
//     sent its close frame, which waits behind output it has not read, so
//     dropping it frees memory at once and closes no one new;
//   - past 9/8 of the budget (the ceiling), it also closes the loop's open
//     connections with 1008, largest first, as Check would; they stop
//     reading and growing, and the next brake or Check drops them if they
//     do not read. Under the ceiling open connections are left to Check,
//     which closes the largest over all loops.
//
// cur is the connection whose accounting published the rise: it is in the
// middle of writing, so its close frame is only queued (its own flush
// writes it); another connection's is written at once.
func (s *budgetShard) brake(b *Budget, held int64, cur *Conn) {
	share := int64(float64(held-b.limit) * float64(s.total) / float64(held))
	ceiling := held > b.limit+b.limit/8
	drops := s.drops[:0]
	for _, h := range s.holders {
		if st := h.c.state; st == stateClosed || st == stateCloseSent || (ceiling && st == stateOpen) {
			drops = append(drops, h)
		}
	}
	// Closing connections first, each kind largest first.
	slices.SortFunc(drops, func(x, y budgetHold) int {
		if xo, yo := x.c.state == stateOpen, y.c.state == stateOpen; xo != yo {
			if yo {
				return -1
			}
			return 1
		}
		return cmpHeld(x.held, y.held)
	})
	s.braking = true
	for _, h := range drops {
		if share <= 0 {
			break
		}
		share -= h.held
		if h.c.state == stateOpen {
			b.closes.Add(1)
			h.c.fail(frame.ClosePolicyViolation, "memory budget exceeded")
			if h.c != cur {
				h.c.end()
			}
		} else if h.c.state != stateLost {
			b.aborts.Add(1)
			h.c.abort()
		}
	}
	s.braking = false
	clear(drops)
	s.drops = drops[:0]
}

// cmpHeld orders holdings largest first.
func cmpHeld(x, y int64) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}

// Wake delivers a value when a loop has published a total past the budget:
// the goroutine that runs Check should run it then, not wait for its next
// tick. Any goroutine.
func (b *Budget) Wake() <-chan struct{} { return b.wake }

// remove drops c from the holders (it holds nothing now).
func (s *budgetShard) remove(c *Conn) {
	i, last := int(c.hidx-1), len(s.holders)-1
	if i != last {
		s.holders[i] = s.holders[last]
		s.holders[i].c.hidx = int32(i + 1)
	}
	s.holders[last] = budgetHold{}
	s.holders = s.holders[:last]
	c.hidx = 0
	if cap(s.holders) > 64 && len(s.holders) < cap(s.holders)/4 {
		s.holders = slices.Clone(s.holders) // give memory back after a peak
	}
}

func (s *budgetShard) publish() {
	s.pub = s.total
	s.published.Store(s.total)
}

// refresh recounts every holder, publishes the exact total and lists the
// holders as candidates for Check. On the shard's loop (index shard).
func (s *budgetShard) refresh(b *Budget, shard int32) {
	for i := len(s.holders) - 1; i >= 0; i-- {
		c := s.holders[i].c
		s.set(b, c, c.heldNow(c.t.OutboundBuffered()))
	}
	s.publish()
	clear(s.cands)
	s.cands = s.cands[:0]
	for _, h := range s.holders {
		s.cands = append(s.cands, budgetCand{h.c, h.held, shard})
	}
}

// act closes the victims Check chose on this shard's loop, skipping those
// that are gone since.
func (s *budgetShard) act(b *Budget) {
	for i, c := range s.victims {
		s.victims[i] = nil
		if c.hidx == 0 || c.state == stateLost || s.holders[c.hidx-1].c != c {
			continue
		}
		if c.state == stateOpen {
			b.closes.Add(1)
			c.fail(frame.ClosePolicyViolation, "memory budget exceeded")
			c.end()
		} else {
			b.aborts.Add(1)
			c.abort()
		}
	}
	s.victims = s.victims[:0]
	clear(s.cands)
	s.cands = s.cands[:0]
}
