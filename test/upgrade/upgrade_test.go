package upgrade

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"compress/flate"
	"syscall"

	cws "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/inflate"
)

// sizes are the message sizes the streaming clients cycle through.
var sizes = []int{16, 100, 1000, 4000, 20000, 65536, 100000, 262144}

// payload is message seq of client id: its size from sizes, its bytes
// derived from (id, seq) so any loss, duplication or reordering shows. Odd
// messages are text with multi-byte code points (UTF-8 state crosses
// reads), even ones binary.
func payload(id, seq int) (text bool, p []byte) {
	n := sizes[seq%len(sizes)]
	text = seq%2 == 1
	p = make([]byte, 0, n+8)
	p = binary.BigEndian.AppendUint32(p, uint32(id))
	p = binary.BigEndian.AppendUint32(p, uint32(seq))
	if text {
		p = p[:0]
		p = fmt.Appendf(p, "%08d:%08d:", id, seq)
		for len(p) < n {
			p = append(p, "é€😀a"[(len(p)+seq)%3:]...)
		}
		for !utf8Valid(p) { // trim a code point cut at n
			p = p[:len(p)-1]
		}
		return true, p
	}
	for len(p) < n {
		p = append(p, byte(id*31+seq*7+len(p)))
	}
	return false, p
}

func utf8Valid(p []byte) bool { return frame.ValidUTF8(p) }

// client is one streaming client: it sends a message, reads the echo,
// compares, and goes on until stopped.
type client struct {
	id      int
	kind    string // plain, deflate, subprotocol
	rounds  atomic.Int64
	err     error
	roundTr func(text bool, p []byte) ([]byte, bool, error)
	close   func()
}

func (c *client) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		text, p := payload(c.id, seq)
		got, gotText, err := c.roundTr(text, p)
		if err != nil {
			c.err = fmt.Errorf("client %d (%s) message %d (%d bytes): %w", c.id, c.kind, seq, len(p), err)
			return
		}
		if gotText != text || !bytes.Equal(got, p) {
			c.err = fmt.Errorf("client %d (%s) message %d: echo of %d bytes (text %v) differs from the %d bytes sent (text %v)",
				c.id, c.kind, seq, len(got), gotText, len(p), text)
			return
		}
		c.rounds.Add(1)
	}
}

func dialGorilla(t *testing.T, addr string, id int, sub string, deflate bool) *client {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: deflate}
	if sub != "" {
		d.Subprotocols = []string{sub}
	}
	conn, resp, err := d.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatalf("client %d: dial: %v", id, err)
	}
	if sub != "" && conn.Subprotocol() != sub {
		t.Fatalf("client %d: subprotocol %q; want %q", id, conn.Subprotocol(), sub)
	}
	if deflate && !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("client %d: no permessage-deflate in %q", id, resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	conn.SetReadLimit(1 << 20)
	kind := "plain"
	if sub != "" {
		kind = "subprotocol"
	}
	c := &client{id: id, kind: kind, close: func() { conn.Close() }}
	c.roundTr = func(text bool, p []byte) ([]byte, bool, error) {
		op := websocket.BinaryMessage
		if text {
			op = websocket.TextMessage
		}
		conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
		if err := conn.WriteMessage(op, p); err != nil {
			return nil, false, err
		}
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		typ, b, err := conn.ReadMessage()
		return b, typ == websocket.TextMessage, err
	}
	return c
}

// dialCoder is a permessage-deflate client with context takeover both ways
// (coder/websocket): the server's inflater window must move with it.
func dialCoder(t *testing.T, addr string, id int) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := cws.Dial(ctx, "ws://"+addr+"/", &cws.DialOptions{CompressionMode: cws.CompressionContextTakeover, CompressionThreshold: 1})
	if err != nil {
		t.Fatalf("client %d: dial: %v", id, err)
	}
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if !strings.Contains(ext, "permessage-deflate") || strings.Contains(ext, "client_no_context_takeover") {
		t.Fatalf("client %d: extensions %q; want permessage-deflate with client context takeover", id, ext)
	}
	conn.SetReadLimit(1 << 20)
	c := &client{id: id, kind: "deflate", close: func() { conn.CloseNow() }}
	c.roundTr = func(text bool, p []byte) ([]byte, bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		typ := cws.MessageBinary
		if text {
			typ = cws.MessageText
		}
		if err := conn.Write(ctx, typ, p); err != nil {
			return nil, false, err
		}
		got, b, err := conn.Read(ctx)
		return b, got == cws.MessageText, err
	}
	return c
}

