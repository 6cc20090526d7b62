package main

// Interoperability with Node's ws library (npm) through
// testdata/interop/node/client.js; its version is pinned by the
// package-lock.json beside it, and node_modules is not committed.

import (
	"os"
	"os/exec"
	"testing"
)

const interopNodeDir = "testdata/interop/node"

func TestInteropNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		interopSkip(t, "node not installed: apt-get install nodejs npm, then cd "+interopNodeDir+" && npm install (or run ./test.sh)")
	}
	if _, err := os.Stat(interopNodeDir + "/node_modules/ws/package.json"); err != nil {
		interopSkip(t, "Node's ws not installed: cd "+interopNodeDir+" && npm install (or run ./test.sh)")
	}
	interopRunScript(t, node, interopNodeDir+"/client.js").check(t)
}

// TestInteropNodeDeflate runs the same script against servers with
// -deflate: ws's client offers permessage-deflate by default and
// compresses messages of 1 KiB and more (RFC 7692).
func TestInteropNodeDeflate(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		interopSkip(t, "node not installed: apt-get install nodejs npm, then cd "+interopNodeDir+" && npm install (or run ./test.sh)")
	}
	if _, err := os.Stat(interopNodeDir + "/node_modules/ws/package.json"); err != nil {
		interopSkip(t, "Node's ws not installed: cd "+interopNodeDir+" && npm install (or run ./test.sh)")
	}
	interopRunScriptWith(t, true, node, interopNodeDir+"/client.js").check(t)
}
