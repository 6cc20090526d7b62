package interop

// Interoperability with two independent Go client libraries over loopback
// (issue 2, "Tests"): gorilla/websocket (interop_gorilla_test.go) and
// coder/websocket (interop_coder_test.go). Both are test-only dependencies
// of the main module: only _test.go files import them, so the command does
// not link them.
//
// This file holds what they share: payloads, the subprotocol offers, and the
// data-path table each library runs (interopDataTests: echo of every payload
// length encoding of RFC 6455 §5.2 up to 16 MiB, fragmented messages,
// pipelining, concurrent clients). Each library's own file then tests what
// only its API can show: subprotocol negotiation (§4.2.2, §1.9), ping and
// pong (§5.5.2, §5.5.3), the close handshake (§5.5.1, §7) and close 1009
// (§7.4.1).

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// interopOpTimeout bounds every single read, write and handshake of the
// interoperability tests, so a server that stops answering fails a test
// instead of hanging it.
const interopOpTimeout = 45 * time.Second

// interopSizes are the message sizes every client echoes: the edges of the
// 7-, 16- and 64-bit payload lengths (RFC 6455 §5.2) and large messages.
var interopSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20}

// interopOffers are the subprotocol offers every client makes, with what
// the server's default list (chat, superchat) must select: the first
// protocol of the client's offer that the server supports, or none (RFC 6455
// §4.2.2 step 5.4, §11.3.4).
var interopOffers = []struct {
	offer []string
	want  string
}{
	{[]string{"superchat", "chat"}, "superchat"},
	{[]string{"chat", "superchat"}, "chat"},
	{[]string{"foo"}, ""},
	{[]string{"foo", "superchat"}, "superchat"},
	{nil, ""},
}

// interopKind is a data message type; its values are the opcodes (§5.6),
// as gorilla's and coder's message types also are.
type interopKind int

const (
	interopText   interopKind = 1
	interopBinary interopKind = 2
)

