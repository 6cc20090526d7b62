package interop

// Interoperability with Python's websockets library (Debian's
// python3-websockets, run with /usr/bin/python3) through
// testdata/python/client.py.

import (
	"os/exec"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

func TestInteropPython(t *testing.T) {
	t.Parallel()
	if err := exec.Command(testkit.Python, "-c", "import websockets").Run(); err != nil {
		testkit.SkipMissing(t, "python3-websockets not installed: apt-get install python3-websockets (or run ./test.sh)")
	}
	interopRunScript(t, testkit.Python, "testdata/python/client.py").check(t)
}

// TestInteropPythonDeflate runs the same script against servers with
// -deflate: websockets offers permessage-deflate by default and compresses
// every message (RFC 7692).
func TestInteropPythonDeflate(t *testing.T) {
	t.Parallel()
	if err := exec.Command(testkit.Python, "-c", "import websockets").Run(); err != nil {
		testkit.SkipMissing(t, "python3-websockets not installed: apt-get install python3-websockets (or run ./test.sh)")
	}
	interopRunScriptWith(t, true, testkit.Python, "testdata/python/client.py").check(t)
}
