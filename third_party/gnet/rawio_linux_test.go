// wsreactor patch (PATCH.md, "Raw system calls on the loop"): not part of gnet v2.9.7.

//go:build linux && !race

package gnet

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRawIO: the raw read, write and writev behave as the ordinary calls
// do on a non-blocking socket: bytes in order, EAGAIN on an empty or full
// buffer, n = -1 with the error, 0 at end of stream, and a writev of more
// buffers than one call takes (rawIovMax) writes a prefix that the caller
// continues from.
func TestRawIO(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer unix.Close(a)
	buf := make([]byte, 1<<16)
	if n, err := sysRead(a, buf); n != -1 || err != unix.EAGAIN {
		t.Fatalf("read of an empty socket = %d, %v; want -1, EAGAIN", n, err)
	}
	if n, err := sysWrite(b, []byte("hello ")); n != 6 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	var bufs [][]byte
	var want bytes.Buffer
	want.WriteString("hello ")
	for i := 0; i < rawIovMax+10; i++ {
		p := []byte{byte('a' + i%26)}
		if i%7 == 0 {
			bufs = append(bufs, nil) // empty buffers are skipped
		}
		bufs = append(bufs, p)
	}
	n, err := sysWritev(b, bufs)
	if n != rawIovMax || err != nil {
		t.Fatalf("writev of %d buffers = %d, %v; want %d (one call's worth), nil", len(bufs), n, err, rawIovMax)
	}
	for _, p := range bufs {
		want.Write(p)
	}
	want.Truncate(6 + rawIovMax)
	got, err := sysRead(a, buf)
	if err != nil || !bytes.Equal(buf[:got], want.Bytes()) {
		t.Fatalf("read = %d, %v; want %q", got, err, want.Bytes())
	}
	// Fill b's send buffer: EAGAIN, n = -1.
	big := make([]byte, 1<<20)
	for {
		n, err := sysWrite(b, big)
		if err == unix.EAGAIN {
			if n != -1 {
				t.Fatalf("write to a full socket = %d, EAGAIN; want -1", n)
			}
			break
		}
		if err != nil || n <= 0 {
			t.Fatalf("write = %d, %v", n, err)
		}
	}
	if n, err := sysWritev(b, [][]byte{big}); n != -1 || err != unix.EAGAIN {
		t.Fatalf("writev to a full socket = %d, %v; want -1, EAGAIN", n, err)
	}
	// Drain, close the writer: end of stream is 0, nil.
	unix.Close(b)
	for {
		n, err := sysRead(a, buf)
		if err != nil {
			t.Fatalf("read while draining: %d, %v", n, err)
		}
		if n == 0 {
			break
		}
	}
	if n, err := sysWrite(a, []byte("x")); n != -1 || err != unix.EPIPE {
		t.Fatalf("write to a closed peer = %d, %v; want -1, EPIPE", n, err)
	}
}
