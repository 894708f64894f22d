#!/bin/sh
# memman hook for Claude Code (PreToolUse, matcher Agent|Task): recall-before-delegation reminder as
# hookSpecificOutput.additionalContext (plain stdout never reaches Claude here).
#
# Installed by `memman install` (copied into ~/.claude/hooks/memman/), removed by
# `memman uninstall`. memman-hook.sh beside it does the work (`memman hook task-recall`).
#
# It never fails its host: without the runner it reads its input and exits 0.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
if [ ! -r "$here/memman-hook.sh" ]; then
  cat >/dev/null 2>&1
  exit 0
fi
exec sh "$here/memman-hook.sh" task-recall
