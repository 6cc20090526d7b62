package conformance

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/demo"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// rawGET sends one HTTP/1.1 request head to addr and reads everything the
// server sends until it closes the connection: the response parsed by
// net/http, its body, and the header lines as sent (net/http drops the
// Connection header it interprets).
func rawGET(t *testing.T, addr, head string) (resp *http.Response, body []byte, lines []string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(c) // until the server closes
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", head, err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("answer to %q: %v in %q", head, err, raw)
	}
	if body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatalf("body of the answer to %q: %v", head, err)
	}
	h, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	return resp, body, strings.Split(h, "\r\n")[1:]
}

// headerValues returns the values of every header line named name.
func headerValues(lines []string, name string) []string {
	var vs []string
	for _, l := range lines {
		if n, v, _ := strings.Cut(l, ":"); strings.EqualFold(n, name) {
			vs = append(vs, strings.TrimSpace(v))
		}
	}
	return vs
}

// TestDemoPage: with -demo (the default) a plain GET of "/" gets the page
// and the connection closes; other plain requests keep their answers, and
// with -demo=false "/" gets the 426 too, with one Connection header.
func TestDemoPage(t *testing.T) {
	on := testkit.StartAddr(t, testkit.Config())
	offCfg := testkit.Config()
	offCfg.Demo = false
	off := testkit.StartAddr(t, offCfg)

	tests := []struct {
		name   string
		addr   string
		head   string
		status int
	}{
		{"demo GET /", on, "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n", 200},
		{"demo GET /?x=1", on, "GET /?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n", 200},
		{"demo GET /favicon.ico", on, "GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n", 426},
		{"demo POST /", on, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 405},
		{"no demo GET /", off, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 426},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, lines := rawGET(t, tt.addr, tt.head)
			if resp.StatusCode != tt.status {
				t.Fatalf("%q answered %d; want %d", tt.head, resp.StatusCode, tt.status)
			}
			conn := headerValues(lines, "Connection")
			if len(conn) != 1 || !resp.Close {
				t.Errorf("%q answered with Connection headers %q; want one that closes", tt.head, conn)
			}
			switch tt.status {
			case 200:
				if !bytes.Equal(body, demo.Page()) {
					t.Errorf("%q: body of %d bytes is not the demo page", tt.head, len(body))
				}
			case 426:
				if resp.Header.Get("Upgrade") != "websocket" || len(conn) != 1 || conn[0] != "close, Upgrade" {
					t.Errorf("%q: 426 with Upgrade %q, Connection %q; want websocket and one \"close, Upgrade\"", tt.head, resp.Header.Get("Upgrade"), conn)
				}
			}
		})
	}
}
