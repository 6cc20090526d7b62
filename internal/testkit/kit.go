// Package testkit is what the end-to-end tests share, as net/http/httptest
// is for HTTP: a server started in the test's own process (Start), the
// command built and run as a child process (Binary, StartProc), and a small
// blocking WebSocket client on this project's frame codec (DialWS). Only
// tests import it.
package testkit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/service"
)

// Config is the command's default configuration with a loopback address
// on a free port, no admin server, two event loops and short timeouts that
// tests can wait out.
func Config() service.Config {
	cfg := service.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = "" // tests that want it set 127.0.0.1:0
	cfg.Loops = 2
	cfg.ShutdownTimeout = 2 * time.Second
	return cfg
}

// StartAddr runs a server in this process with cfg and returns its
// address; the server is shut down when the test ends.
func StartAddr(t testing.TB, cfg service.Config) string {
	t.Helper()
	return Start(t, cfg).Addr().String()
}

// Start is StartAddr for tests that look inside the server (its connection
// and timer counts). The server logs to the test's log when the test runs
// verbose, unless cfg has a Logger.
func Start(t testing.TB, cfg service.Config) *service.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
		if testing.Verbose() {
			cfg.Logger = slog.New(slog.NewTextHandler(TestWriter{t}, nil))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *service.Server, 1)
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg, func(s *service.Server) { started <- s }) }()
	select {
	case s := <-started:
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server exited with %v", err)
				}
			case <-time.After(cfg.DrainDelay + cfg.ShutdownTimeout + 10*time.Second):
				t.Errorf("server did not shut down")
			}
		})
		return s
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("server did not start within 10s")
	}
	return nil
}

// StartLogged is Start with the server logging to buf.
func StartLogged(t testing.TB, cfg service.Config, buf *LockedBuffer) *service.Server {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return Start(t, cfg)
}

// TestWriter writes each Write to the test's log.
type TestWriter struct{ T testing.TB }

func (w TestWriter) Write(p []byte) (int, error) {
	w.T.Log(string(p))
	return len(p), nil
}

// LockedBuffer is a strings.Builder safe for a server's logger and a
// test's reads at once.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
