#!/usr/bin/env bash
# syscalls-per-msg.sh measures what one echoed message costs wsreactor,
# uWebSockets (peers/uws) and the gnet TCP echo (peers/gnettcp) in system
# calls, context switches and CPU, with perf: each server pinned to CPU 0
# with one loop, wsload on CPU 1 with 100 connections (CONNS) and one
# message in flight each (INFLIGHT); perf stat counts raw_syscalls:sys_enter, context-switches and
# cpu-clock of the server for 3 s in the middle of a 6 s run. Needs perf,
# node with peers/uws installed (npm install there, as test.sh does).
#
#   bench/scripts/syscalls-per-msg.sh            # 64 B and 4 KiB
#   SIZES=64 bench/scripts/syscalls-per-msg.sh
#   ROUNDS=3 WSREACTOR_ENV="GOMAXPROCS=1 GOMAXPROCS=2" SERVERS="wsreactor uws" bench/scripts/syscalls-per-msg.sh
#       # wsreactor once per setting (its environment), alternating with uWS, 3 rounds
#   CONNS=50 SIZES=1048576 WSREACTOR_ENV="WSREACTOR_READ_BUFFER=64KiB WSREACTOR_READ_BUFFER=512KiB" bench/scripts/syscalls-per-msg.sh
#       # the 1 MiB scenario, wsreactor with gnet's read buffer and its own
#   BASE=e3ce3bd SERVERS="wsreactor base uws" bench/scripts/syscalls-per-msg.sh
#       # this tree's wsreactor against the one built from commit e3ce3bd ("base")
#   RATE=50 SIZES=64 WSREACTOR_ENV="WSREACTOR_IDLE_HOLD=0 WSREACTOR_IDLE_HOLD=2ms" SERVERS="wsreactor uws" bench/scripts/syscalls-per-msg.sh
#       # a fixed rate (wsload -rate: messages a second per connection) instead of the closed loop
set -euo pipefail
cd "$(dirname "$0")/.." # the bench module
SIZES=${SIZES:-64 4096}
ROUNDS=${ROUNDS:-1}
WSREACTOR_ENV=${WSREACTOR_ENV:-}
SERVERS=${SERVERS:-wsreactor uws gnettcp}
CONNS=${CONNS:-100}
INFLIGHT=${INFLIGHT:-1}
RATE=${RATE:-} # empty: closed loop
# shellcheck source=lib-base.sh
. scripts/lib-base.sh
go build -o "$tmp/gnettcp" ./peers/gnettcp

port=$((20000 + RANDOM % 20000))
run() { # name size extra-wsload-flags server-command...
	local name=$1 size=$2 extra=$3
	shift 3
	port=$((port + 1))
	taskset -c 0 "$@" -addr 127.0.0.1:$port -loops 1 >"$tmp/$name.log" 2>&1 &
	server=$!
	sleep 1.5
	# shellcheck disable=SC2086 # extra is word-split on purpose
	taskset -c 1 "$tmp/wsload" -addr 127.0.0.1:$port -conns "$CONNS" -size "$size" -inflight "$INFLIGHT" ${RATE:+-rate "$RATE"} \
		-warmup 1s -duration 6s -json $extra -server-pid "$server" >"$tmp/$name.json" 2>/dev/null &
	local load=$!
	sleep 2.5
	perf stat -x, -e raw_syscalls:sys_enter,context-switches,cpu-clock -p "$server" -- sleep 3 2>"$tmp/$name.perf"
	wait "$load"
	kill "$server"
	wait "$server" 2>/dev/null || true
	server=
	/usr/bin/python3 - "$name" "$size" "$tmp/$name.json" "$tmp/$name.perf" <<'PY'
import json, sys
name, size, js, pf = sys.argv[1:]
msgs = json.load(open(js))['msgs_per_sec'] * 3
c = {}
for line in open(pf):
    f = line.strip().split(',')
    if len(f) > 2 and f[0] and f[0][0].isdigit():
        c[f[2]] = float(f[0])
sc, cs, cpu = c.get('raw_syscalls:sys_enter', 0), c.get('context-switches', 0), c.get('cpu-clock', 0)
print(f'{name:30s} {size:>7s} B: {msgs/3:9,.0f} msgs/s  {sc/msgs:5.2f} syscalls/msg  {cs/msgs:6.3f} ctxsw/msg  {cpu*1e3/msgs:6.1f} us CPU/msg')
PY
}
for _ in $(seq "$ROUNDS"); do
	for size in $SIZES; do
		for srv in $SERVERS; do
			case $srv in
			wsreactor)
				if [ -z "$WSREACTOR_ENV" ]; then
					run wsreactor "$size" "" "$tmp/wsreactor" -ping-interval 0 -admin-addr ""
				fi
				for e in $WSREACTOR_ENV; do
					run "wsr-$e" "$size" "" env "$e" "$tmp/wsreactor" -ping-interval 0 -admin-addr ""
				done
				;;
			base) run "base-$BASE" "$size" "" "$tmp/base" -ping-interval 0 -admin-addr "" ;;
			uws) run uws "$size" "" node peers/uws/echo.js ;;
			gnettcp) run gnettcp "$size" -raw "$tmp/gnettcp" ;;
			esac
		done
	done
done
