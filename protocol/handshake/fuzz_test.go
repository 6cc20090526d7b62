package handshake

import (
	"bufio"
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzHandshake feeds arbitrary bytes to the handshake parser, whole and in
// chunks of a fuzz-chosen size, and checks that:
//   - it never panics, and never buffers more than MaxHeadBytes;
//   - the chunked result (status, message, Request, end of head) equals the
//     whole one;
//   - an accepted request, written again in canonical form, parses to the
//     same Request;
//   - net/http's ReadRequest, a second parser, also accepts every head we
//     accept, and reads the same method, target, Host and key.
//
// The seed corpus is committed in testdata/fuzz/FuzzHandshake.
func FuzzHandshake(f *testing.F) {
	for _, c := range hsCases() {
		if in := c.in + c.trailing; len(in) <= 1024 {
			f.Add([]byte(in), uint16(len(in)/3))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		whole := hsFeed(data, max(len(data), 1))
		if whole.bad != "" {
			t.Fatalf("Feed(%q) whole: %s", data, whole.bad)
		}
		size := int(chunk)%max(len(data), 1) + 1
		if got := hsFeed(data, size); !reflect.DeepEqual(got, whole) {
			t.Fatalf("Feed(%q) in chunks of %d:\n got %+v\nwant %+v (whole)", data, size, got, whole)
		}
		if whole.status != 0 && (whole.status < 400 || whole.msg == "" || !strings.HasPrefix(whole.msg, "protocol: ")) {
			t.Fatalf("Feed(%q): status %d, message %q", data, whole.status, whole.msg)
		}
		if !whole.done {
			return
		}
		req := whole.req
		_ = AppendResponse(nil, req.Key, SelectSubprotocol(req.Protocols, hsSupported))

		again := hsAppendRequest(nil, req)
		if len(again) <= MaxHeadBytes {
			if r := hsFeed(again, len(again)); !r.done || !reflect.DeepEqual(r.req, req) {
				t.Fatalf("Feed(%q) = %+v; written again as %q it gives %+v (status %d %s)", data, req, again, r.req, r.status, r.msg)
			}
		}
		hsAgreeNetHTTP(t, data[:whole.head], req)
	})
}

// hsAppendRequest writes r as a canonical opening handshake.
func hsAppendRequest(dst []byte, r *Request) []byte {
	dst = append(dst, r.Method+" "+r.Target+" HTTP/1.1\r\nHost: "+r.Host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+r.Key+"\r\nSec-WebSocket-Version: 13\r\n"...)
	if r.Origin != "" {
		dst = append(dst, "Origin: "+r.Origin+"\r\n"...)
	}
	if len(r.Protocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "+strings.Join(r.Protocols, ", ")+"\r\n"...)
	}
	if r.Extensions != "" {
		dst = append(dst, "Sec-WebSocket-Extensions: "+r.Extensions+"\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// hsAgreeNetHTTP checks that net/http also accepts a head we accepted, and
// reads it the same way. (net/http is more lenient in places, e.g. obs-fold,
// HTTP/1.0, so the check runs one way only.)
func hsAgreeNetHTTP(t *testing.T, head []byte, req *Request) {
	t.Helper()
	head = bytes.TrimLeft(head, "\r\n") // empty lines before the request line (RFC 9112 §2.2)
	hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		t.Fatalf("we accept %q; net/http's ReadRequest says %v", head, err)
	}
	if hr.Method != req.Method || hr.RequestURI != req.Target || hr.Header.Get("Sec-WebSocket-Key") != req.Key {
		t.Fatalf("%q: net/http reads %s %s key %q; we read %s %s key %q",
			head, hr.Method, hr.RequestURI, hr.Header.Get("Sec-WebSocket-Key"), req.Method, req.Target, req.Key)
	}
	if strings.HasPrefix(req.Target, "/") && hr.Host != req.Host {
		t.Fatalf("%q: net/http reads Host %q; we read %q", head, hr.Host, req.Host)
	}
}
