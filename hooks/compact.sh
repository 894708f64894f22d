#!/bin/sh
# memman hook for Claude Code (PreCompact): records the compaction trigger for the SessionStart that
# follows; prints nothing (a block here would stop the compaction).
#
# Installed by `memman install` (copied into ~/.claude/hooks/memman/), removed by
# `memman uninstall`. memman-hook.sh beside it does the work (`memman hook compact`).
#
# It never fails its host: without the runner it reads its input and exits 0.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
if [ ! -r "$here/memman-hook.sh" ]; then
  cat >/dev/null 2>&1
  exit 0
fi
exec sh "$here/memman-hook.sh" compact