func (k interopKind) String() string {
	switch k {
	case interopText:
		return "text"
	case interopBinary:
		return "binary"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

var (
	interopPayloadMu    sync.Mutex
	interopPayloadCache = map[[2]int][]byte{}
)

// interopPayload returns a deterministic n-byte payload of kind k, shared
// between tests (callers must not modify it). Text is valid UTF-8 mixing
// 1- to 4-byte code points, so frame and read boundaries fall inside code
// points; binary is pseudo-random and holds every byte value.
func interopPayload(k interopKind, n int) []byte {
	interopPayloadMu.Lock()
	defer interopPayloadMu.Unlock()
	key := [2]int{int(k), n}
	if p, ok := interopPayloadCache[key]; ok {
		return p
	}
	var p []byte
	if k == interopText {
		const unit = "wsreactor interop κόσμε ✓ 𝄞 echo "
		p = bytes.Repeat([]byte(unit), n/len(unit)+1)[:n]
		j := n
		for j > 0 {
			if r, size := utf8.DecodeLastRune(p[:j]); r != utf8.RuneError || size != 1 {
				break
			}
			j--
		}
		for i := j; i < n; i++ {
			p[i] = '.'
		}
	} else {
		p = make([]byte, n)
		rand.NewChaCha8([32]byte{'w', 's', 'r'}).Read(p)
	}
	interopPayloadCache[key] = p
	return p
}

// interopDiff describes how got differs from want, or returns "".
func interopDiff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("%d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}

// interopSplit cuts p into parts of size n (the last one shorter).
func interopSplit(p []byte, n int) [][]byte {
	var parts [][]byte
	for len(p) > n {
		parts = append(parts, p[:n])
		p = p[n:]
	}
	return append(parts, p)
}

// interopSmallServer starts the server with -max-message 1024.
func interopSmallServer(t testing.TB) string {
	t.Helper()
	cfg := testkit.Config()
	cfg.MaxMessage = 1024
	return testkit.StartAddr(t, cfg)
}

// interopQuickClose runs a close handshake and checks it succeeded within
// 3 s: the server answers at once and does not wait for its close timeout
// (5 s by default).
func interopQuickClose(t *testing.T, closeHandshake func() error) {
	t.Helper()
	start := time.Now()
	if err := closeHandshake(); err != nil {
		t.Error(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("close handshake took %v", d)
	}
}

// interopConn is what the shared data-path tests need from a client
// library. One goroutine may write while another reads.
type interopConn interface {
	// write sends one message the way the library sends a whole message.
	write(k interopKind, p []byte) error
	// writeFragments streams one message through the library's message
	// writer, one Write call per part.
	writeFragments(k interopKind, parts [][]byte) error
	// read returns the next whole message.
	read() (interopKind, []byte, error)
	// close runs the close handshake with 1000 and checks the server
	// echoed 1000.
	close() error
}

// interopEcho sends p as a message of kind k (through writeFragments when
// parts is not nil) while reading, and checks the echo is byte-exact. The
// write runs concurrently with the read: a client that writes a whole large
// message before reading would meet the server's write buffer limit.
func interopEcho(c interopConn, k interopKind, p []byte, parts [][]byte) error {
	werr := make(chan error, 1)
	go func() {
		if parts != nil {
			werr <- c.writeFragments(k, parts)
		} else {
			werr <- c.write(k, p)
		}
	}()
	gotKind, got, rerr := c.read()
	if err := <-werr; err != nil {
		return fmt.Errorf("write %v %d bytes: %w", k, len(p), err)
	}
	if rerr != nil {
		return fmt.Errorf("read echo of %v %d bytes: %w", k, len(p), rerr)
	}
	if gotKind != k {
		return fmt.Errorf("echo of %v %d bytes is %v", k, len(p), gotKind)
	}
	if d := interopDiff(got, p); d != "" {
		return fmt.Errorf("echo of %v %d bytes: %s", k, len(p), d)
	}
	return nil
}

// interopDataTests runs the data-path table against the server at addr,
// dialing with dial (fragmented: a connection whose message writer cuts
// frames of at most 64 bytes where the library allows choosing).
func interopDataTests(t *testing.T, addr string, dial func(t testing.TB, addr string, fragmented bool) interopConn) {
	t.Run("Echo", func(t *testing.T) {
		c := dial(t, addr, false)
		for _, k := range []interopKind{interopText, interopBinary} {
			for _, n := range interopSizes {
				if err := interopEcho(c, k, interopPayload(k, n), nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := c.close(); err != nil {
			t.Error(err)
		}
	})

	t.Run("Fragmented", func(t *testing.T) {
		// A 1 MiB message in 64-byte fragments (Autobahn group 9.x), and
		// fragments of 7 bytes, which cut text inside code points.
		c := dial(t, addr, true)
		for _, k := range []interopKind{interopText, interopBinary} {
			for _, tc := range []struct{ size, part int }{{1 << 20, 64}, {10000, 7}, {300, 1}} {
				p := interopPayload(k, tc.size)
				if err := interopEcho(c, k, p, interopSplit(p, tc.part)); err != nil {
					t.Fatalf("%d-byte parts: %v", tc.part, err)
				}
			}
		}
		if err := c.close(); err != nil {
			t.Error(err)
		}
	})

	t.Run("Pipelined", func(t *testing.T) {
		// 2000 messages written back to back before the first echo is
		// read: the server sees many frames per read.
		const n = 2000
		c := dial(t, addr, false)
		msg := func(i int) (interopKind, []byte) {
			k := interopKind(1 + i%2)
			return k, interopPayload(k, 1+i*37%700)
		}
		werr := make(chan error, 1)
		go func() {
			for i := range n {
				if err := c.write(msg(i)); err != nil {
					werr <- fmt.Errorf("write message %d: %w", i, err)
					return
				}
			}
			werr <- nil
		}()
		for i := range n {
			k, want := msg(i)
			gotKind, got, err := c.read()
			if err != nil {
				t.Fatalf("read echo %d: %v", i, err)
			}
			if d := interopDiff(got, want); gotKind != k || d != "" {
				t.Fatalf("echo %d is %v %s; want %v", i, gotKind, d, k)
			}
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		if err := c.close(); err != nil {
			t.Error(err)
		}
	})

	t.Run("ConcurrentClients", func(t *testing.T) {
		const clients, msgs = 32, 50
		conns := make([]interopConn, clients)
		for i := range conns {
			conns[i] = dial(t, addr, false)
		}
		errc := make(chan error, clients)
		for i, c := range conns {
			go func() {
				for j := range msgs {
					k := interopKind(1 + (i+j)%2)
					p := interopPayload(k, (i*msgs+j)%2000)
					if err := interopEcho(c, k, p, nil); err != nil {
						errc <- fmt.Errorf("client %d message %d: %w", i, j, err)
						return
					}
				}
				errc <- c.close()
			}()
		}
		for range conns {
			if err := <-errc; err != nil {
				t.Error(err)
			}
		}
	})
}
