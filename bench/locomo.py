#!/usr/bin/env python3
"""Recall quality on LoCoMo conversations: does ranked recall find the evidence turns?

A retrieval benchmark, not a latency one. For each conversation of a LoCoMo data
folder (``<id>.json`` files, see the folder's README; the data is never copied into
the project):

1. every turn becomes one memory ``"Speaker: text"`` (plus ``" [image: <caption>]"``
   when the turn shared an image), stamped with its session's date
   (``session_N_date_time``, e.g. "1:56 pm on 8 May, 2023", read as UTC) plus one
   second per turn so the turns of a session keep their order;
2. the memories are written as plain JSON Lines (``content``, ``created_at``,
   ``source: "user"``) and imported with the real CLI,
   ``memman import FILE --store conv-<id>``, into a throw-away data dir; then one
   ``memman scheduler drain --limit 100000`` stores them (zero-config worker: rules,
   no LLM; vectors, keywords, entities and the edge graph). The bench checks that
   every turn was stored once and kept its ``created_at``;
3. for every QA item with evidence, the question is recalled in-process (the engine
   is called with the store's backend exactly as ``memman recall`` calls it, which
   avoids a process per question) with ``limit 10``; each result is mapped back to
   the turns with that exact content, and a result is a hit if any of them is an
   evidence turn.

Metrics: recall_any@5 and @10 (a hit among the first 5 / 10 results) and MRR@10
(1 / rank of the first hit, 0 without one), per category 1-4, overall over
categories 1-4, and category 5 (adversarial) on its own.

``--embed builtin`` (default) uses memman's builtin lexical embedder; ``--embed URL``
points the data dir at an OpenAI-compatible ``/v1/embeddings`` endpoint (such as the
loopback all-MiniLM-L6-v2 server) with ``--model``, before anything is imported, so
the stores' fingerprint is that model. ``--basic`` scores ``memman recall --basic``
(keyword matching only) instead, as a baseline.

Usage::

    python bench/locomo.py --data DIR [--embed builtin|URL] [--model all-MiniLM-L6-v2]
                           [--conversations 26,30] [--basic] [--json OUT]
                           [--workdir DIR]

Standard library + memman (numpy comes with memman).
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import memman  # noqa: F401
except ImportError:  # run from a checkout without an installed memman
    sys.path.insert(0, str(HERE.parent / "src"))

from hotpath import byte_compile, child_env, find_memman  # noqa: E402

LIMIT = 10
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop",
              5: "adversarial"}
DEFAULT_MODEL = "all-MiniLM-L6-v2"
MANIFEST = "locomo-manifest.json"
_SESSION_RE = re.compile(r"^session_(\d+)$")


# -- the data -------------------------------------------------------------------------
def session_time(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' -> 2023-05-08 13:56 UTC."""
    cleaned = " ".join(text.replace(",", ", ").split()).replace(" ,", ",")
    return datetime.strptime(cleaned, "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def turn_content(turn: dict) -> str:
    text = f"{turn['speaker']}: {turn['text'].strip()}"
    caption = (turn.get("blip_caption") or "").strip()
    return f"{text} [image: {caption}]" if caption else text


def load_conversation(path: Path) -> dict:
    """{"id", "turns": [{"dia_id", "content", "created_at"}], "qa": [...]}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    turns = []
    sessions = sorted(int(m.group(1)) for k in data if (m := _SESSION_RE.match(k)))
    for n in sessions:
        start = session_time(data[f"session_{n}_date_time"])
        for i, turn in enumerate(data[f"session_{n}"]):
            turns.append({"dia_id": turn["dia_id"], "content": turn_content(turn),
                          "created_at": rfc3339(start + timedelta(seconds=i))})
    qa = []
    for item in data.get("qa", []):
        evidence = [e for raw in item.get("evidence") or [] for e in re.split(r"[;,\s]+", raw)
                    if e]
        if evidence:
            qa.append({"question": item["question"], "category": int(item["category"]),
                       "evidence": evidence})
    return {"id": path.stem, "turns": turns, "qa": qa}


def store_name(conv_id: str) -> str:
    return f"conv-{conv_id}"


# -- building the stores through the CLI ------------------------------------------------
def cli(memman: str, env: dict, *args: str) -> str:
    proc = subprocess.run([memman, *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()[-2000:]
        sys.exit(f"bench: memman {' '.join(args)} failed with exit {proc.returncode}\n{detail}")
    return proc.stdout


def build(memman: str, root: Path, conversations: list[dict], embed: str, model: str) -> dict:
    """Import and drain every conversation into ``root``; returns timings."""
    env = child_env(root)
    if embed != "builtin":
        cli(memman, env, "config", "set", "MEMMAN_EMBED_PROVIDER", "openai")
        cli(memman, env, "config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", embed)
        cli(memman, env, "config", "set", "MEMMAN_OPENAI_EMBED_MODEL", model)
    t0 = time.perf_counter()
    for conv in conversations:
        path = root / f"import-{conv['id']}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for turn in conv["turns"]:
                fh.write(json.dumps({"content": turn["content"], "created_at": turn["created_at"],
                                     "source": "user"}, ensure_ascii=False) + "\n")
        cli(memman, env, "import", str(path), "--store", store_name(conv["id"]))
        path.unlink()
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = cli(memman, env, "scheduler", "drain", "--limit", "100000", "--timeout", "86400")
    drain_s = time.perf_counter() - t0
    try:
        report = json.loads(out)
    except ValueError:
        report = {}
    expected = sum(len(c["turns"]) for c in conversations)
    processed = report.get("processed")
    if processed is not None and processed != expected:
        sys.exit(f"bench: drain processed {processed} rows, expected {expected}: {out[-2000:]}")
    if report.get("failed"):
        sys.exit(f"bench: drain failed rows: {out[-2000:]}")
    return {"import_s": import_s, "drain_s": drain_s, "drain": report}


def content_map(backend, conv: dict) -> dict[str, list[str]]:
    """Stored content -> the dia_ids of the turns with that content.

    Checks that every turn was stored exactly once with its own ``created_at``; a
    content the intake changed (say, a redacted secret) is mapped by its timestamp."""
    by_content: dict[str, list[str]] = {}
    by_time = {}
    for turn in conv["turns"]:
        by_content.setdefault(turn["content"], []).append(turn["dia_id"])
        by_time[turn["created_at"][:19]] = turn
    stored = list(backend.iter_insights(include_deleted=False))
    if len(stored) != len(conv["turns"]):
        sys.exit(f"bench: {store_name(conv['id'])} holds {len(stored)} memories, "
                 f"expected {len(conv['turns'])}")
    seen = set()
    for insight in stored:
        turn = by_time.get((insight.created_at or "")[:19])
        if turn is None or turn["dia_id"] in seen:
            sys.exit(f"bench: created_at not kept for {insight.content[:60]!r} "
                     f"({insight.created_at})")
        seen.add(turn["dia_id"])
        if insight.content not in by_content:
            by_content[insight.content] = [turn["dia_id"]]
    return by_content


# -- recall in-process ------------------------------------------------------------------
def recall_fn(root: Path, store: str, basic: bool):
    """A function question -> list of result contents, and a close function."""
    from memman.config.datadir import DataDir
    from memman.config.settings import Settings
    from memman.store.open import open_store

    datadir = DataDir(root)
    settings = Settings(datadir.env_file)
    backend = open_store(datadir, settings, store)
    if basic:
        from memman.textutil import query_terms

        def ask(question: str) -> list[str]:
            rows = backend.search_basic(query_terms(question), category=None, source=None,
                                        limit=LIMIT)
            return [r.content for r in rows]
    else:
        from memman.recall.engine import run

        def ask(question: str) -> list[str]:
            out = run(backend, datadir.store_dir(store), settings, datadir.root / "cache",
                      question, limit=LIMIT)
            if out["meta"].get("degraded"):
                sys.exit(f"bench: recall degraded: {out['meta']['degraded']}")
            return [r["insight"]["content"] for r in out["results"]]
    return backend, ask


def first_hit(contents: list[str], mapping: dict[str, list[str]], evidence: set[str]) -> int:
    """1-based rank of the first result that is an evidence turn; 0 for none."""
    for rank, content in enumerate(contents[:LIMIT], 1):
        if evidence.intersection(mapping.get(content, ())):
            return rank
    return 0


def evaluate(root: Path, conversations: list[dict], basic: bool) -> list[dict]:
    """One row per question: conversation, category, rank of the first hit."""
    rows = []
    for conv in conversations:
        backend, ask = recall_fn(root, store_name(conv["id"]), basic)
        try:
            mapping = content_map(backend, conv)
            for item in conv["qa"]:
                contents = ask(item["question"])
                rows.append({"conversation": conv["id"], "category": item["category"],
                             "question": item["question"], "evidence": item["evidence"],
                             "rank": first_hit(contents, mapping, set(item["evidence"]))})
        finally:
            backend.close()
    return rows


def summarise(rows: list[dict]) -> dict:
    def metrics(subset):
        n = len(subset)
        if not n:
            return {"n": 0, "r5": None, "r10": None, "mrr": None}
        return {"n": n,
                "r5": 100.0 * sum(1 for r in subset if 0 < r["rank"] <= 5) / n,
                "r10": 100.0 * sum(1 for r in subset if r["rank"] > 0) / n,
                "mrr": 100.0 * sum(1.0 / r["rank"] for r in subset if r["rank"]) / n}

    out = {str(c): metrics([r for r in rows if r["category"] == c]) for c in CATEGORIES}
    out["overall"] = metrics([r for r in rows if r["category"] != 5])
    return out


def table(summary: dict) -> str:
    lines = [f"{'category':<18} {'n':>5} {'R@5':>6} {'R@10':>6} {'MRR':>6}"]

    def line(label, m):
        if not m["n"]:
            return f"{label:<18} {0:>5}      -      -      -"
        return f"{label:<18} {m['n']:>5} {m['r5']:>6.1f} {m['r10']:>6.1f} {m['mrr']:>6.1f}"

    for c in (1, 2, 3, 4):
        lines.append(line(f"{c} {CATEGORIES[c]}", summary[str(c)]))
    lines.append(line("overall (1-4)", summary["overall"]))
    lines.append(line(f"5 {CATEGORIES[5]}", summary["5"]))
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path, help="folder of LoCoMo <id>.json files")
    p.add_argument("--embed", default="builtin",
                   help="'builtin' or the base URL of an OpenAI-compatible embeddings API")
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedding model for --embed URL")
    p.add_argument("--conversations", help="comma-separated ids (default: every file)")
    p.add_argument("--basic", action="store_true", help="score keyword-only --basic recall")
    p.add_argument("--json", type=Path, help="write the summary and every question's rank")
    p.add_argument("--workdir", type=Path,
                   help="keep the data dir here and reuse it when it was built with the "
                        "same conversations and embedder (default: a temp dir, removed)")
    p.add_argument("--memman", help="memman executable for import and drain")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for key in [k for k in os.environ if k.startswith("MEMMAN_")]:
        del os.environ[key]  # the in-process recall must see only the bench's data dir
    files = sorted(args.data.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
    if args.conversations:
        wanted = [c.strip() for c in args.conversations.split(",") if c.strip()]
        missing = [c for c in wanted if not (args.data / f"{c}.json").is_file()]
        if missing:
            sys.exit(f"bench: no {', '.join(m + '.json' for m in missing)} in {args.data}")
        files = [args.data / f"{c}.json" for c in wanted]
    if not files:
        sys.exit(f"bench: no <id>.json files in {args.data}")
    conversations = [load_conversation(f) for f in files]
    memman = find_memman(args.memman)
    compiled = byte_compile()
    embed = args.embed if args.embed == "builtin" else args.embed.rstrip("/")
    recipe = {"conversations": [c["id"] for c in conversations], "embed": embed,
              "model": args.model if embed != "builtin" else None}

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memman-locomo-") as tmp:
        root = (args.workdir or Path(tmp)) / "data"
        manifest = root / MANIFEST
        reused = False
        if args.workdir and manifest.is_file():
            if json.loads(manifest.read_text()) != recipe:
                sys.exit(f"bench: {root} was built for another recipe; remove it or pick "
                         "another --workdir")
            timings, reused = {"import_s": 0.0, "drain_s": 0.0}, True
        else:
            if root.exists() and any(root.iterdir()):
                sys.exit(f"bench: {root} is not empty; remove it or pick another --workdir")
            root.mkdir(parents=True, exist_ok=True)
            timings = build(memman, root, conversations, embed, args.model)
            manifest.write_text(json.dumps(recipe))
        t0 = time.perf_counter()
        rows = evaluate(root, conversations, args.basic)
        recall_s = time.perf_counter() - t0
    total_s = time.perf_counter() - started

    summary = summarise(rows)
    mode = "basic (keyword only)" if args.basic else "ranked"
    embedder = "builtin" if embed == "builtin" else f"{args.model} via {embed}"
    print(f"memman recall on LoCoMo: {mode}, embedder {embedder}, "
          f"conversations {', '.join(recipe['conversations'])}, limit {LIMIT}")
    print(f"({compiled}; python {platform.python_version()}, {os.cpu_count()} CPUs)")
    print()
    print(table(summary))
    print()
    n_turns = sum(len(c["turns"]) for c in conversations)
    build_note = ("reused the stores in --workdir" if reused else
                  f"import {timings['import_s']:.1f} s + drain {timings['drain_s']:.1f} s "
                  f"for {n_turns} turns")
    print(f"time: {total_s:.1f} s in all; {build_note}; recall {recall_s:.1f} s for "
          f"{len(rows)} questions ({1000 * recall_s / max(len(rows), 1):.1f} ms each)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "recipe": recipe, "basic": args.basic, "limit": LIMIT, "summary": summary,
            "timings": {**{k: v for k, v in timings.items() if k != "drain"},
                        "recall_s": recall_s, "total_s": total_s},
            "questions": rows,
        }, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
