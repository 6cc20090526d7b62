package protocol

import (
	"bytes"
	"strings"
	"testing"
)

// testPage stands in for the command's demo page: protocol must answer a
// plain GET of "/" with Config.RootPage as is, whatever it holds.
const testPage = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"

// TestRootPage: a plain GET of "/" gets RootPage byte for byte and the
// connection closes; every other request keeps its answer. Each request is
// also fed split at every chunk size.
func TestRootPage(t *testing.T) {
	upgradeRoot := strings.Replace(hsStd(), "/chat", "/", 1)
	tests := []struct {
		name   string
		page   string // Config.RootPage; "" is nil
		in     string
		status string // the start of the answer when it is not the page
	}{
		{name: "plain GET /", page: testPage, in: hsHead("GET / HTTP/1.1", "Host: x")},
		{name: "plain GET / with query", page: testPage, in: hsHead("GET /?room=1 HTTP/1.1", "Host: x")},
		{name: "browser GET /", page: testPage, in: hsHead("GET / HTTP/1.1", "Host: localhost:8080",
			"Connection: keep-alive", "Accept: text/html", "User-Agent: Mozilla/5.0")},
		{name: "plain GET other path", page: testPage, in: hsHead("GET /index.html HTTP/1.1", "Host: x"), status: "HTTP/1.1 426 "},
		{name: "POST /", page: testPage, in: hsHead("POST / HTTP/1.1", "Host: x"), status: "HTTP/1.1 405 "},
		{name: "HEAD /", page: testPage, in: hsHead("HEAD / HTTP/1.1", "Host: x"), status: "HTTP/1.1 405 "},
		{name: "GET / without Host", page: testPage, in: hsHead("GET / HTTP/1.1"), status: "HTTP/1.1 400 "},
		{name: "GET / HTTP/1.0", page: testPage, in: "GET / HTTP/1.0\r\n\r\n", status: "HTTP/1.1 400 "},
		{name: "GET / Upgrade without websocket", page: testPage, in: hsHead("GET / HTTP/1.1", "Host: x", "Upgrade: h2c"), status: "HTTP/1.1 400 "},
		{name: "upgrade of /", page: testPage, in: upgradeRoot, status: "HTTP/1.1 101 "},
		{name: "no page: plain GET /", in: hsHead("GET / HTTP/1.1", "Host: x"), status: "HTTP/1.1 426 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k := 1; k <= len(tt.in); k++ {
				cfg := testConfig()
				if tt.page != "" {
					cfg.RootPage = []byte(tt.page)
				}
				h := newHarness(t, cfg, nil)
				h.feedChunks([]byte(tt.in), k)
				got := string(h.tr.out)
				if tt.status == "" {
					if got != tt.page || !h.tr.lost {
						t.Fatalf("chunks of %d: wrote %q, lost %v; want the page %q and LoseConnection", k, got, h.tr.lost, tt.page)
					}
					continue
				}
				if !strings.HasPrefix(got, tt.status) || strings.Contains(got, "hello") {
					t.Fatalf("chunks of %d: wrote %q; want an answer starting %q", k, got, tt.status)
				}
			}
		})
	}
}

// TestRootPageNotCopied: the page is handed to Write as it is, in one call.
func TestRootPageNotCopied(t *testing.T) {
	cfg := testConfig()
	cfg.RootPage = []byte(testPage)
	h := newHarness(t, cfg, nil)
	var got []byte
	h.tr.sink = func(p []byte) { got = p }
	h.feed([]byte(hsHead("GET / HTTP/1.1", "Host: x")))
	if h.tr.writes != 1 || len(got) == 0 || &got[0] != &cfg.RootPage[0] {
		t.Fatalf("%d writes; want one Write of RootPage itself", h.tr.writes)
	}
}

// Test426OneConnectionHeader: the 426 to a plain GET carries one Connection
// header that both closes and names the Upgrade option (RFC 9110 §7.6.1,
// §7.8), not two.
func Test426OneConnectionHeader(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	h.feed([]byte(hsHead("GET / HTTP/1.1", "Host: x")))
	head, _, _ := bytes.Cut(h.tr.out, []byte("\r\n\r\n"))
	var conn []string
	for _, line := range strings.Split(string(head), "\r\n")[1:] {
		if name, value, _ := strings.Cut(line, ": "); strings.EqualFold(name, "Connection") {
			conn = append(conn, value)
		}
	}
	if len(conn) != 1 || conn[0] != "close, Upgrade" {
		t.Fatalf("426 head %q has Connection headers %q; want one, \"close, Upgrade\"", head, conn)
	}
	if !bytes.Contains(head, []byte("\r\nUpgrade: websocket")) {
		t.Fatalf("426 head %q lacks Upgrade: websocket", head)
	}
}
