#!/usr/bin/env bash
# Compares the functions' cold start with a functions-framework hello world.
#
#   bash scripts/coldstart.sh            # RUNS=30 starts of each binary
#   RUNS=50 LDFLAGS='' bash scripts/coldstart.sh
#
# Builds, with the same flags (-trimpath -ldflags="$LDFLAGS", default "-s -w"):
#   hello   internal/coldstart/hello: one trivial function, started the way the
#           Cloud Functions Go buildpack's generated main starts a function;
#   hellogmail  the same with -tags withgmail, which only adds a blank import
#           of google.golang.org/api/gmail/v1: the floor for any function
#           built on the Gmail client, since package initialisation and
#           binary size come with the import;
#   runner  ./cmd, the local runner;
#   app     internal/coldstart/app: this module's functions started exactly
#           like hello, which is what a deployed function runs.
# Each is started as a deployed instance would be: K_SERVICE set, one
# FUNCTION_TARGET served at /. The app serves oauth2init, the first request
# of every sign-in, configured from a client secret file and COOKIE_SECRET
# (not -demo: the demo also starts a Google emulator, which no deployed
# function does). Its answer is a 302 to Google, and nothing leaves the
# machine: the poller only requests 127.0.0.1 and does not follow redirects.
#
# For each binary, starts alternate between binaries so that a change in the
# machine's load affects all of them alike. Printed: binary size; median,
# p10 and p90 of the time from fork to the first answered request (polled
# every 100 µs by internal/coldstart/measure); median VmRSS 100 ms after that
# answer; the ratios app/hellogmail and runner/hellogmail against the
# targets (start <= 1.2, RSS <= 1.25: what this module may add to the floor
# any function linking the Gmail client has); and, for scale, hellogmail,
# app and runner against hello.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-30}
LDFLAGS=${LDFLAGS:--s -w}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building (go build -trimpath -ldflags=\"$LDFLAGS\")" >&2
go build -trimpath -ldflags="$LDFLAGS" -o "$work/hello" ./internal/coldstart/hello
go build -trimpath -ldflags="$LDFLAGS" -tags withgmail -o "$work/hellogmail" ./internal/coldstart/hello
go build -trimpath -ldflags="$LDFLAGS" -o "$work/runner" ./cmd
go build -trimpath -ldflags="$LDFLAGS" -o "$work/app" ./internal/coldstart/app
go build -o "$work/measure" ./internal/coldstart/measure

cp client_secret.json.example "$work/client_secret.json"
cookie_secret=$(head -c 32 /dev/urandom | base64)

# start NAME: one start of binary NAME; appends "ms kib" to $work/NAME.runs.
start() {
	local name=$1 result
	local -a env=(K_SERVICE=coldstart LOCAL_ONLY=true)
	local expect=200
	case $name in
	hello | hellogmail) env+=(FUNCTION_TARGET=hello) ;;
	runner | app)
		env+=(FUNCTION_TARGET=oauth2init
			CLIENT_SECRET_FILE="$work/client_secret.json"
			COOKIE_SECRET="$cookie_secret"
			REDIRECT_URL=https://coldstart.example/oauth2callback)
		expect=302
		;;
	esac
	result=$(env "${env[@]}" "$work/measure" -runs 1 -expect "$expect" -- "$work/$name")
	# runs=1 median_ms=X ... rss_kib=Y
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["median_ms"], v["rss_kib"] }' \
		<<<"$result" >>"$work/$name.runs"
}

binaries=(hello hellogmail runner app)
echo "starting each binary $RUNS times, interleaved" >&2
for _ in $(seq "$RUNS"); do
	for name in "${binaries[@]}"; do
		start "$name"
	done
done

# median FILE COLUMN
median() {
	sort -n -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
# percentile FILE COLUMN P (nearest rank)
percentile() {
	sort -n -k"$2,$2" "$1" | awk -v c="$2" -v p="$3" '{ v[NR] = $c } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

printf '\n%-11s %10s %10s %8s %8s %10s\n' binary size_KiB start_ms p10_ms p90_ms rss_KiB
declare -A size start_ms rss
for name in "${binaries[@]}"; do
	size[$name]=$(($(stat -c %s "$work/$name") / 1024))
	start_ms[$name]=$(median "$work/$name.runs" 1)
	rss[$name]=$(median "$work/$name.runs" 2)
	printf '%-11s %10d %10s %8s %8s %10d\n' "$name" "${size[$name]}" "${start_ms[$name]}" \
		"$(percentile "$work/$name.runs" 1 10)" "$(percentile "$work/$name.runs" 1 90)" "${rss[$name]}"
done

echo
# What this module adds on top of the Gmail client it must link: the targets.
for name in app runner; do
	awk -v n="$name" -v s="${start_ms[$name]}" -v s0="${start_ms[hellogmail]}" \
		-v r="${rss[$name]}" -v r0="${rss[hellogmail]}" -v z="${size[$name]}" -v z0="${size[hellogmail]}" 'BEGIN {
		start = s / s0; mem = r / r0
		printf "%s/hellogmail: start %.2f (target <= 1.2: %s)  RSS %.2f (target <= 1.25: %s)  size %.2f\n",
			n, start, (start <= 1.2 ? "met" : "MISSED"), mem, (mem <= 1.25 ? "met" : "MISSED"), z / z0
	}'
done
# For scale: each against the hello world without the Gmail client.
for name in hellogmail app runner; do
	awk -v n="$name" -v s="${start_ms[$name]}" -v s0="${start_ms[hello]}" \
		-v r="${rss[$name]}" -v r0="${rss[hello]}" -v z="${size[$name]}" -v z0="${size[hello]}" 'BEGIN {
		printf "%s/hello: start %.2f  RSS %.2f  size %.2f\n", n, s / s0, r / r0, z / z0
	}'
done
