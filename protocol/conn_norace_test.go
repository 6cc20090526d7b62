//go:build !race

package protocol

// raceEnabled: see conn_race_test.go.
const raceEnabled = false
