package service

import (
	"math"
	"testing"
)

func TestMemoryLimitFor(t *testing.T) {
	if got, want := MemoryLimit(256<<20, 1000), int64(256<<20+memoryLimitBase+1000*memoryPerConn); got != want {
		t.Errorf("MemoryLimit(256 MiB, 1000) = %d; want %d", got, want)
	}
	if got := MemoryLimit(math.MaxInt64-1, 1000); got != math.MaxInt64 {
		t.Errorf("MemoryLimit near MaxInt64 = %d; want MaxInt64 (no overflow)", got)
	}
	for _, tc := range []struct {
		maxConns int
		soft     uint64
		want     int
	}{
		{123, 20000, 123},            // -max-conns itself
		{0, 20000, 20000},            // the open-file limit
		{-1, 20000, 20000},           // no cap: still the open-file limit
		{0, 0, 1 << 16},              // limit unknown
		{0, math.MaxUint64, 1 << 16}, // RLIM_INFINITY
	} {
		if got := connectionCap(tc.maxConns, tc.soft); got != tc.want {
			t.Errorf("connectionCap(%d, %d) = %d; want %d", tc.maxConns, tc.soft, got, tc.want)
		}
	}
}
