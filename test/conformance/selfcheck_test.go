package conformance

import (
	"bytes"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"
)

// A conformance test that cannot fail proves nothing. These tests check
// the conformance client itself: its encoder against the examples of RFC
// 6455 §5.7, and each of its checks against a scripted server that breaks
// exactly one rule.
func TestConformanceClientEncoder(t *testing.T) {
	b := []byte("Hello")
	rfcMask([4]byte{0x37, 0xfa, 0x21, 0x3d}, b)
	if got := hex.EncodeToString(b); got != "7f9f4d5158" {
		t.Errorf("rfcMask(Hello) = %s; want 7f9f4d5158 (§5.7)", got)
	}
	for _, tc := range []struct {
		f    rfcFrame
		want string // hex of the header, or of the whole frame when short
	}{
		{rfcFrame{fin: true, op: rfcOpText, payload: []byte("Hello"), unmasked: true}, "810548656c6c6f"},
		{rfcFrame{fin: false, op: rfcOpText, payload: []byte("Hel"), unmasked: true}, "010348656c"},
		{rfcFrame{fin: true, op: rfcOpCont, payload: []byte("lo"), unmasked: true}, "80026c6f"},
		{rfcFrame{fin: true, op: rfcOpBinary, payload: make([]byte, 256), unmasked: true}, "827e0100"},
		{rfcFrame{fin: true, op: rfcOpBinary, payload: make([]byte, 65536), unmasked: true}, "827f0000000000010000"},
		{rfcFrame{fin: true, op: rfcOpPing, payload: []byte("x"), unmasked: true, wide: 2, rsv: 5}, "d97e000178"},
	} {
		got := hex.EncodeToString(tc.f.encode(nil))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("encode(%+v) = %s...; want %s...", tc.f, got[:min(len(got), 24)], tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true}, {"abc", true}, {"\xce", true}, {"\xce\xba", true}, {"\xce\xba\xe1\xbd", true},
		{"\xf0\x90\x80", true}, {"\xf4\x8f", true}, {"\xe0\x80", false}, {"\xed\xa0", false},
		{"\xf4\x90", false}, {"\xf5", false}, {"\xff", false}, {"\x80", false}, {"a\xffb", false}, {"\xce\x41", false},
	} {
		if got := rfcUTF8Prefix([]byte(tc.in)); got != tc.want {
			t.Errorf("rfcUTF8Prefix(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestConformanceClientCatches(t *testing.T) {
	t.Parallel()
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	message := func(c *rfcClient) error { return c.checkMessage(rfcOpText, []byte("Hello")) }
	fail1002 := func(c *rfcClient) error { return c.checkClose(1002) }
	for _, tc := range []struct {
		name   string
		script string // hex the server sends
		after  string // then: "close", "reset" or "hold" the connection
		check  func(c *rfcClient) error
		want   string // in the error
	}{
		{"masked frame", "8185 37fa213d 7f9f4d5158", "hold", message, "masked"},
		{"RSV bit", "c105 48656c6c6f", "hold", message, "RSV"},
		{"16-bit length for 5 bytes", "817e0005 48656c6c6f", "hold", message, "minimal"},
		{"64-bit length for 5 bytes", "817f0000000000000005 48656c6c6f", "hold", message, "minimal"},
		{"reserved opcode", "8300", "hold", message, "reserved opcode"},
		{"fragmented ping", "0900", "hold", message, "not fragmented"},
		{"continuation without a message", "8000", "hold", message, "no message started"},
		{"message inside a message", "010148 810165", "hold", message, "inside"},
		{"text not UTF-8", "8101ff", "hold", func(c *rfcClient) error { return c.checkMessage(rfcOpText, []byte{0xff}) }, "UTF-8"},
		{"wrong echo", "810548656c6c70", "hold", message, "want text"},
		{"echo cut short", "0103 48656c 8001 6c", "close", message, "want text"},
		{"1-byte close body", "880103", "close", fail1002, "1-byte"},
		{"close code 1005 on the wire", "880203ed", "close", fail1002, "1005"},
		{"close reason not UTF-8", "880303eaff", "close", fail1002, "not UTF-8"},
		{"other close code", "880203e8", "close", fail1002, "want 1002"},
		{"message before the close", "810548656c6c6f 880203ea", "close", fail1002, "want close"},
		{"invalid UTF-8 echoed before the close", "0101ff 880203ef", "close", func(c *rfcClient) error { return c.checkClose(1007) }, "invalid UTF-8"},
		{"TCP left open after the close", "880203ea", "hold", fail1002, "did not close TCP"},
		{"bytes after the close", "880203ea 810548656c6c6f", "close", fail1002, "after its close frame"},
		{"reset after answering a close", "880203e8", "reset", (*rfcClient).closeHandshake, "reset"},
		{"no close at all", "", "close", fail1002, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := rfcScriptedServer(t, unhex(tc.script), tc.after)
			c, err := rfcDial(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.conn.Close()
			err = tc.check(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("check gave %v; want an error about %q", err, tc.want)
			}
		})
	}
}

// rfcScriptedServer accepts one connection, sends script, then closes,
// resets or holds the connection (until the test ends), reading and
// discarding whatever the client sends.
func rfcScriptedServer(t *testing.T, script []byte, after string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(conn) }()
		conn.Write(script)
		switch after {
		case "close":
			conn.(*net.TCPConn).CloseWrite()
			time.Sleep(100 * time.Millisecond)
		case "reset":
			time.Sleep(50 * time.Millisecond) // let the client's close arrive and the script be read
			conn.(*net.TCPConn).SetLinger(0)
		default:
			<-done
		}
	}()
	return ln.Addr().String()
}
