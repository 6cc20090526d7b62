package protocol

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// hookRequest is the seed request with a query, a cookie and an
// authorization header.
const hookRequest = "GET /chat?room=a%20b&token=t1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nCookie: theme=dark; sid=42\r\n" +
	"Authorization: Bearer xyz\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"

// TestUpgradeHookSeesRequest: the hook sees the path, query, headers,
// cookies and the peer, whether the request arrives whole or byte by byte.
func TestUpgradeHookSeesRequest(t *testing.T) {
	for _, chunk := range []int{1, 13, len(hookRequest)} {
		var seen []string
		cfg := testConfig()
		cfg.Upgrade = func(u *UpgradeRequest) error {
			sid, ok := u.Cookie("sid")
			_, none := u.Cookie("nope")
			seen = []string{u.Method, u.Path(), u.RawQuery(), u.Query().Get("room"), u.Header("authorization"),
				strings.Join(u.Headers("Cookie"), "|"), sid, boolText(ok), boolText(none), u.Origin, u.Host, u.Subprotocol(),
				boolText(u.RemoteAddr() != nil)}
			return nil
		}
		h := newHarness(t, cfg, nil)
		h.feedChunks([]byte(hookRequest), chunk)
		want := []string{"GET", "/chat", "room=a%20b&token=t1", "a b", "Bearer xyz", "theme=dark; sid=42", "42", "true", "false",
			"http://example.com", "server.example.com", "chat", "true"}
		if strings.Join(seen, "\n") != strings.Join(want, "\n") {
			t.Errorf("chunk %d: hook saw %q; want %q", chunk, seen, want)
		}
		if got := h.output(); !strings.HasPrefix(got.status, "HTTP/1.1 101 ") {
			t.Errorf("chunk %d: status %q; want 101", chunk, got.status)
		}
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestUpgradeHookRefuses: a Refuse error is answered with its status and
// body, another error with 403 and its text, and counted as refused; the
// connection is not counted open and no handler is built.
func TestUpgradeHookRefuses(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		body   string
	}{
		{Refuse(401, "who are you"), 401, "who are you\n"},
		{Refuse(200, "not an error status"), 403, "not an error status\n"},
		{errors.New("plain error"), 403, "plain error\n"},
	} {
		cfg := testConfig()
		cfg.Upgrade = func(u *UpgradeRequest) error { u.SetHandler(Echo()); return tc.err }
		built := false
		h := newHarness(t, cfg, func() Handler { built = true; return Echo() })
		h.feed([]byte(hookRequest))
		out := string(h.tr.out)
		if !strings.HasPrefix(out, "HTTP/1.1 "+strconv.Itoa(tc.status)+" ") || !strings.HasSuffix(out, "\r\n\r\n"+tc.body) {
			t.Errorf("%v: answered %q; want status %d and body %q", tc.err, out, tc.status, tc.body)
		}
		st := h.srv.LoopStats(0)
		if st.HandshakeFailures[CauseRefused] != 1 || st.Open != 0 || built || h.rec != nil {
			t.Errorf("%v: refused %d, open %d, factory used %v; want 1, 0, false", tc.err, st.HandshakeFailures[CauseRefused], st.Open, built)
		}
		if !h.tr.lost {
			t.Errorf("%v: connection not closed after the refusal", tc.err)
		}
	}
	if CauseRefused.String() != "refused" {
		t.Errorf("CauseRefused = %q", CauseRefused.String())
	}
}

// TestUpgradeHookChoosesSubprotocolAndHandler: the hook may pick another
// offered and supported subprotocol, is refused one that is not both, and
// its handler replaces the factory's.
func TestUpgradeHookChoosesSubprotocolAndHandler(t *testing.T) {
	cfg := testConfig()
	var errs []error
	var mine *Conn
	cfg.Upgrade = func(u *UpgradeRequest) error {
		errs = append(errs, u.SetSubprotocol("unknown"), u.SetSubprotocol("superchat"))
		u.SetHandler(Messages(func(c *Conn, op frame.Opcode, msg []byte) {
			mine = c
			c.WriteMessage(op, append([]byte("mine:"), msg...))
		}))
		return nil
	}
	h := newHarness(t, cfg, nil)
	h.feed([]byte(hookRequest))
	if errs[0] == nil || errs[1] != nil {
		t.Errorf("SetSubprotocol(unknown), SetSubprotocol(superchat) = %v; want an error, nil", errs)
	}
	if !strings.Contains(string(h.tr.out), "Sec-WebSocket-Protocol: superchat\r\n") || h.c.Subprotocol() != "superchat" {
		t.Errorf("response %q, Subprotocol %q; want superchat", h.tr.out, h.c.Subprotocol())
	}
	h.tr.out = h.tr.out[:0]
	h.feed(frame.AppendMaskedFrame(nil, true, frame.OpText, [4]byte{1, 2, 3, 4}, []byte("hi")))
	if mine != h.c || h.rec != nil || !strings.Contains(string(h.tr.out), "mine:hi") {
		t.Errorf("the hook's handler did not get the message (out %q)", h.tr.out)
	}
}

// TestUpgradeRequestAbsoluteTarget: Path and RawQuery of an absolute-form
// target.
func TestUpgradeRequestAbsoluteTarget(t *testing.T) {
	for _, tc := range []struct{ target, path, query string }{
		{"/a/b?x=1", "/a/b", "x=1"},
		{"/", "/", ""},
		{"http://h.example/chat?x=1", "/chat", "x=1"},
		{"http://h.example?x=1", "/", "x=1"},
		{"http://h.example", "/", ""},
	} {
		u := UpgradeRequest{Request: &handshake.Request{Target: tc.target}}
		if u.Path() != tc.path || u.RawQuery() != tc.query {
			t.Errorf("%q: Path %q RawQuery %q; want %q %q", tc.target, u.Path(), u.RawQuery(), tc.path, tc.query)
		}
	}
}
