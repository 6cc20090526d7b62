#!/usr/bin/env bash
# cpucmp.sh compares this package's Inflater with compress/flate on
# BenchmarkInflate's inputs by CPU time (user+sys from /usr/bin/time) per
# operation: each sub-benchmark runs a fixed number of iterations, minus a
# one-iteration run for the setup, alternating ours and compress/flate so
# both see the same machine. On a shared machine this is steadier than
# wall-clock ns/op.
#
#   inflate/testdata/cpucmp.sh [rounds]     # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" . >/dev/null
declare -A N=([json1k]=100000 [json64k]=4000 [random64k]=300000 [zeros1m]=1500)
cpu() { { /usr/bin/time -f '%U %S' "$bin" -test.run '^$' -test.bench "Inflate/$1/$2\$" -test.benchtime "$3x" >/dev/null; } 2>&1 | awk '{print $1+$2}'; }
for _ in $(seq "${1:-3}"); do
	for name in ${NAMES:-json1k json64k random64k zeros1m}; do
		for impl in inflate stdlib; do
			base=$(cpu "$name" "$impl" 1)
			full=$(cpu "$name" "$impl" "${N[$name]}")
			echo "$name $impl $(awk -v f="$full" -v b="$base" -v n="${N[$name]}" 'BEGIN{printf "%d ns/op (CPU)", (f-b)/n*1e9}')"
		done
	done
done
