package protocol

import (
	"strconv"

	"github.com/wsreactor/wsreactor/frame"
)

// Stats counts what the connections of one event loop did. Its fields are
// plain integers, written only by that loop's goroutine (each Conn updates
// its loop's Stats, chosen by Transport's Loop method), so counting costs an
// add per event and no atomic; read them on the same goroutine (the
// command gathers them with reactor.Reactor.ForEachLoop at scrape time),
// then Add the copies. Counters only grow; Open goes up and down.
//
// Message and byte counts are of message payload (RFC 6455 §5.6), not of
// frame headers; a message is counted once, when its last piece has arrived
// (in) or been written (out).
type Stats struct {
	Accepted          uint64                     // connections made (TCP accepted, ConnectionMade)
	Open              int64                      // upgraded connections open now
	Responses         [numResponseSlots]uint64   // handshake answers by HTTP status: ResponseStatus(i)
	HandshakeFailures [NumHandshakeCauses]uint64 // handshakes that did not open, by cause
	MessagesIn        [2]uint64                  // whole messages received: [0] text, [1] binary
	BytesIn           [2]uint64                  // message payload received, by type
	MessagesOut       [2]uint64                  // whole messages sent, by type
	BytesOut          [2]uint64                  // message payload sent, by type
	ClosesIn          [NumCloseSlots]uint64      // close frames received, by code: CloseSlotLabel(i)
	ClosesOut         [NumCloseSlots]uint64      // close frames sent, by code
	Timeouts          [NumTimeoutKinds]uint64    // timers that fired to end a connection, by kind
	WriteLimitCloses  uint64                     // connections closed 1008 for WriteBufferLimit
	_                 [64]byte                   // keeps two loops' Stats off one cache line
}

// Add adds o's counts to s.
func (s *Stats) Add(o *Stats) {
	s.Accepted += o.Accepted
	s.Open += o.Open
	addAll(s.Responses[:], o.Responses[:])
	addAll(s.HandshakeFailures[:], o.HandshakeFailures[:])
	addAll(s.MessagesIn[:], o.MessagesIn[:])
	addAll(s.BytesIn[:], o.BytesIn[:])
	addAll(s.MessagesOut[:], o.MessagesOut[:])
	addAll(s.BytesOut[:], o.BytesOut[:])
	addAll(s.ClosesIn[:], o.ClosesIn[:])
	addAll(s.ClosesOut[:], o.ClosesOut[:])
	addAll(s.Timeouts[:], o.Timeouts[:])
	s.WriteLimitCloses += o.WriteLimitCloses
}

func addAll(dst, src []uint64) {
	for i, v := range src {
		dst[i] += v
	}
}

// MessageTypes names the index of the by-type counters.
var MessageTypes = [2]string{"text", "binary"}

// typeIndex is the by-type index of a data opcode.
func typeIndex(op frame.Opcode) int {
	if op == frame.OpBinary {
		return 1
	}
	return 0
}

// responseStatuses are the statuses the handshake answers with; other
// statuses (none today) share the last slot.
var responseStatuses = [...]int{101, 200, 400, 403, 405, 426, 431, 503, 505, 0}

const numResponseSlots = len(responseStatuses)

// NumResponseSlots is the length of Stats.Responses.
const NumResponseSlots = numResponseSlots

// ResponseStatus is the HTTP status that Stats.Responses[i] counts, 0 for
// "any other".
func ResponseStatus(i int) int { return responseStatuses[i] }

func responseSlot(status int) int {
	for i, s := range responseStatuses[:numResponseSlots-1] {
		if s == status {
			return i
		}
	}
	return numResponseSlots - 1
}

// HandshakeCause is why an opening handshake did not open a WebSocket
// connection (RFC 6455 §4.2.1, §4.2.2).
type HandshakeCause uint8

const (
	CauseBadRequest   HandshakeCause = iota // 400: malformed request or missing/invalid WebSocket header
	CauseMethod                             // 405: not GET (§4.1 item 2)
	CauseVersion                            // 426 or 505: not HTTP/1.1, no Upgrade, or Sec-WebSocket-Version not 13
	CauseTooLarge                           // 431: request head over the parser's limit
	CauseOrigin                             // 403: Origin not allowed (§4.2.2 step 4)
	CauseAtCapacity                         // 503: MaxConns connections open
	CauseShuttingDown                       // 503: the server is draining
	CauseTimeout                            // HandshakeTimeout passed with the request incomplete
	CauseClientClosed                       // the client went away before its request was complete
	CauseRefused                            // Config.Upgrade refused it
	NumHandshakeCauses
)

var causeNames = [NumHandshakeCauses]string{
	"bad_request", "method", "version", "too_large", "origin",
	"at_capacity", "shutting_down", "timeout", "client_closed", "refused",
}

// String is the cause's label value, e.g. "at_capacity".
func (c HandshakeCause) String() string {
	if c < NumHandshakeCauses {
		return causeNames[c]
	}
	return "cause(" + strconv.Itoa(int(c)) + ")"
}

// causeOf is the cause of a rejection with status (503s are told apart by
// the caller).
func causeOf(status int) HandshakeCause {
	switch status {
	case 403:
		return CauseOrigin
	case 405:
		return CauseMethod
	case 426, 505:
		return CauseVersion
	case 431:
		return CauseTooLarge
	case 503:
		return CauseAtCapacity
	}
	return CauseBadRequest
}

// Close codes are counted per code from 1000 to 1015 (RFC 6455 §7.4.1),
// the rest (3000-4999, and bodies that do not parse) in one slot.
const (
	firstCountedCode = 1000
	NumCloseSlots    = 17
)

// CloseSlotLabel is the code label of ClosesIn[i] and ClosesOut[i]: "1000"
// to "1015", or "other".
func CloseSlotLabel(i int) string {
	if i == NumCloseSlots-1 {
		return "other"
	}
	return strconv.Itoa(firstCountedCode + i)
}

func closeSlot(code frame.CloseCode) int {
	if i := int(code) - firstCountedCode; i >= 0 && i < NumCloseSlots-1 {
		return i
	}
	return NumCloseSlots - 1
}

// Timeout kinds: the timers that end connections.
const (
	TimeoutHandshake = iota // HandshakeTimeout
	TimeoutPing             // no traffic for two PingIntervals
	TimeoutClose            // CloseTimeout: the close handshake or the final flush did not finish
	NumTimeoutKinds
)

// TimeoutKinds names the index of Stats.Timeouts.
var TimeoutKinds = [NumTimeoutKinds]string{"handshake", "ping", "close"}
