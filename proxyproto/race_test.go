//go:build race

package proxyproto

// raceEnabled: the tests run under the race detector.
const raceEnabled = true
