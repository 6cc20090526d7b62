package demo

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"regexp"
	"testing"
)

// TestResponse reads Response with net/http's own parser: a 200 with the
// page as its body, the right length, and a connection that closes.
func TestResponse(t *testing.T) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(Response())), nil)
	if err != nil {
		t.Fatalf("http.ReadResponse(Response()) = %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case resp.StatusCode != 200:
		t.Errorf("status %d; want 200", resp.StatusCode)
	case resp.Header.Get("Content-Type") != "text/html; charset=utf-8":
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	case !resp.Close:
		t.Errorf("response does not say Connection: close")
	case !bytes.Equal(body, Page()):
		t.Errorf("body (%d bytes) is not the page (%d bytes)", len(body), len(Page()))
	case resp.ContentLength != int64(len(Page())):
		t.Errorf("Content-Length %d; want %d", resp.ContentLength, len(Page()))
	}
}

// TestPageSelfContained: the page loads nothing from anywhere (no src or
// href to another resource but a data: icon) and uses the browser's own
// WebSocket, showing what the handshake negotiated.
func TestPageSelfContained(t *testing.T) {
	p := Page()
	for _, m := range regexp.MustCompile(`(?i)(src|href)\s*=\s*"([^"]*)"`).FindAllSubmatch(p, -1) {
		if !bytes.HasPrefix(m[2], []byte("data:")) {
			t.Errorf("page refers to %s=%q: it must be self-contained", m[1], m[2])
		}
	}
	for _, want := range []string{"new WebSocket(", "ws.protocol", "ws.extensions", "1 << 20", `id="send-big"`} {
		if !bytes.Contains(p, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	if bytes.Contains(p, []byte("@import")) || bytes.Contains(p, []byte("url(")) {
		t.Errorf("page style loads something")
	}
}
