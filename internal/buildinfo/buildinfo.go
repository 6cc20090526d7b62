// Package buildinfo says which build of wsreactor is running: the module
// version, the VCS revision and commit time the Go toolchain stamped into
// the binary (runtime/debug.ReadBuildInfo), and the Go version. The command
// prints it for -version and on its start line; /metrics exposes it as the
// gauge wsreactor_build_info, 1, with those labels (the convention of
// prometheus_build_info), so a dashboard can tell which build each
// process runs.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// ModulePath is wsreactor's module.
const ModulePath = "github.com/wsreactor/wsreactor"

// Info describes a build.
type Info struct {
	// Version is the wsreactor module's version: the main module's when
	// the binary is wsreactor's own (a tag such as "v1.2.0", or Go's
	// pseudo-version of an untagged commit, "+dirty" when modified), the
	// dependency's when wsreactor is a library of the binary; "(devel)"
	// when Go did not stamp one, "unknown" without build information.
	Version string
	// Revision and Time are the VCS revision and commit time (RFC 3339)
	// of the binary's main module; "" when it was not built from a
	// checkout (go run of a file, -buildvcs=false, go test).
	Revision, Time string
	// Modified reports uncommitted changes in the checkout it was built
	// from.
	Modified bool
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown", GoVersion: runtime.Version()}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts an Info from a binary's build information.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: "(devel)", GoVersion: bi.GoVersion}
	if bi.Main.Path == ModulePath {
		info.Version = bi.Main.Version
	} else {
		for _, d := range bi.Deps {
			if d.Path == ModulePath {
				info.Version = d.Version
				if d.Replace != nil && d.Replace.Version != "" {
					info.Version = d.Replace.Version
				}
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	return info
}

// String is the -version text: "wsreactor VERSION (revision REV, TIME,
// modified) GOVERSION OS/ARCH", the parts that are unknown left out.
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("wsreactor " + i.Version)
	if i.Revision != "" {
		b.WriteString(" (revision " + i.Revision)
		if i.Time != "" {
			b.WriteString(", " + i.Time)
		}
		if i.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	b.WriteString(" " + i.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH)
	return b.String()
}

// Collector is the gauge wsreactor_build_info, always 1, labelled with the
// build: version, revision, vcs_time, vcs_modified ("true" or "false") and
// goversion.
func (i Info) Collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wsreactor_build_info",
		Help: "The build of wsreactor that runs, in its labels (always 1).",
		ConstLabels: prometheus.Labels{
			"version":      i.Version,
			"revision":     i.Revision,
			"vcs_time":     i.Time,
			"vcs_modified": boolString(i.Modified),
			"goversion":    i.GoVersion,
		},
	})
	g.Set(1)
	return g
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
