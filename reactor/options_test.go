package reactor

import (
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// TestIdleHoldReachesGnet: WithIdleHold is passed to gnet's engine (which
// gives it to each event loop's poller; its behaviour is tested in
// third_party/gnet/pkg/netpoll), and the reactor's default is no hold.
func TestIdleHoldReachesGnet(t *testing.T) {
	held := func(r *Reactor) time.Duration {
		var o gnet.Options
		for _, opt := range r.gnetOptions() {
			opt(&o)
		}
		return o.IdleHold
	}
	if d := held(New()); d != 0 {
		t.Errorf("default reactor: gnet IdleHold %v; want 0", d)
	}
	if d := held(New(WithIdleHold(3 * time.Millisecond))); d != 3*time.Millisecond {
		t.Errorf("WithIdleHold(3ms): gnet IdleHold %v; want 3ms", d)
	}
}
