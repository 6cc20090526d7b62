package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the numbers came from.
type Machine struct {
	CPUModel  string `json:"cpu_model"` // lscpu's "Model name"
	CPUs      int    `json:"cpus"`      // nproc
	Memory    string `json:"memory"`    // MemTotal
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	LoadAvg   string `json:"loadavg"` // /proc/loadavg at the start: others' work skews results
}

// DescribeMachine reads the machine's description.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: "unknown"}
	if out, err := exec.Command("lscpu").Output(); err == nil {
		m.CPUModel = field(string(out), "Model name:")
	}
	if m.CPUModel == "" {
		if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
			m.CPUModel = field(string(b), "model name")
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		fmt.Sscanf(field(string(b), "MemTotal:"), "%f", &kb)
		m.Memory = fmt.Sprintf("%.0f GiB RAM", kb/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// Line is the report's "Machine:" line. The load average at the start
// cannot tell other sessions' work from the previous run's own processes
// (a scale scenario leaves the 1-minute average near 30 for a minute), so
// it says only which of the two a reader may assume.
func (m Machine) Line() string {
	note := "raised by the run before it or by other work on the machine"
	if f := strings.Fields(m.LoadAvg); len(f) > 0 {
		if v, err := strconv.ParseFloat(f[0], 64); err == nil && v < 1 {
			note = "nothing else was running"
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s, Linux %s, %s; load average at start %s (%s)",
		m.CPUModel, m.CPUs, m.Memory, m.Kernel, m.GoVersion, m.LoadAvg, note)
}

// field returns the trimmed value after the first line starting with key
// (and a colon, for /proc/cpuinfo style "key\t: value").
func field(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, key) {
			continue
		}
		v := strings.TrimPrefix(line, key)
		v = strings.TrimLeft(v, " \t")
		v = strings.TrimPrefix(v, ":")
		return strings.TrimSpace(v)
	}
	return ""
}

// version finds the version of what a server runs on.
func version(s Server, benchDir string) string {
	run := func(dir string, argv ...string) string {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(out))
	}
	goMod := func(paths ...string) string {
		var parts []string
		for _, p := range paths {
			parts = append(parts, goModOf(benchDir, p))
		}
		return strings.Join(parts, ", ")
	}
	switch s.Name {
	case Wsreactor, WsreactorPlain:
		root := filepath.Dir(benchDir)
		v := "commit " + run(root, "git", "rev-parse", "--short", "HEAD")
		if run(root, "git", "status", "--porcelain", "--untracked-files=no") != "" {
			v += " + uncommitted changes"
		}
		return v + ", " + goModOf(root, "github.com/panjf2000/gnet/v2")
	case Gorilla:
		return goMod("github.com/gorilla/websocket")
	case Nbio:
		return goMod("github.com/lesismal/nbio")
	case GobwasGnet:
		return goMod("github.com/gobwas/ws", "github.com/panjf2000/gnet/v2")
	case GnetTCP:
		return goMod("github.com/panjf2000/gnet/v2")
	case Twisted:
		return run(benchDir, "/usr/bin/python3", "-c",
			"import sys, twisted, autobahn; print('Python %d.%d.%d' % sys.version_info[:3], 'Twisted', twisted.__version__, 'Autobahn', autobahn.__version__)")
	case NodeWS:
		v := "Node.js " + run(benchDir, "node", "--version")
		var pkg struct{ Version string }
		if b, err := os.ReadFile(filepath.Join(benchDir, "peers", "nodews", "node_modules", "ws", "package.json")); err == nil && json.Unmarshal(b, &pkg) == nil {
			v += ", ws " + pkg.Version
		}
		return v
	case UWS:
		v := "Node.js " + run(benchDir, "node", "--version")
		var pkg struct{ Version string }
		if b, err := os.ReadFile(filepath.Join(benchDir, "peers", "uws", "node_modules", npmModule[UWS], "package.json")); err == nil && json.Unmarshal(b, &pkg) == nil {
			v += ", uWebSockets.js " + pkg.Version + " (" + npmModule[UWS] + ")"
		}
		return v
	}
	return "?"
}

// goModOf is the version of module path in the Go module at dir.
func goModOf(dir, path string) string {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Version}}", path)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return path + " ?"
	}
	return strings.TrimSpace(string(out))
}
