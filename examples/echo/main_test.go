package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// TestEcho sends bytes in pieces of every size from 1 byte up to all at
// once, over loopback, and reads them back unchanged.
func TestEcho(t *testing.T) {
	r, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	msg := []byte("hello, reactor: Twisted's echoserv.py, a dozen lines of Go\n")
	for k := 1; k <= len(msg); k++ {
		go func() {
			for rest := msg; len(rest) > 0; rest = rest[min(k, len(rest)):] {
				c.Write(rest[:min(k, len(rest))])
			}
		}()
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("pieces of %d: %v", k, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("pieces of %d: echo %q; want %q", k, got, msg)
		}
	}
}
