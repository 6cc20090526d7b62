package service_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/frame"
	"github.com/wsreactor/wsreactor/internal/testkit"
	"github.com/wsreactor/wsreactor/service"
)

// closeWS runs the client's side of a clean close with 1000.
func closeWS(t testing.TB, ws *testkit.WSConn) {
	t.Helper()
	ws.SetDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteFrame(true, frame.OpClose, []byte{0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	ws.ExpectClose(t, frame.CloseNormal)
}

// TestMetricsMoveWithTraffic scrapes /metrics before and after a known
// exchange over loopback and checks that each counter moved by exactly what
// the exchange did.
func TestMetricsMoveWithTraffic(t *testing.T) {
	cfg := testkit.Config()
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.MaxConns = 2
	// Short, so the silent connection below is dropped soon, but not so
	// short that a loaded machine cuts off the test's own handshakes (each
	// would count as one more timeout).
	cfg.HandshakeTimeout = 2 * time.Second
	run := testkit.Start(t, cfg)
	addr, admin := run.Addr().String(), run.AdminAddr()
	before := testkit.Scrape(t, admin)

	c1 := testkit.OpenWS(t, addr)
	c1.Echo(t, frame.OpText, []byte("hello"))
	c1.Echo(t, frame.OpBinary, make([]byte, 1000))
	c2 := testkit.OpenWS(t, addr)
	for range 3 {
		c2.Echo(t, frame.OpBinary, []byte("0123456789"))
	}
	closeWS(t, c1)
	waitOpen(t, run, 1)
	c3 := testkit.OpenWS(t, addr)
	// Two open: the next upgrade is shed at -max-conns.
	if got := testkit.RawRequest(t, addr, seedRequestText); !strings.HasPrefix(got, "HTTP/1.1 503 ") {
		t.Fatalf("third upgrade at -max-conns 2: %q; want 503", got)
	}
	if got := testkit.RawRequest(t, addr, "POST /chat HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 405 ") {
		t.Fatalf("POST: %q; want 405", got)
	}
	silent, err := net.Dial("tcp", addr) // says nothing: the handshake timeout drops it
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatalf("silent connection read %d bytes; want it dropped", n)
	}
	closeWS(t, c2)
	closeWS(t, c3)

	want := map[string]float64{
		"wsreactor_connections_accepted_total":                    6,
		"wsreactor_handshake_responses_total{status=101}":         3,
		"wsreactor_handshake_responses_total{status=503}":         1,
		"wsreactor_handshake_responses_total{status=405}":         1,
		"wsreactor_handshake_failures_total{cause=at_capacity}":   1,
		"wsreactor_handshake_failures_total{cause=method}":        1,
		"wsreactor_handshake_failures_total{cause=timeout}":       1,
		"wsreactor_handshake_failures_total{cause=bad_request}":   0,
		"wsreactor_handshake_failures_total{cause=client_closed}": 0,
		"wsreactor_messages_received_total{type=text}":            1,
		"wsreactor_messages_received_total{type=binary}":          4,
		"wsreactor_messages_sent_total{type=text}":                1,
		"wsreactor_messages_sent_total{type=binary}":              4,
		"wsreactor_received_bytes_total{type=text}":               5,
		"wsreactor_received_bytes_total{type=binary}":             1030,
		"wsreactor_sent_bytes_total{type=text}":                   5,
		"wsreactor_sent_bytes_total{type=binary}":                 1030,
		"wsreactor_close_frames_total{code=1000,side=received}":   3,
		"wsreactor_close_frames_total{code=1000,side=sent}":       3,
		"wsreactor_close_frames_total{code=1001,side=sent}":       0,
		"wsreactor_timeouts_total{kind=handshake}":                1,
		"wsreactor_timeouts_total{kind=ping}":                     0,
		"wsreactor_timeouts_total{kind=close}":                    0,
		"wsreactor_connections_shed_total{limit=max_conns}":       1,
		"wsreactor_connections_shed_total{limit=open_files}":      0,
		"wsreactor_accept_pauses_total":                           0,
		"wsreactor_write_buffer_limit_closes_total":               0,
		"wsreactor_connections_open":                              0,
	}
	// The server learns of the last closes a moment after the client:
	// scrape until the open gauges are back to zero (and a lag sample is in).
	var after map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		after = testkit.Scrape(t, admin)
		_, lagged := after["wsreactor_event_loop_lag_seconds_count{loop=0}"] // sampled every 500 ms
		if after["wsreactor_connections_open"] == 0 && after["wsreactor_tcp_connections_open"] == 0 && lagged || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for key, delta := range want {
		a, ok := after[key]
		if !ok {
			t.Errorf("%s missing from /metrics", key)
			continue
		}
		if got := a - before[key]; got != delta {
			t.Errorf("%s moved by %v (%v → %v); want %v", key, got, before[key], a, delta)
		}
	}
	for _, key := range []string{"go_goroutines", "process_open_fds", "wsreactor_event_loop_lag_seconds_count{loop=0}",
		"wsreactor_event_loop_connections_open{loop=1}", "wsreactor_tcp_connections_open"} {
		if _, ok := after[key]; !ok {
			t.Errorf("%s missing from /metrics", key)
		}
	}
	if t.Failed() {
		var keys []string
		for k := range after {
			if strings.HasPrefix(k, "wsreactor_") {
				keys = append(keys, fmt.Sprintf("%s %v", k, after[k]))
			}
		}
		slices.Sort(keys)
		t.Logf("after:\n%s", strings.Join(keys, "\n"))
	}
}

// waitOpen waits until the server counts n open connections.
func waitOpen(t testing.TB, run *service.Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for run.Protocol().Open() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open; want %d", run.Protocol().Open(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seedRequestText is a valid upgrade request.
const seedRequestText = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// TestLimitEventsLogged: limit events are logged once per check with their
// count since the previous check, and not at all when none happened.
func TestLimitEventsLogged(t *testing.T) {
	cfg := testkit.Config()
	cfg.MaxConns = 1
	run := testkit.Start(t, cfg)
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	mon := service.NewTestMonitor(run, logger)
	testkit.OpenWS(t, run.Addr().String())
	for range 3 {
		if got := testkit.RawRequest(t, run.Addr().String(), seedRequestText); !strings.HasPrefix(got, "HTTP/1.1 503 ") {
			t.Fatalf("upgrade past -max-conns 1: %q; want 503", got)
		}
	}
	mon.LogLimits()
	mon.LogLimits() // nothing new: no line
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `level=WARN msg="max-conns reached: upgrades answered 503" count=3`) {
		t.Errorf("log = %q; want one warn line with count=3", lines)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
