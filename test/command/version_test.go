package command

import (
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestVersion: -version prints one line, the module version, the VCS
// revision when the build has one, the Go version and platform, and exits
// 0 without serving; the start line and /metrics (wsreactor_build_info)
// carry the same version.
func TestVersion(t *testing.T) {
	out, err := exec.Command(testkit.Binary(t), "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("-version: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`^wsreactor (\S+)( \(revision [0-9a-f]+(, \S+)?(, modified)?\))? ` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + "\n$")
	m := re.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("-version wrote %q; want it to match %s", out, re)
	}
	version := m[1]

	p := testkit.StartProc(t, "-loops", "1", "-admin-addr", "127.0.0.1:0")
	if log := p.LogText(); !strings.Contains(log, " version="+version+" ") && !strings.Contains(log, ` version="`+version+`" `) {
		t.Errorf("start line lacks version=%s:\n%s", version, log)
	}
	found := false
	for k, v := range testkit.Scrape(t, p.Admin) {
		if strings.HasPrefix(k, "wsreactor_build_info{") {
			found = true
			if v != 1 || !strings.Contains(k, "goversion="+runtime.Version()) || !strings.Contains(k, "version="+version) {
				t.Errorf("%s = %v; want 1 with goversion=%s and version=%s", k, v, runtime.Version(), version)
			}
		}
	}
	if !found {
		t.Errorf("/metrics lacks wsreactor_build_info")
	}
}
