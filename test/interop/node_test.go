package interop

// Interoperability with Node's ws library (npm) through
// testdata/node/client.js; its version is pinned by the
// package-lock.json beside it, and node_modules is not committed.

import (
	"os"
	"os/exec"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

const interopNodeDir = "testdata/node"

func TestInteropNode(t *testing.T) {
	t.Parallel()
	interopRunScript(t, interopNode(t), interopNodeDir+"/client.js").check(t)
}

// interopNode returns the path of node, or skips the test (fails it under
// CI) when node or its ws package is missing.
func interopNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.SkipMissing(t, "node not installed: apt-get install nodejs npm, then cd "+interopNodeDir+" && npm install (or run ./test.sh)")
	}
	if _, err := os.Stat(interopNodeDir + "/node_modules/ws/package.json"); err != nil {
		testkit.SkipMissing(t, "Node's ws not installed: cd "+interopNodeDir+" && npm install (or run ./test.sh)")
	}
	return node
}

// TestInteropNodeDeflate runs the same script against servers with
// -deflate: ws's client offers permessage-deflate by default and
// compresses messages of 1 KiB and more (RFC 7692).
func TestInteropNodeDeflate(t *testing.T) {
	t.Parallel()
	interopRunScriptWith(t, true, interopNode(t), interopNodeDir+"/client.js").check(t)
}
