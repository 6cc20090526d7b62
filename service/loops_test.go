package service_test

import (
	"context"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
	"github.com/wsreactor/wsreactor/service"
)

// TestLoopsMismatchFailsLoudly: a protocol.Server told of fewer loops than
// the reactor runs refuses the connections of the other loops loudly (the
// panic in ConnectionMade is logged and the connection aborted) rather than
// counting them in another loop's Stats from a second goroutine; the
// connections on its own loop are served.
func TestLoopsMismatchFailsLoudly(t *testing.T) {
	var logs testkit.LockedBuffer
	cfg := protocol.DefaultConfig()
	cfg.Loops = 1
	srv := protocol.NewServer(cfg, nil)
	r := reactor.New(reactor.WithLoops(2), reactor.WithLogger(log.New(&logs, "", 0)))
	if err := r.ListenTCP("127.0.0.1:0", service.NewFactory(srv)); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())

	served, refused := 0, 0
	for range 8 { // round-robin over the two loops
		ws, err := testkit.DialWS(r.Addr().String())
		if err != nil {
			refused++
			continue
		}
		served++
		ws.Close()
	}
	want := "protocol: connection on event loop 1, but Config.Loops is 1"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if served == 0 || refused == 0 || !strings.Contains(logs.String(), want) {
		t.Errorf("%d served, %d refused, log:\n%s\nwant some of each, and the log to say %q", served, refused, logs.String(), want)
	}
}
