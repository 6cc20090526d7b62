package main

import "testing"

func TestWorkerMaxProcs(t *testing.T) {
	for _, tc := range []struct {
		loops, ncpu int
		env         string
		want        int
	}{
		{1, 2, "", 1},  // one loop: one P, as the peers run
		{2, 2, "", 2},  // a loop per core
		{3, 2, "", 2},  // more loops than cores: no more Ps than cores
		{0, 2, "", 0},  // -loops 0: the reactor's default (a loop per CPU), the runtime's choice
		{1, 2, "4", 0}, // GOMAXPROCS in the environment wins
		{1, 1, "", 1},
	} {
		if got := workerMaxProcs(tc.loops, tc.ncpu, tc.env); got != tc.want {
			t.Errorf("workerMaxProcs(%d, %d, %q) = %d, want %d", tc.loops, tc.ncpu, tc.env, got, tc.want)
		}
	}
}
