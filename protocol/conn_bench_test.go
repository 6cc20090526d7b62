package protocol

import (
	"fmt"
	"testing"
)

// benchConfig is the configuration the command runs with: timers on and a
// memory budget (which the echo path reports to after each write).
func benchConfig() Config {
	cfg := timerConfig()
	cfg.MemoryBudget = 1 << 30
	return cfg
}

// BenchmarkEchoDataReceived: one read holding one masked binary frame,
// through the whole echo path (decode, unmask, echo frame, one Write).
func BenchmarkEchoDataReceived(b *testing.B) {
	for _, size := range []int{64, 4 << 10, 64 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			h := openDiscard(b, benchConfig())
			feedEach(b, h, bin(make([]byte, size)), size)
			if h.tr.lost || h.tr.nbytes < int64(b.N*size) {
				b.Fatal("echo failed")
			}
		})
	}
}

// BenchmarkEchoDataReceivedBatch: 16 messages of 64 bytes in one read, as a
// client with 16 in flight sends them; text (UTF-8 checked) and binary.
func BenchmarkEchoDataReceivedBatch(b *testing.B) {
	for _, tc := range []struct {
		name  string
		frame func([]byte) []byte
	}{
		{"text", func(p []byte) []byte { return text(string(p)) }},
		{"binary", bin},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := openDiscard(b, benchConfig())
			var in []byte
			for i := 0; i < 16; i++ {
				in = append(in, tc.frame(make([]byte, 64))...)
			}
			buf := make([]byte, len(in))
			b.ReportAllocs()
			b.SetBytes(16 * 64)
			for i := 0; i < b.N; i++ {
				copy(buf, in)
				h.c.DataReceived(buf)
			}
		})
	}
}

// BenchmarkConnHandshake: a connection's whole opening: ConnectionMade, the
// seed request in one read (parse, 101 response, timers), ConnectionLost.
func BenchmarkConnHandshake(b *testing.B) { benchHandshakes(b, timerConfig(), seedRequest) }

// benchHandshakes times b.N whole openings of a connection with cfg and
// request.
func benchHandshakes(b *testing.B, cfg Config, request string) {
	h := newHarness(b, cfg, nil)
	h.tr.discard = true
	req := []byte(request)
	buf := make([]byte, len(req))
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for i := 0; i < b.N; i++ {
		c := h.srv.NewConn()
		c.ConnectionMade(h.tr)
		copy(buf, req)
		c.DataReceived(buf)
		c.ConnectionLost(nil)
		h.clk.calls = h.clk.calls[:0]
	}
}

// feedEach times b.N DataReceived calls, each on a fresh copy of in (the
// decoder unmasks in place, as it does in the loop's read buffer), counting
// size bytes of message per call.
func feedEach(b *testing.B, h *harness, in []byte, size int) {
	buf := make([]byte, len(in))
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(buf, in)
		h.c.DataReceived(buf)
	}
	b.StopTimer()
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkConnHandshakeUpgradeHook is BenchmarkConnHandshake with a
// Config.Upgrade that reads a query parameter, a cookie and a header and
// builds the connection's handler: the hook's cost when set (when unset,
// BenchmarkConnHandshake measures it).
func BenchmarkConnHandshakeUpgradeHook(b *testing.B) {
	cfg := timerConfig()
	cfg.Upgrade = func(u *UpgradeRequest) error {
		if u.Query().Get("token") == "" || u.Header("Authorization") == "" {
			return Refuse(401, "no token")
		}
		if _, ok := u.Cookie("sid"); !ok {
			return Refuse(401, "no session")
		}
		u.SetHandler(Echo())
		return nil
	}
	benchHandshakes(b, cfg, hookRequest)
}

// BenchmarkConnHandshakeUpgradeHookEmpty: a hook that only returns nil,
// the least a set hook costs.
func BenchmarkConnHandshakeUpgradeHookEmpty(b *testing.B) {
	cfg := timerConfig()
	cfg.Upgrade = func(*UpgradeRequest) error { return nil }
	benchHandshakes(b, cfg, seedRequest)
}
