package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// unitFile is a parsed systemd unit: section → key → values in order.
type unitFile map[string]map[string][]string

func parseUnit(t testing.TB, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: line %q is no key=value in a section", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// get is the last value of key in section ("" when unset).
func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseEnvFile reads NAME=value lines (comments and blank lines skipped).
func parseEnvFile(t testing.TB, path string) (map[string]string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is no NAME=value", path, line)
		}
		env[k] = v
		names = append(names, k)
	}
	return env, names
}

// testUnit writes a copy of the shipped unit whose ExecStart is bin and
// whose EnvironmentFile is the shipped one, for systemd-analyze verify.
func testUnit(t *testing.T, bin string, edit func(string) string) string {
	b, err := os.ReadFile(deployPath(t, "systemd", "wsreactor.service"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range []struct{ key, val string }{
		{"ExecStart", bin},
		{"EnvironmentFile", deployPath(t, "systemd", "wsreactor.env")},
	} {
		re := regexp.MustCompile(`(?m)^` + r.key + `=.*$`)
		if !re.MatchString(s) {
			t.Fatalf("wsreactor.service has no %s=", r.key)
		}
		s = re.ReplaceAllLiteralString(s, r.key+"="+r.val)
	}
	if edit != nil {
		s = edit(s)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "wsreactor.service")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// verifyUnit runs systemd-analyze verify; any output (unknown keys and bad
// values are only warnings there) or a failure is returned.
func verifyUnit(tool, path string) (string, error) {
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestSystemdUnitVerifies: systemd-analyze verify accepts the shipped unit
// (with ExecStart pointing at a built binary) without a word; the same
// check rejects a copy with a misspelt key and one with a bad value.
func TestSystemdUnitVerifies(t *testing.T) {
	tool := needTool(t, "systemd-analyze", "systemd")
	bin := testkit.Binary(t)
	if out, err := verifyUnit(tool, testUnit(t, bin, nil)); err != nil || out != "" {
		t.Errorf("systemd-analyze verify wsreactor.service: %v\n%s", err, out)
	}
	for _, bad := range []struct{ name, from, to string }{
		{"misspelt key", "NoNewPrivileges=yes", "NoNewPrivilege=yes"},
		{"bad value", "KillMode=mixed", "KillMode=gentle"},
	} {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(bad.from) + `$`)
		path := testUnit(t, bin, func(s string) string { return re.ReplaceAllLiteralString(s, bad.to) })
		if out, err := verifyUnit(tool, path); err == nil && out == "" {
			t.Errorf("%s (%s): systemd-analyze verify said nothing; the check cannot see such mistakes", bad.name, bad.to)
		}
	}
}

// systemdSeconds parses a systemd time span as the unit writes it: "45s",
// "2min", "1min 30s", or bare seconds.
func systemdSeconds(t testing.TB, s string) time.Duration {
	t.Helper()
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(strings.NewReplacer("min", "m", " ", "").Replace(s))
	if err != nil {
		t.Fatalf("time span %q: %v", s, err)
	}
	return d
}

// TestSystemdUnitSettings: the numbers of the unit agree with the server's
// settings in the environment file, which are all real flags.
func TestSystemdUnitSettings(t *testing.T) {
	u := parseUnit(t, deployPath(t, "systemd", "wsreactor.service"))
	env, names := parseEnvFile(t, deployPath(t, "systemd", "wsreactor.env"))
	checkEnvNames(t, "wsreactor.env", names, flagEnv(t, testkit.Binary(t)))

	dur := func(name string) time.Duration {
		if _, ok := env[name]; !ok && name == "WSREACTOR_CLOSE_SPREAD" {
			return 0 // the flag's default
		}
		d, err := time.ParseDuration(env[name])
		if err != nil {
			t.Fatalf("wsreactor.env %s=%q: %v", name, env[name], err)
		}
		return d
	}
	// SIGTERM: serve for -drain-delay, close over -close-spread, then
	// -shutdown-timeout from its end.
	drain, spread, shutdown := dur("WSREACTOR_DRAIN_DELAY"), dur("WSREACTOR_CLOSE_SPREAD"), dur("WSREACTOR_SHUTDOWN_TIMEOUT")
	if stop := systemdSeconds(t, u.get("Service", "TimeoutStopSec")); stop <= drain+spread+shutdown {
		t.Errorf("TimeoutStopSec=%v; want more than WSREACTOR_DRAIN_DELAY + WSREACTOR_CLOSE_SPREAD + WSREACTOR_SHUTDOWN_TIMEOUT = %v", stop, drain+spread+shutdown)
	}

	// LimitNOFILE: per process; each worker caps its connections at the
	// limit less a headroom (fdlimit.go: 32 + 3 per event loop + a 64th of
	// the limit, 32 to 4096; taken here for up to 64 loops). The unit's
	// comment promises a million clients over WSREACTOR_PROCS workers,
	// within the default fs.nr_open.
	limit, err := strconv.Atoi(u.get("Service", "LimitNOFILE"))
	if err != nil {
		t.Fatalf("LimitNOFILE=%q: %v", u.get("Service", "LimitNOFILE"), err)
	}
	procs, err := strconv.Atoi(env["WSREACTOR_PROCS"])
	if err != nil || procs < 1 {
		t.Fatalf("WSREACTOR_PROCS=%q: want a count", env["WSREACTOR_PROCS"])
	}
	headroom := 32 + 3*64 + min(max(limit/64, 32), 4096)
	if total := procs * (limit - headroom); total < 1_000_000 || limit > 1<<20 {
		t.Errorf("LimitNOFILE=%d with %d workers holds %d connections (limit ≤ fs.nr_open 1048576); want a million", limit, procs, total)
	}

	want := map[string]string{
		"Type": "notify", "NotifyAccess": "all", "KillSignal": "SIGTERM", "KillMode": "mixed", "Restart": "on-failure",
		"ExecReload":  "/bin/kill -USR2 $MAINPID",
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
		"SystemCallFilter": "@system-service", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	}
	for k, v := range want {
		got, ok := u["Service"][k]
		if !ok || got[len(got)-1] != v {
			t.Errorf("[Service] %s=%q; want %q", k, got, v)
		}
	}
	if u.get("Unit", "StartLimitBurst") == "" || u.get("Unit", "StartLimitIntervalSec") == "" {
		t.Errorf("[Unit] has no StartLimitBurst/StartLimitIntervalSec: Restart=on-failure would retry forever")
	}
	if u.get("Service", "EnvironmentFile") == "" {
		t.Errorf("[Service] has no EnvironmentFile")
	}
}

// expandSyscalls returns the system calls of a systemd syscall-filter
// group, nested groups expanded.
func expandSyscalls(t testing.TB, tool, group string, into map[string]bool) {
	t.Helper()
	out, err := exec.Command(tool, "syscall-filter", group).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze syscall-filter %s: %v\n%s", group, err, out)
	}
	for _, line := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if strings.HasPrefix(f[0], "@") {
			expandSyscalls(t, tool, f[0], into)
		} else {
			into[f[0]] = true
		}
	}
}

var (
	straceCall   = regexp.MustCompile(`^\d+\s+([a-z0-9_]+)\(`)
	straceFamily = regexp.MustCompile(`^\d+\s+socket(?:pair)?\((AF_[A-Z0-9]+)`)
)

// TestSystemdHardeningAllowsServer: the server under the unit's sandbox
// calls nothing the sandbox forbids. It runs with the environment file's
// settings (-procs from it: a parent re-executing itself as workers over
// unix socketpairs) under strace while clients echo and it drains; every
// system call of every process must be in SystemCallFilter=@system-service,
// every socket's family in RestrictAddressFamilies, and no mapping may be
// writable and executable or made executable (MemoryDenyWriteExecute).
func TestSystemdHardeningAllowsServer(t *testing.T) {
	if testing.Short() {
		t.Skip("strace run: not in -short")
	}
	tool := needTool(t, "systemd-analyze", "systemd")
	strace := needTool(t, "strace", "strace")
	bin := testkit.Binary(t)
	if out, err := exec.Command(strace, "-f", "-qq", "-o", "/dev/null", "true").CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here (ptrace restricted?): %v: %s", err, out)
	}
	u := parseUnit(t, deployPath(t, "systemd", "wsreactor.service"))
	allowed := map[string]bool{}
	expandSyscalls(t, tool, u.get("Service", "SystemCallFilter"), allowed)
	if len(allowed) < 100 || !allowed["execve"] {
		t.Fatalf("%s expands to %d calls; want the @system-service set", u.get("Service", "SystemCallFilter"), len(allowed))
	}
	families := map[string]bool{}
	for _, f := range strings.Fields(u.get("Service", "RestrictAddressFamilies")) {
		families[f] = true
	}

	fileEnv, _ := parseEnvFile(t, deployPath(t, "systemd", "wsreactor.env"))
	var env []string
	for k, v := range fileEnv {
		switch k {
		case "WSREACTOR_ADDR":
			v = "127.0.0.1:0"
		case "WSREACTOR_ADMIN_ADDR":
			v = "127.0.0.1:0"
		case "WSREACTOR_DRAIN_DELAY":
			v = "100ms"
		case "WSREACTOR_PROCS":
			v = "2" // the same code path as 4, on a 2-core machine
		}
		env = append(env, k+"="+v)
	}
	trace := filepath.Join(t.TempDir(), "strace.out")
	wrapper := filepath.Join(t.TempDir(), "traced")
	script := "#!/bin/sh\nexec " + strace + " -f -qq -o " + trace + " " + bin + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, wrapper, env)
	echo(t, srv.WS, 4)
	scrape(t, srv.Admin)
	// SIGTERM to the server, strace's child (strace itself would detach).
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", srv.cmd.Process.Pid, srv.cmd.Process.Pid))
	pid, perr := strconv.Atoi(strings.TrimSpace(string(kids)))
	if err != nil || perr != nil {
		t.Fatalf("strace's child: %q, %v, %v", kids, err, perr)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if err := srv.wait(t, 30*time.Second); err != nil {
		t.Fatalf("server under strace, stopped with SIGTERM: %v", err)
	}

	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	calls, execs := map[string]int{}, 0
	for _, line := range strings.Split(string(b), "\n") {
		if m := straceCall.FindStringSubmatch(line); m != nil {
			calls[m[1]]++
			if m[1] == "execve" {
				execs++
			}
			if (m[1] == "mmap" && strings.Contains(line, "PROT_WRITE") && strings.Contains(line, "PROT_EXEC")) ||
				(m[1] == "mprotect" || m[1] == "pkey_mprotect") && strings.Contains(line, "PROT_EXEC") {
				t.Errorf("MemoryDenyWriteExecute forbids: %s", line)
			}
		}
		if m := straceFamily.FindStringSubmatch(line); m != nil && !families[m[1]] {
			t.Errorf("RestrictAddressFamilies forbids %s: %s", m[1], line)
		}
	}
	if execs < 3 || calls["socketpair"] == 0 {
		t.Fatalf("trace shows %d execve and %d socketpair; want the parent and 2 workers started over socketpairs (is -procs 2 traced?)", execs, calls["socketpair"])
	}
	for c, n := range calls {
		if !allowed[c] {
			t.Errorf("system call %s (%d times) is outside SystemCallFilter=%s", c, n, u.get("Service", "SystemCallFilter"))
		}
	}
	t.Logf("%d distinct system calls over the parent and 2 workers, all in %s", len(calls), u.get("Service", "SystemCallFilter"))
}