// rawClient speaks WebSocket by hand, to split frames where the test
// wants.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	dec  frame.Decoder
	msg  []byte // data of the message being received
	comp bool   // the message being received is compressed

	// permessage-deflate with context takeover both ways (dialRawDeflate)
	fw  *flate.Writer
	fwb bytes.Buffer
	inf *inflate.Inflater
}

// rawOptions: extra request header lines, and the socket's receive buffer
// (0: default).
func dialRaw(t *testing.T, addr string, extra string, rcvbuf int) *rawClient {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", addr, extra)
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("raw handshake: %v %v", resp, err)
	}
	r := &rawClient{t: t, conn: conn, br: br}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); extra != "" {
		if !strings.Contains(ext, "permessage-deflate") || strings.Contains(ext, "no_context_takeover") {
			t.Fatalf("raw deflate client: extensions %q; want permessage-deflate with context takeover", ext)
		}
		r.fw, _ = flate.NewWriter(&r.fwb, flate.BestCompression)
		r.inf = new(inflate.Inflater)
		r.inf.Reset(15)
	}
	return r
}

// compressed is one compressed message frame (RFC 7692 §7.2.1) from the
// client's one compressor: under context takeover a message that repeats
// an earlier one is almost all back-references into the server's window.
func (r *rawClient) compressed(op frame.Opcode, msg []byte) []byte {
	r.fwb.Reset()
	r.fw.Write(msg)
	r.fw.Flush()
	p := bytes.TrimSuffix(r.fwb.Bytes(), []byte{0, 0, 0xff, 0xff})
	f := frame.AppendMaskedFrame(nil, true, op, key, p)
	f[0] |= 0x40 // RSV1
	return f
}

// done returns the message received, inflated if compressed.
func (r *rawClient) done() []byte {
	m := r.msg
	r.msg = nil
	if !r.comp {
		return m
	}
	in := append(m, 0, 0, 0xff, 0xff)
	out := make([]byte, 4<<20)
	n, _, err := r.inf.Inflate(out, in)
	if err != nil {
		r.t.Fatalf("raw deflate client: the echo does not inflate: %v", err)
	}
	return out[:n]
}

func (r *rawClient) send(b []byte) {
	r.t.Helper()
	if _, err := r.conn.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// readMessage reads frames until a data message is complete and returns
// its data; a close frame or an error fails the test.
func (r *rawClient) readMessage() []byte {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	buf := make([]byte, 4096)
	var ev frame.Event
	var op frame.Opcode
	fin := false
	for {
		n, err := r.br.Read(buf)
		if err != nil {
			r.t.Fatalf("raw client: read: %v (%d bytes of the message so far)", err, len(r.msg))
		}
		p := buf[:n]
		for len(p) > 0 {
			k, err := r.dec.NextInto(p, &ev)
			if err != nil {
				r.t.Fatal(err)
			}
			p = p[k:]
			switch ev.Kind {
			case frame.KindHeader:
				op = ev.Header.Opcode
				if op == frame.OpClose {
					r.t.Fatalf("raw client: the server sent a close frame")
				}
				if op != frame.OpContinuation {
					r.comp = ev.Header.Rsv&4 != 0
				}
				fin = ev.Header.Fin
				if ev.End && fin {
					if len(p) > 0 {
						r.t.Fatalf("raw client: %d bytes after the message", len(p))
					}
					return r.done()
				}
			case frame.KindPayload:
				r.msg = append(r.msg, ev.Data...)
				if ev.End && fin {
					if len(p) > 0 {
						r.t.Fatalf("raw client: %d bytes after the message", len(p))
					}
					return r.done()
				}
			}
		}
	}
}

// readSome reads what the server sends within d into r.msg (the first
// pieces of a streamed echo).
func (r *rawClient) readSome(d time.Duration, want int) {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	var ev frame.Event
	for len(r.msg) < want {
		n, err := r.br.Read(buf)
		if err != nil {
			r.t.Fatalf("raw client: reading the first part of the echo: %v (got %d bytes)", err, len(r.msg))
		}
		p := buf[:n]
		for len(p) > 0 {
			k, err := r.dec.NextInto(p, &ev)
			if err != nil {
				r.t.Fatal(err)
			}
			p = p[k:]
			if ev.Kind == frame.KindHeader && ev.Header.Opcode == frame.OpClose {
				r.t.Fatal("raw client: close frame")
			}
			if ev.Kind == frame.KindPayload {
				r.msg = append(r.msg, ev.Data...)
			}
		}
	}
}

var key = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}

