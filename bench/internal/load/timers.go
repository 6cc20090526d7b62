//go:build linux

package load

// Timer kinds.
const (
	timerSend     uint8 = iota + 1 // fixed-rate mode: the connection's next intended send
	timerDeadline                  // a connect, handshake, drain, check or close deadline
	timerRetry                     // reconnect a target after backoff (id is the target, tok the attempt)
	timerLinger                    // after the server's close frame: give it a moment to close TCP first
	timerCheck                     // idle mode: send the next burst of check messages
)

// timer is one entry of a loop's timer heap. Entries are never removed:
// a stale one (the connection's generation or token moved on) is skipped
// when it fires, which keeps push and pop allocation-free and O(log n).
type timer struct {
	at   int64  // loop clock, nanoseconds
	id   int32  // connection slot, or target index for timerRetry
	gen  uint32 // slot generation the entry belongs to
	tok  uint32 // deadline token, or attempt number for timerRetry
	kind uint8
}

// timerHeap is a binary min-heap on at. Loop goroutine only.
type timerHeap []timer

func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].at <= s[i].at {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *timerHeap) pop() timer {
	s := *h
	t := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].at < s[l].at {
			m = r
		}
		if s[i].at <= s[m].at {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return t
}
