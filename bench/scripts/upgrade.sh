#!/bin/bash
# Binary upgrade under load (docs/upgrade.md): one wsreactor process holds
# IDLE idle connections (wsload -mode idle: each echoes once before and once
# after) and ACTIVE connections sending RATE messages per second each
# (wsload -mode echo at a fixed rate: latency from the intended send time, so
# the pause of the handoff shows in max_us); SIGUSR2 in the middle. Prints
# the upgrade's log line, both wsload results, the peak RSS of the old and
# the new process together, and the loopback backlog drops.
#
#   bench/scripts/upgrade.sh [IDLE [ACTIVE [RATE]]]     # default 15000 500 20
#   NOUPGRADE=1 bench/scripts/upgrade.sh ...            # the same run without SIGUSR2
#
# One process may hold 20,000 open files here: IDLE + ACTIVE stays below
# about 19,000 (the old and the new process each hold them all for a moment).
set -euo pipefail
IDLE=${1:-15000}
ACTIVE=${2:-500}
RATE=${3:-20}
PORT=${PORT:-9311}
root=$(cd "$(dirname "$0")/../.." && pwd)
D=$(mktemp -d)
trap 'pkill -KILL -P $$ 2>/dev/null || true; for p in $(pgrep -f "$D/wsreactor" || true); do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$D"' EXIT
(cd "$root" && go build -o "$D/wsreactor" .)
(cd "$root/bench" && go build -o "$D/wsload" ./cmd/wsload)

drops() { s=0; while read -r _ d _; do s=$((s + 16#$d)); done </proc/net/softnet_stat; echo $s; }
drops0=$(drops)

"$D/wsreactor" -addr 127.0.0.1:$PORT -admin-addr "" -loops 2 -max-conns -1 -upgrade-timeout 60s 2>"$D/server.log" &
server=$!
for _ in $(seq 100); do grep -q 'msg=listening' "$D/server.log" && break; sleep 0.1; done

"$D/wsload" -addr 127.0.0.1:$PORT -mode idle -conns "$IDLE" -duration 30s -settle 1s -json >"$D/idle.json" 2>"$D/idle.err" &
idle=$!
for _ in $(seq 600); do
	n=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
	[ "$n" -ge "$IDLE" ] && break
	sleep 0.2
done
"$D/wsload" -addr 127.0.0.1:$PORT -mode echo -conns "$ACTIVE" -rate "$RATE" -size 256 -warmup 2s -duration 20s -json >"$D/active.json" 2>"$D/active.err" &
active=$!
sleep 8

# Peak RSS of every wsreactor process of this run, summed, sampled every 50 ms.
(
	peak=0
	while :; do
		sum=0
		for p in $(pgrep -f "$D/wsreactor" || true); do
			r=$(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)
			sum=$((sum + ${r:-0}))
		done
		[ "$sum" -gt "$peak" ] && peak=$sum && echo "$peak" >"$D/peak"
		sleep 0.05
	done
) &
sampler=$!
echo "connections before: $(ss -Htn state established "( sport = :$PORT )" | wc -l)"
if [ -n "${NOUPGRADE:-}" ]; then
	echo "NOUPGRADE set: no SIGUSR2 (the baseline)"
else
	kill -USR2 $server
fi
for _ in $(seq 200); do grep -q 'msg="upgrade \(completed\|failed\)' "$D/server.log" && break; sleep 0.05; done
sleep 1
kill $sampler
wait $active || true
wait $idle || true
echo "--- upgrade"
grep -o 'msg="upgrade [a-z]*.*' "$D/server.log" | grep -v '"upgrade started"' || true
grep -o 'msg="upgrade: took over".*' "$D/server.log" || true
echo "--- idle ($IDLE)";   cat "$D/idle.json"
echo "--- active ($ACTIVE at $RATE/s)"; cat "$D/active.json"
echo "--- peak RSS of old + new process: $(cat "$D/peak") KiB"
echo "--- loopback backlog drops during the run: $(($(drops) - drops0))"
