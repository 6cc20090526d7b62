package deploy_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// buildah runs buildah with the test's own storage (vfs: no overlay
// mounts needed) and returns its combined output.
type buildah struct {
	tool, root string
}

func (b buildah) args(args ...string) []string {
	return append([]string{"--root", filepath.Join(b.root, "storage"), "--runroot", filepath.Join(b.root, "run"),
		"--storage-driver", "vfs"}, args...)
}

func (b buildah) run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(b.tool, b.args(args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// goEnv is `go env name`.
func goEnv(t testing.TB, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// procsWithEnv returns the pids of the processes running /wsreactor (the
// image's entrypoint) with the variable env (NAME=value) in their
// environment.
func procsWithEnv(env string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err1 := os.ReadFile(filepath.Join(d, "cmdline"))
		environ, err2 := os.ReadFile(filepath.Join(d, "environ"))
		if err1 == nil && err2 == nil && strings.Split(string(cmd), "\x00")[0] == "/wsreactor" &&
			slices.Contains(strings.Split(string(environ), "\x00"), env) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			pids = append(pids, pid)
		}
	}
	return pids
}

// elfInterpreter returns the program interpreter (the dynamic loader) an
// ELF executable names, "" for a static one.
func elfInterpreter(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\x00"), nil
		}
	}
	return "", nil
}

// procUID is the real user id of a process.
func procUID(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	return ""
}

