package testkit

import (
	"os"
	"testing"
)

// Python is the interpreter that sees Debian's python3-websockets,
// python3-twisted and python3-autobahn (the python3 first on PATH may be
// another build that cannot).
const Python = "/usr/bin/python3"

// SkipMissing skips a test whose third-party tool is not installed, saying
// how to install it; on CI (CI set), where test.sh installs every tool, it
// fails instead, so that a missing install cannot pass as a skip.
func SkipMissing(t testing.TB, how string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set: test.sh should have installed it)", how)
	}
	t.Skip(how)
}
