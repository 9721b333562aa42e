#!/usr/bin/env bash
# A stand-in for the go command in the deploy.sh tests, installed as "go" on their PATH. It answers
# `go run ./cmd -functions`, the app's list of functions, with the file $GO_STUB_FUNCTIONS (the tests
# write there what the repository's runner prints), and appends each call to $GO_STUB_LOG. Without
# that file, the run fails as a broken build would.
set -euo pipefail

printf 'go %s\n' "$*" >>"${GO_STUB_LOG:?}"
if [[ $* != "run ./cmd -functions" ]]; then
  printf 'go stub: unsupported: go %s\n' "$*" >&2
  exit 2
fi
[[ -f go.mod ]] || {
  printf 'go: go.mod file not found in current directory or any parent directory\n' >&2
  exit 1
}
if [[ ! -f ${GO_STUB_FUNCTIONS:?} ]]; then
  printf 'cmd/main.go:1:1: expected '\''package'\'', found broken\n' >&2
  exit 1
fi
cat "$GO_STUB_FUNCTIONS"
