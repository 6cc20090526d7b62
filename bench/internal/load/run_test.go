//go:build linux

package load

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// quick is a short run against addr; tests adjust the rest.
func quick(addr string) Config {
	return Config{
		Addr:     addr,
		Conns:    4,
		Warmup:   50 * time.Millisecond,
		Duration: 250 * time.Millisecond,
		Timeout:  3 * time.Second,
	}
}

func mustRun(t *testing.T, cfg Config) Result {
	t.Helper()
	res, err := Run(cfg)
	if err != nil {
		t.Fatalf("Run(%+v) = %v; report %+v", cfg, err, res)
	}
	if res.Errors != 0 || res.Mismatches != 0 {
		t.Fatalf("errors %d mismatches %d: %v", res.Errors, res.Mismatches, res.FirstErrors)
	}
	return res
}

func TestEchoGorilla(t *testing.T) {
	addr := startWSEcho(t, wsServerOpts{})
	for _, size := range []int{64, 4096, 1 << 20} {
		for _, k := range []int{1, 16} {
			t.Run(fmt.Sprintf("size=%d/inflight=%d", size, k), func(t *testing.T) {
				cfg := quick(addr)
				cfg.Size, cfg.Inflight = size, k
				if size >= 1<<20 {
					cfg.Conns = 2
				}
				res := mustRun(t, cfg)
				if res.Msgs < int64(k) || res.MsgsPerSec <= 0 || res.MBPerSec <= 0 || res.P50us <= 0 || res.MaxUs < res.P50us {
					t.Fatalf("implausible report %+v", res)
				}
				if res.Opened != int64(cfg.Conns) {
					t.Fatalf("opened %d, want %d", res.Opened, cfg.Conns)
				}
			})
		}
	}
}

func TestEchoText(t *testing.T) {
	cfg := quick(startWSEcho(t, wsServerOpts{}))
	cfg.Text, cfg.Inflight = true, 4
	if res := mustRun(t, cfg); res.Msgs == 0 {
		t.Fatal("no messages")
	}
}

// A server that fragments its echoes (gorilla flushes a frame whenever its
// small write buffer fills) must still verify: payload is compared across
// frame boundaries.
func TestEchoFragmented(t *testing.T) {
	cfg := quick(startWSEcho(t, wsServerOpts{writeBuffer: 32}))
	cfg.Size, cfg.Inflight = 1000, 8
	if res := mustRun(t, cfg); res.Msgs == 0 {
		t.Fatal("no messages")
	}
}

func TestRaw(t *testing.T) {
	srv := startTCP(t, rawEcho)
	for _, size := range []int{64, 1 << 20} {
		for _, k := range []int{1, 16} {
			t.Run(fmt.Sprintf("size=%d/inflight=%d", size, k), func(t *testing.T) {
				cfg := quick(srv.addr())
				cfg.Raw, cfg.Size, cfg.Inflight = true, size, k
				if size >= 1<<20 {
					cfg.Conns = 2
				}
				if res := mustRun(t, cfg); res.Msgs < int64(k) {
					t.Fatalf("msgs %d", res.Msgs)
				}
			})
		}
	}
}

func TestIdle(t *testing.T) {
	addr := startWSEcho(t, wsServerOpts{})
	cfg := quick(addr)
	cfg.Mode, cfg.Conns, cfg.Settle = ModeIdle, 200, 50*time.Millisecond
	cfg.ServerPID = os.Getpid() // the test server runs in this process
	res := mustRun(t, cfg)
	if res.Opened != 200 || res.Msgs != 200 {
		t.Fatalf("opened %d, final echoes %d; want 200, 200", res.Opened, res.Msgs)
	}
	if res.ServerRSSKB <= 0 || res.ServerRSSBeforeKB <= 0 {
		t.Fatalf("server RSS %d (before %d), want > 0", res.ServerRSSKB, res.ServerRSSBeforeKB)
	}
}

