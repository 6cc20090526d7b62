package command

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestGOMAXPROCSOnePPerLoop: with GOMAXPROCS unset the command runs one P
// per event loop, whatever the runtime would choose (the CPUs), so that no
// P is idle beside a loop waiting in epoll_wait (see procsForLoops in
// main.go); GOMAXPROCS set wins. The start line says which it is.
func TestGOMAXPROCSOnePPerLoop(t *testing.T) {
	cpus := runtime.NumCPU()
	for _, tc := range []struct {
		env   string // GOMAXPROCS, "" for unset
		loops int
		want  int
	}{
		{"", cpus, cpus},         // the runtime's choice too
		{"", cpus + 2, cpus + 2}, // more loops than CPUs: a P each
		{"", 1, 1},               // fewer: no idle P beside the loop
		{"1", 1, 1},              // set: it wins
		{"3", 5, 3},
		{"4", 1, 4},
	} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%q,loops=%d", tc.env, tc.loops), func(t *testing.T) {
			cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "", "-loops", fmt.Sprint(tc.loops))
			cmd.Env = gomaxprocsEnv(tc.env)
			p := testkit.StartProcCmd(t, cmd)
			if want := fmt.Sprintf(" gomaxprocs=%d ", tc.want); !strings.Contains(p.LogText(), want) {
				t.Errorf("start line lacks%q:\n%s", want, p.LogText())
			}
		})
	}
}

// TestLoopsDefaultFollowsGOMAXPROCS: left unset, -loops is the runtime's
// GOMAXPROCS at start, which since Go 1.25 counts a cgroup's CPU limit
// (a container given 1 CPU on a 64-CPU node runs 1 loop, not 64); set,
// GOMAXPROCS is what the loops follow.
func TestLoopsDefaultFollowsGOMAXPROCS(t *testing.T) {
	for _, env := range []string{"1", "3"} {
		cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "")
		cmd.Env = gomaxprocsEnv(env)
		p := testkit.StartProcCmd(t, cmd)
		if want := " loops=" + env + " "; !strings.Contains(p.LogText(), want) {
			t.Errorf("GOMAXPROCS=%s: start line lacks%q:\n%s", env, want, p.LogText())
		}
	}
}

// gomaxprocsEnv is environ() (no WSREACTOR_* variable) without GOMAXPROCS,
// plus GOMAXPROCS=v unless v is "".
func gomaxprocsEnv(v string) []string {
	var env []string
	for _, kv := range environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	if v != "" {
		env = append(env, "GOMAXPROCS="+v)
	}
	return env
}
