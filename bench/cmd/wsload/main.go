//go:build linux

// Command wsload is the WebSocket load generator of wsreactor's benchmarks.
//
//	wsload -addr 127.0.0.1:9001 -path / -mode echo|idle|connect [-raw] -conns N -size BYTES
//	       -inflight K -rate MSGS_PER_SEC_PER_CONN (0 = closed loop) -warmup 1s -duration 5s
//	       -sources 8 -server-pid PID -loops 1 [-text] [-json] [-allow-errors]
//	       [-json-payload] [-deflate [-deflate-takeover]]
//
// It drives N connections from a few epoll event loops (no goroutine per
// connection), checks every echoed byte against precomputed frames, and
// reports messages/s, MB/s, latency percentiles (HdrHistogram), errors,
// mismatches, and the CPU and RSS of the server (-server-pid) and of itself.
// With -json it prints one JSON line on stdout and the human report on
// stderr. The exit status is 1 when a connection failed or a byte differed
// (unless -allow-errors), 2 when the run could not be made.
//
// Modes:
//   - echo, closed loop (-rate 0): each connection writes its K frames in one
//     write and writes them again once all K echoes are back. Latency runs from
//     the write to each echo's last byte.
//   - echo, fixed rate: each connection sends one message every 1/rate
//     seconds, the connections' schedules evenly staggered. Latency runs from
//     the intended send time, so a late send (slow server, busy client) counts
//     instead of being hidden (no coordinated omission).
//   - idle: opens N connections, checks each echoes one message, waits
//     -settle, reads the server's RSS, holds them for -duration, checks each
//     again (those echoes are the reported latencies) and closes them.
//     rss_per_conn_bytes = (RSS after - RSS before connecting) / N.
//   - connect: -conns workers each connect, handshake, echo one message and
//     close, over and over; connects_per_sec counts completed cycles, latency
//     runs from connect() to the echo.
//
// -deflate negotiates permessage-deflate (RFC 7692): it offers
// "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
// (-deflate-takeover leaves out server_no_context_takeover), fails the
// handshake if the server declines, sends every message compressed on its own
// (RSV1 set, the trailing 00 00 ff ff removed, compressed once before the
// run), and inflates every compressed echo whole and compares it; an echo may
// come uncompressed (RSV1 is per message). wire_out_per_msg and
// wire_in_per_msg are the bytes on the wire per echoed message both ways,
// and compressed_msgs how many echoes came compressed. -json-payload sends
// JSON-like text, which compresses like real JSON.
//
// -raw talks to a plain TCP echo (the ceiling): no handshake, and the masked
// frames must come back verbatim.
//
// Every WebSocket connection ends with a close handshake (RFC 6455 §7): our
// close frame, the server's, then the server closes TCP (we close it after
// one second if it does not; "lingered" counts those).
//
// A process may hold 20,000 open files here, so one wsload holds at most
// about 19,900 connections (keep to 19,500). Beyond that run several
// processes: start each with a -duration long enough to outlast the ones
// started after it and -v, and start the next once the previous one reports
// its connections open. Each one's rss_per_conn_bytes is then the server's
// RSS growth over its own connections, the others already open. They may
// share -sources: the kernel chooses ports per (source, server) pair, about
// 28,000 per source address. The server has the same open-file limit.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/wsreactor/wsreactor/bench/internal/load"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var cfg load.Config
	fl := flag.NewFlagSet("wsload", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&cfg.Addr, "addr", "127.0.0.1:9001", "server `host:port`")
	fl.StringVar(&cfg.Path, "path", "/", "request target of the upgrade request")
	fl.StringVar(&cfg.Origin, "origin", "", "Origin header to send (none if empty)")
	fl.StringVar(&cfg.Mode, "mode", "echo", "echo, idle or connect")
	fl.BoolVar(&cfg.Raw, "raw", false, "plain TCP echo: no handshake; the server returns the masked frames verbatim")
	fl.IntVar(&cfg.Conns, "conns", 100, "connections (connect mode: concurrent workers)")
	fl.IntVar(&cfg.Size, "size", 0, "payload `bytes` per message (default 64 for echo, 16 for idle and connect)")
	fl.IntVar(&cfg.Inflight, "inflight", 1, "messages in flight per connection, written together in one write (rate mode: distinct payloads cycled)")
	fl.Float64Var(&cfg.Rate, "rate", 0, "messages per second per connection, spread evenly; 0 = closed loop")
	fl.BoolVar(&cfg.Text, "text", false, "text frames (printable ASCII) instead of binary")
	fl.BoolVar(&cfg.JSON, "json-payload", false, "text frames of JSON-like text (deterministic records), as compression scenarios need")
	fl.BoolVar(&cfg.Deflate, "deflate", false, "offer permessage-deflate (client_no_context_takeover; server_no_context_takeover), require it, send compressed messages, inflate and check compressed echoes")
	fl.BoolVar(&cfg.Takeover, "deflate-takeover", false, "with -deflate: offer only client_no_context_takeover, so the server may keep its window between messages")
	fl.DurationVar(&cfg.Warmup, "warmup", 0, "traffic before the measured window")
	windowAt := fl.Int64("window-at", 0, "echo mode: start the measured window at this Unix time in milliseconds instead of -warmup after connecting (several wsloads then measure the same seconds)")
	trafficAt := fl.Int64("traffic-at", 0, "echo mode: start sending at this Unix time in milliseconds instead of once connected (a storm's senders then start after it)")
	fl.DurationVar(&cfg.Duration, "duration", 0, "measured window; idle mode: how long connections are held (default 5s)")
	fl.DurationVar(&cfg.Settle, "settle", 0, "idle mode: wait before reading the server's RSS (default 1s)")
	fl.DurationVar(&cfg.Timeout, "timeout", 0, "bound on one connect+handshake, echo drain or close handshake (default 10s)")
	fl.IntVar(&cfg.Sources, "sources", 0, "spread source addresses over 127.0.0.1..127.0.0.N (0 = auto: 8 when conns > 10000, else 1)")
	fl.IntVar(&cfg.ServerPID, "server-pid", 0, "server process to read CPU and RSS from /proc/PID (0 = none)")
	fl.IntVar(&cfg.Loops, "loops", 1, "client event loops")
	fl.IntVar(&cfg.MaxPending, "max-pending", 0, "connects and handshakes in progress at once (default 256)")
	fl.IntVar(&cfg.Retries, "retries", 0, "retries of a refused, reset or timed-out connect or handshake (default 6; negative: none)")
	asJSON := fl.Bool("json", false, "print one JSON line on stdout (human report on stderr)")
	allowErrors := fl.Bool("allow-errors", false, "exit 0 even if connections failed or bytes mismatched")
	verbose := fl.Bool("v", false, "progress on stderr")
	cpuProfile := fl.String("cpuprofile", "", "write a CPU profile of wsload itself to `file`")
	histFile := fl.String("hist", "", "write the latency histogram (HdrHistogram snapshot, JSON, nanoseconds) to `file`, to merge several wsload runs")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "wsload: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	for _, at := range []struct {
		name string
		ms   int64
		t    *time.Time
	}{{"window-at", *windowAt, &cfg.WindowAt}, {"traffic-at", *trafficAt, &cfg.TrafficAt}} {
		if at.ms < 0 {
			fmt.Fprintf(stderr, "wsload: -%s %d: want a Unix time in milliseconds\n", at.name, at.ms)
			return 2
		}
		if at.ms > 0 {
			*at.t = time.UnixMilli(at.ms)
		}
	}
	if *verbose {
		cfg.Log = stderr
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "wsload: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "wsload: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	res, err := load.Run(cfg)
	if err != nil && !errors.Is(err, load.ErrFailed) {
		fmt.Fprintf(stderr, "wsload: %v\n", err)
		if res.Mode == "" {
			return 2
		}
	}
	if *histFile != "" && res.Hist != nil {
		if b, err := json.Marshal(res.Hist); err != nil || os.WriteFile(*histFile, b, 0o644) != nil {
			fmt.Fprintf(stderr, "wsload: -hist %q: could not write the histogram\n", *histFile)
		}
	}
	if *asJSON {
		res.WriteText(stderr)
		b, jerr := json.Marshal(&res)
		if jerr != nil {
			fmt.Fprintf(stderr, "wsload: %v\n", jerr)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		res.WriteText(stdout)
	}
	switch {
	case err != nil && !errors.Is(err, load.ErrFailed):
		return 2
	case res.Failed() && !*allowErrors:
		return 1
	}
	return 0
}