func TestIdleRaw(t *testing.T) {
	cfg := quick(startTCP(t, rawEcho).addr())
	cfg.Mode, cfg.Raw, cfg.Conns, cfg.Settle = ModeIdle, true, 100, 10*time.Millisecond
	if res := mustRun(t, cfg); res.Msgs != 100 {
		t.Fatalf("final echoes %d, want 100", res.Msgs)
	}
}

func TestConnect(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprint("raw=", raw), func(t *testing.T) {
			addr := startWSEcho(t, wsServerOpts{})
			if raw {
				addr = startTCP(t, rawEcho).addr()
			}
			cfg := quick(addr)
			cfg.Mode, cfg.Raw = ModeConnect, raw
			res := mustRun(t, cfg)
			if res.ConnectsPerSec <= 0 || res.Msgs == 0 || res.P50us <= 0 {
				t.Fatalf("implausible report %+v", res)
			}
		})
	}
}

// Fixed rate: 10 connections at 200 messages/s for 0.5 s are about 1,000
// messages, whatever the server's speed.
func TestRate(t *testing.T) {
	cfg := quick(startWSEcho(t, wsServerOpts{}))
	cfg.Conns, cfg.Rate, cfg.Duration = 10, 200, 500*time.Millisecond
	res := mustRun(t, cfg)
	want := 10 * 200 * res.DurationS
	if f := float64(res.Msgs); f < 0.8*want || f > 1.2*want {
		t.Fatalf("msgs %d in %.3fs, want about %.0f", res.Msgs, res.DurationS, want)
	}
}

func TestCorruptionDetected(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprint("raw=", raw), func(t *testing.T) {
			addr := ""
			if raw {
				addr = startTCP(t, rawCorrupt).addr()
			} else {
				addr = startWSEcho(t, wsServerOpts{corrupt: true})
			}
			cfg := quick(addr)
			cfg.Raw, cfg.Size, cfg.Inflight = raw, 200, 2
			res, err := Run(cfg)
			if !errors.Is(err, ErrFailed) || res.Mismatches == 0 || !res.Failed() {
				t.Fatalf("Run = %v, mismatches %d; want ErrFailed and mismatches", err, res.Mismatches)
			}
		})
	}
}

func TestHandshakeRejected(t *testing.T) {
	cfg := quick(startTCP(t, badAccept).addr())
	cfg.Conns = 2
	res, err := Run(cfg)
	if err == nil || res.ErrorKinds["handshake"] != 2 {
		t.Fatalf("Run = %v, error kinds %v; want 2 handshake errors", err, res.ErrorKinds)
	}
}

func TestRefusedIsCounted(t *testing.T) {
	srv := startTCP(t, rawEcho)
	addr := srv.addr()
	srv.ln.Close()
	cfg := quick(addr)
	cfg.Retries, cfg.Conns = 1, 2
	res, err := Run(cfg)
	if err == nil || res.ErrorKinds["connect"] != 2 || res.Retries != 2 {
		t.Fatalf("Run = %v, kinds %v, retries %d; want 2 connect errors after 2 retries", err, res.ErrorKinds, res.Retries)
	}
}

// In connect mode too, a server that refuses every connection is an error,
// even when the run ends while the workers are still retrying.
func TestConnectRefusedIsCounted(t *testing.T) {
	srv := startTCP(t, rawEcho)
	addr := srv.addr()
	srv.ln.Close()
	cfg := quick(addr)
	cfg.Mode = ModeConnect
	res, err := Run(cfg)
	if !errors.Is(err, ErrFailed) || res.ErrorKinds["connect"] != int64(cfg.Conns) {
		t.Fatalf("Run = %v, kinds %v; want %d connect errors", err, res.ErrorKinds, cfg.Conns)
	}
}

func TestSources(t *testing.T) {
	srv := startTCP(t, rawEcho)
	cfg := quick(srv.addr())
	cfg.Raw, cfg.Conns, cfg.Sources = true, 8, 4
	mustRun(t, cfg)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i := 1; i <= 4; i++ {
		if ip := fmt.Sprintf("127.0.0.%d", i); srv.peers[ip] != 2 {
			t.Fatalf("peers %v, want 2 from each of 127.0.0.1..4", srv.peers)
		}
	}
}
