package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDeflateSelection(t *testing.T) {
	for spec, want := range map[string]bool{"deflate": true, "deflate-idle-15000": true, "deflate,deflate-echo-100x1KiB-1": true, "echo": false, "deflate,echo": false, "": false, "c200k": false} {
		if got := isDeflateSpec(spec); got != want {
			t.Errorf("isDeflateSpec(%q) = %v; want %v", spec, got, want)
		}
	}
	scs, err := selectDeflate("deflate")
	if err != nil || len(scs) != 5 {
		t.Fatalf("SelectScenarios(deflate) = %d scenarios, %v; want 5", len(scs), err)
	}
	for _, sc := range scs {
		if !strings.HasPrefix(sc.Name, "deflate-") || sc.Raw || (sc.Group != GroupEcho && sc.Group != GroupIdle) || sc.Size < 1024 {
			t.Errorf("scenario %+v: want a deflate- echo or idle scenario of 1 KiB or more, not raw", sc)
		}
	}
	if one, err := selectDeflate("deflate-idle-15000"); err != nil || len(one) != 1 {
		t.Fatalf("selectDeflate(deflate-idle-15000) = %v, %v", one, err)
	}
	var names []string
	for _, s := range DeflateServers() {
		names = append(names, s.Name)
		switch s.Name {
		case WsreactorPlain:
			if slices.Contains(s.args, "-deflate") || slices.Contains(s.clientArgs, "-deflate") || !slices.Contains(s.clientArgs, "-json-payload") {
				t.Errorf("%s: args %v, client %v; want no compression, JSON payload", s.Name, s.args, s.clientArgs)
			}
		default:
			if !slices.Contains(s.args, "-deflate") || !slices.Contains(s.clientArgs, "-deflate") {
				t.Errorf("%s: args %v, client %v; want -deflate on both sides", s.Name, s.args, s.clientArgs)
			}
		}
	}
	if want := []string{Wsreactor, Nbio, Gorilla, NodeWS, UWS, Twisted, WsreactorPlain}; !slices.Equal(names, want) {
		t.Fatalf("DeflateServers = %v; want %v", names, want)
	}
	// The main comparison's servers are left as they were.
	for _, s := range AllServers() {
		if slices.Contains(s.args, "-deflate") || len(s.clientArgs) > 0 {
			t.Errorf("AllServers: %s has %v %v", s.Name, s.args, s.clientArgs)
		}
	}
}

// The deflate report: wire bytes, per-core ratios against wsreactor, the
// idle comparison with wsreactor without compression, and the targets, met
// or missed by how much; filled between its own README markers only.
func TestDeflateMarkdown(t *testing.T) {
	scs := DeflateScenarios()
	echo, idle := scs[0], scs[4]
	round := func(msgs, cpuS, z, out, in float64) Result {
		return Result{Mode: "echo", Msgs: msgs, MsgsPerSec: msgs / 5, ServerCPUS: cpuS, ServerCPUPct: 100 * cpuS / 5, CompressedMsgs: z, WireOutPerMsg: out, WireInPerMsg: in}
	}
	out := func(scn, srv string, r Result) *Outcome {
		return &Outcome{Scenario: scn, Server: srv, Rounds: []Result{r}, Median: &r}
	}
	rep := &Report{
		Scenarios: []Scenario{echo, idle},
		Servers:   DeflateServers(),
		Outcomes: []*Outcome{
			out(echo.Name, Wsreactor, round(100000, 5, 100000, 470, 480)), // 50 µs per message: 20,000 per core
			out(echo.Name, Nbio, round(100000, 4, 100000, 470, 480)),      // 40 µs: 25,000 per core
			out(echo.Name, WsreactorPlain, round(500000, 1, 0, 1034, 1028)),
			out(idle.Name, Wsreactor, Result{Mode: "idle", RSSPerConn: 1100}),
			out(idle.Name, WsreactorPlain, Result{Mode: "idle", RSSPerConn: 900}),
		},
	}
	md := rep.deflateMarkdown("###")
	for _, want := range []string{
		"| 100 conns × 1 KiB × 1 in flight, JSON | wsreactor -deflate | 20,000 | 20,000 | 50 µs | 470 B | 480 B | 100% |",
		"| nbio | 20,000 | 25,000 | 40 µs |",
		"| wsreactor, no compression | 100,000 | 500,000 |",
		"1.25×",
		"**missed**: 80% of nbio's",
		"1,100 B per connection with compression against 900 B without (+22%; target within 10%) — **missed** by 12 points",
		"| gobwas/ws+gnet | | not run",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("deflate markdown lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(path, []byte("a\n"+readmeBegin+"\nkeep\n"+readmeEnd+"\n"+deflateBegin+"\nold\n"+deflateEnd+"\nz\n"), 0o644)
	if err := fillBetween(path, deflateBegin, deflateEnd, md, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if s := string(b); !strings.Contains(s, "\nkeep\n") || strings.Contains(s, "\nold\n") || !strings.Contains(s, "20,000") {
		t.Fatalf("README after filling:\n%s", s)
	}
}
