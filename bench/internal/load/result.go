//go:build linux

package load

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Error kinds.
const (
	kindConnect   = iota // socket, bind or connect failed (after retries)
	kindHandshake        // bad or missing 101 response
	kindProtocol         // a frame from the server breaks RFC 6455
	kindClosed           // the server closed or reset an open connection
	kindTimeout          // connect, handshake, echo or close took over Timeout
	numKinds
)

var kindNames = [numKinds]string{"connect", "handshake", "protocol", "closed", "timeout"}

// Result is one run's report; its JSON form is the line wsload -json prints,
// the contract bench/cmd/compare reads. Counts are integers; rates, times and
// percentages are floats. server_* fields are 0 without a server PID.
type Result struct {
	Mode     string  `json:"mode"`
	Conns    int     `json:"conns"`
	Size     int     `json:"size"`
	Inflight int     `json:"inflight"`
	Rate     float64 `json:"rate"`

	DurationS  float64 `json:"duration_s"` // measured window (idle mode: how long connections were held)
	Msgs       int64   `json:"msgs"`       // messages fully echoed in the window (connect mode: cycles)
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"` // payload bytes echoed per second / 1e6

	P50us  float64 `json:"p50_us"` // latency: closed loop from the batch's write, fixed rate from the intended send time,
	P99us  float64 `json:"p99_us"` // idle mode the final check's echo, connect mode connect start to echo
	P999us float64 `json:"p999_us"`
	MaxUs  float64 `json:"max_us"`

	Errors     int64 `json:"errors"`     // connections that failed (all phases)
	Mismatches int64 `json:"mismatches"` // messages whose echo differed from what was sent

	ServerCPUs   float64 `json:"server_cpu_s"`
	ServerCPUPct float64 `json:"server_cpu_pct"`
	ServerRSSKB  int64   `json:"server_rss_kb"` // VmRSS at the end of the window
	ClientCPUs   float64 `json:"client_cpu_s"`
	ClientCPUPct float64 `json:"client_cpu_pct"`

	RSSPerConnBytes int64 `json:"rss_per_conn_bytes"` // idle mode: (RSS after - RSS before) / connections
	ConnectsPerSec  int64 `json:"connects_per_sec"`   // connect mode

	// Additions to the contract.
	Raw               bool             `json:"raw"`
	Text              bool             `json:"text"`
	Loops             int              `json:"loops"`
	Sources           int              `json:"sources"`
	WarmupS           float64          `json:"warmup_s"`
	Opened            int64            `json:"opened"`   // connections that completed the handshake (echo, idle)
	Retries           int64            `json:"retries"`  // connect/handshake attempts retried after a transient failure
	Lingered          int64            `json:"lingered"` // closes where the server answered our close frame but did not close TCP within 1s
	ErrorKinds        map[string]int64 `json:"error_kinds,omitempty"`
	FirstErrors       []string         `json:"first_errors,omitempty"`
	ServerRSSBeforeKB int64            `json:"server_rss_before_kb"` // idle mode

	// Compression (wsload -deflate) and the wire. Wire bytes are those of
	// the messages counted in Msgs: each one's request frame (out) and the
	// frames of its echo (in), headers included, compressed or not.
	JSON           bool    `json:"json"`
	Deflate        bool    `json:"deflate"`
	Takeover       bool    `json:"takeover"`
	CompressedMsgs int64   `json:"compressed_msgs"` // echoes that came compressed (RSV1), of Msgs
	WireOutBytes   int64   `json:"wire_out_bytes"`
	WireInBytes    int64   `json:"wire_in_bytes"`
	WireOutPerMsg  float64 `json:"wire_out_per_msg"` // wire bytes per echoed message, client to server
	WireInPerMsg   float64 `json:"wire_in_per_msg"`  // and server to client
	ClientRSSKB    int64   `json:"client_rss_kb"`

	// Hist is the latency histogram (nanoseconds) behind the percentiles,
	// for merging the runs of several wsload processes (wsload -hist).
	Hist *hdrhistogram.Snapshot `json:"-"`
}

// Failed reports whether any connection failed or any byte mismatched.
func (r *Result) Failed() bool { return r.Errors > 0 || r.Mismatches > 0 }

// WriteText writes the human report.
func (r *Result) WriteText(w io.Writer) {
	kind := "ws"
	if r.Raw {
		kind = "raw"
	}
	fmt.Fprintf(w, "wsload %s %s: conns=%d size=%d inflight=%d rate=%g loops=%d sources=%d opened=%d\n",
		r.Mode, kind, r.Conns, r.Size, r.Inflight, r.Rate, r.Loops, r.Sources, r.Opened)
	switch r.Mode {
	case ModeConnect:
		fmt.Fprintf(w, "  %.2fs window: %d connects/s (%d cycles)\n", r.DurationS, r.ConnectsPerSec, r.Msgs)
	case ModeIdle:
		fmt.Fprintf(w, "  held %.2fs: server RSS %d -> %d KB, %d bytes per connection; %d final echoes\n",
			r.DurationS, r.ServerRSSBeforeKB, r.ServerRSSKB, r.RSSPerConnBytes, r.Msgs)
	default:
		fmt.Fprintf(w, "  %.2fs window: %.0f msgs/s, %.2f MB/s (%d messages)\n", r.DurationS, r.MsgsPerSec, r.MBPerSec, r.Msgs)
	}
	if r.Deflate || r.WireOutBytes > 0 {
		fmt.Fprintf(w, "  wire bytes per message: out %.1f in %.1f (deflate %v, takeover offered %v, %d of %d echoes compressed)\n",
			r.WireOutPerMsg, r.WireInPerMsg, r.Deflate, r.Takeover, r.CompressedMsgs, r.Msgs)
	}
	fmt.Fprintf(w, "  latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", r.P50us, r.P99us, r.P999us, r.MaxUs)
	fmt.Fprintf(w, "  errors %d  mismatches %d  retries %d  lingered %d", r.Errors, r.Mismatches, r.Retries, r.Lingered)
	if len(r.ErrorKinds) > 0 {
		var parts []string
		for _, k := range kindNames {
			if n := r.ErrorKinds[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", k, n))
			}
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, " "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  server cpu %.2fs (%.1f%%) rss %d KB; client cpu %.2fs (%.1f%%) rss %d KB\n",
		r.ServerCPUs, r.ServerCPUPct, r.ServerRSSKB, r.ClientCPUs, r.ClientCPUPct, r.ClientRSSKB)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(w, "  ! %s\n", e)
	}
}

