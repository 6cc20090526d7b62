//go:build linux

// Package load is wsreactor's WebSocket load generator: the engine behind
// bench/cmd/wsload. It drives many client connections from a few epoll event
// loops (one goroutine per loop, never one per connection), checks every echoed
// byte against precomputed frames, and measures latency with HdrHistogram.
//
// Run is safe to call in-process (the runner may), but the wsload command line
// and its JSON line are the contract the runner depends on.
package load

import (
	"fmt"
	"io"
	"net"
	"time"
)

// Modes.
const (
	ModeEcho    = "echo"    // K messages in flight per connection (closed loop) or a fixed rate
	ModeIdle    = "idle"    // open N connections, hold them, check each still echoes; server RSS per connection
	ModeConnect = "connect" // connect + handshake + one echo + close, as fast as possible
)

// Config describes one load run. The zero value of every optional field takes
// the default documented on it (see Normalize).
type Config struct {
	Addr     string  // server address host:port (default 127.0.0.1:9001)
	Path     string  // request target of the upgrade request (default /)
	Host     string  // Host header (default Addr)
	Origin   string  // Origin header; empty: none sent
	Mode     string  // ModeEcho, ModeIdle or ModeConnect (default echo)
	Raw      bool    // plain TCP echo: no handshake, the server returns our masked frames verbatim
	Conns    int     // connections (connect mode: concurrent workers) (default 1)
	Size     int     // payload bytes per message (default 64 for echo, 16 for idle and connect)
	Inflight int     // K: messages written together in one write per connection (closed loop); in rate mode the number of distinct payloads cycled (default 1)
	Rate     float64 // messages per second per connection; 0 = closed loop
	Text     bool    // text frames (printable ASCII payloads) instead of binary
	JSON     bool    // text frames of JSON-like text (jsontext.go), the same for every run
	Deflate  bool    // offer permessage-deflate without context takeover, require it, send compressed, check compressed echoes (deflate.go)
	Takeover bool    // with Deflate: let the server keep its compression window between messages

	Warmup   time.Duration // traffic before the measured window (echo, connect) (default 0)
	Duration time.Duration // measured window; in idle mode, how long connections are held (default 5s)
	Settle   time.Duration // idle mode: wait after all connections echoed before reading the server's RSS (default 1s)
	Timeout  time.Duration // bound on one connect, handshake, echo drain or close handshake (default 10s)
	// WindowAt, when not zero, is when the measured window of echo mode
	// starts, instead of Warmup after the connections are open: several
	// wsload processes given the same time measure the same seconds, and
	// none closes its connections while another still measures. If the
	// connections open later than WindowAt, the window starts at once.
	WindowAt time.Time
	// TrafficAt, when not zero, is when echo mode starts sending, instead
	// of as soon as the connections are open: a reconnect storm's sending
	// connections then start their schedule after the storm rather than
	// queue up a backlog of intended sends while the machine is saturated
	// (the latency of each message counts from its intended time). If the
	// connections open later, sending starts at once.
	TrafficAt time.Time

	Sources    int // spread source addresses over 127.0.0.1..127.0.0.N (IPv4 loopback servers only); 0 = auto (1, or 8 when Conns > 10,000)
	Loops      int // client event loops (default 1)
	MaxPending int // connects and handshakes in progress at once, over all loops (default 256)
	Retries    int // reconnect attempts after ECONNREFUSED, EAGAIN, reset or timeout during connect/handshake (default 6; negative: none)

	ServerPID   int   // read server CPU and RSS from /proc/PID; 0: not measured
	BatchMemory int64 // bytes of precomputed frames; connections share batches beyond it (default 64 MiB)
	ReadBuffer  int   // read buffer per loop (default 256 KiB)

	Log io.Writer // progress lines; nil: silent
}

// Normalize fills defaults and checks the configuration.
func (c *Config) Normalize() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:9001"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.Host == "" {
		c.Host = c.Addr
	}
	if c.Mode == "" {
		c.Mode = ModeEcho
	}
	switch c.Mode {
	case ModeEcho, ModeIdle, ModeConnect:
	default:
		return fmt.Errorf("load: unknown mode %q (want echo, idle or connect)", c.Mode)
	}
	if c.Conns <= 0 {
		c.Conns = 1
	}
	if c.Size < 0 {
		return fmt.Errorf("load: negative size %d", c.Size)
	}
	if c.Size == 0 {
		c.Size = 64
		if c.Mode != ModeEcho {
			c.Size = 16
		}
	}
	if c.Inflight <= 0 {
		c.Inflight = 1
	}
	if c.JSON {
		c.Text = true
	}
	if c.Takeover && !c.Deflate {
		return fmt.Errorf("load: -deflate-takeover needs -deflate")
	}
	if c.Deflate && c.Raw {
		return fmt.Errorf("load: -deflate and -raw exclude each other: a plain TCP echo has no compression")
	}
	if c.Rate < 0 {
		return fmt.Errorf("load: negative rate %g", c.Rate)
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Settle <= 0 {
		c.Settle = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Loops <= 0 {
		c.Loops = 1
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 256
	}
	if c.Retries < 0 {
		c.Retries = 0
	} else if c.Retries == 0 {
		c.Retries = 6
	}
	if c.BatchMemory <= 0 {
		c.BatchMemory = 64 << 20
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = 256 << 10
	}
	if c.Sources == 0 {
		c.Sources = 1
		if c.Conns > 10000 {
			c.Sources = 8
		}
	}
	if c.Sources < 1 || c.Sources > 254 {
		return fmt.Errorf("load: sources %d out of range 1..254", c.Sources)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("load: bad address %q: %v", c.Addr, err)
	}
	return nil
}
