#!/usr/bin/env bash
# metrics-overhead.sh measures what the metrics cost wsreactor at
# 100 connections × 64 B messages × 16 in flight (closed loop), side by side
# in one run, rounds interleaved:
#
#   base  the command built at BASE (default: the commit before the per-loop
#         counters, 19ee667), admin server off: no counting at all
#   off   the command built from this tree, -admin-addr '': counters only
#   on    the command built from this tree, admin server on and /metrics
#         scraped every second during the run
#
# The two builds from this tree also get NEWFLAGS (default -memory-budget 0:
# the base predates the memory budget, whose periodic check is not what is
# measured here). Server on CPU 0 with -loops 1, wsload on CPU 1 (as
# bench/cmd/compare does).
# It prints each run's msgs/s and the server's CPU time per message, and the
# medians' ratios to base. On a shared machine throughput swings with the
# neighbours; CPU per message is the steadier measure of what counting costs.
#
#   bench/scripts/metrics-overhead.sh [ROUNDS] [BASE]
#   DURATION=10s bench/scripts/metrics-overhead.sh 5
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
BASE=${2:-19ee667}
DURATION=${DURATION:-5s}
NEWFLAGS=${NEWFLAGS--memory-budget 0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git archive "$BASE" | tar -x -C "$work" --one-top-level=base
(cd "$work/base" && go build -o "$work/wsreactor-base" .)
go build -o "$work/wsreactor" .
(cd bench && go build -o "$work/wsload" ./cmd/wsload)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run NAME BIN ADMIN [FLAGS...]: one server start, one wsload run; prints
# msgs/s, server CPU µs per message and errors.
run() {
	local name=$1 bin=$2 admin=$3 port scraper=""
	shift 3
	port=$(free_port)
	taskset -c 0 "$bin" -addr "127.0.0.1:$port" -loops 1 -ping-interval 0 -admin-addr "$admin" "$@" 2>"$work/$name.log" &
	local pid=$!
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
		sleep 0.05
	done
	if [ -n "$admin" ]; then
		(while sleep 1; do curl -sf "http://$admin/metrics" >/dev/null || true; done) &
		scraper=$!
	fi
	local out
	out=$(taskset -c 1 "$work/wsload" -addr "127.0.0.1:$port" -path / -mode echo -conns 100 -size 64 \
		-inflight 16 -warmup 1s -duration "$DURATION" -server-pid "$pid" -loops 1 -json 2>/dev/null)
	[ -n "$scraper" ] && kill "$scraper" 2>/dev/null
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(int(r["msgs_per_sec"]), "%.3f" % (r["server_cpu_s"] / max(r["msgs"], 1) * 1e6), r["errors"])' "$out"
}

declare -A results cpus
for r in $(seq "$ROUNDS"); do
	for cfg in base off on; do
		case $cfg in
		base) line=$(run base "$work/wsreactor-base" "") ;;
		# shellcheck disable=SC2086
		off) line=$(run off "$work/wsreactor" "" $NEWFLAGS) ;;
		# shellcheck disable=SC2086
		on) line=$(run on "$work/wsreactor" "127.0.0.1:$(free_port)" $NEWFLAGS) ;;
		esac
		echo "round $r $cfg: msgs/s, server CPU µs/msg, errors = $line"
		read -r rate cpu _ <<<"$line"
		results[$cfg]+="$rate "
		cpus[$cfg]+="$cpu "
	done
done
python3 - "${results[base]}" "${results[off]}" "${results[on]}" "${cpus[base]}" "${cpus[off]}" "${cpus[on]}" <<'PY'
import statistics, sys
base, off, on, cb, co, cn = ([float(x) for x in a.split()] for a in sys.argv[1:7])
mb, mo, mn = statistics.median(base), statistics.median(off), statistics.median(on)
print(f"median msgs/s: base {mb:.0f}, off {mo:.0f}, on {mn:.0f}; off/base {mo/mb:.3f}, on/base {mn/mb:.3f}")
mb, mo, mn = statistics.median(cb), statistics.median(co), statistics.median(cn)
print(f"median server CPU per message: base {mb:.3f} us, off {mo:.3f} us, on {mn:.3f} us; off/base {mo/mb:.3f}, on/base {mn/mb:.3f}")
PY
