package main

import (
	"fmt"
	"strings"
	"time"
)

// Groups of scenarios. A group decides which wsload mode runs, which number
// is the scenario's headline, and which table of results.md shows it.
const (
	GroupEcho    = "echo"    // closed-loop echo throughput
	GroupBig     = "big"     // 1 MiB messages, throughput in MB/s
	GroupLatency = "latency" // fixed rate of 1 msg/s per connection, latency percentiles
	GroupIdle    = "idle"    // idle connections, server memory per connection
	GroupConnect = "connect" // new connections per second (handshake rate)
)

// groupOrder is the order of the groups in tables and charts.
var groupOrder = []string{GroupEcho, GroupBig, GroupLatency, GroupIdle, GroupConnect}

// Scenario is one load that every server gets, the same for all.
type Scenario struct {
	Name     string        `json:"name"`     // unique, used by -scenarios: "echo-100x64B-16"
	Group    string        `json:"group"`    // one of the Group constants
	Title    string        `json:"title"`    // for people: "100 conns × 64 B × 16 in flight"
	Mode     string        `json:"mode"`     // wsload -mode: echo, idle or connect
	Conns    int           `json:"conns"`    // wsload -conns (connect: concurrent workers)
	Size     int           `json:"size"`     // wsload -size, bytes per message
	Inflight int           `json:"inflight"` // wsload -inflight
	Rate     float64       `json:"rate"`     // wsload -rate, messages/s per connection; 0 = closed loop
	Duration time.Duration `json:"duration"` // measured window; 0 = the runner's -duration
	Warmup   time.Duration `json:"warmup"`   // 0 = the runner's -warmup
	Raw      bool          `json:"raw"`      // the plain TCP ceiling runs it too (wsload -raw)
}

// echoScenario builds a closed-loop echo scenario.
func echoScenario(conns, size, inflight int) Scenario {
	return Scenario{
		Name:     fmt.Sprintf("echo-%dx%s-%d", conns, sizeName(size), inflight),
		Group:    GroupEcho,
		Title:    fmt.Sprintf("%s conns × %s × %d in flight", thousands(float64(conns)), sizeTitle(size), inflight),
		Mode:     "echo",
		Conns:    conns,
		Size:     size,
		Inflight: inflight,
		Raw:      true,
	}
}

// AllScenarios is the full comparison of issue 3, in the order it runs.
func AllScenarios() []Scenario {
	var s []Scenario
	for _, conns := range []int{100, 1000} {
		for _, size := range []int{64, 4096} {
			for _, inflight := range []int{1, 16} {
				s = append(s, echoScenario(conns, size, inflight))
			}
		}
	}
	return append(s,
		Scenario{
			Name: "big-50x1MiB-1", Group: GroupBig, Title: "50 conns × 1 MiB × 1 in flight",
			Mode: "echo", Conns: 50, Size: 1 << 20, Inflight: 1, Raw: true,
		},
		Scenario{
			Name: "latency-10000x64B-1ps", Group: GroupLatency, Title: "10,000 conns × 64 B at 1 msg/s each",
			Mode: "echo", Conns: 10000, Size: 64, Inflight: 1, Rate: 1,
			Duration: 10 * time.Second, Warmup: 3 * time.Second, Raw: true,
		},
		Scenario{
			Name: "idle-15000", Group: GroupIdle, Title: "15,000 idle conns",
			Mode: "idle", Conns: 15000, Size: 16, Inflight: 1,
		},
		Scenario{
			Name: "connect-32", Group: GroupConnect, Title: "new conns/s, 32 at a time (handshake + 16 B echo + close)",
			Mode: "connect", Conns: 32, Size: 16, Inflight: 1,
		},
	)
}

// QuickScenarios is -quick: two short echo loads that exercise the whole
// harness (build, pinning, wsload -raw and the WebSocket path, reports).
func QuickScenarios() []Scenario {
	a, b := echoScenario(100, 64, 16), echoScenario(100, 4096, 1)
	for _, s := range []*Scenario{&a, &b} {
		s.Duration, s.Warmup = 1500*time.Millisecond, 500*time.Millisecond
	}
	return []Scenario{a, b}
}

// SelectScenarios picks from all the scenarios named by spec, a
// comma-separated list of scenario names, group names ("echo", "latency",
// ...) or "all"; the result keeps the order of all, without repeats.
func SelectScenarios(all []Scenario, spec string) ([]Scenario, error) {
	return pick(all, spec, "scenario", func(s Scenario) (string, string) { return s.Name, s.Group })
}

// pick selects from all the items that spec names (comma-separated: an
// item's name, its group, or "all"), in the order of all. keys gives an
// item's name and group ("" for none); what names the kind in errors.
func pick[T any](all []T, spec, what string, keys func(T) (name, group string)) ([]T, error) {
	want := make([]bool, len(all))
	for _, item := range splitList(spec) {
		found := false
		for i, x := range all {
			name, group := keys(x)
			if item == "all" || item == name || (group != "" && item == group) {
				want[i], found = true, true
			}
		}
		if !found {
			var names []string
			for _, x := range all {
				name, _ := keys(x)
				names = append(names, name)
			}
			return nil, fmt.Errorf("compare: unknown %s %q (choose from all, %s)", what, item, strings.Join(names, ", "))
		}
	}
	var out []T
	for i, x := range all {
		if want[i] {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("compare: no %s selected by %q", what, spec)
	}
	return out, nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// sizeName is a message size for scenario names: 64B, 4KiB, 1MiB.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// sizeTitle is sizeName with a space, for people: "4 KiB".
func sizeTitle(n int) string {
	s := sizeName(n)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	return s[:i] + " " + s[i:]
}
