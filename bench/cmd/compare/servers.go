package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Names of the servers, as -servers takes them.
const (
	Wsreactor  = "wsreactor"
	Gorilla    = "gorilla"
	Nbio       = "nbio"
	GobwasGnet = "gobwasgnet"
	NodeWS     = "nodews"
	UWS        = "uws"
	Twisted    = "twisted"
	GnetTCP    = "gnettcp"
)

// Server describes how to build and start one server of the comparison.
// Every server gets the same listening address, one event loop, no
// compression and a message limit of 64 MiB.
type Server struct {
	Name    string `json:"name"`
	Label   string `json:"label"`             // for tables and charts
	Config  string `json:"config"`            // its settings, for people
	Ceiling bool   `json:"ceiling"`           // plain TCP: runs only scenarios with Raw, with wsload -raw
	Version string `json:"version"`           // filled in by the runner
	Skipped string `json:"skipped,omitempty"` // why it did not run, filled in by the runner

	goPkg  string   // Go package to build: "./peers/x" (bench module) or "." (the parent module)
	parent bool     // goPkg is in the parent module (wsreactor itself)
	script []string // interpreter and script, relative to the bench directory
	args   []string // flags after -addr and -loops
	// clientArgs are wsload flags this server's runs add (the deflate
	// scenarios: -json-payload -deflate).
	clientArgs []string
}

// AllServers lists the servers in the order of the tables: ours first, then
// the Go peers, Node, the Twisted original, and the ceiling.
func AllServers() []Server {
	return []Server{
		{
			Name: Wsreactor, Label: "wsreactor", parent: true, goPkg: ".",
			args:   []string{"-ping-interval", "0", "-shutdown-timeout", "1s", "-admin-addr", ""},
			Config: "this project; -loops 1 -ping-interval 0 (no pings, as no peer sends any); defaults otherwise: -max-message 64 MiB, -write-buffer-limit 1 MiB, handshake timeout 10 s",
		},
		{
			Name: Nbio, Label: "nbio", goPkg: "./peers/nbio",
			args:   []string{"-executor", "sync"},
			Config: "lesismal/nbio nbhttp + websocket.Upgrader; NPoller 1, GOMAXPROCS 1, IOModNonBlocking, MaxLoad 1e6, ReleaseWebsocketPayload, OnMessage on the poller goroutine (cheaper per message on one core than nbio's default goroutine pool), no compression, MessageLengthLimit 64 MiB, KeepaliveTime off",
		},
		{
			Name: GobwasGnet, Label: "gobwas/ws+gnet", goPkg: "./peers/gobwasgnet",
			Config: "gobwas/ws on gnet v2 (the way of gnet's WebSocket example): 1 event loop, ws.Upgrade over the buffered head, whole frames parsed per OnTraffic, one Write per read, UTF-8 checked, 64 MiB limit",
		},
		{
			Name: Gorilla, Label: "gorilla", goPkg: "./peers/gorilla",
			args:   []string{"-mode", "message"},
			Config: "gorilla/websocket, goroutine per connection, GOMAXPROCS 1, 4 KiB read/write buffers, ReadMessage/WriteMessage (cheaper than NextReader/NextWriter + io.Copy overall, see bench/README.md), no compression, read limit 64 MiB (no UTF-8 check: gorilla leaves it to the application)",
		},
		{
			Name: NodeWS, Label: "node ws", script: []string{"node", "peers/nodews/echo.js"},
			Config: "Node.js ws, one thread, perMessageDeflate false, maxPayload 64 MiB, UTF-8 checked (ws default), backlog somaxconn",
		},
		{
			Name: UWS, Label: "uWebSockets", script: []string{"node", "peers/uws/echo.js"},
			Config: "uWebSockets (uWebSockets.js binding, C++ uSockets loop) under Node, one thread, compression DISABLED, maxPayloadLength 64 MiB, idleTimeout 0, no automatic pings, maxBackpressure 128 MiB (uWS drops a send beyond it), UTF-8 checked (uWS default), listen backlog uSockets' fixed 512",
		},
		{
			Name: Twisted, Label: "Twisted+Autobahn", script: []string{"/usr/bin/python3", "peers/twisted/echo.py"},
			Config: "Twisted epoll reactor + Autobahn WebSocketServerProtocol, onMessage → sendMessage; compression declined, 64 MiB frame/message limits, UTF-8 validation on (default), auto-ping off, backlog somaxconn",
		},
		{
			Name: GnetTCP, Label: "gnet TCP (ceiling)", goPkg: "./peers/gnettcp", Ceiling: true,
			Config: "plain TCP echo on gnet v2, 1 event loop, OnTraffic writes back c.Next(-1) with one Write; no WebSocket work (wsload -raw)",
		},
	}
}

