//go:build race

package testkit

// RaceEnabled: the race detector slows the test client tenfold, so the
// biggest streams are cut down under it.
const RaceEnabled = true
