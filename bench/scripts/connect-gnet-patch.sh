#!/usr/bin/env bash
# connect-gnet-patch.sh measures what the gnet patch (third_party/gnet,
# PATCH.md) costs in new connections per second: the same wsreactor built
# twice, on the patched gnet (the repository's go.mod) and on stock gnet
# v2.9.7 (the go.mod without the replace), driven alternately by wsload's
# connect mode (32 workers, each: connect, handshake, echo 16 B, close) as
# bench's connect-32 scenario does; server pinned to CPU 0, wsload to CPU 1.
# It prints each round and the medians with their ratio, of connections
# per second and of connections per second of server CPU (the server's
# utime+stime, as wsload reads it from /proc: steadier than the rate on a
# machine shared with other work).
#
#   bench/scripts/connect-gnet-patch.sh              # 5 rounds of 5 s each
#   ROUNDS=9 DURATION=10s bench/scripts/connect-gnet-patch.sh
#   SERVER_ARGS='-loops 2 -reuse-port' bench/scripts/connect-gnet-patch.sh
set -euo pipefail
cd "$(dirname "$0")/.." # the bench module
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
SERVER_ARGS=${SERVER_ARGS:--loops 1} # word-split on purpose
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

sed '/^replace github.com\/panjf2000\/gnet/d' ../go.mod >"$tmp/stock.mod"
cp ../go.sum "$tmp/stock.sum"
(cd .. && go build -o "$tmp/patched" . && go build -mod=mod -modfile="$tmp/stock.mod" -o "$tmp/stock" .)
go build -o "$tmp/wsload" ./cmd/wsload

run() { # run BINARY: one round, prints "connects/s connects/server-CPU-s"
	# shellcheck disable=SC2086
	taskset -c 0 "$tmp/$1" -addr 127.0.0.1:0 -admin-addr '' $SERVER_ARGS -ping-interval 0 -shutdown-timeout 1s \
		2>"$tmp/$1.log" &
	server=$!
	local addr=
	for _ in $(seq 400); do
		addr=$(sed -n 's/.*msg=listening addr=\([^ ]*\).*/\1/p' "$tmp/$1.log")
		[ -n "$addr" ] && break
		sleep 0.05
	done
	if [ -z "$addr" ]; then
		echo "$1 did not start:" >&2
		cat "$tmp/$1.log" >&2
		exit 1
	fi
	taskset -c 1 "$tmp/wsload" -addr "$addr" -path / -mode connect -conns 32 -size 16 \
		-inflight 1 -rate 0 -warmup 1s -duration "$DURATION" -sources 8 -server-pid "$server" \
		-loops 1 -json 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["connects_per_sec"]), round(d["connects_per_sec"]*100/max(d["server_cpu_pct"],1e-9)))'
	kill "$server"
	wait "$server" 2>/dev/null || true
	server=
}

declare -a P S PC SC
for r in $(seq "$ROUNDS"); do
	if ((r % 2)); then # which build goes first alternates, against order effects
		read -r p pc < <(run patched)
		read -r s sc < <(run stock)
	else
		read -r s sc < <(run stock)
		read -r p pc < <(run patched)
	fi
	P+=("$p")
	S+=("$s")
	PC+=("$pc")
	SC+=("$sc")
	echo "round $r: patched $p conn/s ($pc per CPU-s), stock $s conn/s ($sc per CPU-s)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v p="$1" -v s="$2" 'BEGIN {printf "%.3f", p/s}'; }
mp=$(median "${P[@]}") ms=$(median "${S[@]}") mpc=$(median "${PC[@]}") msc=$(median "${SC[@]}")
echo "median of $ROUNDS rounds: patched $mp conn/s, stock $ms conn/s, patched/stock $(ratio "$mp" "$ms")"
echo "per server CPU-second: patched $mpc, stock $msc, patched/stock $(ratio "$mpc" "$msc")"
