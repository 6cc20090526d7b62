package service

import (
	"testing"
	"time"
)

// TestLagHistogram: each sample lands in the first bucket whose bound it
// does not pass, and the exported buckets are cumulative.
func TestLagHistogram(t *testing.T) {
	h := lagHist{counts: make([]uint64, len(lagBuckets)+1)}
	for _, d := range []time.Duration{
		50 * time.Microsecond,  // ≤ 0.0001
		100 * time.Microsecond, // ≤ 0.0001 (at the bound)
		101 * time.Microsecond, // ≤ 0.00025
		3 * time.Millisecond,   // ≤ 0.005
		2 * time.Second,        // past 1: +Inf only
	} {
		h.observe(d)
	}
	if h.count != 5 {
		t.Fatalf("count = %d; want 5", h.count)
	}
	if want := 0.00005 + 0.0001 + 0.000101 + 0.003 + 2; h.sum < want-1e-9 || h.sum > want+1e-9 {
		t.Errorf("sum = %v; want %v", h.sum, want)
	}
	cum := cumulative(h.counts)
	for ub, want := range map[float64]uint64{0.0001: 2, 0.00025: 3, 0.001: 3, 0.005: 4, 1: 4} {
		if cum[ub] != want {
			t.Errorf("bucket le=%v: %d; want %d", ub, cum[ub], want)
		}
	}
	if c := h.clone(); &c.counts[0] == &h.counts[0] || c.counts[0] != 2 {
		t.Error("clone shares or loses the counts")
	}
}
