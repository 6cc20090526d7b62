package main

import (
	"errors"
	"io"
	"log/slog"
	"strings"
)

// The command logs with log/slog: one line when it starts (with every
// flag's effective value), when a drain starts and ends, when it stops, and
// for limit events (rate-limited); never one per connection or message.
// Keys are stable: scripts may match msg=listening and addr=.

// logFormats are the values of -log-format.
var logFormats = []string{"text", "json"}

// parseLogLevel reads -log-level: debug, info, warn or error (slog's names,
// any case, with an optional offset such as "info+2").
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, errors.New("want debug, info, warn or error")
	}
	return l, nil
}

// checkLogFormat validates -log-format.
func checkLogFormat(s string) error {
	for _, f := range logFormats {
		if s == f {
			return nil
		}
	}
	return errors.New("want " + strings.Join(logFormats, " or "))
}

// newLogger returns the command's logger writing to w in cfg's format at
// cfg's level. The values were validated by parseFlags.
func newLogger(w io.Writer, cfg config) *slog.Logger {
	level, _ := parseLogLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
