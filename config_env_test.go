package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseFlagsFromEnvironment(t *testing.T) {
	t.Setenv("WSREACTOR_MAX_MESSAGE", "1234")
	t.Setenv("WSREACTOR_ADDR", "127.0.0.1:7")
	t.Setenv("WSREACTOR_LOG_FORMAT", "json")
	cfg, err := parseFlags(newFlagSet(), []string{"-addr", "127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxMessage != 1234 || cfg.Addr != "127.0.0.1:9" || cfg.LogFormat != "json" {
		t.Errorf("parseFlags = max %d addr %q format %q; want 1234 (env), 127.0.0.1:9 (command line wins), json (env)",
			cfg.MaxMessage, cfg.Addr, cfg.LogFormat)
	}
	found := false
	for _, a := range cfg.StartAttrs {
		if a.Key == "max-message" && a.Value.String() == "1234" {
			found = true
		}
	}
	if !found {
		t.Errorf("settings %v lack max-message=1234", cfg.StartAttrs)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, tc := range []struct {
		env, val string
		args     []string
		want     string
	}{
		{"WSREACTOR_MAX_MESSAGE", "lots", nil, `wsreactor: WSREACTOR_MAX_MESSAGE="lots" (for -max-message): want a number of bytes, or a number with a unit of 1024`},
		{"WSREACTOR_MAX_MESSAGE", "64MB", nil, `WSREACTOR_MAX_MESSAGE="64MB" (for -max-message): MB is ambiguous`},
		{"WSREACTOR_PING_INTERVAL", "30", nil, `wsreactor: WSREACTOR_PING_INTERVAL="30" (for -ping-interval): want a duration with a unit, like 30s`},
		{"WSREACTOR_LOOPS", "0", nil, "wsreactor: WSREACTOR_LOOPS=0: need at least 1"},
		{"", "", []string{"-loops", "0"}, "wsreactor: -loops 0: need at least 1"},
		{"WSREACTOR_LOG_FORMAT", "xml", nil, `wsreactor: WSREACTOR_LOG_FORMAT="xml": want text or json`},
		{"WSREACTOR_LOG_LEVEL", "loud", nil, `wsreactor: WSREACTOR_LOG_LEVEL="loud": want debug, info, warn or error`},
		{"", "", []string{"-log-format", "yaml"}, `wsreactor: -log-format "yaml": want text or json`},
		{"WSREACTOR_CLOSE_TIMEOUT", "-1s", nil, `wsreactor: WSREACTOR_CLOSE_TIMEOUT=-1s: must not be negative`},
		{"WSREACTOR_PROCS", "300", nil, `wsreactor: WSREACTOR_PROCS=300: want 1 to 256`},
		{"WSREACTOR_WRITE_BUFFER_LIMIT", "0", nil, `wsreactor: WSREACTOR_WRITE_BUFFER_LIMIT=0: need at least 1`},
		{"", "", []string{"-max-message", "lots"}, `wsreactor: -max-message "lots": want a number of bytes`},
	} {
		if tc.env != "" {
			t.Setenv(tc.env, tc.val)
		}
		_, err := parseFlags(newFlagSet(), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) with %s=%q = %v; want an error containing %q", tc.args, tc.env, tc.val, err, tc.want)
		}
		if tc.env != "" {
			os.Unsetenv(tc.env)
		}
	}
}
