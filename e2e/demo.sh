#!/usr/bin/env bash
# Offline end-to-end demo: remember a few facts, drain the queue, recall them.
# Runs in a throw-away data dir with no keys and no network.
# Usage: e2e/demo.sh [path/to/memman]
set -euo pipefail
MEMMAN=${1:-memman}
export MEMMAN_DATA_DIR
MEMMAN_DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/memman-demo.XXXXXX")
trap 'rm -rf "$MEMMAN_DATA_DIR"' EXIT

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "memman $*"; "$MEMMAN" "$@"; }

run remember "The team chose PostgreSQL over MySQL because of JSONB support" --cat decision --imp 4
run remember "Alice owns the billing service and reviews its migrations" --entities "Alice,billing"
run remember "Run the test suite with make test before every push" --cat preference
run remember "The staging API token is sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123 do not share"
run remember "thanks, looks good!"   # chatter: the worker's quality gate will skip it
run scheduler drain
run recall "why did the team choose PostgreSQL" --limit 2
run recall "who owns billing" --limit 1
say "memman recall \"staging token\"   # the secret was redacted before it was queued"
"$MEMMAN" recall "staging token" --limit 1 | grep -E '"content"'
run status --text
