//go:build linux && !poll_opt

package netpoll

import (
	"runtime"
	"testing"
	"time"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/queue"
)

// The idle hold (wsreactor patch, PATCH.md "The idle hold"): a loop out of
// events waits in a raw epoll_wait of up to the hold, and only then blocks
// in an ordinary one (Poller.blocks counts those, Poller.holds the holds),
// and holds only while its idle spells are shorter than the hold.

// pollHold runs Polling on a poller with the given hold while feed drives
// it through Trigger (each call runs fn, if any, on the loop), stops it with a shutdown task once feed returns, and
// returns how often it blocked in an ordinary wait and how often it held.
func pollHold(t *testing.T, hold time.Duration, feed func(trigger func(fn func()))) (blocks, holds int) {
	t.Helper()
	p, err := OpenPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close() //nolint:errcheck
	p.SetIdleHold(hold)
	done := make(chan error, 1)
	go func() { done <- p.Polling(func(int, IOEvent, IOFlags) error { return nil }) }()
	feed(func(fn func()) {
		task := func(any) error {
			if fn != nil {
				fn()
			}
			return nil
		}
		if err := p.Trigger(queue.HighPriority, task, nil); err != nil {
			t.Error(err)
		}
	})
	if err := p.Trigger(queue.HighPriority, func(any) error { return errorx.ErrEngineShutdown }, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Polling did not return after the shutdown task")
	}
	return p.blocks, p.holds // Polling has returned: no race
}

// every2ms wakes the loop 50 times, 2 ms apart.
func every2ms(trigger func(func())) {
	for i := 0; i < 50; i++ {
		trigger(nil)
		time.Sleep(2 * time.Millisecond)
	}
}

// TestIdleHoldBusyLoopNeverBlocks: events 2 ms apart inside a 500 ms hold
// never let the loop block; with no hold it blocks after (nearly) every
// one.
func TestIdleHoldBusyLoopNeverBlocks(t *testing.T) {
	if n, _ := pollHold(t, 500*time.Millisecond, every2ms); n != 0 {
		t.Errorf("hold 500ms, a wake-up every 2ms: %d ordinary blocking waits, want 0", n)
	}
	if n, h := pollHold(t, 0, every2ms); n < 10 || h != 0 {
		t.Errorf("no hold, 50 wake-ups 2ms apart: %d ordinary blocking waits and %d holds, want most of 50 and none", n, h)
	}
}

// TestIdleHoldExpires: once the hold has passed with no event, the loop
// blocks (and an event then still wakes it).
func TestIdleHoldExpires(t *testing.T) {
	n, _ := pollHold(t, time.Millisecond, func(trigger func(func())) {
		time.Sleep(100 * time.Millisecond)
		trigger(nil)
		time.Sleep(100 * time.Millisecond)
	})
	if n < 2 {
		t.Errorf("hold 1ms, idle 100ms twice: %d ordinary blocking waits, want 2 (one per idle spell)", n)
	}
}

// TestIdleHoldFollowsTheSpells: a loop whose idle spells outlast the hold
// stops holding (no wasted wake-up per event), and holds again once a
// spell ends within the hold.
func TestIdleHoldFollowsTheSpells(t *testing.T) {
	// Ten events 30 ms apart with a 5 ms hold: the first hold runs out,
	// then every spell blocks at once.
	_, holds := pollHold(t, 5*time.Millisecond, func(trigger func(func())) {
		for i := 0; i < 10; i++ {
			time.Sleep(30 * time.Millisecond)
			trigger(nil)
		}
	})
	if holds > 2 {
		t.Errorf("hold 5ms, 10 events 30ms apart: %d holds, want 1 (2 at most): a long spell ends the holding", holds)
	}
	// Idle 100 ms with a 20 ms hold (it runs out, the loop blocks), then
	// 50 events 2 ms apart: one block at once after the long spell, and
	// the short spell that ends it turns the hold back on.
	blocks, holds := pollHold(t, 20*time.Millisecond, func(trigger func(func())) {
		time.Sleep(100 * time.Millisecond)
		every2ms(trigger)
	})
	if blocks < 2 || blocks > 6 || holds < 40 {
		t.Errorf("hold 20ms, idle 100ms then 50 events 2ms apart: %d blocks and %d holds, want 2 (at most 6) and about 50", blocks, holds)
	}
}

// TestIdleHoldYieldsTheP: a loop holding the only P in a long hold does
// not starve the process's other goroutines: the runtime preempts it (its
// signal ends the raw wait with EINTR) once it has run 10 ms, so each of
// three short sleeps beside it ends within about 20 ms, not at the end of
// the 5 s hold.
func TestIdleHoldYieldsTheP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var slept time.Duration
	pollHold(t, 5*time.Second, func(trigger func(func())) {
		// Once the loop has run a task it looks for events, finds none,
		// yields (this goroutine runs) and then holds.
		ran := make(chan struct{})
		trigger(func() { close(ran) })
		<-ran
		start := time.Now()
		for i := 0; i < 3; i++ {
			time.Sleep(time.Millisecond)
		}
		slept = time.Since(start)
	})
	t.Logf("three 1ms sleeps beside the hold: %v", slept)
	if slept > 1500*time.Millisecond {
		t.Errorf("GOMAXPROCS 1, the loop in a 5s hold: three 1ms sleeps beside it took %v, want well under the hold", slept)
	}
}
