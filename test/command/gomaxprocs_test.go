package command

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestGOMAXPROCSSparesOneP: with GOMAXPROCS unset the command runs one P
// more than its event loops, so that a loop blocked in epoll_wait keeps its
// P (the runtime retakes a P held in a system call only when no P is idle);
// it never lowers what the runtime chose; GOMAXPROCS set wins. The start
// line says which it is.
func TestGOMAXPROCSSparesOneP(t *testing.T) {
	cpus := runtime.NumCPU()
	for _, tc := range []struct {
		env   string // GOMAXPROCS, "" for unset
		loops int
		want  int
	}{
		{"", cpus, cpus + 1},     // every P hosts a loop: one more
		{"", cpus + 2, cpus + 3}, // more loops than CPUs
		{"", 1, max(cpus, 2)},    // the runtime's choice when it already spares one
		{"1", 1, 1},              // set: it wins
		{"3", 5, 3},
	} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%q,loops=%d", tc.env, tc.loops), func(t *testing.T) {
			cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "", "-loops", fmt.Sprint(tc.loops))
			cmd.Env = nil
			for _, kv := range environ() {
				if !strings.HasPrefix(kv, "GOMAXPROCS=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			if tc.env != "" {
				cmd.Env = append(cmd.Env, "GOMAXPROCS="+tc.env)
			}
			p := testkit.StartProcCmd(t, cmd)
			if want := fmt.Sprintf(" gomaxprocs=%d ", tc.want); !strings.Contains(p.LogText(), want) {
				t.Errorf("start line lacks%q:\n%s", want, p.LogText())
			}
		})
	}
}
