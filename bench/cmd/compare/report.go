package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is everything a comparison produced: results.json holds it whole,
// results.md and the charts are drawn from it.
type Report struct {
	Command   string     `json:"command"`
	Started   time.Time  `json:"started"`
	Finished  time.Time  `json:"finished"`
	Machine   Machine    `json:"machine"`
	Settings  Settings   `json:"settings"`
	Servers   []Server   `json:"servers"`
	Scenarios []Scenario `json:"scenarios"`
	Outcomes  []*Outcome `json:"outcomes"`
	Notes     []string   `json:"notes,omitempty"`
}

// Settings are the runner options as recorded in the report.
type Settings struct {
	Rounds    int    `json:"rounds"`
	Duration  string `json:"duration"`
	Warmup    string `json:"warmup"`
	Sources   int    `json:"sources"`
	ServerCPU int    `json:"server_cpu"` // -1: not pinned
	ClientCPU int    `json:"client_cpu"` // -1: not pinned
	Quick     bool   `json:"quick"`
}

// outcome finds the outcome of server in scenario, or nil.
func (rep *Report) outcome(scenario, server string) *Outcome {
	for _, o := range rep.Outcomes {
		if o.Scenario == scenario && o.Server == server {
			return o
		}
	}
	return nil
}

// Headline is a scenario group's main number and whether more is better:
// msgs/s for echo, MB/s for 1 MiB messages, p99 latency at a fixed rate,
// server memory per idle connection, connections per second.
func Headline(group string, r Result) (v float64, higherBetter bool) {
	switch group {
	case GroupBig:
		return r.MBPerSec, true
	case GroupLatency:
		return r.P99us, false
	case GroupIdle:
		return r.RSSPerConn, false
	case GroupConnect:
		return r.ConnectsPerSec, true
	}
	return r.MsgsPerSec, true
}

// Ratio compares o with ref on the scenario's headline number, oriented so
// that more than 1 means o did better; ok is false when either has no
// result.
func Ratio(group string, o, ref *Outcome) (float64, bool) {
	if o == nil || ref == nil || o.Median == nil || ref.Median == nil {
		return 0, false
	}
	v, higher := Headline(group, *o.Median)
	rv, _ := Headline(group, *ref.Median)
	if v <= 0 || rv <= 0 {
		return 0, false
	}
	if higher {
		return v / rv, true
	}
	return rv / v, true
}

// groupTitle heads each table of results.md.
var groupTitle = map[string]string{
	GroupEcho:    "Echo throughput (closed loop)",
	GroupBig:     "1 MiB messages",
	GroupLatency: "Latency at a fixed rate",
	GroupIdle:    "Idle connections: server memory",
	GroupConnect: "New connections per second",
}

// Markdown renders results.md; charts lists the chart files written beside
// it.
func (rep *Report) Markdown(charts []string) string {
	return "# wsreactor benchmark results\n\n" +
		"Written by `bench/cmd/compare`; do not edit by hand. See bench/README.md for how to run it and how to read it.\n\n" +
		rep.body(charts, "", "##")
}

// body is the report below its title: the setup, a table per scenario group,
// the charts (their links prefixed with linkPrefix), the servers and the
// failures, with sections headed by heading ("##").
func (rep *Report) body(charts []string, linkPrefix, heading string) string {
	var b strings.Builder
	rep.writeSetup(&b)
	b.WriteString("Ratios compare each scenario's headline number (msgs/s; MB/s for 1 MiB messages; p99 latency at a fixed rate; " +
		"server memory per idle connection; connections/s) with the Twisted original and with the plain TCP ceiling, " +
		"oriented so that above 1× is better than the reference. ⚠ marks a server that failed a round or had errors.\n")
	for _, g := range groupOrder {
		rep.writeGroup(&b, g, heading)
	}
	if len(charts) > 0 {
		fmt.Fprintf(&b, "\n%s Charts\n\n", heading)
		for _, c := range charts {
			fmt.Fprintf(&b, "![%s](%s%s)\n\n", strings.TrimSuffix(c, filepath.Ext(c)), linkPrefix, c)
		}
	}
	rep.writeServers(&b, heading, nil)
	rep.writeFailures(&b, heading)
	return b.String()
}

