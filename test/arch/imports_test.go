// Package arch checks the package map of docs/architecture.md: which
// package of the module may import which. A rule broken here is a design
// change, to be made in the document first.
package arch

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/wsreactor/wsreactor"

// rule is what one package (or every package under a prefix ending in
// "/...") may import besides the standard library: packages of the module
// (by path relative to it) and third-party prefixes.
type rule struct {
	pkg       string
	module    []string // module packages allowed ("" is the root)
	external  []string // third-party import path prefixes allowed
	testsOnly bool     // only test files may import it
}

var rules = []rule{
	// The leaves: standard library only (STYLE.md rule 1).
	{pkg: "frame"},
	{pkg: "inflate"},
	{pkg: "proxyproto"},
	{pkg: "protocol/handshake"},
	// Moving live connections between processes: descriptors and bytes.
	{pkg: "handoff", external: []string{"golang.org/x/sys/"}},
	// The WebSocket state machine: the codecs, never the reactor.
	{pkg: "protocol", module: []string{"frame", "inflate", "protocol/handshake"}, external: []string{"github.com/klauspost/compress/"}},
	// The reactor: gnet, nothing of WebSocket.
	{pkg: "reactor", external: []string{"github.com/panjf2000/gnet/", "golang.org/x/sys/"}},
	// The importable server joins them.
	{pkg: "service", module: []string{"frame", "protocol", "protocol/handshake", "proxyproto", "reactor", "handoff", "internal/admin", "internal/buildinfo", "internal/demo", "internal/osprobe"},
		external: []string{"github.com/prometheus/", "golang.org/x/sys/"}},
	// The command: flags and process-wide settings over service.
	{pkg: "", module: []string{"service", "reactor", "handoff", "protocol/handshake", "internal/admin", "internal/buildinfo", "internal/bytesize", "internal/envflag", "internal/osprobe", "internal/supervisor"},
		external: []string{"github.com/prometheus/", "golang.org/x/sys/"}},
	// Command-only helpers know nothing of the server.
	{pkg: "internal/admin", external: []string{"github.com/prometheus/"}},
	{pkg: "internal/buildinfo", external: []string{"github.com/prometheus/"}},
	{pkg: "internal/bytesize"},
	{pkg: "internal/demo"},
	{pkg: "internal/envflag"},
	{pkg: "internal/osprobe", external: []string{"golang.org/x/sys/"}},
	// The supervisor passes handoff channels between processes (-procs upgrades).
	{pkg: "internal/supervisor", module: []string{"handoff"}, external: []string{"golang.org/x/sys/"}},
	// The test kit is for tests only.
	{pkg: "internal/testkit", module: []string{"frame", "inflate", "service", "protocol", "reactor"},
		external: []string{"github.com/klauspost/compress/", "github.com/prometheus/"}, testsOnly: true},
	// Examples use only what a library user can import.
	{pkg: "examples/...", module: []string{"frame", "protocol", "protocol/handshake", "reactor", "service"}},
	// Programs shipped with the deployment files (the image's health
	// check): standard library only.
	{pkg: "deploy/..."},
}

type pkgInfo struct {
	path                 string // relative to the module
	imports, testImports []string
	external             []string
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}|{{join .TestImports \",\"}}|{{join .XTestImports \",\"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		p := pkgInfo{path: rel(f[0])}
		p.imports = splitComma(f[1])
		p.testImports = append(splitComma(f[2]), splitComma(f[3])...)
		pkgs[p.path] = p
	}
	return pkgs
}

func splitComma(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// rel is an import path relative to the module ("" for the root); a path
// outside the module is returned as is.
func rel(path string) string {
	if path == module {
		return ""
	}
	if r, ok := strings.CutPrefix(path, module+"/"); ok {
		return r
	}
	return path
}

func inModule(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// isStd reports whether path is in the standard library: no dot in its
// first element.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func (r rule) matches(pkg string) bool {
	if p, ok := strings.CutSuffix(r.pkg, "/..."); ok {
		return strings.HasPrefix(pkg, p+"/")
	}
	return pkg == r.pkg
}

func (r rule) allows(imp string) bool {
	if isStd(imp) {
		return true
	}
	if inModule(imp) {
		for _, m := range r.module {
			if rel(imp) == m {
				return true
			}
		}
		return false
	}
	for _, e := range r.external {
		if strings.HasPrefix(imp, e) {
			return true
		}
	}
	return false
}

// TestImports: every package's non-test imports keep to its rule; the
// end-to-end suites under test/ may import anything.
func TestImports(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range pkgs {
		if strings.HasPrefix(p.path, "test/") {
			continue
		}
		var r *rule
		for i := range rules {
			if rules[i].matches(p.path) {
				r = &rules[i]
				break
			}
		}
		if r == nil {
			t.Errorf("package %q has no rule: add it to docs/architecture.md and to this test", p.path)
			continue
		}
		for _, imp := range p.imports {
			if !r.allows(imp) {
				t.Errorf("%s imports %s, which its rule does not allow", show(p.path), imp)
			}
		}
	}
	// The rules are not dead letters: each names a package that exists.
	for _, r := range rules {
		found := false
		for path := range pkgs {
			found = found || r.matches(path)
		}
		if !found {
			t.Errorf("rule for %q matches no package", r.pkg)
		}
	}
}

// TestTestKitOnlyInTests: no package's non-test code imports a tests-only
// package, and nothing imports the command.
func TestTestKitOnlyInTests(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range rules {
		if !r.testsOnly {
			continue
		}
		for _, p := range pkgs {
			for _, imp := range p.imports {
				if inModule(imp) && r.matches(rel(imp)) && !strings.HasPrefix(p.path, "test/") {
					t.Errorf("%s imports %s outside its tests", show(p.path), imp)
				}
			}
		}
	}
	for _, p := range pkgs {
		for _, imp := range append(p.imports, p.testImports...) {
			if imp == module {
				t.Errorf("%s imports the command %s", show(p.path), module)
			}
		}
	}
}

// TestRulesCatchAViolation: the checker itself fails a package that
// breaks its rule (protocol importing reactor, frame importing anything of
// the module) and passes the standard library.
func TestRulesCatchAViolation(t *testing.T) {
	find := func(pkg string) rule {
		for _, r := range rules {
			if r.matches(pkg) {
				return r
			}
		}
		t.Fatalf("no rule for %s", pkg)
		return rule{}
	}
	for _, c := range []struct {
		pkg, imp string
		ok       bool
	}{
		{"protocol", module + "/reactor", false},
		{"protocol", module + "/frame", true},
		{"frame", module + "/inflate", false},
		{"frame", "unicode/utf8", true},
		{"reactor", module + "/protocol", false},
		{"examples/wschat", module + "/internal/testkit", false},
		{"examples/wschat", module + "/service", true},
		{"protocol/handshake", "github.com/klauspost/compress/flate", false},
	} {
		if got := find(c.pkg).allows(c.imp); got != c.ok {
			t.Errorf("rule for %s allows %s = %v; want %v", c.pkg, c.imp, got, c.ok)
		}
	}
}

func show(path string) string {
	if path == "" {
		return "the command (root package)"
	}
	return path
}
