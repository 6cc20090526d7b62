#!/usr/bin/env bash
# test.sh runs every test of wsreactor on a fresh machine: it installs what the
# interoperability tests, the browser test and the benchmark peers need (Debian and npm
# packages) when missing, then runs gofmt, go vet, the race-enabled tests of
# both modules, each fuzz target for a short time, and the benchmark
# harness's quick mode.
#
#   ./test.sh            # everything
#   FUZZTIME=1m ./test.sh
set -euo pipefail
cd "$(dirname "$0")"

FUZZTIME=${FUZZTIME:-10s}
step() { printf '\n=== %s\n' "$*"; }

# --- third-party clients and peers -----------------------------------------
step "installing third-party clients when missing"
PY=/usr/bin/python3
need_apt=()
$PY -c 'import websockets' 2>/dev/null || need_apt+=(python3-websockets)
command -v haproxy >/dev/null 2>&1 || need_apt+=(haproxy)
$PY -c 'import twisted, autobahn' 2>/dev/null || need_apt+=(python3-twisted python3-autobahn)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
command -v prlimit >/dev/null 2>&1 || need_apt+=(util-linux) # the descriptor-limit tests
# What deploy/ ships, checked by test/deploy with the operators' own tools:
# systemd-analyze (the unit), strace (the unit's sandbox against the
# server's system calls), promtool and prometheus (rules, a real scrape),
# buildah (the container image, built and run without a daemon).
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v buildah >/dev/null 2>&1 || need_apt+=(buildah)
# The demo page's browser test (browser_test.go): headless Chromium, large,
# so installed only when no Chromium is there.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
	else
		echo "missing ${need_apt[*]}; install them (apt-get install ${need_apt[*]}) or their tests are skipped"
	fi
fi
for dir in test/interop/testdata/node bench/peers/nodews bench/peers/uws; do
	if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" ] && command -v npm >/dev/null 2>&1; then
		(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
	fi
done

# --- static checks -----------------------------------------------------------
step "gofmt"
unformatted=$(gofmt -l . | grep -v '/node_modules/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"
	echo "$unformatted"
	exit 1
fi
step "go vet"
go vet ./...
(cd bench && go vet ./...)
# gnet runs on macOS and the BSDs (kqueue): every package of both modules
# must build and vet there too (the test files included; Linux-only parts
# are build-tagged and say so at run time).
step "cross-builds: GOOS=darwin, GOOS=freebsd"
for goos in darwin freebsd; do
	echo "--- $goos"
	GOOS=$goos go build ./...
	GOOS=$goos go vet ./...
	(cd bench && GOOS=$goos go build ./... && GOOS=$goos go vet ./...)
	(cd third_party/gnet && GOOS=$goos go build ./... && GOOS=$goos go vet .)
done

# --- tests -------------------------------------------------------------------
# The main module's packages, then its end-to-end suites, each a package of
# its own under test/ (docs/architecture.md): selected by package, so that
# one suite's failure names it.
step "go test -race: library and command packages"
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/test/')
for suite in $(go list ./test/...); do
	step "go test -race: ${suite#github.com/wsreactor/wsreactor/}"
	go test -race -count=1 -timeout 20m "$suite"
done

# The patched gnet's own test of the patch (third_party/gnet/PATCH.md): it
# lowers its process's open-file limit, so it runs alone.
step "gnet patch: shedding at the descriptor limit"
(cd third_party/gnet && go test -race -count=1 -run 'TestAcceptShedAndPause' .)
# The raw read/write/writev of the event loop (PATCH.md, "Raw system calls
# on the loop") are what runs without the race detector (with it, gnet
# keeps the ordinary calls): their own test, then every end-to-end suite
# runs them through the command's binary, which testkit builds without it.
step "gnet patch: raw system calls on the loop (without the race detector)"
(cd third_party/gnet && go test -count=1 -run 'TestRawIO' .)
# The idle hold (PATCH.md, "The idle hold"): with the race detector too,
# since the hold is a raw epoll_wait in both builds.
step "gnet patch: the idle hold"
(cd third_party/gnet && go test -count=1 -run 'TestIdleHold' ./pkg/netpoll && go test -race -count=1 -run 'TestIdleHold' ./pkg/netpoll)

# The race detector makes sync.Pool drop items at random, so the zero-
# allocation guards of the hot paths skip under it: run them without it.
step "zero-allocation guards (without the race detector)"
go test -count=1 -run 'Alloc|DoesNotAllocate' ./frame ./protocol ./protocol/handshake ./proxyproto ./reactor ./inflate
go test -count=1 -run 'DoesNotAllocate' ./service # the server's own guards (-proxy-protocol)

# The memory budget's stream of 200 non-reading clients: under the race
# detector the test's own clients are too slow to load the server, so it
# skips there and runs here.
step "memory budget under many non-reading clients (without the race detector)"
go test -count=1 -run 'TestMemoryBudgetManyUnderLimit' ./test/process

# fuzz_one runs one fuzz target. Go 1.26's fuzz coordinator can report a
# bare "context deadline exceeded" when -fuzztime ends while a worker is
# still in a call on a loaded machine (golang/go#75804, fixed in Go 1.27): no
# input failed and none is written. Such a run is retried once; any other
# failure, and above all one that wrote a failing input, fails at once.
fuzz_one() {
	local pkg=$1 target=$2 out try
	for try in 1 2; do
		if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1s -parallel 2 "$pkg" 2>&1); then
			printf '%s\n' "$out" | tail -n 2
			return 0
		fi
		printf '%s\n' "$out"
		if [ "$try" = 1 ] && grep -q 'context deadline exceeded' <<<"$out" &&
			! grep -qiE 'failing input|panic:|_test\.go:[0-9]+:' <<<"$out"; then
			echo "(fuzz coordinator's deadline race, golang/go#75804: no failing input; running $target again)"
			continue
		fi
		return 1
	done
}

step "fuzz targets, $FUZZTIME each"
for pkg in ./frame ./protocol ./protocol/handshake ./proxyproto ./inflate ./internal/supervisor ./internal/bytesize; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "--- $pkg $target"
		fuzz_one "$pkg" "$target"
	done
done

step "go test ./... (bench module)"
(cd bench && go test -count=1 -timeout 15m ./...)

step "benchmark harness, quick mode"
(cd bench && go run ./cmd/compare -quick)

step "all tests passed"
