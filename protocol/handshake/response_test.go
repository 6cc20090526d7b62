package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	// RFC 6455 §1.3 and §4.2.2.
	if got, want := AcceptKey(hsKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey(%q) = %q; want %q", hsKey, got, want)
	}
	// The plain computation, for short, valid and long keys.
	for _, key := range []string{"", "x", "AQIDBAUGBwgJCgsMDQ4PEC==", strings.Repeat("k", 28), strings.Repeat("k", 29), strings.Repeat("long", 100)} {
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		if got, want := AcceptKey(key), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("AcceptKey(%q) = %q; want %q", key, got, want)
		}
	}
}

func TestAcceptResponseNoSubprotocol(t *testing.T) {
	got := string(AppendResponse([]byte("x"), hsKey, ""))
	want := "xHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	if got != want {
		t.Fatalf("AppendResponse(%q, \"\") = %q; want %q", hsKey, got, want)
	}
}

func TestAcceptHTTPError(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{errMethod([]byte("POST")), "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n" +
			"Content-Length: 85\r\nConnection: close\r\nAllow: GET\r\n\r\n" +
			"protocol: method \"POST\" not allowed: a WebSocket handshake is a GET (RFC 6455 §4.1)\n"},
		{ErrServiceUnavailable(0), "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
			"Content-Length: 66\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" +
			"protocol: server busy (connection limit or shutdown): retry in 1s\n"},
		{errNotUpgrade([]byte("/")), "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain; charset=utf-8\r\n" +
			"Content-Length: 118\r\nConnection: close, Upgrade\r\nUpgrade: websocket\r\n\r\n" +
			"protocol: this resource speaks only WebSocket: send \"Upgrade: websocket\" and \"Connection: Upgrade\" (RFC 6455 §4.2.1)\n"},
		{&Error{Status: 499, Msg: "m", Header: [][2]string{{"X-A\r\n", "b\r\nInjected: 1"}}},
			"HTTP/1.1 499 Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n" +
				"X-A: bInjected: 1\r\n\r\nm\n"},
	}
	for _, tt := range tests {
		got := string(AppendHTTPError(nil, tt.e))
		if got != tt.want {
			t.Errorf("AppendHTTPError(%v) =\n%q\nwant\n%q", tt.e, got, tt.want)
		}
		body := got[strings.Index(got, "\r\n\r\n")+4:]
		if !strings.Contains(got, "Content-Length: "+strconv.Itoa(len(body))+"\r\n") {
			t.Errorf("AppendHTTPError(%v): Content-Length does not match body %q", tt.e, body)
		}
	}
}

func TestAcceptErrServiceUnavailable(t *testing.T) {
	for _, tt := range []struct {
		in   int
		want string
	}{{-5, "1"}, {0, "1"}, {1, "1"}, {30, "30"}} {
		e := ErrServiceUnavailable(tt.in)
		if e.Status != 503 || len(e.Header) != 1 || e.Header[0] != [2]string{"Retry-After", tt.want} {
			t.Errorf("ErrServiceUnavailable(%d) = %d %q; want 503 Retry-After: %s", tt.in, e.Status, e.Header, tt.want)
		}
	}
	e := ErrOriginForbidden("http://evil.example\r\n")
	if e.Status != 403 || !strings.Contains(e.Msg, `"http://evil.example\r\n"`) {
		t.Errorf("ErrOriginForbidden = %d %q; want 403 quoting the origin", e.Status, e.Msg)
	}
}

// TestAcceptAllocations pins the response writers at zero allocations.
func TestAcceptAllocations(t *testing.T) {
	dst := make([]byte, 0, 512)
	e := errWSVersion([]byte("8"), false)
	for name, fn := range map[string]func(){
		"AppendResponse":    func() { dst = AppendResponse(dst[:0], hsKey, "chat") },
		"AppendHTTPError":   func() { dst = AppendHTTPError(dst[:0], e) },
		"SelectSubprotocol": func() { _ = SelectSubprotocol([]string{"a", "b", "superchat"}, hsSupported) },
		"OriginAllowed":     func() { _ = OriginAllowed("HTTP://EXAMPLE.COM", []string{"http://a", "http://example.com"}) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s allocates %v times; want 0", name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = AcceptKey(hsKey) }); n > 1 {
		t.Errorf("AcceptKey allocates %v times; want at most 1", n)
	}
}
