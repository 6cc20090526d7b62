package main

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsreactor/wsreactor/service"
)

func start(t *testing.T) string {
	t.Helper()
	cfg := service.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.AdminAddr = ""
	cfg.ShutdownTimeout = time.Second
	srv, err := listen(cfg, ParseUsers("alice:s3cret,bob:hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	return "ws://" + srv.Addr().String()
}

// TestAuthRefused: no token, an unknown one, and a cookie with an unknown
// one are each refused with 401 and the hook's body, through a real client.
func TestAuthRefused(t *testing.T) {
	base := start(t)
	for _, tc := range []struct {
		path   string
		cookie string
	}{
		{"/", ""}, {"/?token=wrong", ""}, {"/", "token=wrong"}, {"/?token=", "other=s3cret"},
	} {
		h := http.Header{}
		if tc.cookie != "" {
			h.Set("Cookie", tc.cookie)
		}
		c, resp, err := websocket.DefaultDialer.Dial(base+tc.path, h)
		if err == nil {
			c.Close()
			t.Errorf("%s with cookie %q: opened; want 401", tc.path, tc.cookie)
			continue
		}
		if resp == nil || resp.StatusCode != 401 {
			t.Errorf("%s with cookie %q: %v, %v; want a 401 response", tc.path, tc.cookie, err, resp)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if want := "auth: missing or unknown token: connect with ?token=... or a token cookie\n"; string(body) != want {
			t.Errorf("%s: body %q; want %q", tc.path, body, want)
		}
	}
}

// TestAuthAccepted: a token in the query or in a cookie opens the
// connection, and the handler the hook made knows the user: it greets by
// name and signs the echo.
func TestAuthAccepted(t *testing.T) {
	base := start(t)
	for _, tc := range []struct {
		path, cookie, user string
	}{
		{"/?token=s3cret", "", "alice"},
		{"/chat?room=1&token=hunter2", "", "bob"},
		{"/", "theme=dark; token=s3cret", "alice"},
	} {
		h := http.Header{}
		if tc.cookie != "" {
			h.Set("Cookie", tc.cookie)
		}
		c, _, err := websocket.DefaultDialer.Dial(base+tc.path, h)
		if err != nil {
			t.Fatalf("%s with cookie %q: %v", tc.path, tc.cookie, err)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		expect := func(want string) {
			t.Helper()
			_, msg, err := c.ReadMessage()
			if err != nil || string(msg) != want {
				t.Errorf("%s: read %q, %v; want %q", tc.path, msg, err, want)
			}
		}
		expect("hello, " + tc.user)
		if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		expect(tc.user + ": hi")
		c.Close()
	}
}

func TestParseUsers(t *testing.T) {
	u := ParseUsers(" alice:s3cret, bob:hunter2,broken,:x,y:")
	if len(u) != 2 || u["s3cret"] != "alice" || u["hunter2"] != "bob" {
		t.Errorf("ParseUsers = %v", u)
	}
}