// QuickServers are the servers of -quick: ours and the ceiling.
var QuickServers = []string{Wsreactor, GnetTCP}

// SelectServers picks the servers named in spec (comma-separated, or "all"),
// in the order of all.
func SelectServers(all []Server, spec string) ([]Server, error) {
	return pick(all, spec, "server", func(s Server) (string, string) { return s.Name, "" })
}

// InSpecOrder returns srvs in the order spec names them (the servers of
// "all" keep theirs): the scale scenarios run one server after the other
// on a machine the previous run has just loaded, so the order is part of
// the experiment and "-servers b,a" must run b first.
func InSpecOrder(srvs []Server, spec string) []Server {
	rank := make(map[string]int)
	for i, name := range splitList(spec) {
		if _, ok := rank[name]; !ok {
			rank[name] = i
		}
	}
	at := func(s Server) int { // unnamed (spec "all"): after the named, in the order of all
		if r, ok := rank[s.Name]; ok {
			return r
		}
		return len(rank)
	}
	out := slices.Clone(srvs)
	slices.SortStableFunc(out, func(a, b Server) int { return at(a) - at(b) })
	return out
}

// Runs reports whether the server takes part in scenario sc: the ceiling
// only echoes raw bytes, so it runs the echo-mode scenarios only.
func (s Server) Runs(sc Scenario) bool {
	return !s.Ceiling || (sc.Raw && sc.Mode == "echo")
}

// prepare makes the server ready to start: it builds a Go server into bin,
// or checks that the interpreter and its modules are there (installing the
// Node modules when missing). It returns the command line without -addr, or
// why the server cannot run.
func (s Server) prepare(benchDir, bin string, logf func(string, ...any)) ([]string, error) {
	if s.goPkg != "" {
		dir := benchDir
		if s.parent {
			dir = filepath.Dir(benchDir)
		}
		exe := filepath.Join(bin, s.Name)
		if err := goBuild(dir, exe, s.goPkg); err != nil {
			return nil, err
		}
		return append([]string{exe}, s.args...), nil
	}
	switch s.Name {
	case Twisted:
		out, err := exec.Command(s.script[0], "-c", "import twisted, autobahn").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s cannot import twisted and autobahn (apt-get install python3-twisted python3-autobahn): %v %s",
				s.script[0], err, strings.TrimSpace(string(out)))
		}
	case NodeWS, UWS:
		if _, err := exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("node is not installed (apt-get install nodejs npm)")
		}
		dir := filepath.Join(benchDir, "peers", s.Name)
		if _, err := os.Stat(filepath.Join(dir, "node_modules", npmModule[s.Name])); err != nil {
			logf("installing %s: npm install in %s", npmModule[s.Name], dir)
			cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("npm install in %s: %v %s", dir, err, strings.TrimSpace(string(out)))
			}
		}
	}
	cmd := []string{s.script[0], filepath.Join(benchDir, s.script[1])}
	return append(cmd, s.args...), nil
}

// npmModule is the npm package each Node peer runs, installed in
// peers/<name>/node_modules by test.sh or, when missing, by the runner.
var npmModule = map[string]string{
	NodeWS: "ws",
	UWS:    "@trufflesuite/uws-js-unofficial",
}

// goBuild builds pkg, relative to dir, into exe.
func goBuild(dir, exe, pkg string) error {
	cmd := exec.Command("go", "build", "-o", exe, pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}
