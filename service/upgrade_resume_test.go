package service_test

import (
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/service"
)

// TestUpgradeBatchResumes takes batches of connections off the loops as an
// upgrade does (at most 250 at a time, whatever the loops do concurrently),
// puts them back as after a batch the new process refused, and checks
// every connection serves on: a frame cut before the batch completes after
// it, and each echoes again.
func TestUpgradeBatchResumes(t *testing.T) {
	s := testkit.Start(t, testkit.Config())
	addr := s.Addr().String()
	const n = 600
	conns := make([]*testkit.WSConn, n)
	for i := range conns {
		conns[i] = testkit.OpenWS(t, addr)
	}
	key := [4]byte{1, 2, 3, 4}
	cut := frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, []byte("across the batch"))
	for _, c := range conns[:n/2] {
		if _, err := c.Write(cut[:5]); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the server reads the cut frames
	settled := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.Reactor().Connections() != n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := s.Reactor().Connections(); got != n {
			t.Fatalf("Connections() = %d after the batches; want %d", got, n)
		}
	}
	for round := 0; round < 3; round++ {
		settled() // resumed connections are put back asynchronously
		taken, left, err := service.DetachAndResume(s, 250)
		if err != nil || taken != 250 || left != n-250 {
			t.Fatalf("round %d: DetachAndResume = %d taken, %d left, %v; want 250, %d", round, taken, left, err, n-250)
		}
	}
	for _, c := range conns[:n/2] {
		if _, err := c.Write(cut[5:]); err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		op, got, err := c.ReadMessage()
		if err != nil || op != frame.OpBinary || string(got) != "across the batch" {
			t.Fatalf("cut frame after the batch: %v %q, %v", op, got, err)
		}
	}
	for _, c := range conns {
		c.Echo(t, frame.OpText, []byte("again"))
	}
	settled()
	if got := s.Protocol().Open(); got != n {
		t.Fatalf("open WebSocket connections = %d after the batches; want %d", got, n)
	}
}
