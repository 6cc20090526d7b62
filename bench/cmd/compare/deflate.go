package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The deflate scenarios (issue 10): permessage-deflate (RFC 7692) on, for
// every server that has it, with JSON-like text (wsload -json-payload
// -deflate): 100 connections × 1 KiB and 64 KiB × 1 and 16 in flight, and
// 15,000 idle connections that each echoed one compressed 1 KiB message.
// wsreactor also runs without compression on the same load, as the
// reference for what compression costs and for the idle-memory target.
// They write deflate.md and deflate.json and fill the deflate section of
// docs/benchmarks.md, leaving the main comparison's results alone.

// WsreactorPlain is wsreactor without -deflate in the deflate scenarios.
const WsreactorPlain = "wsreactor-plain"

// DeflateScenarios are -scenarios deflate, in the order they run.
func DeflateScenarios() []Scenario {
	var s []Scenario
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, inflight := range []int{1, 16} {
			sc := echoScenario(100, size, inflight)
			sc.Name = "deflate-" + sc.Name
			sc.Title += ", JSON"
			sc.Raw = false
			s = append(s, sc)
		}
	}
	return append(s, Scenario{
		Name: "deflate-idle-15000", Group: GroupIdle, Title: "15,000 idle conns, each having echoed one 1 KiB JSON message",
		Mode: "idle", Conns: 15000, Size: 1 << 10, Inflight: 1,
	})
}

// isDeflateSpec reports whether -scenarios names deflate scenarios only.
func isDeflateSpec(spec string) bool {
	items := splitList(spec)
	for _, item := range items {
		if !strings.HasPrefix(item, "deflate") {
			return false
		}
	}
	return len(items) > 0
}

// selectDeflate picks the deflate scenarios spec names ("deflate" for all).
func selectDeflate(spec string) ([]Scenario, error) {
	items := splitList(spec)
	for i, item := range items {
		if item == "deflate" {
			items[i] = "all"
		}
	}
	return SelectScenarios(DeflateScenarios(), strings.Join(items, ","))
}

// deflateClient is wsload's extra flags against a server with compression
// on. The timeout of one echo drain is 60 s instead of 10 s: Twisted+Autobahn
// takes longer than 10 s to echo the 1,600 compressed 64 KiB messages of
// 100 connections × 16 in flight.
var deflateClient = []string{"-json-payload", "-deflate", "-timeout", "60s"}

// DeflateServers are the servers of the deflate scenarios: those with
// permessage-deflate, switched on and configured alike where they allow it
// (no context takeover either way, level 1), and wsreactor without it.
func DeflateServers() []Server {
	var out []Server
	var plain Server
	for _, s := range AllServers() {
		s.args = append([]string(nil), s.args...)
		switch s.Name {
		case Wsreactor:
			plain = s
			plain.Name, plain.Label = WsreactorPlain, "wsreactor, no compression"
			plain.Config = "as wsreactor, without -deflate (compression declined); wsload sends the same JSON uncompressed"
			plain.clientArgs = []string{"-json-payload", "-timeout", "60s"}
			s.args = append(s.args, "-deflate")
			s.Label = "wsreactor -deflate"
			s.Config = "this project with -deflate and its defaults: no context takeover either way (state pooled per event loop), klauspost/compress level 1 (-deflate-level 1), messages under 128 B echoed uncompressed (-deflate-min-size); -loops 1 -ping-interval 0"
		case Nbio:
			s.args = append(s.args, "-deflate", "-deflate-level", "1")
			s.Config = "as in the main comparison, with EnableCompression(true): nbio answers with no context takeover either way and compresses every echo with compress/flate at level 1 (its default)"
		case Gorilla:
			s.args = append(s.args, "-deflate", "-deflate-level", "1")
			s.Config = "as in the main comparison, with EnableCompression and EnableWriteCompression: gorilla supports no context takeover only, compress/flate level 1 (its default), ReadMessage/WriteMessage"
		case NodeWS:
			s.args = append(s.args, "-deflate", "-deflate-level", "1")
			s.Config = "as in the main comparison, with perMessageDeflate { serverNoContextTakeover, clientNoContextTakeover, zlibDeflateOptions { level 1 } }; ws's defaults otherwise: threshold 1024 B (our messages are not below it), window 15 bits, memLevel 8, concurrencyLimit 10 (zlib runs on libuv's thread pool, pinned to the same CPU)"
		case UWS:
			s.args = append(s.args, "-deflate")
			s.Config = "as in the main comparison, with compression SHARED_COMPRESSOR | SHARED_DECOMPRESSOR: one deflate and one inflate stream per event loop, no context takeover either way, every echo sent with compress=true; uWS has no option for the zlib level"
		case Twisted:
			s.args = append(s.args, "-deflate")
			s.Config = "as in the main comparison, with perMessageCompressionAccept accepting the offer with no context takeover either way (PerMessageDeflateOfferAccept); Autobahn 22.7 compresses at zlib's default level 6 and has no option for the level"
		default:
			continue
		}
		s.clientArgs = deflateClient
		out = append(out, s)
	}
	return append(out, plain)
}

