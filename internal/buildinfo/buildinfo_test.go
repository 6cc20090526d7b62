package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-07T14:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"the command, tagged", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath, Version: "v1.2.0"}, Settings: vcs},
			Info{Version: "v1.2.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-12-07T14:00:00Z", Modified: true, GoVersion: "go1.26.8"}},
		{"the command, no version stamped", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: ModulePath}},
			Info{Version: "(devel)", GoVersion: "go1.26.8"}},
		{"a library of another binary", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/app", Version: "v0.1.0"},
			Deps: []*debug.Module{{Path: "golang.org/x/sys", Version: "v0.30.0"}, {Path: ModulePath, Version: "v1.3.0"}}, Settings: vcs[:2]},
			Info{Version: "v1.3.0", Revision: "0123456789abcdef0123456789abcdef01234567", GoVersion: "go1.26.8"}},
		{"a library replaced by a local copy", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{{Path: ModulePath, Version: "v1.3.0", Replace: &debug.Module{Path: "../wsreactor"}}}},
			Info{Version: "v1.3.0", GoVersion: "go1.26.8"}},
	} {
		if got := FromBuildInfo(&tc.bi); got != tc.want {
			t.Errorf("%s: FromBuildInfo = %+v; want %+v", tc.name, got, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "v1.2.0", Revision: "abc", Time: "2026-12-07T14:00:00Z", Modified: true, GoVersion: "go1.26.8"}
	want := "wsreactor v1.2.0 (revision abc, 2026-12-07T14:00:00Z, modified) go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH
	if got := i.String(); got != want {
		t.Errorf("String = %q; want %q", got, want)
	}
	if got := (Info{Version: "(devel)", GoVersion: "go1.26.8"}).String(); !strings.HasPrefix(got, "wsreactor (devel) go1.26.8 ") {
		t.Errorf("String without VCS = %q", got)
	}
}

func TestCollector(t *testing.T) {
	i := Info{Version: "v1.2.0", Revision: "abc", Time: "2026-12-07T14:00:00Z", GoVersion: "go1.26.8"}
	reg := prometheus.NewRegistry()
	reg.MustRegister(i.Collector())
	want := `# HELP wsreactor_build_info The build of wsreactor that runs, in its labels (always 1).
# TYPE wsreactor_build_info gauge
wsreactor_build_info{goversion="go1.26.8",revision="abc",vcs_modified="false",vcs_time="2026-12-07T14:00:00Z",version="v1.2.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestRead(t *testing.T) {
	if got := Read(); got.GoVersion != runtime.Version() || got.Version == "" {
		t.Errorf("Read() = %+v; want this toolchain's version and a version", got)
	}
}
