package service

import (
	"math"
	"strings"
	"testing"
)

// TestDeriveMaxConns: the default -max-conns is the soft open-file limit
// less the headroom (fixed descriptors, per-loop ones, and a 64th of the
// limit between 32 and 4096 for connections not yet upgraded), half
// the limit when it is too small for that, and no cap for an unbounded
// limit.
func TestDeriveMaxConns(t *testing.T) {
	tests := []struct {
		soft  uint64
		loops int
		want  int
	}{
		{1 << 20, 1, 1<<20 - (32 + 3 + 4096)},
		{1 << 20, 8, 1<<20 - (32 + 24 + 4096)},
		{262144, 1, 262144 - (32 + 3 + 4096)}, // where the 4096 starts
		{20000, 2, 20000 - (32 + 6 + 312)},
		{1100, 2, 1030}, // the ulimit: 1,000 clients fit
		{1024, 1, 1024 - (32 + 3 + 32)},
		{300, 1, 300 - (32 + 3 + 32)},
		{134, 1, 134 - 67}, // exactly twice the headroom
		{133, 1, 66},       // below: half the limit
		{120, 1, 60},
		{1, 1, 1},
		{math.MaxUint64, 4, 0}, // RLIM_INFINITY: no cap
		{math.MaxInt32, 4, 0},
	}
	for _, tt := range tests {
		if got := DeriveMaxConns(tt.soft, tt.loops); got != tt.want {
			t.Errorf("DeriveMaxConns(%d, %d) = %d; want %d", tt.soft, tt.loops, got, tt.want)
		}
	}
}

// TestResolveMaxConns: the flag's 0 derives, -1 is no cap, a count is
// taken as given (with a warning in the note when above what the limit
// leaves).
func TestResolveMaxConns(t *testing.T) {
	tests := []struct {
		flag     int
		soft     uint64
		want     int
		noteHas  string
		noteLack string
	}{
		{0, 300, 233, "open-file limit 300 less 67", ""},
		{-1, 300, 0, "no cap", ""},
		{150, 300, 150, "150 (-max-conns)", "above"},
		{233, 300, 233, "233 (-max-conns)", "above"},
		{234, 300, 234, "above the 233", ""},
		{0, math.MaxUint64, 0, "no cap", ""},
	}
	for _, tt := range tests {
		got, note := ResolveMaxConns(tt.flag, tt.soft, 1)
		if got != tt.want || !strings.Contains(note, tt.noteHas) || (tt.noteLack != "" && strings.Contains(note, tt.noteLack)) {
			t.Errorf("ResolveMaxConns(%d, %d, 1) = %d, %q; want %d, a note with %q", tt.flag, tt.soft, got, note, tt.want, tt.noteHas)
		}
	}
}
