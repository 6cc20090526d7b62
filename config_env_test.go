package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
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
	for _, a := range cfg.settings {
		if a.Key == "max-message" && a.Value.String() == "1234" {
			found = true
		}
	}
	if !found {
		t.Errorf("settings %v lack max-message=1234", cfg.settings)
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

// TestProcessEnvironmentAndJSONLog runs the command configured from the
// environment only, with JSON logs: the start line carries the effective
// configuration, SIGTERM gives a drain line and a stop line, exit 0.
func TestProcessEnvironmentAndJSONLog(t *testing.T) {
	bin := serverBinary(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "WSREACTOR_ADDR=127.0.0.1:0", "WSREACTOR_ADMIN_ADDR=", "WSREACTOR_LOOPS=1",
		"WSREACTOR_LOG_FORMAT=json", "WSREACTOR_MAX_MESSAGE=4096")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan map[string]any, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("log line is not JSON: %q", sc.Text())
				continue
			}
			lines <- m
		}
	}()
	next := func() map[string]any {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("log ended early")
			}
			return m
		case <-time.After(20 * time.Second):
			t.Fatal("no log line within 20s")
		}
		return nil
	}
	start := next()
	conf, _ := start["config"].(map[string]any)
	if start["msg"] != "listening" || start["admin_addr"] != "" || start["level"] != "INFO" || start["loops"] != float64(1) ||
		!strings.HasPrefix(start["addr"].(string), "127.0.0.1:") || conf["max-message"] != "4096" || conf["log-format"] != "json" {
		t.Errorf("start line = %v; want msg listening, loops 1, addr 127.0.0.1:*, config max-message 4096 and log-format json", start)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for m := range lines {
		msgs = append(msgs, fmt.Sprint(m["msg"]))
	}
	if want := []string{"draining", "shutting down", "drained", "stopped"}; !slices.Equal(msgs, want) {
		t.Errorf("log after SIGTERM = %q; want %q", msgs, want)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v; want 0", err)
	}
}

// TestHelpListsEnvironment: -h names every flag's variable.
func TestHelpListsEnvironment(t *testing.T) {
	out, err := exec.Command(serverBinary(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	for _, want := range []string{"-addr string", "(env WSREACTOR_ADDR)", "(env WSREACTOR_MAX_MESSAGE)", "(env WSREACTOR_ADMIN_ADDR)", "(env WSREACTOR_DRAIN_DELAY)", "(env WSREACTOR_LOG_FORMAT)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("-h output lacks %q:\n%s", want, out)
		}
	}
	// A bad value in the environment: exit 2, the variable named.
	cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0", "-admin-addr", "")
	cmd.Env = append(os.Environ(), "WSREACTOR_MAX_MESSAGE=lots")
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), `WSREACTOR_MAX_MESSAGE="lots"`) {
		t.Errorf("with WSREACTOR_MAX_MESSAGE=lots: %v\n%s\nwant exit 2 naming the variable", err, out)
	}
}