// TestSystemdReloadKeepsServing: the unit's ExecReload, run as systemd
// runs it ($MAINPID the -procs supervisor, NOTIFY_SOCKET set as
// Type=notify sets it), upgrades the server to the binary at its path: the
// old supervisor exits 0 once its workers have handed every connection
// over, the new one tells systemd its PID (MAINPID=, which is why the unit
// is Type=notify with NotifyAccess=all), and the clients connected before
// the reload keep echoing on the same connections.
func TestSystemdReloadKeepsServing(t *testing.T) {
	u := parseUnit(t, deployPath(t, "systemd", "wsreactor.service"))
	reload := strings.Fields(u.get("Service", "ExecReload"))
	if len(reload) == 0 {
		t.Fatal("no ExecReload")
	}
	notifyPath := filepath.Join(t.TempDir(), "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msgs := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := nc.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(60 * time.Second):
			t.Fatalf("no sd_notify message %s", what)
		}
		return ""
	}

	srv := startServer(t, testkit.Binary(t), []string{"NOTIFY_SOCKET=" + notifyPath}, "-procs", "2", "-addr", "127.0.0.1:0", "-admin-addr", freeAddr(t))
	if m := next("at start"); m != "READY=1" {
		t.Fatalf("sd_notify at start: %q; want READY=1", m)
	}
	before := echo(t, srv.WS, 2)
	oldPID := srv.cmd.Process.Pid
	for i, f := range reload {
		reload[i] = strings.ReplaceAll(f, "$MAINPID", strconv.Itoa(oldPID))
	}
	if out, err := exec.Command(reload[0], reload[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %q: %v\n%s", reload, err, out)
	}
	m := next("after the reload")
	pidText, ok := strings.CutPrefix(strings.Split(m, "\n")[0], "MAINPID=")
	newPID, err := strconv.Atoi(pidText)
	if !ok || err != nil || newPID == oldPID {
		t.Fatalf("sd_notify after the reload: %q; want MAINPID=<the new supervisor>", m)
	}
	t.Cleanup(func() { stopPID(t, newPID) })
	if err := srv.wait(t, 60*time.Second); err != nil {
		t.Errorf("the old supervisor exited with %v after handing over; want 0", err)
	}
	// The connections made before the reload are served by the new
	// processes, and new clients are accepted.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, c := range before {
		msg := fmt.Sprintf("after the reload %d", i)
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("write on a connection from before the reload: %v", err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
			t.Fatalf("echo on a connection from before the reload: %q, %v", got, err)
		}
	}
	echo(t, srv.WS, 2)
}

// stopPID sends SIGTERM to pid (a process this test did not start: the
// supervisor an upgrade started) and waits for it to be gone.
func stopPID(t testing.TB, pid int) {
	if syscall.Kill(pid, syscall.SIGTERM) != nil {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d still running 30s after SIGTERM", pid)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
