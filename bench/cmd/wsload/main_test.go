//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// contractFields are the JSON keys the runner reads (design contract).
var contractFields = strings.Fields(`mode conns size inflight rate duration_s msgs msgs_per_sec mb_per_sec
	p50_us p99_us p999_us max_us errors mismatches server_cpu_s server_cpu_pct server_rss_kb
	client_cpu_s client_cpu_pct rss_per_conn_bytes connects_per_sec`)

// tcpServer serves handle on a loopback port until the test ends.
func tcpServer(t *testing.T, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	return ln.Addr().String()
}

func wsload(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestJSONContract(t *testing.T) {
	addr := tcpServer(t, func(c net.Conn) { io.Copy(c, c) })
	code, out, errOut := wsload(t, "-addr", addr, "-raw", "-conns", "3", "-size", "64", "-inflight", "4",
		"-warmup", "50ms", "-duration", "200ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("stdout has %d lines, want one JSON line: %q", len(lines), out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("stdout %q: %v", lines[0], err)
	}
	var missing []string
	for _, k := range contractFields {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("JSON lacks %v: %s", missing, lines[0])
	}
	if m["mode"] != "echo" || m["conns"] != 3.0 || m["inflight"] != 4.0 || m["msgs"].(float64) <= 0 {
		t.Fatalf("unexpected values: %s", lines[0])
	}
	if !strings.Contains(errOut, "msgs/s") {
		t.Fatalf("no human report on stderr: %q", errOut)
	}
}

func TestExitCodes(t *testing.T) {
	garbage := tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write(bytes.Repeat([]byte{'x'}, n))
		}
	})
	short := []string{"-raw", "-conns", "1", "-warmup", "0s", "-duration", "100ms", "-timeout", "1s"}
	if code, _, _ := wsload(t, append([]string{"-addr", garbage}, short...)...); code != 1 {
		t.Errorf("mismatching server: exit %d, want 1", code)
	}
	if code, _, _ := wsload(t, append([]string{"-addr", garbage, "-allow-errors"}, short...)...); code != 0 {
		t.Errorf("mismatching server with -allow-errors: exit %d, want 0", code)
	}
	if code, _, _ := wsload(t, "-mode", "bogus"); code != 2 {
		t.Errorf("bad mode: exit %d, want 2", code)
	}
	if code, _, _ := wsload(t, "-nosuchflag"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

// TestHistFile: -hist writes the latency histogram, whose count is the
// messages measured and whose percentiles match the JSON line's.
func TestHistFile(t *testing.T) {
	addr := tcpServer(t, func(c net.Conn) { io.Copy(c, c) })
	path := t.TempDir() + "/hist.json"
	code, out, errOut := wsload(t, "-addr", addr, "-raw", "-conns", "2", "-size", "64",
		"-warmup", "50ms", "-duration", "200ms", "-json", "-hist", path)
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	var res struct {
		Msgs  int64   `json:"msgs"`
		P99us float64 `json:"p99_us"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("-hist wrote no file: %v", err)
	}
	var snap hdrhistogram.Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatalf("-hist file: %v", err)
	}
	h := hdrhistogram.Import(&snap)
	if h.TotalCount() < res.Msgs || res.Msgs == 0 {
		t.Errorf("histogram holds %d values; %d messages were measured", h.TotalCount(), res.Msgs)
	}
	if p99 := float64(h.ValueAtQuantile(99)) / 1e3; p99 < res.P99us*0.5 || p99 > res.P99us*2+1 {
		t.Errorf("histogram p99 %.1f µs; the JSON line says %.1f µs", p99, res.P99us)
	}
}

// TestWindowAt: -window-at starts the measured window at a given time, not
// -warmup after connecting: the run takes until that time plus -duration,
// and a negative time is refused.
func TestWindowAt(t *testing.T) {
	addr := tcpServer(t, func(c net.Conn) { io.Copy(c, c) })
	start := time.Now()
	at := start.Add(700 * time.Millisecond)
	code, out, errOut := wsload(t, "-addr", addr, "-raw", "-conns", "2", "-size", "64", "-rate", "20",
		"-warmup", "0s", "-window-at", strconv.FormatInt(at.UnixMilli(), 10), "-duration", "200ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("wsload -window-at now+700ms -duration 200ms returned after %v; want at least 900ms", took)
	}
	var res struct {
		Msgs int64 `json:"msgs"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &res); err != nil || res.Msgs == 0 {
		t.Errorf("JSON %q, %v: want messages measured", out, err)
	}
	if code, _, _ := wsload(t, "-window-at", "-5"); code != 2 {
		t.Errorf("-window-at -5: exit %d, want 2", code)
	}
}
