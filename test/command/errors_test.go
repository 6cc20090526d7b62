package command

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// hint is the line after every configuration error: a pointer to -h, not
// the whole usage.
const hint = "run 'wsreactor -h' for every flag and its WSREACTOR_* variable"

// environ is the test's environment without any WSREACTOR_* variable (a
// developer's shell may set some), plus extra.
func environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WSREACTOR_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestConfigErrors: a bad value, on the command line or in the
// environment, ends the command with status 2 and exactly two lines: the
// one error, naming the flag or the variable as the user wrote it, quoting
// the value and saying what is wanted; then the pointer to -h.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
		want string
	}{
		{nil, []string{"WSREACTOR_PING_INTERVAL=30"},
			`wsreactor: WSREACTOR_PING_INTERVAL="30" (for -ping-interval): want a duration with a unit, like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)`},
		{[]string{"-ping-interval", "30"}, nil,
			`wsreactor: -ping-interval "30": want a duration with a unit, like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)`},
		{[]string{"-max-message", "lots"}, nil,
			`wsreactor: -max-message "lots": want a number of bytes, or a number with a unit of 1024: KiB, MiB, GiB, TiB (e.g. 1048576, 512KiB, 64MiB, 1.5GiB)`},
		{[]string{"-max-message", "64MB"}, nil,
			`wsreactor: -max-message "64MB": MB is ambiguous (a power of 1000 in SI, of 1024 in many programs): write 64MiB for a power of 1024, or the number of bytes`},
		{nil, []string{"WSREACTOR_LOOPS=0"}, "wsreactor: WSREACTOR_LOOPS=0: need at least 1"},
		{[]string{"-loops", "0"}, nil, "wsreactor: -loops 0: need at least 1"},
		{nil, []string{"WSREACTOR_DEFLATE=maybe"}, `wsreactor: WSREACTOR_DEFLATE="maybe" (for -deflate): want true or false`},
		{nil, []string{"WSREACTOR_LOG_FORMAT=xml"}, `wsreactor: WSREACTOR_LOG_FORMAT="xml": want text or json`},
		{[]string{"-maxmessage", "5"}, nil, "wsreactor: -maxmessage: no such flag; did you mean -max-message?"},
		{[]string{"-origins", "foo"}, nil,
			`wsreactor: -origins "foo": "foo" is not an origin: want scheme://host or scheme://host:port, as a browser sends it (https://example.com), or null`},
		{nil, []string{"WSREACTOR_ORIGINS=https://example.com/app"}, `wsreactor: WSREACTOR_ORIGINS="https://example.com/app": "https://example.com/app" is not an origin: it has a path (an origin is scheme://host[:port] alone: https://example.com)`},
	} {
		out, code := runToExit(t, append([]string{"-addr", "127.0.0.1:0", "-admin-addr", ""}, tc.args...), tc.env)
		if code != 2 {
			t.Errorf("%q with %q: exit status %d; want 2\n%s", tc.args, tc.env, code, out)
			continue
		}
		if got, want := out, tc.want+"\n"+hint+"\n"; got != want {
			t.Errorf("%q with %q wrote\n%s\nwant\n%s", tc.args, tc.env, got, want)
		}
	}
}

// TestHelp: -h writes the usage and exits 0; sizes show with their unit.
func TestHelp(t *testing.T) {
	out, err := exec.Command(testkit.Binary(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	for _, want := range []string{"-max-message size", "(default 64MiB)", "-write-buffer-limit size", "(default 1MiB)", "-memory-budget size", "(env WSREACTOR_MAX_MESSAGE)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("-h output lacks %q:\n%s", want, out)
		}
	}
}

// runToExit runs the command with args and the variables env (and no other
// WSREACTOR_* variable) until it exits, and returns its output and exit
// status (-1 when it did not exit on its own). A command that takes its
// configuration serves until killed: it is killed after 20 s, far more
// than a refusal takes.
func runToExit(t *testing.T, args, env []string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), args...)
	cmd.Env = environ(env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return string(out), ee.ExitCode()
	}
	return string(out), -1
}
