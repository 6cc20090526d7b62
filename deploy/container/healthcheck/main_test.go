package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCheck: the probe passes on a 200 from /healthz, fails on any other
// status, on no server and on a malformed address, and asks an address
// without a host (or with 0.0.0.0) on loopback.
func TestCheck(t *testing.T) {
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := closed.Listener.Addr().String()
	closed.Close()

	for _, c := range []struct {
		addr    string
		status  int
		wantErr string
	}{
		{"127.0.0.1:" + port, 200, ""},
		{":" + port, 200, ""},
		{"0.0.0.0:" + port, 200, ""},
		{"127.0.0.1:" + port, 503, "503"},
		{"127.0.0.1:" + port, 404, "404"},
		{closedAddr, 200, "refused"},
		{"no-port", 200, "admin address"},
	} {
		status = c.status
		err := check(c.addr, 2*time.Second)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("check(%q) with /healthz %d = %v; want nil", c.addr, c.status, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("check(%q) with /healthz %d = %v; want an error with %q", c.addr, c.status, err, c.wantErr)
		}
	}
}
