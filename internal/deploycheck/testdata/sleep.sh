#!/usr/bin/env bash
# A stand-in for sleep in the deploy.sh tests, installed as "sleep" on their PATH: it appends its
# argument to $SLEEP_STUB_LOG and returns at once, so that a test sees how long deploy.sh would have
# waited without waiting.
set -euo pipefail

printf '%s\n' "$*" >>"${SLEEP_STUB_LOG:?}"
