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
		{"WSREACTOR_MAX_MESSAGE", "lots", nil, `WSREACTOR_MAX_MESSAGE="lots"`},
		{"WSREACTOR_LOOPS", "0", nil, "-loops 0"},
		{"WSREACTOR_LOG_FORMAT", "xml", nil, `-log-format "xml"`},
		{"WSREACTOR_LOG_LEVEL", "loud", nil, `-log-level "loud"`},
		{"", "", []string{"-log-format", "yaml"}, `-log-format "yaml"`},
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