// TestUpgradeKeepsEveryConnection runs 60 streaming clients (a third
// plain, a third permessage-deflate with context takeover, a third with a
// subprotocol) and three hand-made clients stopped mid-frame, mid-fragment,
// mid-code point and mid-header, installs a new file at the binary's path
// and sends SIGUSR2: every echo must stay byte-exact and in order, with no
// close and no error, the hand-made messages must complete after the
// handoff, the old process must exit and the new one run the new file and
// accept new connections.
func TestUpgradeKeepsEveryConnection(t *testing.T) {
	notify := listenNotify(t)
	s := startServerEnv(t, []string{"NOTIFY_SOCKET=" + notify.path},
		"-deflate", "-deflate-context-takeover", "-subprotocols", "chat,superchat", "-admin-addr", "127.0.0.1:0")
	oldPID := s.cmd.Process.Pid

	clients, stop := startStreaming(t, s.addr, 60)
	waitRounds(t, clients, 3)

	// Hand-made clients, each stopped in the middle of something.
	smile := "\U0001F600" // F0 9F 98 80
	// 1: a fragmented text message: first fragment whole, ending inside a
	// code point; the continuation cut inside its payload.
	rc1 := dialRaw(t, s.addr, "", 0)
	f1 := frame.AppendMaskedFrame(nil, false, frame.OpText, key, []byte("héllo "+smile[:2]))
	tail := smile[2:] + " world " + strings.Repeat("x", 3000)
	f2 := frame.AppendMaskedFrame(nil, true, frame.OpContinuation, key, []byte(tail))
	rc1.send(f1)
	rc1.send(f2[:len(f2)/2])
	rc1.readSome(10*time.Second, len("héllo ")+1) // the echo streamed so far
	// 2: a frame header cut after 3 bytes.
	rc2 := dialRaw(t, s.addr, "", 0)
	f3 := frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, bytes.Repeat([]byte{0x5a}, 70000))
	rc2.send(f3[:3])
	// 3: a binary frame cut after the masking key plus 1 byte (mask offset 1).
	rc3 := dialRaw(t, s.addr, "", 0)
	f4 := frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, []byte("0123456789abcdef"))
	rc3.send(f4[:2+4+1])
	rc3.readSome(10*time.Second, 1)
	// 4: a client that does not read while the server echoes 4 MiB to it
	// (a small receive buffer): the echo backs up in the server's output
	// queue, which must move with the connection.
	rc4 := dialRaw(t, s.addr, "", 4096)
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(i * 7 / 5)
	}
	go func() { rc4.conn.Write(frame.AppendMaskedFrame(nil, true, frame.OpBinary, key, big)) }()
	// 5: permessage-deflate with context takeover: a message now, the
	// same message after the handoff (back-references into the window).
	rc5 := dialRaw(t, s.addr, "Sec-WebSocket-Extensions: permessage-deflate\r\n", 0)
	again := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog; ", 200))
	rc5.send(rc5.compressed(frame.OpText, again))
	if got := rc5.readMessage(); !bytes.Equal(got, again) {
		t.Fatalf("raw deflate client: echo of %d bytes differs", len(got))
	}
	time.Sleep(300 * time.Millisecond) // let the server read every partial piece and back up rc4's echo

	// 6: a compressed message cut in the middle (the inflater's state
	// mid-block does not move: the connection waits for the message's end).
	rc6 := dialRaw(t, s.addr, "Sec-WebSocket-Extensions: permessage-deflate\r\n", 0)
	f6 := rc6.compressed(frame.OpBinary, again)
	rc6.send(f6[:len(f6)/2])
	// 7: an opening handshake cut in the middle (it finishes first).
	hs, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	hs.Write([]byte(req[:30]))
	hsDialled := time.Now()
	time.Sleep(300 * time.Millisecond) // let the server read every partial piece and back up rc4's echo

	install(t, buildBinary(t), s.path) // the "new version": a new file at the path
	usr2(t, oldPID)
	// The upgrade waits for 6 and 7; finish them a little later.
	time.Sleep(700 * time.Millisecond)
	if n := s.log.count("upgrade completed"); n != 0 || !alive(oldPID) {
		t.Fatalf("the upgrade completed (%d) without waiting for the cut compressed message and handshake", n)
	}
	rc6.send(f6[len(f6)/2:])
	hs.Write([]byte(req[30:]))
	newPID := s.newPID(t, 1)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the old process did not exit after the upgrade")
	}
	if newPID == oldPID || !alive(newPID) {
		t.Fatalf("new process %d (old %d) is not running", newPID, oldPID)
	}
	if exe := exeOf(newPID); exe != s.path {
		t.Fatalf("new process runs %q; want the new file %q", exe, s.path)
	}
	// A service manager is told the new main PID (sd_notify).
	if got, want := fmt.Sprintf("%q", notify.wait(t, 2)[:2]), fmt.Sprintf("%q", []string{"READY=1", fmt.Sprintf("MAINPID=%d\nREADY=1", newPID)}); got != want {
		t.Errorf("sd_notify messages %s; want %s", got, want)
	}

	// The rest of each hand-made message, sent to the new process.
	rc1.send(f2[len(f2)/2:])
	if got, want := string(rc1.readMessage()), "héllo "+smile+" world "+strings.Repeat("x", 3000); got != want {
		t.Errorf("fragmented message across the upgrade: echo %q...; want %q...", got[:min(len(got), 30)], want[:30])
	}
	rc2.send(f3[3:])
	if got := rc2.readMessage(); !bytes.Equal(got, bytes.Repeat([]byte{0x5a}, 70000)) {
		t.Errorf("frame split in its header across the upgrade: echo of %d bytes; want 70000 bytes of 0x5a", len(got))
	}
	rc3.send(f4[2+4+1:])
	if got := string(rc3.readMessage()); got != "0123456789abcdef" {
		t.Errorf("frame split after its mask across the upgrade: echo %q; want %q", got, "0123456789abcdef")
	}

	if got := rc4.readMessage(); !bytes.Equal(got, big) {
		t.Errorf("4 MiB echo backed up across the upgrade: %d bytes, equal %v; want %d", len(got), bytes.Equal(got, big), len(big))
	}
	rc5.send(rc5.compressed(frame.OpText, again))
	if got := rc5.readMessage(); !bytes.Equal(got, again) {
		t.Errorf("raw deflate client after the upgrade: echo of %d bytes differs", len(got))
	}

	if got := rc6.readMessage(); !bytes.Equal(got, again) {
		t.Errorf("compressed message cut at the upgrade: echo of %d bytes differs", len(got))
	}
	rc6.send(rc6.compressed(frame.OpBinary, again))
	if got := rc6.readMessage(); !bytes.Equal(got, again) {
		t.Errorf("compressed message after the upgrade: echo of %d bytes differs", len(got))
	}
	rc7 := &rawClient{t: t, conn: hs, br: bufio.NewReader(hs)}
	hs.SetReadDeadline(time.Now().Add(30 * time.Second))
	if resp, err := http.ReadResponse(rc7.br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake cut at the upgrade (local %v, dialled %v before the rest): %v, %v", hs.LocalAddr(), time.Since(hsDialled), resp, err)
	}
	rc7.send(frame.AppendMaskedFrame(nil, true, frame.OpText, key, []byte("late handshake")))
	if got := string(rc7.readMessage()); got != "late handshake" {
		t.Errorf("handshake cut at the upgrade: echo %q", got)
	}

	// Every client goes on for three more round trips through the new
	// process, then all stop.
	base := make([]int64, len(clients))
	for i, c := range clients {
		base[i] = c.rounds.Load()
	}
	deadline := time.Now().Add(120 * time.Second)
	for i, c := range clients {
		for c.err == nil && c.rounds.Load() < base[i]+3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The new process is upgraded in turn: connections that were adopted
	// move again (and the process that adopted them leaves).
	usr2(t, newPID)
	thirdPID := s.newPID(t, 2)
	for alive(newPID) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(newPID) || !alive(thirdPID) {
		t.Fatalf("second upgrade: process %d alive %v, process %d alive %v", newPID, alive(newPID), thirdPID, alive(thirdPID))
	}
	if line := s.log.wait(t, "msg=\"upgrade completed\"", 2, time.Second); !strings.Contains(line, " left=0 ") {
		t.Errorf("second upgrade left connections behind: %s", line)
	}
	for i, c := range clients {
		base[i] = c.rounds.Load()
	}
	for i, c := range clients {
		for c.err == nil && c.rounds.Load() < base[i]+3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop()
	total := int64(0)
	for i, c := range clients {
		if c.err != nil {
			t.Error(c.err)
		} else if c.rounds.Load() < base[i]+3 {
			t.Errorf("client %d (%s): %d round trips after the upgrade; want 3", c.id, c.kind, c.rounds.Load()-base[i])
		}
		total += c.rounds.Load()
	}
	// A new connection: only the new process can take it.
	fresh := dialGorilla(t, s.addr, 1000, "", false)
	if got, _, err := fresh.roundTr(false, []byte("after")); err != nil || string(got) != "after" {
		t.Fatalf("new connection after the upgrade: %q, %v", got, err)
	}
	fresh.close()

	done := s.log.wait(t, "msg=\"upgrade completed\"", 1, time.Second)
	m := regexp.MustCompile(`handed_over=(\d+)`).FindStringSubmatch(done)
	var handed int
	if m != nil {
		fmt.Sscan(m[1], &handed)
	}
	if handed < 67 {
		t.Errorf("handed over %d connections; want all 67 (%s)", handed, done)
	}
	metrics := scrape(t, s.log.wait(t, "msg=\"admin listening\"", 2, 30*time.Second))
	for _, want := range []string{`wsreactor_upgrades_total{result="completed"} 1`, `wsreactor_upgrades_total{result="started"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("new process's metrics lack %q", want)
		}
	}
	t.Logf("%d round trips by %d clients; %s", total, len(clients), done)
}

// scrape reads /metrics from the admin address in a log line.
func scrape(t *testing.T, line string) string {
	t.Helper()
	m := regexp.MustCompile(`admin_addr=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no admin address in %q", line)
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitRounds(t *testing.T, clients []*client, n int64) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for _, c := range clients {
		for c.err == nil && c.rounds.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("client %d (%s): %d round trips before the upgrade", c.id, c.kind, c.rounds.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if c.err != nil {
			t.Fatal(c.err)
		}
	}
}

// TestUpgradeFailureKeepsServing: a "new binary" that exits 1 fails the
// upgrade and the old process serves on, every client echoing; a second
// SIGUSR2 during an upgrade (the new binary is slow to start) is ignored
// with a log line; the upgrade then completes.
func TestUpgradeFailureKeepsServing(t *testing.T) {
	s := startServer(t, "-admin-addr", "127.0.0.1:0")
	oldPID := s.cmd.Process.Pid
	var clients []*client
	for i := 0; i < 6; i++ {
		clients = append(clients, dialGorilla(t, s.addr, i, "", false))
	}
	stream(t, clients)
	waitRounds(t, clients, 2)

	real := s.path + ".real"
	install(t, buildBinary(t), real)
	installScript(t, s.path, "exit 1")
	usr2(t, oldPID)
	s.log.wait(t, "msg=\"upgrade failed", 1, 60*time.Second)
	before := make([]int64, len(clients))
	for i, c := range clients {
		before[i] = c.rounds.Load()
	}
	waitRounds(t, clients, 0)
	for i, c := range clients {
		deadline := time.Now().Add(60 * time.Second)
		for c.err == nil && c.rounds.Load() < before[i]+3 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if c.err != nil || c.rounds.Load() < before[i]+3 {
			t.Fatalf("client %d after the failed upgrade: %d round trips, %v", c.id, c.rounds.Load()-before[i], c.err)
		}
	}
	if !alive(oldPID) {
		t.Fatal("the old process exited after a failed upgrade")
	}
	adm := s.log.wait(t, "msg=listening", 1, time.Second)
	metrics := scrape(t, adm)
	for _, want := range []string{`wsreactor_upgrades_total{result="started"} 1`, `wsreactor_upgrades_total{result="failed"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("old process's metrics lack %q", want)
		}
	}
	fresh := dialGorilla(t, s.addr, 100, "", false)
	if got, _, err := fresh.roundTr(false, []byte("still here")); err != nil || string(got) != "still here" {
		t.Fatalf("new connection after the failed upgrade: %q, %v", got, err)
	}
	fresh.close()

	// A slow new binary (a second before it runs): the second SIGUSR2
	// arrives during the upgrade.
	installScript(t, s.path, "sleep 1; exec "+real+` "$@"`)
	usr2(t, oldPID)
	time.Sleep(200 * time.Millisecond)
	usr2(t, oldPID)
	s.log.wait(t, "SIGUSR2 ignored", 1, 30*time.Second)
	newPID := s.newPID(t, 1)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the old process did not exit after the upgrade")
	}
	if exe := exeOf(newPID); exe != real {
		t.Errorf("new process runs %q; want %q", exe, real)
	}
	for i, c := range clients {
		before[i] = c.rounds.Load()
	}
	for i, c := range clients {
		deadline := time.Now().Add(60 * time.Second)
		for c.err == nil && c.rounds.Load() < before[i]+3 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if c.err != nil || c.rounds.Load() < before[i]+3 {
			t.Fatalf("client %d after the upgrade: %d round trips, %v", c.id, c.rounds.Load()-before[i], c.err)
		}
	}
	if n := s.log.count("upgrade started"); n != 2 {
		t.Errorf("%d upgrades started; want 2 (the second signal ignored)", n)
	}
}
