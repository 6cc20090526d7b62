package interop

// permessage-deflate with Autobahn's own client (Debian's python3-autobahn
// on Twisted), the library the Autobahn conformance suite runs its
// compression cases with: testdata/autobahn/deflate_client.py walks
// the ground of groups 12 and 13 (the offers of cases 13.1 to 13.7, 16 B to
// 128 KiB, text and binary, whole and in 256-byte frames) against the
// server with -deflate, with and without -deflate-context-takeover.

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// autobahnReport is what deflate_client.py prints.
type autobahnReport struct {
	Client string `json:"client"`
	Runs   []struct {
		Offer    string           `json:"offer"`
		Fragment int              `json:"fragment"`
		Answer   string           `json:"answer"`
		Echoes   int              `json:"echoes"`
		Bad      []map[string]any `json:"bad"`
		Close    *int             `json:"close"`
	} `json:"runs"`
}

func TestInteropAutobahnDeflate(t *testing.T) {
	t.Parallel()
	if err := exec.Command(testkit.Python, "-c", "import autobahn.twisted, twisted").Run(); err != nil {
		testkit.SkipMissing(t, "python3-autobahn not installed: apt-get install python3-twisted python3-autobahn (or run ./test.sh)")
	}
	for _, takeover := range []bool{false, true} {
		cfg := testkit.Config()
		cfg.Deflate = true
		cfg.DeflateContextTakeover = takeover
		addr := testkit.StartAddr(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		out, err := exec.CommandContext(ctx, testkit.Python, "testdata/autobahn/deflate_client.py", addr).Output()
		cancel()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("takeover %v: deflate_client.py: %v\n%s", takeover, err, stderr)
		}
		var r autobahnReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("takeover %v: deflate_client.py printed %q: %v", takeover, out, err)
		}
		if len(r.Runs) != 14 {
			t.Fatalf("takeover %v: %d runs; want 14 (7 offers × 2 fragment sizes)", takeover, len(r.Runs))
		}
		for _, run := range r.Runs {
			name := run.Offer + " / fragments of " + map[bool]string{true: "256", false: "any size"}[run.Fragment > 0]
			if !strings.HasPrefix(run.Answer, "permessage-deflate") {
				t.Errorf("takeover %v: %s: answered %q; want permessage-deflate", takeover, name, run.Answer)
			}
			if strings.Contains(run.Offer, "server_max_window_bits=9") && !strings.Contains(run.Answer, "server_max_window_bits=9") {
				t.Errorf("takeover %v: %s: answer %q does not honour server_max_window_bits=9", takeover, name, run.Answer)
			}
			if run.Echoes != 60 || len(run.Bad) > 0 || run.Close == nil || *run.Close != 1000 {
				t.Errorf("takeover %v: %s: %d echoes, %d not byte-exact (%v), close %v; want 60 exact and 1000", takeover, name, run.Echoes, len(run.Bad), run.Bad, run.Close)
			}
		}
		t.Logf("takeover %v: %s: %d runs", takeover, r.Client, len(r.Runs))
	}
}
