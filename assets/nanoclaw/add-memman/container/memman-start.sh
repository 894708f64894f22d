#!/bin/sh
# memman's start wrapper for NanoClaw v2 agent containers, installed in the image as
# /usr/local/bin/memman-nanoclaw-start by the /add-memman skill.
#
# NanoClaw starts every agent container with `bash -c 'exec bun run /app/src/index.ts'`
# (the image's ENTRYPOINT and CMD never run); /add-memman changes that command to
# `exec memman-nanoclaw-start bun run /app/src/index.ts`. Before handing over to the
# agent this script:
#   1. makes the data dir ($MEMMAN_DATA_DIR, on the per-agent-group .claude mount);
#   2. registers memman's Claude Code hooks in $HOME/.claude/settings.json (idempotent,
#      hooks only: NanoClaw manages the skills folder itself);
#   3. exposes the shared store, when it is mounted read-only at $MEMMAN_GLOBAL_MOUNT,
#      as the store `global` (recall reads it; nothing in the container writes it);
#   4. runs `memman scheduler serve` (the worker) beside the agent.
# SIGTERM/SIGINT/SIGHUP go to both; when the agent exits, the worker is asked to stop
# (it finishes or hands back the row in hand) and the agent's exit status is returned.
# A missing or broken memman is reported on stderr and never stops the agent.
set -u

if [ "$#" -eq 0 ]; then
  echo "usage: memman-nanoclaw-start COMMAND [ARG...]" >&2
  exit 2
fi

: "${MEMMAN_DATA_DIR:=/home/node/.claude/memman}"
: "${MEMMAN_GLOBAL_MOUNT:=/workspace/extra/memman-global}"
export MEMMAN_DATA_DIR
MAX_LOG_BYTES=5000000

say() { printf '[memman] %s\n' "$*" >&2; }

rotate() {  # keep one old copy of a log that grew past MAX_LOG_BYTES
  if [ -f "$1" ] && [ "$(wc -c < "$1")" -gt "$MAX_LOG_BYTES" ]; then
    mv -f "$1" "$1.1"
  fi
}

serve_pid=
if command -v memman >/dev/null 2>&1; then
  mkdir -p "$MEMMAN_DATA_DIR/logs" "$MEMMAN_DATA_DIR/data" || say "cannot create $MEMMAN_DATA_DIR"
  memman install --target claude-code --no-wizard --hooks-only --no-scheduler >/dev/null \
    || say "hook registration failed; the agent runs without memory reminders"
  link="$MEMMAN_DATA_DIR/data/global"
  if [ -d "$MEMMAN_GLOBAL_MOUNT" ] && { [ -L "$link" ] || [ ! -e "$link" ]; }; then
    ln -sfn "$MEMMAN_GLOBAL_MOUNT" "$link" || say "cannot link the global store"
  fi
  log="$MEMMAN_DATA_DIR/logs/serve.log"
  rotate "$log"
  memman scheduler serve >>"$log" 2>&1 &
  serve_pid=$!
else
  say "memman is not installed in this image; long-term memory is off"
fi

"$@" <&0 &
agent_pid=$!

signalled=0
forward() {
  signalled=1
  kill -s "$1" "$agent_pid" 2>/dev/null
  [ -n "$serve_pid" ] && kill -s TERM "$serve_pid" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP

# `wait` also returns early when a trapped signal arrives; then wait again for the
# agent's own exit status.
while :; do
  signalled=0
  wait "$agent_pid"
  status=$?
  [ "$signalled" -eq 1 ] || break
done

if [ -n "$serve_pid" ]; then
  kill -s TERM "$serve_pid" 2>/dev/null
  wait "$serve_pid" 2>/dev/null
fi
exit "$status"