// TestContainerImage builds deploy/container/Dockerfile with buildah (no
// daemon), checks the image's configuration, and runs the image: its
// entrypoint with -procs 2 echoes for a WebSocket client, as the image's
// non-root user; the image's HEALTHCHECK command passes against it and
// fails once it has drained and exited on SIGTERM.
//
// What differs from a user's build: no registry is reachable from the test
// machines, so the build stage's base (GO_IMAGE, golang:1.26 by default) is
// a local image holding nothing but /tmp, CA certificates and the
// environment of the official one, with the host's own Go toolchain, module
// cache and build cache mounted into the build's RUN steps (buildah bud
// -v). Every instruction of the Dockerfile runs as written, and the final
// stage (FROM scratch) is exactly the shipped one. The image is run with
// buildah run (chroot isolation, host network) rather than podman or
// docker, which need a runtime that can set resource limits.
func TestContainerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image: not in -short")
	}
	tool := needTool(t, "buildah", "buildah")
	if os.Getuid() != 0 {
		msg := "buildah with chroot isolation and vfs storage needs root here (no user namespaces for rootless builds)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root := repoRoot(t)
	b := buildah{tool: tool, root: t.TempDir()}
	t.Cleanup(func() { exec.Command(tool, b.args("rm", "--all")...).Run() })
	// Can buildah make and mount a container on this machine at all? If
	// not, the reason is buildah's own error.
	if out, err := exec.Command(tool, b.args("from", "--name", "probe", "scratch")...).CombinedOutput(); err != nil {
		t.Skipf("buildah cannot create a container here: %v: %s", err, out)
	}
	if out, err := exec.Command(tool, b.args("mount", "probe")...).CombinedOutput(); err != nil {
		t.Skipf("buildah cannot mount a container here: %v: %s", err, out)
	}

	// The stand-in for golang:1.26: /tmp, CA certificates, the official
	// image's environment; Go itself is mounted at build time.
	ctr := b.run(t, "from", "scratch")
	empty := t.TempDir()
	b.run(t, "copy", "--chmod", "1777", ctr, empty, "/tmp")
	b.run(t, "copy", ctr, "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt")
	// buildah looks a RUN's command up in the image before mounting the
	// volumes: an empty file at the go command's path, hidden at build
	// time by the host's GOROOT mounted over /usr/local/go.
	placeholder := filepath.Join(t.TempDir(), "go")
	os.WriteFile(placeholder, nil, 0o755)
	b.run(t, "copy", "--chmod", "755", ctr, placeholder, "/usr/local/go/bin/go")
	b.run(t, "config", "--env", "PATH=/usr/local/go/bin:/go/bin:/usr/local/bin:/usr/bin:/bin", "--env", "GOPATH=/go",
		"--env", "GOTOOLCHAIN=local", "--env", "HOME=/root", "--env", "GOCACHE=/root/.cache/go-build", ctr)
	b.run(t, "commit", "--quiet", ctr, "localhost/wsreactor-test-go")

	goroot := goEnv(t, "GOROOT")
	start := time.Now()
	b.run(t, "bud", "--isolation", "chroot", "--network", "host", "--format", "docker",
		"--build-arg", "GO_IMAGE=localhost/wsreactor-test-go",
		"-v", goroot+":/usr/local/go:ro",
		"-v", goEnv(t, "GOMODCACHE")+":/go/pkg/mod",
		"-v", goEnv(t, "GOCACHE")+":/root/.cache/go-build",
		"-f", filepath.Join(root, "deploy", "container", "Dockerfile"), "-t", "localhost/wsreactor-test", root)
	t.Logf("image built in %v", time.Since(start).Round(time.Second))

	var img struct {
		Docker struct {
			Config struct {
				User         string
				ExposedPorts map[string]struct{}
				Env          []string
				Entrypoint   []string
				StopSignal   string
				Healthcheck  *struct{ Test []string }
			} `json:"config"`
		}
	}
	if err := json.Unmarshal([]byte(b.run(t, "inspect", "--type", "image", "localhost/wsreactor-test")), &img); err != nil {
		t.Fatal(err)
	}
	cfg := img.Docker.Config
	if uid, _, _ := strings.Cut(cfg.User, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("image user %q; want a non-root user", cfg.User)
	}
	for _, p := range []string{"8080/tcp", "9090/tcp"} {
		if _, ok := cfg.ExposedPorts[p]; !ok {
			t.Errorf("image exposes %v; want %s", cfg.ExposedPorts, p)
		}
	}
	if cfg.Healthcheck == nil || !slices.Equal(cfg.Healthcheck.Test, []string{"CMD", "/healthcheck"}) {
		t.Errorf("image HEALTHCHECK %+v; want CMD /healthcheck", cfg.Healthcheck)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/wsreactor"}) || cfg.StopSignal != "SIGTERM" {
		t.Errorf("entrypoint %q, stop signal %q; want /wsreactor, SIGTERM", cfg.Entrypoint, cfg.StopSignal)
	}
	if !slices.Contains(cfg.Env, "WSREACTOR_ADMIN_ADDR=127.0.0.1:9090") {
		t.Errorf("image env %q: want the admin server on loopback until asked", cfg.Env)
	}
	checkEnvNames(t, "Dockerfile ENV", func() (n []string) {
		for _, e := range cfg.Env {
			k, _, _ := strings.Cut(e, "=")
			n = append(n, k)
		}
		return n
	}(), flagEnv(t, testkit.Binary(t)))

	// Nothing in the image but the two static binaries and /tmp.
	ctr = b.run(t, "from", "localhost/wsreactor-test")
	mnt := b.run(t, "mount", ctr)
	var files []string
	filepath.Walk(mnt, func(p string, info os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(mnt, p); rel != "." && err == nil {
			files = append(files, rel)
		}
		return nil
	})
	slices.Sort(files)
	if !slices.Equal(files, []string{"healthcheck", "tmp", "wsreactor"}) {
		t.Errorf("image files %q; want healthcheck, tmp, wsreactor", files)
	}
	for _, f := range []string{"wsreactor", "healthcheck"} {
		if interp, err := elfInterpreter(filepath.Join(mnt, f)); err != nil || interp != "" {
			t.Errorf("/%s in the image: interpreter %q, %v; want a static binary (scratch has no libc)", f, interp, err)
		}
	}
	b.run(t, "umount", ctr)

	// Run the entrypoint with -procs 2 on loopback ports.
	wsAddr, admin := freeAddr(t), freeAddr(t)
	runArgs := func(cmd ...string) []string {
		return b.args(append([]string{"run", "--isolation", "chroot", "--network", "host",
			"--env", "WSREACTOR_ADDR=" + wsAddr, "--env", "WSREACTOR_ADMIN_ADDR=" + admin, ctr, "--"}, cmd...)...)
	}
	run := exec.Command(tool, runArgs(append(cfg.Entrypoint, "-procs", "2")...)...)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		run.Process.Kill()
		for _, pid := range procsWithEnv("WSREACTOR_ADDR=" + wsAddr) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	var pids []int
	eventually(t, "the image's server listens", func() error {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("buildah run exited: %v\n%s", err, out.String())
		default:
		}
		pids = procsWithEnv("WSREACTOR_ADDR=" + wsAddr)
		if len(pids) < 3 { // the parent and two workers
			return fmt.Errorf("%d processes", len(pids))
		}
		c, err := net.Dial("tcp", admin)
		if err == nil {
			c.Close()
		}
		return err
	})
	for _, pid := range pids {
		if uid := procUID(pid); uid != strings.Split(cfg.User, ":")[0] {
			t.Errorf("process %d runs as uid %q; want the image's user %s", pid, uid, cfg.User)
		}
	}
	echo(t, wsAddr, 4)

	health := func() error {
		return exec.Command(tool, runArgs(cfg.Healthcheck.Test[1:]...)...).Run()
	}
	if err := health(); err != nil {
		t.Errorf("HEALTHCHECK against the running server: %v", err)
	}

	// SIGTERM to the server (its parent: the lowest pid) drains it and it
	// exits 0; then the health check fails.
	slices.Sort(pids)
	syscall.Kill(pids[0], syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("server in the image after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("server in the image did not exit within 60 s of SIGTERM\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"msg":"drained"`) {
		t.Errorf("no drained line in the server's log:\n%s", out.String())
	}
	if err := health(); err == nil {
		t.Errorf("HEALTHCHECK passes with the server stopped")
	}
}
