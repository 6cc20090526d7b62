//go:build race

package main

// raceEnabled: the race detector slows the test client tenfold, so the
// biggest streams are cut down under it.
const raceEnabled = true
