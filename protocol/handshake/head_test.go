package handshake

import (
	"reflect"
	"testing"
)

func TestFeedHeadAndValues(t *testing.T) {
	req := "\r\nGET /chat?token=abc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Cookie: a=1; b=2\r\nX-Multi: one\ncookie:  c=3 \r\nAuthorization: Bearer t\r\n\r\nFRAMES"
	for _, chunk := range []int{1, 7, len(req)} { // in pieces (the parser's buffer) and whole (in place)
		var hp Parser
		var head Head
		var done bool
		for i := 0; i < len(req) && !done; i += chunk {
			var err error
			_, done, _, head, err = hp.FeedHead([]byte(req[i:min(i+chunk, len(req))]))
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
		}
		if !done {
			t.Fatalf("chunk %d: not done", chunk)
		}
		if got := head.Values("Cookie"); !reflect.DeepEqual(got, []string{"a=1; b=2", "c=3"}) {
			t.Errorf("chunk %d: Values(Cookie) = %q", chunk, got)
		}
		if got := head.Get("authorization"); got != "Bearer t" {
			t.Errorf("chunk %d: Get(authorization) = %q", chunk, got)
		}
		if got := head.Get("X-Multi"); got != "one" {
			t.Errorf("chunk %d: Get(X-Multi) = %q", chunk, got)
		}
		if got := head.Values("Absent"); got != nil {
			t.Errorf("chunk %d: Values(Absent) = %q", chunk, got)
		}
		if got := head.Get("GET /chat?token=abc HTTP/1.1"); got != "" {
			t.Errorf("chunk %d: the request line read as a header: %q", chunk, got)
		}
	}
}