// deflateCannot says why the other servers do not run the deflate scenarios.
var deflateCannot = map[string]string{
	GobwasGnet: "not run: the peer (after gnet's WebSocket example) has no compression; gobwas/ws has the parts (its wsflate package) but the peer would need its own permessage-deflate framing",
	GnetTCP:    "not run: a plain TCP echo has no WebSocket and no compression",
}

// DeflateTargets are issue 10's targets: wsreactor ahead of every peer in
// messages per second per core, and idle memory with compression within
// 10% of a connection without.
const deflateIdleSlack = 0.10

// perCore is messages per second per core of server CPU: 1 / CPU per message.
func perCore(o *Outcome) float64 {
	if c := o.CPUPerMsg(); c > 0 {
		return 1e6 / c
	}
	return 0
}

// compressedShare is the median over the rounds of the share of echoes that
// came compressed.
func compressedShare(o *Outcome) float64 {
	var vals []float64
	for _, r := range o.Rounds {
		if r.Msgs > 0 {
			vals = append(vals, r.CompressedMsgs/r.Msgs)
		}
	}
	return median(vals)
}

// RunDeflate runs the deflate scenarios, writes deflate.md and deflate.json
// into out and, with readme, fills the deflate section of docs/benchmarks.md.
// It returns an error when a server failed.
func (r *Runner) RunDeflate(scs []Scenario, srvs []Server, rep *Report, out, benchDir string, readme bool) error {
	rep.Outcomes = r.Run(scs, srvs)
	rep.Finished = time.Now()
	if err := rep.writeJSON(out, "deflate.json"); err != nil {
		return err
	}
	md := "# wsreactor permessage-deflate benchmark\n\nWritten by `bench/cmd/compare -scenarios deflate`; do not edit by hand. See bench/README.md.\n\n" +
		rep.deflateMarkdown("##")
	if err := os.WriteFile(filepath.Join(out, "deflate.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	if readme {
		if err := fillBetween(benchmarksPage(benchDir), deflateBegin, deflateEnd, rep.deflateMarkdown("###"), false); err != nil {
			return err
		}
	}
	for _, o := range rep.Outcomes {
		if o.Failed() {
			return fmt.Errorf("compare: %s / %s failed: see %s", o.Scenario, o.Server, filepath.Join(out, "deflate.md"))
		}
	}
	return nil
}

// deflateBegin and deflateEnd mark the section of docs/benchmarks.md the run fills.
const (
	deflateBegin = "<!-- deflate:begin -->"
	deflateEnd   = "<!-- deflate:end -->"
)

// deflateMarkdown renders the deflate run: setup, the echo table with wire
// bytes and messages per core, the idle table, the targets, the servers.
func (rep *Report) deflateMarkdown(h string) string {
	var b strings.Builder
	rep.writeSetup(&b)
	b.WriteString("msgs/s per core = 1 / server CPU per message: the throughput one whole core would give, comparable when a server did not get its whole core. " +
		"wire out / in: bytes on the wire per echoed message, client to server (compressed once by wsload with compress/flate, level 6) and server to client, frame headers included, counted over the messages echoed in the window. " +
		"compressed: the share of echoes that came back with RSV1 set. vs wsreactor: this server's msgs/s per core over wsreactor's (below 1× means wsreactor is ahead).\n")
	own := func(sc string) *Outcome { return rep.outcome(sc, Wsreactor) }
	var echo, idle []Scenario
	for _, sc := range rep.Scenarios {
		if sc.Group == GroupIdle {
			idle = append(idle, sc)
		} else {
			echo = append(echo, sc)
		}
	}
	if len(echo) > 0 {
		fmt.Fprintf(&b, "\n%s Echo with compression (closed loop)\n\n", h)
		b.WriteString("| scenario | server | msgs/s | msgs/s per core | CPU per msg | wire out | wire in | compressed | p50 | p99 | server CPU | server RSS | vs wsreactor |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, sc := range echo {
			title := sc.Title
			for _, srv := range rep.Servers {
				o, name := rep.labelled(sc.Name, srv)
				if o == nil {
					continue
				}
				m := o.Median
				if m == nil {
					fmt.Fprintf(&b, "| %s | %s | failed |  |  |  |  |  |  |  |  |  |  |\n", mdEscape(title), mdEscape(name))
					title = ""
					continue
				}
				vs := "–"
				if w := own(sc.Name); w != nil && perCore(w) > 0 && perCore(o) > 0 {
					vs = ratio(perCore(o)/perCore(w), true)
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s B | %s B | %.0f%% | %s | %s | %.0f%% | %s | %s |\n",
					mdEscape(title), mdEscape(name), thousands(m.MsgsPerSec), thousands(perCore(o)), fineMicros(o.CPUPerMsg()),
					thousands(m.WireOutPerMsg), thousands(m.WireInPerMsg), 100*compressedShare(o),
					micros(m.P50us), micros(m.P99us), m.ServerCPUPct, mib(m.ServerRSSKB), vs)
				title = ""
			}
		}
	}
	if len(idle) > 0 {
		fmt.Fprintf(&b, "\n%s Idle connections that negotiated compression: server memory\n\n", h)
		b.WriteString("| scenario | server | RSS per conn | server RSS | vs wsreactor, no compression |\n|---|---|--:|--:|--:|\n")
		for _, sc := range idle {
			title := sc.Title
			ref := rep.outcome(sc.Name, WsreactorPlain)
			for _, srv := range rep.Servers {
				o, name := rep.labelled(sc.Name, srv)
				if o == nil {
					continue
				}
				if o.Median == nil {
					fmt.Fprintf(&b, "| %s | %s | failed |  |  |\n", mdEscape(title), mdEscape(name))
					title = ""
					continue
				}
				vs := "–"
				if ref != nil && ref.Median != nil && ref.Median.RSSPerConn > 0 {
					vs = ratio(o.Median.RSSPerConn/ref.Median.RSSPerConn, true)
				}
				fmt.Fprintf(&b, "| %s | %s | %s B | %s | %s |\n", mdEscape(title), mdEscape(name),
					thousands(o.Median.RSSPerConn), mib(o.Median.ServerRSSKB), vs)
				title = ""
			}
		}
	}
	fmt.Fprintf(&b, "\n%s Against the compression targets\n\n", h)
	for _, line := range rep.deflateTargets(echo, idle) {
		b.WriteString("- " + line + "\n")
	}
	rep.writeServers(&b, h, deflateCannot)
	rep.writeFailures(&b, h)
	return b.String()
}

// labelled is srv's outcome in scenario and its label, marked ⚠ if it failed.
func (rep *Report) labelled(scenario string, srv Server) (*Outcome, string) {
	o := rep.outcome(scenario, srv.Name)
	if o != nil && o.Failed() {
		return o, srv.Label + " ⚠"
	}
	return o, srv.Label
}

// deflateTargets says, per scenario, whether wsreactor met issue 10's
// targets and by how much it missed.
func (rep *Report) deflateTargets(echo, idle []Scenario) []string {
	var lines []string
	for _, sc := range echo {
		w := rep.outcome(sc.Name, Wsreactor)
		if w == nil || perCore(w) == 0 {
			continue
		}
		best, bestName := 0.0, ""
		for _, s := range rep.Servers {
			if s.Name == Wsreactor || s.Name == WsreactorPlain {
				continue
			}
			if o := rep.outcome(sc.Name, s.Name); o != nil && perCore(o) > best {
				best, bestName = perCore(o), s.Label
			}
		}
		if best == 0 {
			continue
		}
		verdict := "met"
		if perCore(w) < best {
			verdict = fmt.Sprintf("**missed**: %.0f%% of %s's", 100*perCore(w)/best, bestName)
		}
		lines = append(lines, fmt.Sprintf("%s: wsreactor %s msgs/s per core, the best peer (%s) %s: %.2f× — %s",
			sc.Title, thousands(perCore(w)), bestName, thousands(best), perCore(w)/best, verdict))
	}
	for _, sc := range idle {
		w, p := rep.outcome(sc.Name, Wsreactor), rep.outcome(sc.Name, WsreactorPlain)
		if w == nil || p == nil || w.Median == nil || p.Median == nil || p.Median.RSSPerConn <= 0 {
			continue
		}
		d := w.Median.RSSPerConn/p.Median.RSSPerConn - 1
		verdict := "met"
		if d > deflateIdleSlack {
			verdict = fmt.Sprintf("**missed** by %.0f points", 100*(d-deflateIdleSlack))
		}
		lines = append(lines, fmt.Sprintf("%s: %s B per connection with compression against %s B without (%+.0f%%; target within %.0f%%) — %s",
			sc.Title, thousands(w.Median.RSSPerConn), thousands(p.Median.RSSPerConn), 100*d, 100*deflateIdleSlack, verdict))
	}
	return lines
}
