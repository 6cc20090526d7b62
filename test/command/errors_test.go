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
		// A server that takes the value serves until killed: 20 s is far
		// more than a refusal takes.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, testkit.Binary(t), append([]string{"-addr", "127.0.0.1:0", "-admin-addr", ""}, tc.args...)...)
		cmd.Env = environ(tc.env...)
		out, err := cmd.CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%q with %q: %v; want exit status 2\n%s", tc.args, tc.env, err, out)
			continue
		}
		if got, want := string(out), tc.want+"\n"+hint+"\n"; got != want {
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
