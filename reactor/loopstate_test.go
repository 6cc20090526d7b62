package reactor

import (
	"net"
	"sync"
	"testing"
)

// countingProto counts its reads in a slot of per-loop state, indexed by
// Transport.Loop, without locks or atomics: only the loop touches its slot.
type countingProto struct {
	BaseProtocol
	perLoop []int
}

func (p *countingProto) DataReceived(data []byte) {
	p.perLoop[p.Transport.Loop()] += len(data)
	p.Transport.Write(data)
}

// TestForEachLoopGathersPerLoopState checks the per-loop state pattern:
// connections spread over loops write to their loop's slot, and
// ForEachLoop reads every slot on its own loop (the race detector would
// flag it otherwise), summing to what was sent.
func TestForEachLoopGathersPerLoopState(t *testing.T) {
	const loops, clients, size = 3, 12, 1000
	perLoop := make([]int, loops)
	r := start(t, FactoryFunc(func(net.Addr) Protocol { return &countingProto{perLoop: perLoop} }), WithLoops(loops))
	if r.Loops() != loops {
		t.Fatalf("Loops() = %d; want %d", r.Loops(), loops)
	}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := dial(t, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			if _, err := c.Write(buf); err != nil {
				t.Error(err)
				return
			}
			for got := 0; got < size; {
				n, err := c.Read(buf)
				if err != nil {
					t.Error(err)
					return
				}
				got += n
			}
		}()
	}
	wg.Wait()
	seen := make([]int, loops)
	var mu sync.Mutex
	visited := 0
	r.ForEachLoop(func(loop int) {
		mu.Lock()
		defer mu.Unlock()
		visited++
		seen[loop] = perLoop[loop] // on the loop's goroutine: no race
	})
	total := 0
	for _, n := range seen {
		total += n
	}
	if total != clients*size {
		t.Errorf("sum over loops = %d; want %d (per loop %v)", total, clients*size, seen)
	}
	if visited < 2 || visited > loops {
		t.Errorf("ForEachLoop visited %d loops; want 2..%d with %d clients round-robin", visited, loops, clients)
	}
}
