#!/bin/sh
# Regenerate docs/graph-example.svg: a small illustrative store about a fictional
# project ("Lantern", a static-site generator), drained by the offline zero-config
# worker, exported with `memman graph export --format dot` and drawn by Graphviz.
# Needs Graphviz's `dot` on PATH. Usage: docs/make_graph_example.sh [MEMMAN]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
memman=${1:-memman}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A private data dir and no MEMMAN_* settings from the caller: the example never
# touches real memories and always runs the offline zero-config worker.
for name in $(env | sed -n 's/^\(MEMMAN_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
export MEMMAN_DATA_DIR="$work/data"

# One memory a day, so the temporal edges are a readable chain.
cat > "$work/lantern.jsonl" <<'JSONL'
{"content": "Lantern is a static-site generator written in Rust by Maya and Tomás.", "category": "context", "importance": 4, "entities": ["Lantern", "Rust", "Maya", "Tomás"], "created_at": "2025-03-01"}
{"content": "Maya prefers Markdown with TOML front matter for every page.", "category": "preference", "importance": 3, "entities": ["Maya", "Markdown"], "created_at": "2025-03-02"}
{"content": "Markdown is rendered with pulldown-cmark because it is fast and pure Rust.", "category": "decision", "importance": 4, "entities": ["Markdown", "pulldown-cmark"], "created_at": "2025-03-03"}
{"content": "Builds of large sites were slow because every page parsed the templates again.", "category": "insight", "importance": 4, "entities": ["templates"], "created_at": "2025-03-04"}
{"content": "Templates are now compiled once and cached, so builds of large sites are fast again.", "category": "decision", "importance": 5, "entities": ["templates"], "created_at": "2025-03-05"}
{"content": "Tomás owns the template cache and its invalidation rules.", "category": "fact", "importance": 3, "entities": ["Tomás", "templates"], "created_at": "2025-03-06"}
{"content": "CI runs on GitHub Actions and publishes the docs site to Netlify.", "category": "fact", "importance": 3, "entities": ["GitHub Actions", "Netlify"], "created_at": "2025-03-07"}
{"content": "Netlify deploys failed because the Rust toolchain in CI was too old.", "category": "insight", "importance": 4, "entities": ["Netlify", "Rust"], "created_at": "2025-03-08"}
{"content": "The Rust toolchain is pinned to 1.78 to avoid old toolchains in CI.", "category": "decision", "importance": 4, "entities": ["Rust"], "created_at": "2025-03-09"}
{"content": "Maya reviews every change to the Markdown pipeline.", "category": "preference", "importance": 2, "entities": ["Maya", "Markdown"], "created_at": "2025-03-10"}
{"content": "Release 0.4 ships the template cache and the pinned Rust toolchain.", "category": "general", "importance": 3, "entities": ["templates", "Rust"], "created_at": "2025-03-11"}
{"content": "Page URLs never change once published; redirects cover every rename.", "category": "decision", "importance": 5, "entities": [], "created_at": "2025-03-12"}
JSONL

"$memman" import "$work/lantern.jsonl" > /dev/null
"$memman" scheduler drain > /dev/null
"$memman" graph export --format dot --output "$work/lantern.dot" > /dev/null
dot -Tsvg "$work/lantern.dot" -o "$here/graph-example.svg"
echo "wrote $here/graph-example.svg"
