package main

import (
	"math"
	"strings"
	"testing"
)

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24683652 kB\nMemFree:        20186596 kB\n", 24683652 << 10},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2 << 20},
		{"MemTotal: 2048\n", 0},                 // no unit
		{"MemTotal: -5 kB\n", 0},                // negative
		{"MemTotal: lots kB\n", 0},              // not a number
		{"MemTotal: 99999999999999999 kB\n", 0}, // overflows bytes
		{"", 0},
	} {
		if got := parseMemTotal([]byte(tc.in)); got != tc.want {
			t.Errorf("parseMemTotal(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
}

func TestParseCgroupLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"536870912\n", 512 << 20},
		{"max\n", 0},                 // v2: no limit
		{"9223372036854771712\n", 0}, // v1: no limit
		{"0\n", 0},
		{"", 0},
	} {
		if got := parseCgroupLimit([]byte(tc.in)); got != tc.want {
			t.Errorf("parseCgroupLimit(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
}

// TestMemoryBudgetFlag: the default is a quarter of the machine's (or
// cgroup's) memory, 0 turns the budget off, a negative budget is refused
// with the value quoted.
func TestMemoryBudgetFlag(t *testing.T) {
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := defaultMemoryBudget(); cfg.MemoryBudget != want || want <= 0 {
		t.Errorf("default -memory-budget %d; want %d (> 0)", cfg.MemoryBudget, want)
	}
	if total := memTotal(); total > 0 && cfg.MemoryBudget > total/4 {
		t.Errorf("default -memory-budget %d is more than a quarter of MemTotal %d", cfg.MemoryBudget, total)
	}
	if cfg, err := parseFlags(newFlagSet(), []string{"-memory-budget", "0"}); err != nil || cfg.MemoryBudget != 0 {
		t.Errorf("-memory-budget 0: %d, %v; want 0 (off)", cfg.MemoryBudget, err)
	}
	if _, err := parseFlags(newFlagSet(), []string{"-memory-budget", "-1"}); err == nil || !strings.Contains(err.Error(), "-memory-budget -1") {
		t.Errorf("-memory-budget -1: %v; want an error quoting it", err)
	}
}

func TestMemoryLimitFor(t *testing.T) {
	if got, want := memoryLimitFor(256<<20, 1000), int64(256<<20+memoryLimitBase+1000*memoryPerConn); got != want {
		t.Errorf("memoryLimitFor(256 MiB, 1000) = %d; want %d", got, want)
	}
	if got := memoryLimitFor(math.MaxInt64-1, 1000); got != math.MaxInt64 {
		t.Errorf("memoryLimitFor near MaxInt64 = %d; want MaxInt64 (no overflow)", got)
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
