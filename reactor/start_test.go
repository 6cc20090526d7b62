package reactor

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	echo := FactoryFunc(func(net.Addr) Protocol { return new(BaseProtocol) })
	r := New(WithLoops(1))
	r.ListenTCP("127.0.0.1:0", echo)
	if err := r.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	defer r.Stop(context.Background())
	if r.Addr() == nil {
		t.Fatal("Addr() = nil after Start")
	}
	// A second reactor on the same port fails to start, and says why.
	r2 := New(WithLoops(1))
	r2.ListenTCP(r.Addr().String(), echo)
	if err := r2.Start(); err == nil || !strings.Contains(err.Error(), r.Addr().String()) {
		t.Fatalf("Start on a port in use = %v; want an error naming %s", err, r.Addr())
	}
	select {
	case <-r2.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("failed reactor: Done not closed")
	}
	// Stopped before it ran: Start reports it rather than hang.
	r3 := New(WithLoops(1))
	r3.ListenTCP("127.0.0.1:0", echo)
	r3.Stop(context.Background())
	if err := r3.Start(); err == nil {
		t.Fatal("Start after Stop = nil; want an error")
	}
}
