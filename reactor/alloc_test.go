package reactor

import (
	"io"
	"testing"
)

// TestEchoPathAllocs: once a connection is set up, echoing through the
// reactor allocates nothing per message (server and client together).
func TestEchoPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := start(t, echoFactory(), WithLoops(1))
	c := dial(t, r)
	msg := make([]byte, 512)
	buf := make([]byte, 512)
	roundTrip := func() {
		c.Write(msg)
		io.ReadFull(c, buf)
	}
	for i := 0; i < 100; i++ {
		roundTrip()
	}
	if a := testing.AllocsPerRun(2000, roundTrip); a > 0.05 {
		t.Fatalf("%.2f allocations per echoed message; want 0", a)
	}
}
