package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestC200kReadme: the run fills the c200k section of a README between its
// markers, with a row per server, the per-process spread, and a line for
// each server that did not run; text outside the markers is kept.
func TestC200kReadme(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	orig := "# title\n\nbefore\n" + c200kBegin + "\nold rows\n" + c200kEnd + "\nafter\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Command: "go run ./cmd/compare -scenarios c200k", Started: time.Unix(0, 0), Finished: time.Unix(600, 0)}
	opt := C200kOptions{Conns: 200000, Procs: 12, Clients: 12, Sources: 16, Rate: 0.1, Warmup: 45 * time.Second, Hold: time.Minute}
	rows := []C200kRow{{Server: Wsreactor, Label: "wsreactor", Procs: 12, Connected: 200000, ConnectS: 20, ConnsPerSec: 10000,
		MsgsPerSec: 20000, P99us: 2500, RSSPerConn: 900, PerProcess: []int{16000, 17000}}}
	if err := fillC200kReadme(path, rep, opt, rows, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{"before\n" + c200kBegin + "\n", c200kEnd + "\nafter\n",
		"| wsreactor | 12 | 200,000 | 20.0 s | 10,000 | 20,000 |", "| 900 B |", "16,000–17,000 |",
		"node ws: cannot:", "20,000 msgs/s in all"} {
		if !strings.Contains(got, want) {
			t.Errorf("filled README lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "old rows") {
		t.Errorf("the old section was kept:\n%s", got)
	}
}
