package protocol

import "time"

// Defaults of Config, as DefaultConfig returns them and the command's flags
// default to.
const (
	DefaultMaxMessageSize   = 64 << 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultPingInterval     = 30 * time.Second
	DefaultCloseTimeout     = 5 * time.Second
	DefaultWriteBufferLimit = 1 << 20

	// MaxEchoSlack is how far past WriteBufferLimit the output may grow
	// with the echo of one message that the client is still sending (or
	// has just sent and not yet read): clients that write a whole message
	// before reading get messages up to this size back.
	MaxEchoSlack = 32 << 20

	// DefaultDeflateLevel is the permessage-deflate compression level.
	DefaultDeflateLevel = 1
	// DefaultDeflateMinSize: shorter whole messages are sent uncompressed:
	// below it, JSON-like text compressed at level 1 is not smaller than
	// itself (BenchmarkDeflateEcho: 64 B become 71 B, 128 B become 72 B).
	DefaultDeflateMinSize = 128
)

// Config is a Server's configuration. NewServer takes it as given: a zero
// field turns its feature off (see each field), so start from DefaultConfig
// to get the documented defaults. A Config must not be changed after it is
// given to NewServer.
type Config struct {
	// Subprotocols the server supports (RFC 6455 §1.9, §4.2.2): the first
	// protocol of the client's offer that is in this list is selected.
	// Default {"chat", "superchat"}; empty selects none.
	Subprotocols []string

	// Origins is the allow-list of Origin header values (RFC 6455 §4.2.2
	// step 4, §10.2), compared case-insensitively with the whole origin
	// string. A request whose Origin is not in it gets 403. Empty allows
	// every origin. A request without Origin (a non-browser client) is
	// allowed.
	Origins []string

	// MaxMessageSize is the largest message in bytes, summed over its
	// fragments; past it the connection is failed with 1009 (RFC 6455
	// §7.4.1), as soon as a frame header declares a length that would
	// pass it. 0 means no limit: streaming handlers (Echo) see data as it
	// arrives whatever the size, but Messages then accumulates without a
	// bound. Default 64 MiB.
	MaxMessageSize int64

	// HandshakeTimeout bounds the time from the TCP connection to the end
	// of the opening handshake; past it the connection is dropped without
	// a response (none is owed to half a request). 0 means none. Default
	// 10s.
	HandshakeTimeout time.Duration

	// PingInterval: an open connection silent for an interval is pinged
	// (RFC 6455 §5.5.2); still silent (no frame at all, pong or other)
	// after another interval, it is closed with 1001 "ping timeout". Any
	// frame counts as traffic. 0 turns pings off. Default 30s.
	PingInterval time.Duration

	// CloseTimeout bounds the wait for the client after the server has
	// sent its close frame (RFC 6455 §7.1.1: the client's close, or the
	// client reading what is owed to it); past it the TCP connection is
	// aborted. 0 means no bound: the server closes TCP as soon as its
	// close frame is flushed and never aborts. Default 5s.
	CloseTimeout time.Duration

	// WriteBufferLimit bounds the output queued for a connection that does
	// not read: when Transport.OutboundBuffered passes it after a write
	// (plus the slack allowed for the echo of the message being received,
	// at most MaxEchoSlack: see Conn.checkLimit), the server stops echoing, sends close 1008 "write buffer limit
	// exceeded", discards further input and aborts the connection if it
	// has not drained within CloseTimeout. 0 means no limit. Default 1 MiB.
	WriteBufferLimit int

	// MaxConns bounds the open (upgraded) connections of the Server, over
	// all event loops. Past it, upgrade requests get 503 with Retry-After;
	// the open connections are untouched. 0 means unlimited.
	MaxConns int

	// Deflate is the permessage-deflate policy (RFC 7692). Default off.
	Deflate DeflateConfig

	// MemoryBudget bounds, in bytes, what clients can make the Server hold
	// over all its connections (queued output, echo slack, partial heads
	// and control frames): see Budget for what counts, the measures past
	// it and the bound on overshoot. It needs Budget.Check to be called
	// every BudgetCheckInterval. 0 means no budget.
	MemoryBudget int64

	// Loops is the number of event loops the Server's connections run on
	// (a Transport's Loop method returns a value below it): the Server
	// keeps one Stats, one memory-budget account and one pool of
	// permessage-deflate state per loop. 0 means runtime.GOMAXPROCS(0), the
	// reactor's default number of loops. A connection whose transport says
	// a loop at or past Loops is refused loudly (ConnectionMade panics)
	// rather than sharing another loop's counters, which that loop's
	// goroutine writes unlocked. A transport without a Loop method counts
	// as loop 0 for Stats, and uses a pool of compression state shared
	// behind a mutex. service.Start sets it from service.Config.Loops, the
	// same number it gives the reactor, so the two cannot disagree there;
	// set it by hand only for a reactor of your own.
	Loops int

	// RootPage is the whole HTTP response (status line, headers, body)
	// written, as is, to a plain GET of "/" (a request without an Upgrade
	// header; a query is allowed) before the connection is closed. The
	// response must say "Connection: close". Build it once: every such
	// request is answered with these bytes, never copied. nil answers that
	// GET as any other plain GET: 426 Upgrade Required. The command fills
	// it with the demo page (package demo); this package knows nothing of
	// its content.
	RootPage []byte

	// Upgrade, when set, sees every opening handshake that passed the
	// checks of RFC 6455 §4.2.1 and the Origin allow-list, before the
	// connection cap is applied and the server answers. It may refuse the
	// handshake (return an error: Refuse gives the HTTP status and body),
	// choose the subprotocol (SetSubprotocol) and build the connection's
	// Handler itself (SetHandler), e.g. one that carries the user the
	// request authenticated. See UpgradeRequest. It runs on the
	// connection's event loop: it must not block (no network or disk
	// calls); work that must, belongs before the WebSocket server (a proxy)
	// or after the open, in the Handler. Nil (the default) costs nothing.
	Upgrade func(u *UpgradeRequest) error
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Subprotocols:     []string{"chat", "superchat"},
		MaxMessageSize:   DefaultMaxMessageSize,
		HandshakeTimeout: DefaultHandshakeTimeout,
		PingInterval:     DefaultPingInterval,
		CloseTimeout:     DefaultCloseTimeout,
		WriteBufferLimit: DefaultWriteBufferLimit,
		Deflate:          DeflateConfig{Level: DefaultDeflateLevel, MinSize: DefaultDeflateMinSize},
	}
}
