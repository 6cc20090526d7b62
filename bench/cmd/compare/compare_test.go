package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 100, 5}, 5},
	}
	for _, tt := range tests {
		if got := median(append([]float64(nil), tt.in...)); got != tt.want {
			t.Errorf("median(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestMedianResult(t *testing.T) {
	rounds := []Result{
		{Mode: "echo", MsgsPerSec: 100, P99us: 30, Errors: 1, ServerRSSKB: 10},
		{Mode: "echo", MsgsPerSec: 300, P99us: 10, Mismatches: 2, ServerRSSKB: 30},
		{Mode: "echo", MsgsPerSec: 200, P99us: 20, ServerRSSKB: 20},
	}
	got := Median(rounds)
	want := Result{Mode: "echo", MsgsPerSec: 200, P99us: 20, Errors: 1, Mismatches: 2, ServerRSSKB: 20}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Median = %+v; want %+v", got, want)
	}
	if got := Median(nil); !reflect.DeepEqual(got, Result{}) {
		t.Errorf("Median(nil) = %+v; want zero", got)
	}
}

func TestParseResult(t *testing.T) {
	out := []byte("warming up\n{\"mode\":\"echo\",\"conns\":100,\"msgs_per_sec\":1234.5,\"p999_us\":77,\"errors\":0}\n")
	r, err := ParseResult(out)
	if err != nil || r.Mode != "echo" || r.Conns != 100 || r.MsgsPerSec != 1234.5 || r.P999us != 77 {
		t.Errorf("ParseResult(%q) = %+v, %v", out, r, err)
	}
	for _, bad := range []string{"", "no json here\n", "{not json}\n"} {
		if _, err := ParseResult([]byte(bad)); err == nil {
			t.Errorf("ParseResult(%q) = nil error; want one", bad)
		}
	}
}

func names(scs []Scenario) []string {
	var out []string
	for _, s := range scs {
		out = append(out, s.Name)
	}
	return out
}

func TestAllScenarios(t *testing.T) {
	all := AllScenarios()
	seen := map[string]bool{}
	groups := map[string]int{}
	for _, s := range all {
		if seen[s.Name] {
			t.Errorf("scenario %q twice", s.Name)
		}
		seen[s.Name] = true
		groups[s.Group]++
		if s.Title == "" || s.Conns <= 0 || s.Size <= 0 || s.Inflight <= 0 {
			t.Errorf("scenario %+v incomplete", s)
		}
	}
	// Issue 3: 100 and 1,000 conns × 64 B and 4 KiB × 1 and 16 in flight, plus one of each other kind.
	want := map[string]int{GroupEcho: 8, GroupBig: 1, GroupLatency: 1, GroupIdle: 1, GroupConnect: 1}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("scenarios per group = %v; want %v", groups, want)
	}
	for _, name := range []string{"echo-100x64B-1", "echo-1000x4KiB-16", "big-50x1MiB-1", "latency-10000x64B-1ps", "idle-15000"} {
		if !seen[name] {
			t.Errorf("no scenario %q in %v", name, names(all))
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	all := AllScenarios()
	tests := []struct {
		spec string
		want []string
	}{
		{"echo-100x64B-16", []string{"echo-100x64B-16"}},
		{"idle,echo-100x64B-1", []string{"echo-100x64B-1", "idle-15000"}}, // order of all, not of spec
		{"latency, latency-10000x64B-1ps", []string{"latency-10000x64B-1ps"}},
		{"big,connect", []string{"big-50x1MiB-1", "connect-32"}},
	}
	for _, tt := range tests {
		got, err := SelectScenarios(all, tt.spec)
		if err != nil || !reflect.DeepEqual(names(got), tt.want) {
			t.Errorf("SelectScenarios(%q) = %v, %v; want %v", tt.spec, names(got), err, tt.want)
		}
	}
	if got, err := SelectScenarios(all, "all"); err != nil || len(got) != len(all) {
		t.Errorf("SelectScenarios(all) = %d scenarios, %v; want %d", len(got), err, len(all))
	}
	if got, err := SelectScenarios(all, "echo"); err != nil || len(got) != 8 {
		t.Errorf("SelectScenarios(echo) = %v, %v; want the 8 echo scenarios", names(got), err)
	}
	for _, bad := range []string{"nope", "", " , ", "echo,nope"} {
		if got, err := SelectScenarios(all, bad); err == nil {
			t.Errorf("SelectScenarios(%q) = %v, nil; want an error", bad, names(got))
		}
	}
}

// TestInSpecOrder: the scale scenarios run the servers in the order
// -servers names them; "all" keeps the canonical order.
func TestInSpecOrder(t *testing.T) {
	names := func(srvs []Server) string {
		var n []string
		for _, s := range srvs {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	for spec, want := range map[string]string{
		"gobwasgnet,wsreactor": "gobwasgnet,wsreactor",
		"wsreactor,gobwasgnet": "wsreactor,gobwasgnet",
		"nbio,uws,wsreactor":   "nbio,uws,wsreactor",
	} {
		srvs, err := SelectServers(AllServers(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(InSpecOrder(srvs, spec)); got != want {
			t.Errorf("InSpecOrder(%s) = %s; want %s", spec, got, want)
		}
	}
	all, _ := SelectServers(AllServers(), "all")
	if got, want := names(InSpecOrder(all, "all")), names(AllServers()); got != want {
		t.Errorf("InSpecOrder(all) = %s; want %s", got, want)
	}
}

func TestSelectServers(t *testing.T) {
	got, err := SelectServers(AllServers(), "gnettcp,wsreactor")
	if err != nil || len(got) != 2 || got[0].Name != Wsreactor || got[1].Name != GnetTCP {
		t.Errorf("SelectServers(gnettcp,wsreactor) = %v, %v; want wsreactor, gnettcp", got, err)
	}
	if got, err := SelectServers(AllServers(), "all"); err != nil || len(got) != 8 {
		t.Errorf("SelectServers(all) = %d servers, %v; want 8", len(got), err)
	}
	if _, err := SelectServers(AllServers(), "apache"); err == nil || !strings.Contains(err.Error(), `"apache"`) {
		t.Errorf("SelectServers(apache) error = %v; want one quoting the name", err)
	}
}

func TestCeilingRunsEchoOnly(t *testing.T) {
	ceiling, ws := serverNamed(AllServers(), GnetTCP), serverNamed(AllServers(), Wsreactor)
	for _, sc := range AllScenarios() {
		if want := sc.Mode == "echo"; ceiling.Runs(sc) != want {
			t.Errorf("ceiling.Runs(%s) = %v; want %v", sc.Name, !want, want)
		}
		if !ws.Runs(sc) {
			t.Errorf("wsreactor.Runs(%s) = false", sc.Name)
		}
	}
}

func TestLoadArgs(t *testing.T) {
	opt := Options{Duration: 5 * time.Second, Warmup: time.Second, Sources: 8}
	sc := AllScenarios()[1] // echo-100x64B-16
	got := strings.Join(loadArgs("wsload", sc, opt, "127.0.0.1:9001", 42, true), " ")
	want := "wsload -addr 127.0.0.1:9001 -path / -mode echo -conns 100 -size 64 -inflight 16 -rate 0 " +
		"-warmup 1s -duration 5s -sources 8 -server-pid 42 -loops 1 -json -raw"
	if got != want {
		t.Errorf("loadArgs = %q; want %q", got, want)
	}
	lat, _ := SelectScenarios(AllScenarios(), "latency")
	got = strings.Join(loadArgs("wsload", lat[0], opt, "a:1", 7, false), " ")
	if !strings.Contains(got, "-rate 1 ") || !strings.Contains(got, "-duration 10s") || strings.Contains(got, "-raw") {
		t.Errorf("loadArgs(latency) = %q; want its own rate and duration, no -raw", got)
	}
	if got := pinned(1, []string{"x", "-y"}); !reflect.DeepEqual(got, []string{"taskset", "-c", "1", "x", "-y"}) {
		t.Errorf("pinned(1) = %q", got)
	}
	if got := pinned(-1, []string{"x"}); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("pinned(-1) = %q", got)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999), "999"},
		{thousands(1000), "1,000"},
		{thousands(1234567.6), "1,234,568"},
		{thousands(-12345), "-12,345"},
		{micros(0), "–"},
		{micros(85.4), "85 µs"},
		{micros(1250), "1.25 ms"},
		{micros(25000), "25.0 ms"},
		{micros(2.1e6), "2.10 s"},
		{fineMicros(0.6523), "0.652 µs"},
		{fineMicros(12.34), "12.3 µs"},
		{fineMicros(456.7), "457 µs"},
		{mib(2048), "2.0 MiB"},
		{ratio(12.34, true), "12×"},
		{ratio(0.5, true), "0.50×"},
		{ratio(3, false), "–"},
		{sizeName(64), "64B"},
		{sizeName(4096), "4KiB"},
		{sizeName(1 << 20), "1MiB"},
		{sizeName(1000), "1000B"},
		{sizeTitle(4096), "4 KiB"},
		{siPow10(0), "1"},
		{siPow10(4), "10k"},
		{siPow10(6), "1M"},
		{mdEscape("a|b\nc"), `a\|b c`},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q; want %q", i, tt.got, tt.want)
		}
	}
}

// testReport is a small report with a Twisted and a ceiling reference.
func testReport() *Report {
	all := AllScenarios()
	echo, idle := all[0], all[len(all)-2]
	res := func(msgs, p99, perConn float64) *Result {
		return &Result{Mode: "echo", MsgsPerSec: msgs, MBPerSec: msgs * 64 / 1e6, P50us: p99 / 2, P99us: p99, P999us: p99 * 2,
			ServerCPUPct: 99, ServerRSSKB: 20480, RSSPerConn: perConn}
	}
	rep := &Report{
		Command: "go run ./cmd/compare -test", Started: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Machine:   Machine{CPUModel: "Test CPU", CPUs: 2, Memory: "24 GiB RAM", Kernel: "6.1", GoVersion: "go1.26.8", LoadAvg: "0.1 0.1 0.1"},
		Settings:  Settings{Rounds: 3, Duration: "5s", Warmup: "1s", Sources: 8, ServerCPU: 0, ClientCPU: 1},
		Servers:   []Server{serverNamed(AllServers(), Wsreactor), serverNamed(AllServers(), Twisted), serverNamed(AllServers(), GnetTCP), serverNamed(AllServers(), NodeWS)},
		Scenarios: []Scenario{echo, idle},
		Outcomes: []*Outcome{
			{Scenario: echo.Name, Server: Wsreactor, Median: res(130000, 900, 0),
				Rounds: []Result{{Msgs: 650000, ServerCPUS: 5}, {Msgs: 1000, ServerCPUS: 0}}},
			{Scenario: echo.Name, Server: Twisted, Median: res(13000, 9000, 0)},
			{Scenario: echo.Name, Server: GnetTCP, Median: res(260000, 400, 0)},
			{Scenario: echo.Name, Server: NodeWS, Failures: []string{"round 1: compare: node exited"}},
			{Scenario: idle.Name, Server: Wsreactor, Median: res(0, 0, 800)},
			{Scenario: idle.Name, Server: Twisted, Median: res(0, 0, 8800)},
		},
	}
	rep.Finished = rep.Started.Add(90 * time.Second)
	return rep
}

func TestRatio(t *testing.T) {
	rep := testReport()
	echo, idle := rep.Scenarios[0], rep.Scenarios[1]
	ws := rep.outcome(echo.Name, Wsreactor)
	if got, ok := Ratio(echo.Group, ws, rep.outcome(echo.Name, Twisted)); !ok || got != 10 {
		t.Errorf("Ratio(echo, vs Twisted) = %v, %v; want 10, true", got, ok)
	}
	if got, ok := Ratio(echo.Group, ws, rep.outcome(echo.Name, GnetTCP)); !ok || got != 0.5 {
		t.Errorf("Ratio(echo, vs ceiling) = %v, %v; want 0.5, true", got, ok)
	}
	// Idle: less memory is better, so the ratio is reference / ours.
	if got, ok := Ratio(idle.Group, rep.outcome(idle.Name, Wsreactor), rep.outcome(idle.Name, Twisted)); !ok || got != 11 {
		t.Errorf("Ratio(idle, vs Twisted) = %v, %v; want 11, true", got, ok)
	}
	if _, ok := Ratio(idle.Group, rep.outcome(idle.Name, Wsreactor), rep.outcome(idle.Name, GnetTCP)); ok {
		t.Errorf("Ratio(idle, vs missing ceiling) ok; want not ok")
	}
	if _, ok := Ratio(echo.Group, rep.outcome(echo.Name, NodeWS), rep.outcome(echo.Name, Twisted)); ok {
		t.Errorf("Ratio of a failed outcome ok; want not ok")
	}
}

func TestMarkdown(t *testing.T) {
	md := testReport().Markdown([]string{"throughput.svg"})
	for _, want := range []string{
		"| scenario | server | msgs/s | MB/s | p50 | p99 | p99.9 | server CPU | CPU per msg | server RSS | vs Twisted | vs TCP ceiling |",
		"| 100 conns × 64 B × 1 in flight | wsreactor | 130,000 | 8.3 | 450 µs | 900 µs | 1.80 ms | 99% | 7.69 µs | 20.0 MiB | 10× | 0.50× |",
		"|  | Twisted+Autobahn | 13,000 |",
		"|  | node ws ⚠ | failed | – |",
		"| 15,000 idle conns | wsreactor | 800 B | 20.0 MiB | 99% | 11× | – |",
		"![throughput](throughput.svg)",
		"Test CPU, 2 CPUs",
		"- echo-100x64B-1 / nodews: round 1: compare: node exited",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table row has as many cells as its header.
	var header int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if header == 0 {
			header = n
		} else if n != header {
			t.Errorf("row %q has %d separators; header has %d", line, n, header)
		}
	}
}

func TestFillReadme(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "README.md")
	orig := "# bench\n\nbefore\n" + readmeBegin + "\nold numbers\n" + readmeEnd + "\nafter\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := FillReadme(path, testReport(), "results/"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	if strings.Contains(got, "old numbers") || !strings.HasPrefix(got, "# bench\n\nbefore\n"+readmeBegin+"\n") ||
		!strings.HasSuffix(got, readmeEnd+"\nafter\n") || !strings.Contains(got, "### Echo throughput") {
		t.Errorf("FillReadme gave:\n%s", got)
	}
	if err := os.WriteFile(path, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := FillReadme(path, testReport(), "results/"); err == nil {
		t.Errorf("FillReadme without markers = nil; want an error")
	}
}

func TestWriteFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("draws charts")
	}
	dir := t.TempDir()
	if err := testReport().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.json", "results.md", "throughput.svg", "idle.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSoakSpan(t *testing.T) {
	var samples []Sample
	for i := 0; i <= 10; i++ {
		samples = append(samples, Sample{At: time.Duration(i*10) * time.Second, RSSKB: int64(1000 + i)})
	}
	first, last, ok := soakSpan(samples, 35*time.Second)
	if !ok || first.At != 40*time.Second || last.At != 90*time.Second {
		t.Errorf("soakSpan = %v, %v, %v; want 40s, 90s, true", first.At, last.At, ok)
	}
	if _, _, ok := soakSpan(samples[:2], 0); ok {
		t.Errorf("soakSpan of 2 samples ok; want not ok")
	}
}

func TestField(t *testing.T) {
	text := "Name:\tx\nVmRSS:\t  1234 kB\nmodel name\t: Some CPU @ 2GHz\n"
	if got := field(text, "VmRSS:"); got != "1234 kB" {
		t.Errorf("field(VmRSS:) = %q", got)
	}
	if got := field(text, "model name"); got != "Some CPU @ 2GHz" {
		t.Errorf("field(model name) = %q", got)
	}
	if got := field(text, "Threads:"); got != "" {
		t.Errorf("field(Threads:) = %q; want empty", got)
	}
}