// stop gathers every loop's counters and histogram, ends the loops and builds the Result.
func (r *runner) stop() Result {
	var st stats
	hist := newHist()
	for _, l := range r.loops {
		l.call(func() {
			l.flushRecords()
			st.msgs += l.st.msgs
			st.bytes += l.st.bytes
			st.cycles += l.st.cycles
			st.mismatches += l.st.mismatches
			st.retries += l.st.retries
			st.lingered += l.st.lingered
			st.maxLat = max(st.maxLat, l.st.maxLat)
			st.wireOut += l.st.wireOut
			st.wireIn += l.st.wireIn
			st.zmsgs += l.st.zmsgs
			for k := range st.errs {
				st.errs[k] += l.st.errs[k]
			}
			hist.Merge(l.hist)
		})
	}
	for _, l := range r.loops {
		l.execute(func() { l.quit = true })
	}
	r.wg.Wait()

	cfg := &r.cfg
	res := Result{
		Mode: cfg.Mode, Conns: cfg.Conns, Size: cfg.Size, Inflight: cfg.Inflight, Rate: cfg.Rate,
		Raw: cfg.Raw, Text: cfg.Text, Loops: cfg.Loops, Sources: cfg.Sources, WarmupS: cfg.Warmup.Seconds(),
		Opened: r.opened.Load(), Retries: st.retries, Lingered: st.lingered, Mismatches: st.mismatches,
		FirstErrors: r.errorsSoFar(),
		JSON:        cfg.JSON, Deflate: cfg.Deflate, Takeover: cfg.Takeover,
		CompressedMsgs: st.zmsgs, WireOutBytes: st.wireOut, WireInBytes: st.wireIn,
	}
	if st.msgs > 0 {
		res.WireOutPerMsg = round(float64(st.wireOut)/float64(st.msgs), 1)
		res.WireInPerMsg = round(float64(st.wireIn)/float64(st.msgs), 1)
	}
	if cfg.Mode == ModeIdle {
		res.WarmupS = 0
	}
	for k, n := range st.errs {
		if n > 0 {
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]int64{}
			}
			res.ErrorKinds[kindNames[k]] = n
			res.Errors += n
		}
	}
	w := r.window.Seconds()
	res.DurationS = round(w, 3)
	res.Msgs = st.msgs
	if w > 0 && cfg.Mode != ModeIdle {
		res.MsgsPerSec = round(float64(st.msgs)/w, 1)
		res.MBPerSec = round(float64(st.bytes)/w/1e6, 3)
	}
	if cfg.Mode == ModeConnect && w > 0 {
		res.ConnectsPerSec = int64(math.Round(float64(st.cycles) / w))
	}
	if hist.TotalCount() > 0 {
		// A quantile is reported as the highest value equivalent to its
		// bucket (3 significant digits): never above the exact maximum.
		q := func(p float64) float64 { return round(float64(min(hist.ValueAtQuantile(p), st.maxLat))/1e3, 1) }
		res.P50us, res.P99us, res.P999us = q(50), q(99), q(99.9)
		res.MaxUs = round(float64(st.maxLat)/1e3, 1)
		res.Hist = hist.Export()
	}
	if r.srv0.err == nil && r.srv1.err == nil && cfg.ServerPID > 0 && w > 0 {
		res.ServerCPUs = round(r.srv1.cpu-r.srv0.cpu, 2)
		res.ServerCPUPct = round(100*(r.srv1.cpu-r.srv0.cpu)/w, 1)
		res.ServerRSSKB = r.srv1.rss
	} else if cfg.ServerPID > 0 {
		res.FirstErrors = append(res.FirstErrors, fmt.Sprintf("load: server /proc: %v %v", r.srv0.err, r.srv1.err))
	}
	if r.cli0.err == nil && r.cli1.err == nil && w > 0 {
		res.ClientCPUs = round(r.cli1.cpu-r.cli0.cpu, 2)
		res.ClientCPUPct = round(100*(r.cli1.cpu-r.cli0.cpu)/w, 1)
	}
	if rss, err := procRSS("self"); err == nil {
		res.ClientRSSKB = rss
	}
	if cfg.Mode == ModeIdle {
		res.ServerRSSBeforeKB = r.rssPre
		if r.rssPost > 0 {
			res.ServerRSSKB = r.rssPost
			if res.Opened > 0 {
				res.RSSPerConnBytes = (r.rssPost - r.rssPre) * 1024 / res.Opened
			}
		}
	}
	return res
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
