package command

import (
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestStrayVariableWarning: a WSREACTOR_* variable that names no flag (a
// misspelling) is warned about, with the variable it may have meant, and
// the server starts anyway; one that names a flag is not.
func TestStrayVariableWarning(t *testing.T) {
	cmd := exec.Command(testkit.Binary(t), "-addr", "127.0.0.1:0", "-admin-addr", "")
	cmd.Env = environ("WSREACTOR_MAXMESSAGE=5", "WSREACTOR_LOOPS=1", "WSREACTOR_NO_SUCH_THING=1")
	p := testkit.StartProcCmd(t, cmd)
	log := p.LogText()
	for _, want := range []string{
		`level=WARN msg="environment variable names no flag: ignored" var=WSREACTOR_MAXMESSAGE did_you_mean=WSREACTOR_MAX_MESSAGE`,
		`level=WARN msg="environment variable names no flag: ignored" var=WSREACTOR_NO_SUCH_THING` + "\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "var=WSREACTOR_LOOPS") || !strings.Contains(log, "loops=1") {
		t.Errorf("WSREACTOR_LOOPS=1 warned about or not applied:\n%s", log)
	}
	if err := p.SignalAndWait(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// TestSizesWithUnits: a size with a unit is taken, and the start line
// shows it with its unit.
func TestSizesWithUnits(t *testing.T) {
	p := testkit.StartProc(t, "-loops", "1", "-max-message", "1.5KiB", "-write-buffer-limit", "512KiB")
	if log := p.LogText(); !regexp.MustCompile(`config\.max-message=1536\b`).MatchString(log) ||
		!regexp.MustCompile(`config\.write-buffer-limit=512KiB\b`).MatchString(log) {
		t.Errorf("start line lacks max-message=1536 and write-buffer-limit=512KiB:\n%s", log)
	}
}
