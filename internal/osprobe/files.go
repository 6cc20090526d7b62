package osprobe

import (
	"fmt"
	"math"
	"syscall"
)

// The open-file limit (RLIMIT_NOFILE) bounds how many connections one
// process can hold: each is a descriptor. The command raises its soft limit
// to the hard one at start (RaiseFileLimit); package service caps the open
// WebSocket connections below it (service.ResolveMaxConns).

// FileLimit is the open-file limit as the command found and left it.
type FileLimit struct {
	// Soft and Hard are the limits in effect after RaiseFileLimit.
	Soft, Hard uint64
	// Found is the soft limit as main found it. Go's runtime has already
	// raised a soft limit below Hard-1 to Hard-1 before main runs (and
	// gives child processes the original back); it does not say what the
	// original was, so GoRaised tells that case apart.
	Found    uint64
	GoRaised bool
}

// RaiseFileLimit sets the soft open-file limit to the hard limit.
func RaiseFileLimit() (FileLimit, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return FileLimit{}, fmt.Errorf("osprobe: read the open-file limit: %w", err)
	}
	// The fields are uint64 on Linux and macOS, int64 on FreeBSD.
	fl := FileLimit{Soft: uint64(lim.Cur), Hard: uint64(lim.Max), Found: uint64(lim.Cur)}
	// Go sets Cur to Max-1 when it raises the limit (syscall/rlimit.go).
	fl.GoRaised = lim.Max > 0 && lim.Cur == lim.Max-1
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fl, fmt.Errorf("osprobe: raise the open-file limit to %d: %w", lim.Max, err)
		}
		fl.Soft = uint64(lim.Max)
	}
	return fl, nil
}

// LogAttrs are the keys of the start line's open_files group: soft and
// hard as in effect, and raised_from, the soft limit the process started
// with, when it was lower.
func (fl FileLimit) LogAttrs() []any {
	attrs := []any{"soft", fl.Soft, "hard", fl.Hard}
	switch {
	case fl.GoRaised:
		attrs = append(attrs, "raised_from", "lower, raised by Go's runtime before main, which does not report it")
	case fl.Found < fl.Soft:
		attrs = append(attrs, "raised_from", fl.Found)
	}
	return attrs
}

// CurrentFileLimit is the open-file limit in effect now (for a server whose command did
// not read it: one started by a library user or a test), or the largest value (no cap derived) if
// it cannot be read.
func CurrentFileLimit() FileLimit {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return FileLimit{Soft: math.MaxUint64, Hard: math.MaxUint64, Found: math.MaxUint64}
	}
	return FileLimit{Soft: uint64(lim.Cur), Hard: uint64(lim.Max), Found: uint64(lim.Cur)}
}
