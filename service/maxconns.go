package service

import (
	"fmt"
	"math"
)

// maxConnsAttr is the log value of a protocol.Config.MaxConns: "none" for
// no cap.
func maxConnsAttr(n int) any {
	if n == 0 {
		return "none"
	}
	return n
}

// Descriptors the process holds besides its connections, counted
// generously: stdin/out/err, the listener (one per event loop with
// -reuse-port) and the port reservation, the spare descriptor the patched
// gnet keeps for shedding, an epoll descriptor and an eventfd per event
// loop and for the acceptor, Go's own netpoller and timers, a profile file,
// and the admin HTTP server's listener and a few scrapes.
const fixedDescriptors = 32

// descriptorsPerLoop covers each event loop's epoll, eventfd and, with
// -reuse-port, its own listener.
const descriptorsPerLoop = 3

// Connections that hold a descriptor without being counted by -max-conns:
// handshakes in progress and answers in flight (a 503 past the cap holds
// its descriptor until the client has read it and closed, up to the
// reactor's 2 s linger). A 64th of the limit, at least 32 and at most
// 4096 (reached from a limit of 262,144): with a hold time of about 2 s, a
// large server answers some 2,000 refused upgrades a second with a 503
// before the descriptor limit sheds the rest without one. Small limits keep
// little, because there every descriptor is a connection the operator
// counted on: under `ulimit -n 1100` the cap is 1030 with two loops.
// (Measured: an idle server holds 15 descriptors with one loop, 36 with
// eight and -reuse-port, the admin server's listener included.)
const (
	inFlightShare = 64
	inFlightMin   = 32
	inFlightMax   = 4096
)

// fileHeadroom is how many descriptors of the soft limit are kept back from
// -max-conns.
func fileHeadroom(soft uint64, loops int) uint64 {
	inFlight := min(max(soft/inFlightShare, inFlightMin), inFlightMax)
	return fixedDescriptors + descriptorsPerLoop*uint64(loops) + inFlight
}

// DeriveMaxConns is the default -max-conns for a soft open-file limit: the
// limit minus fileHeadroom, or half the limit when the limit is too small
// for the headroom (a server started with a few hundred descriptors still
// serves some). 0, meaning no cap, when the limit is beyond what a process
// can hold anyway (RLIM_INFINITY).
func DeriveMaxConns(soft uint64, loops int) int {
	if soft >= math.MaxInt32 {
		return 0
	}
	h := fileHeadroom(soft, loops)
	if soft < 2*h {
		return max(int(soft/2), 1)
	}
	return int(soft - h)
}

// ResolveMaxConns turns the -max-conns flag into protocol.Config.MaxConns for a
// soft open-file limit: 0 derives it from the limit, -1 means no cap (0 in
// protocol.Config), any other value is taken as given. note explains the
// choice for the log.
func ResolveMaxConns(flag int, soft uint64, loops int) (n int, note string) {
	switch {
	case flag < 0:
		return 0, "no cap (-max-conns -1): past the open-file limit connections are shed without a response"
	case flag > 0:
		if d := DeriveMaxConns(soft, loops); d > 0 && flag > d {
			return flag, fmt.Sprintf("%d (-max-conns), above the %d the open-file limit %d leaves: past that, connections are shed without a 503", flag, d, soft)
		}
		return flag, fmt.Sprintf("%d (-max-conns)", flag)
	}
	n = DeriveMaxConns(soft, loops)
	if n == 0 {
		return 0, fmt.Sprintf("no cap (open-file limit %d)", soft)
	}
	return n, fmt.Sprintf("%d (open-file limit %d less %d kept for listeners, event loops and connections not yet upgraded)", n, soft, soft-uint64(n))
}
