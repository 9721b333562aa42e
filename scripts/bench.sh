#!/usr/bin/env bash
# Runs the performance measurements and prints the ratios the targets are
# about. One command:
#
#   bash scripts/bench.sh
#
# Knobs (environment): COUNT=5 runs of every benchmark, PAIRS=10 paired runs
# of the handler benchmarks, BENCHTIME=1s per benchmark run, RUNS=30 starts
# per binary for the cold start, SKIP_COLDSTART=1 to leave it out.
#
# 1. Every benchmark of the packages that have some, COUNT times:
#      go test -run '^$' -bench . -benchmem -benchtime $BENCHTIME -count $COUNT . ./internal/seal ./internal/pages
#    and the median of each figure.
# 2. BenchmarkNullHandler, BenchmarkListLabels and BenchmarkGmailClientFloor
#    back to back, PAIRS times from one test binary (so that the three see
#    about the same load on the machine), at 32 requests in flight, on two
#    paths: "direct" (handler called in-process) and "loopback" (over HTTP,
#    as functions-framework serves it). Printed per path, as medians over
#    the runs: the throughput ratio null ns/op / listlabels ns/op (target
#    >= 0.8); the same ratio in process CPU time per request (steadier when
#    other processes share the cores); the allocations per request
#    listlabels makes beyond the null handler's; the same two ratios for
#    the Gmail client's floor, the users.labels.list call alone, which no
#    listlabels built on that client can beat; and the allocations per
#    request listlabels makes beyond that call's (the app's own).
# 3. scripts/coldstart.sh (start time, RSS and size against a
#    functions-framework hello world).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-5}
PAIRS=${PAIRS:-10}
BENCHTIME=${BENCHTIME:-1s}

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

step "benchmarks: go test -run '^\$' -bench . -benchmem -benchtime $BENCHTIME -count $COUNT . ./internal/seal ./internal/pages"
go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -count "$COUNT" . ./internal/seal ./internal/pages | tee "$work/all.txt"
echo
echo "medians over $COUNT runs:"
metrics <"$work/all.txt" | medians | awk '
	!($1 in seen) { seen[$1] = 1; names[++n] = $1 }
	{ m[$1, $2] = $3 }
	END {
		split("ns/op cpu-ns/op throughput-vs-null MB/s B/op allocs/op", units, " ")
		for (i = 1; i <= n; i++) {
			line = sprintf("  %-30s", names[i])
			for (u = 1; u <= 6; u++)
				if ((names[i], units[u]) in m) line = line sprintf("  %s %s", m[names[i], units[u]], units[u])
			print line
		}
	}'

step "ListLabels and the Gmail client's floor against the null handler, $PAIRS runs"
go test -c -o "$work/bench.test" .
for i in $(seq "$PAIRS"); do
	"$work/bench.test" -test.run '^$' -test.bench '^Benchmark(NullHandler|ListLabels|GmailClientFloor)$' \
		-test.benchmem -test.benchtime "$BENCHTIME" | tee "$work/pair$i.txt" | grep '^Benchmark'
	# Lines per path: throughput and CPU ratios of listlabels and of the
	# floor, extra allocs/op of listlabels.
	metrics <"$work/pair$i.txt" | awk '
		{ split($1, p, "/"); v[p[1], p[2], $2] = $3; paths[p[2]] = 1 }
		END {
			for (path in paths) {
				n = "BenchmarkNullHandler"; l = "BenchmarkListLabels"; f = "BenchmarkGmailClientFloor"
				print path, "throughput", v[n, path, "ns/op"] / v[l, path, "ns/op"]
				print path, "cpu", v[n, path, "cpu-ns/op"] / v[l, path, "cpu-ns/op"]
				print path, "allocs", v[l, path, "allocs/op"] - v[n, path, "allocs/op"]
				print path, "floor-throughput", v[n, path, "ns/op"] / v[f, path, "ns/op"]
				print path, "floor-cpu", v[n, path, "cpu-ns/op"] / v[f, path, "cpu-ns/op"]
				print path, "own-allocs", v[l, path, "allocs/op"] - v[f, path, "allocs/op"]
			}
		}' >>"$work/ratios.txt"
done
echo
echo "medians over $PAIRS runs (target: throughput ratio >= 0.8):"
medians <"$work/ratios.txt" | awk '
	{ v[$1, $2] = $3; paths[$1] = 1 }
	END {
		n = split("throughput cpu allocs floor-throughput floor-cpu own-allocs", keys, " ")
		label["throughput"] = "throughput null/listlabels (ns/op)     %.3f"
		label["cpu"] = "same in CPU time per request          %.3f"
		label["allocs"] = "allocs/op beyond the null handler     %d"
		label["floor-throughput"] = "Gmail client floor: throughput ratio %.3f"
		label["floor-cpu"] = "Gmail client floor: CPU ratio        %.3f"
		label["own-allocs"] = "allocs/op beyond the Gmail client     %d"
		for (path in paths)
			for (i = 1; i <= n; i++)
				printf "  %-9s " label[keys[i]] "\n", path, v[path, keys[i]]
	}'

if [ "${SKIP_COLDSTART:-}" != 1 ]; then
	step "cold start: scripts/coldstart.sh"
	bash scripts/coldstart.sh
fi
