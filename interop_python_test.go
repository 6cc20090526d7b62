package main

// Interoperability with Python's websockets library (Debian's
// python3-websockets, run with /usr/bin/python3) through
// testdata/interop/python/client.py.

import (
	"os/exec"
	"testing"
)

const interopPython = "/usr/bin/python3"

func TestInteropPython(t *testing.T) {
	t.Parallel()
	if err := exec.Command(interopPython, "-c", "import websockets").Run(); err != nil {
		interopSkip(t, "python3-websockets not installed: apt-get install python3-websockets (or run ./test.sh)")
	}
	interopRunScript(t, interopPython, "testdata/interop/python/client.py").check(t)
}

// TestInteropPythonDeflate runs the same script against servers with
// -deflate: websockets offers permessage-deflate by default and compresses
// every message (RFC 7692).
func TestInteropPythonDeflate(t *testing.T) {
	t.Parallel()
	if err := exec.Command(interopPython, "-c", "import websockets").Run(); err != nil {
		interopSkip(t, "python3-websockets not installed: apt-get install python3-websockets (or run ./test.sh)")
	}
	interopRunScriptWith(t, true, interopPython, "testdata/interop/python/client.py").check(t)
}
