#!/usr/bin/env bash
# sched-threads.sh shows, per thread of the server, how often it was
# scheduled in and for how long it ran (perf sched timehist -s) during 1 s
# of the closed-loop echo: server pinned to CPU 0 with one loop, wsload on
# CPU 1 with 100 connections and one 64 B message in flight each. The Go
# runtime's sysmon thread and the threads it wakes show up as threads of
# their own. Needs perf.
#
#   bench/scripts/sched-threads.sh                  # this tree's wsreactor
#   BASE=e3ce3bd bench/scripts/sched-threads.sh     # and the one built from commit e3ce3bd
set -euo pipefail
cd "$(dirname "$0")/.." # the bench module
SIZE=${SIZE:-64}
# shellcheck source=lib-base.sh
. scripts/lib-base.sh
bins="wsreactor${BASE:+ base}"
port=$((20000 + RANDOM % 20000))
for bin in $bins; do
	port=$((port + 1))
	taskset -c 0 "$tmp/$bin" -addr 127.0.0.1:$port -loops 1 -ping-interval 0 -admin-addr "" >"$tmp/$bin.log" 2>&1 &
	server=$!
	sleep 1.5
	taskset -c 1 "$tmp/wsload" -addr 127.0.0.1:$port -conns 100 -size "$SIZE" -inflight 1 \
		-warmup 1s -duration 5s -json -server-pid "$server" >"$tmp/$bin.json" 2>/dev/null &
	load=$!
	sleep 2.5
	perf sched record -o "$tmp/$bin.sched" -- sleep 1 >/dev/null 2>&1
	wait "$load"
	kill "$server"
	wait "$server" 2>/dev/null || true
	echo "== $bin${BASE:+ ($([ "$bin" = base ] && echo "$BASE" || echo this tree))}: $(/usr/bin/python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['msgs_per_sec']), 'msgs/s')" "$tmp/$bin.json")"
	echo "thread                 sched-in/s  run-time ms  (pid $server; perf sched timehist -s)"
	perf sched timehist -i "$tmp/$bin.sched" -s 2>/dev/null | awk -v pid="$server" '$1 ~ "\\[[0-9]+/"pid"\\]$" {printf "%-22s %10s %12s\n", $1, $3, $4}'
	printf 'CPU 0 idle: %s\n' "$(perf sched timehist -i "$tmp/$bin.sched" -s 2>/dev/null | awk '/CPU  0 idle for/ {print $5, $6, $8}' | tr -d ')')"
	server=
done
