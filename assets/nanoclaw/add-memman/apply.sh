#!/bin/sh
# Applies memman to a NanoClaw v2 checkout, or with --remove takes it out again.
# Part of the /add-memman skill that `memman install --target nanoclaw` copies to
# ~/.claude/skills/add-memman/. Runs anywhere NanoClaw runs (POSIX sh, awk, grep, sed).
#
#   sh apply.sh [--root DIR] [--wheel FILE.whl] [--remove]
#
# It changes, in DIR (default: the current directory):
#   container/Dockerfile        the block between "# ---- memman:" and "# ---- end memman"
#                               (python3 + a venv with memman), before the final USER node
#   container/memman/           memman-start.sh (the container's start wrapper) and the
#                               wheel given with --wheel
#   container/skills/memman/    SKILL.md, the skill agents in the container read
#   src/**/*.ts                 the container command 'exec bun run /app/src/index.ts'
#                               becomes 'exec memman-nanoclaw-start bun run /app/src/index.ts'
#                               (tests that assert the command are updated alike)
# Every step is idempotent; a second run prints "nothing to change". Nothing outside
# those places is touched. Exit status 1 with one "apply.sh: ..." line on error.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=.
wheel=
remove=0
OLD_COMMAND="exec bun run /app/src/index.ts"
NEW_COMMAND="exec memman-nanoclaw-start bun run /app/src/index.ts"
BEGIN_MARK="# ---- memman:"
END_MARK="# ---- end memman"
changed=0

die() { echo "apply.sh: $*" >&2; exit 1; }
did() { echo "$*"; changed=1; }

while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
    --wheel) [ $# -ge 2 ] || die "--wheel needs a file"; wheel=$2; shift 2 ;;
    --remove) remove=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[ -d "$root" ] || die "no such directory: $root"
root=$(cd "$root" && pwd)
dockerfile=$root/container/Dockerfile
[ -f "$dockerfile" ] && [ -d "$root/src" ] \
  || die "$root does not look like a NanoClaw checkout (container/Dockerfile and src/ expected)"
if [ -n "$wheel" ]; then
  [ "$remove" -eq 0 ] || die "--wheel and --remove do not go together"
  case $wheel in *.whl) ;; *) die "--wheel wants a .whl file, got $wheel" ;; esac
  [ -f "$wheel" ] || die "no such wheel: $wheel"
fi

tmp=$(mktemp "${TMPDIR:-/tmp}/memman-apply.XXXXXX")
list=$(mktemp "${TMPDIR:-/tmp}/memman-apply.XXXXXX")
trap 'rm -f "$tmp" "$list"' EXIT

# Write $tmp over $1 when they differ; keeps the file's mode and owner.
replace_with_tmp() {
  if ! cmp -s "$tmp" "$1"; then
    cat "$tmp" > "$1"
    return 0
  fi
  return 1
}

copy_file() {  # copy_file SRC DEST MODE
  if [ ! -f "$2" ] || ! cmp -s "$1" "$2"; then
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    chmod "$3" "$2"
    did "wrote ${2#"$root"/}"
  fi
}

command_files() {  # the .ts files under src/ that contain $1
  grep -rlF --include='*.ts' --exclude-dir=node_modules -e "$1" "$root/src" 2>/dev/null || true
}

swap_command() {  # swap_command FROM TO
  command_files "$1" > "$list"
  while IFS= read -r f; do
    awk -v from="$1" -v to="$2" '{
      out = ""; line = $0
      while ((i = index(line, from)) > 0) {
        out = out substr(line, 1, i - 1) to
        line = substr(line, i + length(from))
      }
      print out line
    }' "$f" > "$tmp"
    replace_with_tmp "$f" && did "changed the container command in ${f#"$root"/}"
  done < "$list"
}

if [ "$remove" -eq 1 ]; then
  if grep -qF "$BEGIN_MARK" "$dockerfile"; then
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
      index($0, b) == 1 { skip = 1; next }
      skip && index($0, e) == 1 { skip = 0; drop_blank = 1; next }
      skip { next }
      drop_blank && $0 == "" { drop_blank = 0; next }
      { drop_blank = 0; print }' "$dockerfile" > "$tmp"
    replace_with_tmp "$dockerfile" && did "removed the memman block from container/Dockerfile"
  fi
  for path in container/memman container/skills/memman; do
    if [ -e "$root/$path" ]; then
      rm -rf "${root:?}/$path"
      did "removed $path"
    fi
  done
  swap_command "$NEW_COMMAND" "$OLD_COMMAND"
  [ "$changed" -eq 1 ] || echo "nothing to change"
  exit 0
fi

if [ -z "$(command_files "$OLD_COMMAND")" ] && [ -z "$(command_files "$NEW_COMMAND")" ]; then
  die "found no '$OLD_COMMAND' under src/; this NanoClaw starts its containers in a way /add-memman does not know (see the skill's 'Other NanoClaw versions')"
fi

copy_file "$here/container/memman-start.sh" "$root/container/memman/memman-start.sh" 755
copy_file "$here/container/skills/memman/SKILL.md" "$root/container/skills/memman/SKILL.md" 644
if [ -n "$wheel" ]; then
  for old in "$root"/container/memman/*.whl; do
    [ -e "$old" ] || continue
    [ "$(basename "$old")" = "$(basename "$wheel")" ] && continue
    rm -f "$old"
    did "removed container/memman/$(basename "$old")"
  done
  copy_file "$wheel" "$root/container/memman/$(basename "$wheel")" 644
fi

if ! grep -qF "$BEGIN_MARK" "$dockerfile"; then
  block=$(mktemp "${TMPDIR:-/tmp}/memman-block.XXXXXX")
  sed 's/@MEMMAN_SPEC@/memman/' "$here/container/Dockerfile.memman" > "$block"
  last_user=$(awk '/^[[:space:]]*USER[[:space:]]+node([[:space:]]|$)/ { n = NR } END { print n + 0 }' "$dockerfile")
  if [ "$last_user" -gt 0 ]; then
    awk -v n="$last_user" -v block="$block" '
      NR == n { while ((getline line < block) > 0) print line; print "" }
      { print }' "$dockerfile" > "$tmp"
  else
    { cat "$dockerfile"; [ -z "$(tail -c 1 "$dockerfile")" ] || echo; cat "$block"; } > "$tmp"
  fi
  rm -f "$block"
  replace_with_tmp "$dockerfile" && did "added the memman block to container/Dockerfile"
fi

swap_command "$OLD_COMMAND" "$NEW_COMMAND"
[ "$changed" -eq 1 ] || echo "nothing to change"
