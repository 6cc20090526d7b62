package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Result is one run of wsload: the one line of JSON it prints with -json
// (see the wsload contract in bench/README.md). Every number is a float64 so
// that medians treat all fields alike.
type Result struct {
	Mode           string  `json:"mode"`
	Conns          float64 `json:"conns"`
	Size           float64 `json:"size"`
	Inflight       float64 `json:"inflight"`
	Rate           float64 `json:"rate"`
	DurationS      float64 `json:"duration_s"`
	Msgs           float64 `json:"msgs"`
	MsgsPerSec     float64 `json:"msgs_per_sec"`
	MBPerSec       float64 `json:"mb_per_sec"`
	P50us          float64 `json:"p50_us"`
	P99us          float64 `json:"p99_us"`
	P999us         float64 `json:"p999_us"`
	MaxUs          float64 `json:"max_us"`
	Errors         float64 `json:"errors"`
	Mismatches     float64 `json:"mismatches"`
	ServerCPUS     float64 `json:"server_cpu_s"`
	ServerCPUPct   float64 `json:"server_cpu_pct"`
	ServerRSSKB    float64 `json:"server_rss_kb"`
	ClientCPUS     float64 `json:"client_cpu_s"`
	ClientCPUPct   float64 `json:"client_cpu_pct"`
	RSSPerConn     float64 `json:"rss_per_conn_bytes"`
	ConnectsPerSec float64 `json:"connects_per_sec"`
	CompressedMsgs float64 `json:"compressed_msgs"`  // wsload -deflate: echoes that came compressed
	WireOutPerMsg  float64 `json:"wire_out_per_msg"` // wire bytes per echoed message, client to server
	WireInPerMsg   float64 `json:"wire_in_per_msg"`  // and server to client
}

// ParseResult reads wsload's JSON line: the last line of out that parses as
// a JSON object (wsload prints its human report on stderr, but tolerate
// stray lines on stdout).
func ParseResult(out []byte) (Result, error) {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r Result
		if err := json.Unmarshal(line, &r); err != nil {
			return Result{}, fmt.Errorf("compare: wsload printed bad JSON %q: %v", line, err)
		}
		return r, nil
	}
	return Result{}, fmt.Errorf("compare: wsload printed no JSON line in %q", clip(out, 200))
}

// Median returns the median of each number over the rounds (the mean of the
// two middle values for an even count); Errors and Mismatches are summed
// instead, so that one bad round shows. Mode comes from the first round.
func Median(rounds []Result) Result {
	var m Result
	if len(rounds) == 0 {
		return m
	}
	m.Mode = rounds[0].Mode
	mv := reflect.ValueOf(&m).Elem()
	for f := 0; f < mv.NumField(); f++ {
		if mv.Field(f).Kind() != reflect.Float64 {
			continue
		}
		vals := make([]float64, len(rounds))
		for i := range rounds {
			vals[i] = reflect.ValueOf(rounds[i]).Field(f).Float()
		}
		mv.Field(f).SetFloat(median(vals))
	}
	m.Errors, m.Mismatches = 0, 0
	for _, r := range rounds {
		m.Errors += r.Errors
		m.Mismatches += r.Mismatches
	}
	return m
}

// median of vals (which it sorts); 0 for none.
func median(vals []float64) float64 {
	n := len(vals)
	if n == 0 {
		return 0
	}
	sort.Float64s(vals)
	if n%2 == 1 {
		return vals[n/2]
	}
	return (vals[n/2-1] + vals[n/2]) / 2
}

// Outcome is what one server did in one scenario over all rounds.
type Outcome struct {
	Scenario string   `json:"scenario"`
	Server   string   `json:"server"`
	Rounds   []Result `json:"rounds"`             // the rounds that produced a result
	Failures []string `json:"failures,omitempty"` // what went wrong, one line per failed round
	Median   *Result  `json:"median,omitempty"`   // nil when no round produced a result
}

// Failed reports whether any round failed or reported errors or mismatches.
func (o *Outcome) Failed() bool {
	return len(o.Failures) > 0 || (o.Median != nil && (o.Median.Errors > 0 || o.Median.Mismatches > 0))
}

// CPUPerMsg is the median over the rounds of the server's CPU time per
// echoed message, in microseconds: what a message costs the server, which
// stays meaningful when the server did not get a whole core (a busy machine,
// or a client-bound run). 0 when unknown.
func (o *Outcome) CPUPerMsg() float64 {
	var vals []float64
	for _, r := range o.Rounds {
		if r.Msgs > 0 && r.ServerCPUS > 0 {
			vals = append(vals, r.ServerCPUS*1e6/r.Msgs)
		}
	}
	return median(vals)
}

// clip shortens b for an error message.
func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
