#!/usr/bin/env bash
# Runs the performance measurements and prints the comparisons the targets
# are about. One command:
#
#   bash scripts/bench.sh
#
# Knobs (environment): PAIRS=10 back-to-back runs of the request benchmarks,
# BENCHTIME=3s per benchmark run, RUNS=30 starts per binary for the cold
# start, SKIP_COLDSTART=1 to leave it out.
#
# 1. BenchmarkNullHandler and BenchmarkListLabels back to back, PAIRS times
#    from one test binary, so that both see about the same load on the
#    machine. Each serves 32 requests in flight over loopback HTTP, with the
#    fake Gmail answering at once (the app's own cost, reported) and after
#    50 ms (as Google does; the targets). Printed per Gmail latency, as
#    medians over the pairs: listlabels' throughput as a share of the null
#    handler's (target at 50 ms: at least 0.97), the difference of their
#    median latencies (target at 50 ms: at most 1 ms), and the ratio of their
#    99th percentiles.
# 2. BenchmarkOpenSession and the seal benchmarks, once.
# 3. scripts/coldstart.sh: start time, idle RSS and size against a
#    functions-framework hello world, with and without the Gmail client.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-10}
BENCHTIME=${BENCHTIME:-3s}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

# metrics: reads `go test -bench` output, prints "name unit value" for each
# figure of each result line (the -GOMAXPROCS suffix dropped).
metrics() {
	awk '/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) print name, $(i + 1), $i
	}'
}

# medians: reads "key... value" lines, prints "key... median" per key (all
# fields but the last form the key).
medians() {
	awk '{ v = $NF; $NF = ""; print $0 "\t" v }' | sort -t "$(printf '\t')" -k1,1 -k2,2g |
		awk -F '\t' '
		function flush() { if (n) print key, vals[int((n + 1) / 2)] }
		$1 != key { flush(); key = $1; n = 0 }
		{ vals[++n] = $2 }
		END { flush() }'
}

step "listlabels against the null handler, $PAIRS pairs of $BENCHTIME runs"
go test -c -o "$work/bench.test" .
for i in $(seq "$PAIRS"); do
	"$work/bench.test" -test.run '^$' -test.bench '^Benchmark(NullHandler|ListLabels)$' \
		-test.benchmem -test.benchtime "$BENCHTIME" | grep '^Benchmark' | tee "$work/pair$i.txt"
	metrics <"$work/pair$i.txt" | awk '
		{ split($1, p, "/"); v[p[1], p[2], $2] = $3; latencies[p[2]] = 1 }
		END {
			n = "BenchmarkNullHandler"; l = "BenchmarkListLabels"
			for (g in latencies) {
				print g, "throughput", v[l, g, "req/s"] / v[n, g, "req/s"]
				print g, "p50-diff-ms", v[l, g, "p50-ms"] - v[n, g, "p50-ms"]
				print g, "p99-ratio", v[l, g, "p99-ms"] / v[n, g, "p99-ms"]
				print g, "null-p50-ms", v[n, g, "p50-ms"]
				print g, "listlabels-p50-ms", v[l, g, "p50-ms"]
				print g, "null-req/s", v[n, g, "req/s"]
				print g, "listlabels-req/s", v[l, g, "req/s"]
			}
		}' >>"$work/ratios.txt"
done
echo
echo "medians over $PAIRS pairs (targets at gmail=50ms: throughput >= 0.97, p50 difference <= 1 ms):"
medians <"$work/ratios.txt" | awk '
	{ v[$1, $2] = $3; latencies[$1] = 1 }
	END {
		for (g in latencies) {
			printf "  %s: listlabels %.0f req/s, null %.0f req/s: throughput %.3f", g, v[g, "listlabels-req/s"], v[g, "null-req/s"], v[g, "throughput"]
			printf "; p50 %.2f ms vs %.2f ms: difference %.2f ms; p99 ratio %.2f\n", v[g, "listlabels-p50-ms"], v[g, "null-p50-ms"], v[g, "p50-diff-ms"], v[g, "p99-ratio"]
		}
	}'

step "session and seal: go test -run '^\$' -bench 'OpenSession|Open' -benchmem . ./internal/seal"
go test -run '^$' -bench 'OpenSession|Open' -benchmem . ./internal/seal | grep '^Benchmark'

if [ "${SKIP_COLDSTART:-}" != 1 ]; then
	step "cold start: scripts/coldstart.sh"
	bash scripts/coldstart.sh
fi