// writeServers writes the table of the servers, their versions and
// settings, and a row for each server of notRun with why it did not run.
func (rep *Report) writeServers(b *strings.Builder, heading string, notRun map[string]string) {
	fmt.Fprintf(b, "\n%s Servers\n\n| server | version | configuration |\n|---|---|---|\n", heading)
	for _, s := range rep.Servers {
		cfg := s.Config
		if s.Skipped != "" {
			cfg = "**skipped:** " + s.Skipped
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", s.Label, mdEscape(s.Version), mdEscape(cfg))
	}
	for _, s := range AllServers() {
		if why, ok := notRun[s.Name]; ok {
			fmt.Fprintf(b, "| %s | | %s |\n", s.Label, mdEscape(why))
		}
	}
}

// writeFailures writes the notes and every failed round, if any.
func (rep *Report) writeFailures(b *strings.Builder, heading string) {
	var failures []string
	for _, o := range rep.Outcomes {
		for _, f := range o.Failures {
			failures = append(failures, fmt.Sprintf("- %s / %s: %s", o.Scenario, o.Server, mdEscape(f)))
		}
		if o.Median != nil && (o.Median.Errors > 0 || o.Median.Mismatches > 0) {
			failures = append(failures, fmt.Sprintf("- %s / %s: wsload counted %v errors and %v mismatches over the rounds",
				o.Scenario, o.Server, o.Median.Errors, o.Median.Mismatches))
		}
	}
	if len(failures) > 0 || len(rep.Notes) > 0 {
		fmt.Fprintf(b, "\n%s Failures and notes\n\n", heading)
		for _, n := range rep.Notes {
			b.WriteString("- " + mdEscape(n) + "\n")
		}
		for _, f := range failures {
			b.WriteString(f + "\n")
		}
	}
}

// writeSetup writes the machine, the pinning and the rounds of the run.
func (rep *Report) writeSetup(b *strings.Builder) {
	rep.writeMachine(b)
	s := rep.Settings
	fmt.Fprintf(b, "- Median of %d round(s); each run: warm-up %s, measured %s unless the scenario says otherwise; servers interleaved within a round, each started fresh on a new port\n\n",
		s.Rounds, s.Warmup, s.Duration)
}

// writeMachine writes when and where the run was, and how it was pinned.
func (rep *Report) writeMachine(b *strings.Builder) {
	m := rep.Machine
	fmt.Fprintf(b, "- Run: %s, %s, `%s`\n", rep.Started.UTC().Format("2006-01-02 15:04 UTC"),
		rep.Finished.Sub(rep.Started).Round(time.Second), rep.Command)
	fmt.Fprintf(b, "- Machine: %s, %d CPUs, %s, Linux %s, %s; load average at start %s\n",
		m.CPUModel, m.CPUs, m.Memory, m.Kernel, m.GoVersion, m.LoadAvg)
	s := rep.Settings
	pin := func(cpu int) string {
		if cpu < 0 {
			return "not pinned"
		}
		return fmt.Sprintf("pinned to CPU %d (`taskset -c %d`)", cpu, cpu)
	}
	fmt.Fprintf(b, "- Each server %s with one event loop (`-loops 1`); wsload %s with one loop and %d source addresses\n",
		pin(s.ServerCPU), pin(s.ClientCPU), s.Sources)
}

// writeGroup writes the table of one scenario group, if it ran.
func (rep *Report) writeGroup(b *strings.Builder, group, heading string) {
	var scs []Scenario
	for _, sc := range rep.Scenarios {
		if sc.Group == group {
			scs = append(scs, sc)
		}
	}
	if len(scs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s %s\n\n", heading, groupTitle[group])
	switch group {
	case GroupIdle:
		b.WriteString("| scenario | server | RSS per conn | server RSS | server CPU | vs Twisted | vs TCP ceiling |\n|---|---|--:|--:|--:|--:|--:|\n")
	case GroupConnect:
		b.WriteString("| scenario | server | conns/s | p50 | p99 | p99.9 | server CPU | server RSS | vs Twisted | vs TCP ceiling |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	default:
		b.WriteString("| scenario | server | msgs/s | MB/s | p50 | p99 | p99.9 | server CPU | CPU per msg | server RSS | vs Twisted | vs TCP ceiling |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	}
	for _, sc := range scs {
		first := true
		for _, srv := range rep.Servers {
			o := rep.outcome(sc.Name, srv.Name)
			if o == nil {
				continue
			}
			title := ""
			if first {
				title, first = sc.Title, false
			}
			b.WriteString(rep.row(sc, srv, o, title))
		}
	}
}

// row is one line of a group's table.
func (rep *Report) row(sc Scenario, srv Server, o *Outcome, title string) string {
	name := srv.Label
	if o.Failed() {
		name += " ⚠"
	}
	vsT, okT := Ratio(sc.Group, o, rep.outcome(sc.Name, Twisted))
	vsC, okC := Ratio(sc.Group, o, rep.outcome(sc.Name, GnetTCP))
	cells := []string{mdEscape(title), mdEscape(name)}
	m := o.Median
	if m == nil {
		n := 10
		switch sc.Group {
		case GroupIdle:
			n = 5
		case GroupConnect:
			n = 8
		}
		cells = append(cells, "failed")
		for i := 1; i < n; i++ {
			cells = append(cells, "–")
		}
		return "| " + strings.Join(cells, " | ") + " |\n"
	}
	cpu := fmt.Sprintf("%.0f%%", m.ServerCPUPct)
	switch sc.Group {
	case GroupIdle:
		cells = append(cells, thousands(m.RSSPerConn)+" B", mib(m.ServerRSSKB), cpu)
	case GroupConnect:
		cells = append(cells, thousands(m.ConnectsPerSec), micros(m.P50us), micros(m.P99us), micros(m.P999us), cpu, mib(m.ServerRSSKB))
	default:
		cells = append(cells, thousands(m.MsgsPerSec), fmt.Sprintf("%.1f", m.MBPerSec),
			micros(m.P50us), micros(m.P99us), micros(m.P999us), cpu, fineMicros(o.CPUPerMsg()), mib(m.ServerRSSKB))
	}
	cells = append(cells, ratio(vsT, okT), ratio(vsC, okC))
	return "| " + strings.Join(cells, " | ") + " |\n"
}

// WriteFiles writes results.json, results.md and the charts into dir.
func (rep *Report) WriteFiles(dir string) error {
	if err := rep.writeJSON(dir, "results.json"); err != nil {
		return err
	}
	charts, err := rep.WriteCharts(dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(rep.Markdown(charts)), 0o644)
}

// writeJSON writes the whole report as dir/name, making dir if need be.
func (rep *Report) writeJSON(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	return nil
}

// Markers around the section of docs/benchmarks.md that a full run fills.
const (
	readmeBegin = "<!-- compare:results:begin -->"
	readmeEnd   = "<!-- compare:results:end -->"
)

// FillReadme replaces the text between the results markers of the README at
// path with the report (charts linked under linkPrefix). A README without
// the markers is left alone.
func FillReadme(path string, rep *Report, linkPrefix string) error {
	var charts []string
	for _, name := range chartNames {
		c := name + "." + chartFormat
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), linkPrefix, c)); err == nil {
			charts = append(charts, c)
		}
	}
	return fillBetween(path, readmeBegin, readmeEnd, rep.body(charts, linkPrefix, "###"), true)
}

// fillBetween replaces the text between the begin and end markers of the
// file at path with body. A file without the markers is an error when
// required, else left alone.
func fillBetween(path, begin, end, body string, required bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("compare: %v", err)
	}
	text := string(b)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		if required {
			return fmt.Errorf("compare: %s has no %s ... %s section to fill", path, begin, end)
		}
		return nil
	}
	return os.WriteFile(path, []byte(text[:i+len(begin)]+"\n"+body+text[j:]), 0o644)
}
