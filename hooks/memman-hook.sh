#!/bin/sh
# The shared runner of memman's Claude Code hooks: each hook script execs
# `sh memman-hook.sh <event>`, and this does the work by running
# `memman hook <event>`, which reads the hook's JSON payload on stdin and prints
# exactly what Claude Code should read.
#
# memman.env beside this script holds MEMMAN_BIN=<absolute path of memman> and
# MEMMAN_DATA_DIR=<data dir>, written at install time because hosts may run hooks with
# a bare PATH. The file is read line by line, never sourced. A MEMMAN_DATA_DIR already
# in the environment wins. Without a usable memman the hook falls back to `memman` on
# PATH, then to doing nothing.
#
# This script never fails its host: it always exits 0, discards memman's stderr and
# prints memman's output only when memman succeeded.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
MEMMAN_BIN=
if [ -r "$here/memman.env" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      MEMMAN_BIN=*) MEMMAN_BIN=${line#MEMMAN_BIN=} ;;
      MEMMAN_DATA_DIR=*)
        if [ -z "${MEMMAN_DATA_DIR:-}" ]; then
          MEMMAN_DATA_DIR=${line#MEMMAN_DATA_DIR=}
          export MEMMAN_DATA_DIR
        fi ;;
    esac
  done < "$here/memman.env"
fi
if [ -z "$MEMMAN_BIN" ] || [ ! -x "$MEMMAN_BIN" ] || [ -d "$MEMMAN_BIN" ]; then
  MEMMAN_BIN=$(command -v memman 2>/dev/null) || MEMMAN_BIN=
fi
# Only SessionStart (prime) says that memory is off; every other event stays silent.
if [ -z "$MEMMAN_BIN" ]; then
  cat >/dev/null 2>&1
  [ "$1" = prime ] && echo "[memman] memman is not installed or not runnable, so long-term memory is off for this session (reinstall it, then run: memman install)."
  exit 0
fi
out=$("$MEMMAN_BIN" hook "$1" 2>/dev/null) || {
  [ "$1" = prime ] && echo "[memman] memman at $MEMMAN_BIN failed to start, so long-term memory is off for this session (run 'memman status' in a terminal to see why)."
  exit 0
}
[ -n "$out" ] && printf '%s\n' "$out"
exit 0
