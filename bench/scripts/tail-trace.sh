#!/usr/bin/env bash
# tail-trace.sh: wsreactor -procs 12 under 96,000 connections (6 wsloads x
# 16,000, one 64 B message per connection every 10 s, all measuring the same
# 30 s with -window-at), the admin server on, GODEBUG=gctrace=1 in the
# workers. During the window it takes a 20 s runtime trace of workers 0 and
# 1 (their private admin sockets' /debug/pprof/trace), and after it the
# loop-lag histograms of every worker from the parent's /metrics. Prints each
# wsload's latency, the collections in the window and the scheduler-latency
# profile of worker 0 (go tool trace -pprof=sched). Output stays in OUT.
#
#   bench/scripts/tail-trace.sh            # OUT=/tmp/tail-trace
set -euo pipefail
cd "$(dirname "$0")/.." # the bench module
OUT=${OUT:-/tmp/tail-trace}
mkdir -p "$OUT"
(cd .. && go build -o "$OUT/wsreactor" .)
go build -o "$OUT/wsload" ./cmd/wsload
port=$((30000 + RANDOM % 10000))
aport=$((port + 1))
GODEBUG=gctrace=1 "$OUT/wsreactor" -procs 12 -loops 1 -ping-interval 0 -shutdown-timeout 1s \
	-addr 127.0.0.1:$port -admin-addr 127.0.0.1:$aport >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 3
at=$(($(date +%s%3N) + 30000))
loads=()
for i in 1 2 3 4 5 6; do
	"$OUT/wsload" -addr 127.0.0.1:$port -mode echo -conns 16000 -size 64 -inflight 1 -rate 0.1 \
		-window-at $at -duration 30s -sources 16 -loops 1 -timeout 30s -json >"$OUT/load$i.json" 2>"$OUT/load$i.err" &
	loads+=($!)
done
sleep 33
dir=$(ls -td /tmp/wsreactor-admin-* | head -1)
for w in 0 1; do
	curl -s --unix-socket "$dir/worker$w.sock" "http://w/debug/pprof/trace?seconds=20" -o "$OUT/worker$w.trace" &
done
sleep 25
curl -s http://127.0.0.1:$aport/metrics | grep -E '^wsreactor_event_loop_lag_seconds_(bucket|count|sum)' >"$OUT/lag.txt"
wait "${loads[@]}"
for i in 1 2 3 4 5 6; do
	/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('wsload %s: p50 %.2f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms' % (sys.argv[2], d['p50_us']/1e3, d['p99_us']/1e3, d['p999_us']/1e3, d['max_us']/1e3))" "$OUT/load$i.json" $i
done
scripts/gctrace-stw.py "$OUT/server.log"
go tool trace -pprof=sched "$OUT/worker0.trace" >"$OUT/sched0.pprof"
go tool pprof -top -nodecount=6 "$OUT/sched0.pprof" 2>/dev/null | sed -n '2,12p'
