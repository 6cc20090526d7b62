package main

import (
	"fmt"
	"math"
	"syscall"
)

// The open-file limit (RLIMIT_NOFILE) bounds how many connections one
// process can hold: each is a descriptor. The command raises its soft limit
// to the hard one at start and, unless told otherwise, caps the open
// WebSocket connections (-max-conns) below it, so that at the cap clients
// get a 503 with Retry-After rather than a connection closed without a word
// (which is what happens past the descriptor limit: see the patched gnet
// in third_party/gnet and reactor.AcceptStats).

// fileLimit is the open-file limit as the command found and left it.
type fileLimit struct {
	// Soft and Hard are the limits in effect after raiseFileLimit.
	Soft, Hard uint64
	// Found is the soft limit as main found it. Go's runtime has already
	// raised a soft limit below Hard-1 to Hard-1 before main runs (and
	// gives child processes the original back); it does not say what the
	// original was, so GoRaised tells that case apart.
	Found    uint64
	GoRaised bool
}

// raiseFileLimit sets the soft open-file limit to the hard limit.
func raiseFileLimit() (fileLimit, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fileLimit{}, fmt.Errorf("wsreactor: read the open-file limit: %w", err)
	}
	// The fields are uint64 on Linux and macOS, int64 on FreeBSD.
	fl := fileLimit{Soft: uint64(lim.Cur), Hard: uint64(lim.Max), Found: uint64(lim.Cur)}
	// Go sets Cur to Max-1 when it raises the limit (syscall/rlimit.go).
	fl.GoRaised = lim.Max > 0 && lim.Cur == lim.Max-1
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fl, fmt.Errorf("wsreactor: raise the open-file limit to %d: %w", lim.Max, err)
		}
		fl.Soft = uint64(lim.Max)
	}
	return fl, nil
}

// logAttrs are the keys of the start line's open_files group: soft and
// hard as in effect, and raised_from, the soft limit the process started
// with, when it was lower.
func (fl fileLimit) logAttrs() []any {
	attrs := []any{"soft", fl.Soft, "hard", fl.Hard}
	switch {
	case fl.GoRaised:
		attrs = append(attrs, "raised_from", "lower, raised by Go's runtime before main, which does not report it")
	case fl.Found < fl.Soft:
		attrs = append(attrs, "raised_from", fl.Found)
	}
	return attrs
}

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

// deriveMaxConns is the default -max-conns for a soft open-file limit: the
// limit minus fileHeadroom, or half the limit when the limit is too small
// for the headroom (a server started with a few hundred descriptors still
// serves some). 0, meaning no cap, when the limit is beyond what a process
// can hold anyway (RLIM_INFINITY).
func deriveMaxConns(soft uint64, loops int) int {
	if soft >= math.MaxInt32 {
		return 0
	}
	h := fileHeadroom(soft, loops)
	if soft < 2*h {
		return max(int(soft/2), 1)
	}
	return int(soft - h)
}

// resolveMaxConns turns the -max-conns flag into protocol.Config.MaxConns for a
// soft open-file limit: 0 derives it from the limit, -1 means no cap (0 in
// protocol.Config), any other value is taken as given. note explains the
// choice for the log.
func resolveMaxConns(flag int, soft uint64, loops int) (n int, note string) {
	switch {
	case flag < 0:
		return 0, "no cap (-max-conns -1): past the open-file limit connections are shed without a response"
	case flag > 0:
		if d := deriveMaxConns(soft, loops); d > 0 && flag > d {
			return flag, fmt.Sprintf("%d (-max-conns), above the %d the open-file limit %d leaves: past that, connections are shed without a 503", flag, d, soft)
		}
		return flag, fmt.Sprintf("%d (-max-conns)", flag)
	}
	n = deriveMaxConns(soft, loops)
	if n == 0 {
		return 0, fmt.Sprintf("no cap (open-file limit %d)", soft)
	}
	return n, fmt.Sprintf("%d (open-file limit %d less %d kept for listeners, event loops and connections not yet upgraded)", n, soft, soft-uint64(n))
}

// currentFileLimit is the open-file limit in effect now (when main did not
// read it: serve run by a test), or the largest value (no cap derived) if
// it cannot be read.
func currentFileLimit() fileLimit {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fileLimit{Soft: math.MaxUint64, Hard: math.MaxUint64, Found: math.MaxUint64}
	}
	return fileLimit{Soft: uint64(lim.Cur), Hard: uint64(lim.Max), Found: uint64(lim.Cur)}
}
