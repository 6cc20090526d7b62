package main

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// testConfig is the command's default configuration with a loopback
// address on a free port and short timeouts that tests can wait out.
func testConfig() config {
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil {
		panic(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = "" // tests that want it set 127.0.0.1:0
	cfg.Loops = 2
	cfg.ShutdownTimeout = 2 * time.Second
	return cfg
}

// startServer runs the echo server in this process with cfg and returns its
// address; the server is shut down when the test ends.
func startServer(t testing.TB, cfg config) string {
	t.Helper()
	return startRunning(t, cfg).Addr().String()
}

// startRunning is startServer for tests that look inside the server (its
// connection and timer counts).
func startRunning(t testing.TB, cfg config) running {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return startRunningLogger(t, cfg, logger)
}

// startRunningLogger is startRunning with the server logging to logger.
func startRunningLogger(t testing.TB, cfg config, logger *slog.Logger) running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan running, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, logger, func(r running) { addrc <- r }) }()
	select {
	case a := <-addrc:
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server exited with %v", err)
				}
			case <-time.After(cfg.ShutdownTimeout + 10*time.Second):
				t.Errorf("server did not shut down")
			}
		})
		return a
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("server did not start within 10s")
	}
	return running{}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
