#!/usr/bin/env python3
"""Whole-process latency of ranked recall, ``memman recall "<query>"``, as the store grows.

Every sample is one complete subprocess (interpreter start-up, imports, the
recall itself, exit), timed with ``time.perf_counter`` around ``subprocess.run``:

* ``baseline``       ``python -c "import click, sqlite3"``: the floor any
                     click + sqlite3 CLI pays before doing anything
* ``recall <size>``  ``memman recall "<2-5 words>"`` (the default, ranked path:
                     anchors, graph walk, scoring; not ``--basic``) against a
                     synthetic store of ``<size>`` memories, for each ``--sizes``

Each store is built in its own throw-away data dir, straight through the SQLite
backend (no queue, no worker) so 100k memories take well under two minutes, and
looks like a drained store: builtin-embedder vectors, keywords, entities, a
temporal, entity, semantic and causal graph, ``linked_at``/``enriched_at`` set,
and the recall vector file written exactly as the worker writes it. All commands
run interleaved round-robin (3 warm-up rounds, then ``--runs`` timed rounds) so
machine noise hits them equally; each recall run asks a different query taken
from a stored memory. Results are median and p90 milliseconds and ratios, against
the goals (report only: they never change the exit status):

* the 10k median <= 3x the baseline median;
* the 100k median <= 1.5x the 10k median.

Then, per size, a phase breakdown of one recall in a fresh interpreter (median
of 5): imports, opening the store, the query vector, each anchor list, the graph
walk, loading rows, scoring, bookkeeping, output; plus ``python -X importtime``
of the whole command grouped by package.

Correctness check, at 100k (else the largest size): for 20 random stored
memories, a query of that memory's 4 rarest content words must return it in the
top 3. A failed check exits 1, as does a failing command.

Usage::

    python bench/recall_latency.py [--sizes 1000,10000,100000] [--runs 20]
                                   [--memman PATH] [--json OUT]

Standard library + numpy + memman (to build the stores).
"""
import argparse
import inspect
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import memman  # noqa: F401
except ImportError:  # run from a checkout without an installed memman
    sys.path.insert(0, str(HERE.parent / "src"))

import numpy as np  # noqa: E402
from hotpath import (  # noqa: E402
    ADJECTIVES, NOUNS, PEOPLE, SERVICES, TECH, TEMPLATES, VERBS, byte_compile, child_env,
    content_words, find_memman, p90, run, write_results,
)

from memman import clock  # noqa: E402
from memman.config.datadir import DataDir  # noqa: E402
from memman.embed.builtin import BuiltinEmbedder  # noqa: E402
from memman.embed.registry import dump_fingerprint, embed_text  # noqa: E402
from memman.embed.vectors import to_blob  # noqa: E402
from memman.graph.entity import idf_weight  # noqa: E402
from memman.graph.thresholds import resolve as semantic_threshold  # noqa: E402
from memman.recall import matrix  # noqa: E402
from memman.rules.keywords import keywords as tfidf_keywords  # noqa: E402
from memman.store.model import CATEGORIES, SOURCES, Insight  # noqa: E402
from memman.store.sqlite import SQLiteBackend  # noqa: E402

SEED = 42
STORE = "default"
WARMUP_ROUNDS = 3
DEFAULT_SIZES = "1000,10000,100000"
GOAL_VS_BASELINE = (10_000, 3.0)            # size, max ratio to the baseline median
GOAL_SCALING = (100_000, 10_000, 1.5)       # size, reference size, max ratio between them
EMBED_BATCH = 1000
SEMANTIC_WINDOW = 1000   # semantic neighbours are sought among the previous 1000 memories
SEMANTIC_LINKS = 2       # at most this many, above the builtin embedder's threshold
PHASE_RUNS = 5
CHECK_SIZE = 100_000
CHECK_QUERIES = 20
CHECK_WORDS = 4
CHECK_TOP = 3

# -- synthetic content -----------------------------------------------------------------
# hotpath's vocabulary (a few hundred project words, people, services, tech) and
# templates, plus templates carrying dates and ticket numbers.
DATED_TEMPLATES = (
    ("context", "On {date} {p} rolled back {s} after the {n} {n2} turned {a} in {t}."),
    ("fact", "Since {date} the {s} {n} runs on {t}; {p} tracks the {a} {n2} in {ticket}."),
    ("decision", "At the {date} review {p} and {p2} chose {t} over {t2} for the {s} {n}."),
    ("insight", "The {date} {n} incident in {s} happened because {t} dropped the {a} {n2}."),
    ("general", "{ticket}: {v} the {s} {n} before {date}; {p2} signs off on the {t} {n2}."),
)
ALL_TEMPLATES = TEMPLATES + DATED_TEMPLATES
TICKET_PREFIXES = ("OPS", "PLAT", "BILL", "INFRA", "SEC", "DATA")
DATE_FORMATS = ("%Y-%m-%d", "%b %d", "%d %B %Y")


def make_memory(rng: random.Random, created: float) -> dict:
    """One realistic memory written at epoch ``created``: content, category,
    entities, the service it is about and whether it states a cause."""
    category, template = rng.choice(ALL_TEMPLATES)
    p, p2 = rng.sample(PEOPLE, 2)
    s, s2 = rng.sample(SERVICES, 2)
    t, t2 = rng.sample(TECH, 2)
    n, n2 = rng.sample(NOUNS, 2)
    a, a2 = rng.sample(ADJECTIVES, 2)
    when = time.gmtime(created - rng.uniform(0, 30 * 86400))
    ticket = f"{rng.choice(TICKET_PREFIXES)}-{rng.randint(100, 9999)}"
    content = template.format(p=p.title(), p2=p2.title(), s=s, s2=s2, t=t, t2=t2, n=n,
                              n2=n2, a=a, a2=a2, v=rng.choice(VERBS), num=rng.randint(2, 90),
                              date=time.strftime(rng.choice(DATE_FORMATS), when), ticket=ticket)
    content = content[0].upper() + content[1:]
    extra = rng.random()
    if extra < 0.3:
        content += f" See the {rng.choice(NOUNS)} notes from {rng.choice(PEOPLE).title()}."
    elif extra < 0.45:
        content += (f" Follow up with {rng.choice(PEOPLE).title()} about the "
                    f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} in {rng.choice(TECH)}.")
    used = [x for x in (p.title(), p2.title(), s, s2, t, t2, ticket) if x in content]
    entities = rng.sample(used, min(len(used), rng.randint(1, 4)))
    if category != "general" and rng.random() < 0.3:
        category = rng.choice(CATEGORIES)
    return {"content": content, "category": category, "entities": entities,
            "service": s, "causal": " because " in content}


def size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


# -- building a store --------------------------------------------------------------------
def build_store(root: Path, size: int, rng: random.Random) -> tuple[list[tuple[str, str]], dict]:
    """Write ``size`` drained memories, their edges and the recall vector file into the
    default store under ``root``; returns [(id, content)] in creation order, and stats.

    Rows go in with ``executemany`` on the backend's own connection (the schema's
    triggers fill the FTS and entity indexes), in one transaction.
    Edges, per memory: a temporal backbone to the previous memory (both ways), an
    entity edge pair to the latest earlier memory sharing one of its entities
    (IDF-weighted as the worker does), a semantic edge pair to each of its
    SEMANTIC_LINKS most similar memories among the previous SEMANTIC_WINDOW that
    are above the builtin embedder's threshold,
    and, for memories stating a cause, a heuristic causal edge from the latest
    earlier memory about the same service.
    """
    datadir = DataDir(root)
    datadir.ensure_store_dir(STORE)
    from memman.config import envfile

    # A drain on this store must not auto-prune it down to the default cap of 1000.
    envfile.update(datadir.env_file, datadir.env_lock, {"MEMMAN_MAX_INSIGHTS": str(2 * size)})
    backend = SQLiteBackend(datadir.store_db(STORE))
    embedder = BuiltinEmbedder()
    fingerprint_text = dump_fingerprint(embedder.fingerprint)
    threshold, _ = semantic_threshold(embedder.provider, embedder.model)
    columns = [*Insight.COLUMNS, "embedding"]
    defaults = {"protected": 0}  # NOT NULL columns the generated rows leave out
    insert = (f"INSERT INTO insights ({', '.join(columns)}) "
              f"VALUES ({', '.join('?' * len(columns))})")
    memories: list[tuple[str, str]] = []
    edges: list[tuple] = []
    entity_pairs: list[tuple[str, str, str, str]] = []   # (src, dst, entity, created)
    entity_count: Counter = Counter()
    last_with_entity: dict[str, str] = {}
    last_about: dict[str, str] = {}
    window = np.zeros((0, embedder.dim), dtype=np.float32)
    window_ids: list[str] = []
    first = time.time() - 365 * 86400
    step = 365 * 86400 / size

    def edge(src, dst, kind, weight, meta, created):
        edges.append((src, dst, kind, round(float(weight), 4),
                      json.dumps(meta, sort_keys=True), created))

    backend.conn.execute("PRAGMA synchronous=OFF")  # this build only; nothing to lose
    try:
        with backend.transaction():
            for base in range(0, size, EMBED_BATCH):
                rows, ids, texts = [], [], []
                for i in range(base, min(size, base + EMBED_BATCH)):
                    created_epoch = first + (i + rng.random()) * step
                    memory = make_memory(rng, created_epoch)
                    created = clock.iso(created_epoch)
                    insight_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    kws = tfidf_keywords(memory["content"], limit=6)
                    row = {
                        "id": insight_id, "content": memory["content"],
                        "category": memory["category"], "importance": rng.randint(1, 5),
                        "entities": json.dumps(memory["entities"]),
                        "source": rng.choices(SOURCES, weights=(6, 3, 1))[0],
                        "access_count": rng.randint(0, 20), "keywords": json.dumps(kws),
                        "effective_importance": round(rng.random(), 3),
                        "linked_at": created, "enriched_at": created,
                        "created_at": created, "updated_at": created,
                        "embedding_model": embedder.model,
                    }
                    rows.append(row)
                    ids.append(insight_id)
                    texts.append(embed_text(memory["content"], kws))
                    memories.append((insight_id, memory["content"]))
                    # temporal backbone
                    if i:
                        prev = memories[-2][0]
                        edge(prev, insight_id, "temporal", 1.0,
                             {"direction": "precedes", "sub_type": "backbone"}, created)
                        edge(insight_id, prev, "temporal", 1.0,
                             {"direction": "succeeds", "sub_type": "backbone"}, created)
                    # entity: the latest earlier memory sharing one of its entities
                    linked = False
                    for entity in memory["entities"]:
                        key = entity.lower()
                        other = last_with_entity.get(key)
                        if other is not None and not linked:
                            entity_pairs.append((insight_id, other, key, created))
                            linked = True
                        last_with_entity[key] = insight_id
                        entity_count[key] += 1
                    # causal (heuristic, as zero-config drains write them)
                    cause = last_about.get(memory["service"])
                    if memory["causal"] and cause is not None:
                        edge(cause, insight_id, "causal", 0.5,
                             {"created_by": "heuristic", "cue": "because",
                              "sub_type": "causes"}, created)
                    last_about[memory["service"]] = insight_id

                vectors = embedder.embed(texts)
                # semantic: the most similar earlier memory within the window
                candidates = np.vstack([window, vectors])
                sims = vectors @ candidates.T
                later = np.triu(np.ones((len(ids), len(ids)), dtype=bool))
                sims[:, len(window):][later] = -1.0  # itself and memories after it
                k = min(SEMANTIC_LINKS, sims.shape[1])
                best = np.argpartition(-sims, k - 1, axis=1)[:, :k]
                candidate_ids = window_ids + ids
                for r, insight_id in enumerate(ids):
                    for col in best[r]:
                        sim = float(sims[r, col])
                        if sim >= threshold:
                            other = candidate_ids[col]
                            meta = {"cosine": f"{sim:.4f}", "created_by": "auto"}
                            created = rows[r]["created_at"]
                            edge(insight_id, other, "semantic", sim, meta, created)
                            edge(other, insight_id, "semantic", sim, meta, created)
                window = candidates[-SEMANTIC_WINDOW:]
                window_ids = candidate_ids[-SEMANTIC_WINDOW:]

                for row, vector in zip(rows, vectors, strict=True):
                    row["embedding"] = to_blob(vector)
                backend.conn.executemany(insert, [[row.get(c, defaults.get(c)) for c in columns]
                                                  for row in rows])

            for src, dst, entity, created in entity_pairs:
                weight = idf_weight(entity_count[entity] - 1, size)
                if weight is not None:
                    edge(src, dst, "entity", weight, {"entity": entity}, created)
                    edge(dst, src, "entity", weight, {"entity": entity}, created)
            backend.conn.executemany(
                "INSERT OR IGNORE INTO edges (source_id, target_id, edge_type, weight, "
                "metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)", edges)
            backend.set_meta("embed_fingerprint", fingerprint_text)
        # exactly what the worker does after a drain (maintenance.write_recall_vectors)
        store_dir = datadir.store_dir(STORE)
        vector_count = matrix.write(store_dir, json.loads(fingerprint_text),
                                    backend.vector_rows(), clock.iso())
        edge_types = dict(backend.conn.execute(
            "SELECT edge_type, count(*) FROM edges GROUP BY edge_type ORDER BY 1").fetchall())
    finally:
        backend.close()
    stats = {
        "memories": size, "vectors_in_file": vector_count, "edges": sum(edge_types.values()),
        "edges_by_type": edge_types,
        "db_mb": round(datadir.store_db(STORE).stat().st_size / 2**20, 1),
        "vector_file_mb": round(Path(matrix.path_for(store_dir)).stat().st_size / 2**20, 1),
    }
    return memories, stats


def make_queries(rng: random.Random, memories: list[tuple[str, str]], count: int) -> list[str]:
    """2-5 word queries, each taken from one stored memory, so each has hits."""
    queries = []
    while len(queries) < count:
        candidates = content_words(rng.choice(memories)[1])
        if len(candidates) >= 2:
            k = rng.randint(2, min(5, len(candidates)))
            queries.append(" ".join(rng.sample(candidates, k)))
    return queries


# -- phase breakdown ---------------------------------------------------------------------
def phases_child(query: str) -> None:
    """One ``memman recall QUERY`` in a fresh interpreter, timed phase by phase.

    Run by :func:`phase_breakdown` as ``python -c <this function's source>``, so it
    imports everything it uses itself. It calls the CLI's own ``smart_recall`` with
    timing wrappers around the engine's steps and the backend's queries; each phase
    is reported as exclusive time (a wrapped call inside another is subtracted from
    the outer one). Prints one JSON object.
    """
    import sys
    import time

    perf = time.perf_counter
    began = perf()
    phases: dict = {}          # label -> [exclusive seconds, calls]
    stack: list = []

    def add(label, seconds):
        slot = phases.setdefault(label, [0.0, 0])
        slot[0] += seconds
        slot[1] += 1

    def timed(label, fn):
        def wrapper(*args, **kwargs):
            nested = [0.0]
            stack.append(nested)
            start = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = perf() - start
                stack.pop()
                if stack:
                    stack[-1][0] += spent
                add(label, spent - nested[0])
        return wrapper

    def timed_import(label, names):
        start = perf()
        for name in names:
            __import__(name)
        add(label, perf() - start)

    timed_import("import click", ["click"])
    timed_import("import memman CLI", ["memman.cli.main", "memman.cli.context",
                                       "memman.cli.recall"])
    timed_import("import numpy", ["numpy"])
    timed_import("import memman recall path", [
        "memman.config.settings", "memman.store.open", "memman.store.sqlite",
        "memman.recall.engine", "memman.recall.intent", "memman.recall.query_vector",
        "memman.recall.matrix", "memman.embed.registry", "memman.embed.builtin",
        "memman.embed.vectors", "memman.textutil", "memman.rules.entities",
        "memman.rules.stem", "memman.intake.validate", "memman.intake.redact"])
    imported = set(sys.modules)

    import json

    from memman import textutil
    from memman.cli.context import App
    from memman.cli.recall import smart_recall
    from memman.intake import redact
    from memman.recall import engine, intent, query_vector
    from memman.recall.matrix import Matrix
    from memman.rules import entities
    from memman.store import open as store_open
    from memman.store.sqlite import SQLiteBackend as Backend

    view = engine.VectorView
    for owner, name, label in (
            (store_open, "open_store", "open store"),
            (engine, "run", "scoring + result shaping"),
            (intent, "detect", "parse query"),
            (textutil, "query_terms", "parse query"),
            (entities, "query_entities", "parse query"),
            (engine, "_fingerprint", "fingerprint (meta + JSON)"),
            (query_vector, "query_vector", "query vector (embed)"),
            (view, "__init__", "vector file: matrix x query"),
            (Backend, "vectors_after", "vector file: newer rows SQL"),
            (Backend, "recall_keyword", "keyword anchors (FTS5)"),
            (view, "top", "vector anchors (top-k)"),
            (Backend, "ids_for_seqs", "vector anchors: ids SQL"),
            (Backend, "recall_entity", "entity anchors SQL"),
            (engine, "term_weights", "term weights (IDF)"),
            (Backend, "count_active", "term weights: counts SQL"),
            (Backend, "term_doc_count", "term weights: counts SQL"),
            (engine, "spread", "graph spread (Python)"),
            (Backend, "edges_from", "graph spread: edges SQL"),
            (Backend, "get_insights", "load rows (SQL + JSON)"),
            (view, "similarity", "row similarities"),
            (Backend, "seqs_for_ids", "row similarities: seqs SQL"),
            (engine, "keyword_coverage", "scoring: keyword coverage"),
            (engine, "entity_match", "scoring: entity match"),
            (engine, "_reading_order", "reading order"),
            (redact, "redact", "bookkeeping write"),
            (Backend, "note_recall", "bookkeeping write"),
            (Backend, "close", "close store (WAL checkpoint)")):
        if hasattr(owner, name):  # an engine without that step just has no such phase
            setattr(owner, name, timed(label, getattr(owner, name)))
    Matrix.open = classmethod(timed("vector file: open + mmap", Matrix.open.__func__))

    start = perf()
    app = App()
    app.settings, app.store  # noqa: B018  (resolved up front, as the CLI does)
    add("settings + store name", perf() - start)
    out = smart_recall(app, query, limit=10, category=None, source=None, intent=None,
                       expand=False)
    start = perf()
    text = json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    add("JSON output", perf() - start)
    total = perf() - began
    print(json.dumps({
        "phases": {k: [round(v[0] * 1000, 3), v[1]] for k, v in phases.items()},
        "total_ms": round(total * 1000, 3), "output_chars": len(text),
        "results": len(out["results"]), "traversed": out["meta"].get("traversed"),
        "late_imports": sorted(m for m in set(sys.modules) - imported
                               if m.split(".")[0] in ("memman", "numpy")),
    }))


PHASE_ORDER = (
    "import click", "import memman CLI", "import numpy", "import memman recall path",
    "settings + store name", "open store", "parse query", "fingerprint (meta + JSON)",
    "query vector (embed)", "vector file: open + mmap", "vector file: matrix x query",
    "vector file: newer rows SQL", "keyword anchors (FTS5)", "vector anchors (top-k)",
    "vector anchors: ids SQL", "entity anchors SQL", "term weights (IDF)",
    "term weights: counts SQL",
    "graph spread (Python)", "graph spread: edges SQL", "load rows (SQL + JSON)",
    "row similarities", "row similarities: seqs SQL", "scoring: keyword coverage",
    "scoring: entity match", "scoring + result shaping", "reading order",
    "bookkeeping write", "close store (WAL checkpoint)", "JSON output",
)


def phase_breakdown(queries: list[str], env: dict) -> dict:
    """Median per phase over one fresh-interpreter recall per query."""
    source = textwrap.dedent(inspect.getsource(phases_child))
    samples = []
    for query in queries:
        code = f"{source}\nphases_child({query!r})\n"
        _, proc = run("phase breakdown", [sys.executable, "-c", code], env)
        samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    labels = list(PHASE_ORDER) + sorted({k for s in samples for k in s["phases"]}
                                        - set(PHASE_ORDER))
    phases = {}
    for label in labels:
        values = [s["phases"].get(label, [0.0, 0]) for s in samples]
        phases[label] = {"ms": round(statistics.median(v[0] for v in values), 2),
                         "calls": max(v[1] for v in values)}
    total = statistics.median(s["total_ms"] for s in samples)
    unattributed = statistics.median(s["total_ms"] - sum(v[0] for v in s["phases"].values())
                                     for s in samples)
    return {
        "runs": len(samples), "phases": phases, "total_ms": round(total, 2),
        "unattributed_ms": round(unattributed, 2),
        "traversed": statistics.median(s["traversed"] or 0 for s in samples),
        "late_imports": sorted({m for s in samples for m in s["late_imports"]}),
    }


def import_profile(memman_query: str, env: dict) -> dict:
    """``python -X importtime -m memman recall QUERY``, in ms: the total, and each
    module's self time charged to the outermost non-memman module that pulled it in
    (numpy's ctypes and pickle count as numpy; json imported by memman as json)."""
    _, proc = run("recall (importtime)",
                  [sys.executable, "-X", "importtime", "-m", "memman", "recall", memman_query],
                  env)
    entries = []  # (depth, name, self ms), children before their parent
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        try:
            self_us = int(parts[0])
        except ValueError:  # the header line
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip(" "))) // 2
        entries.append((depth, name.strip(), self_us / 1000))
    # -X importtime prints a module after its imports: rebuild the tree bottom-up
    stack: list[tuple[int, str, float, list]] = []
    for depth, name, self_ms in entries:
        children = []
        while stack and stack[-1][0] > depth:
            children.insert(0, stack.pop())
        stack.append((depth, name, self_ms, children))
    charged: Counter = Counter()

    def charge(node, owner):
        _, name, self_ms, children = node
        if owner is None and not name.startswith("memman"):
            owner = name.split(".")[0]
        charged[owner or "memman"] += self_ms
        for child in children:
            charge(child, owner)

    for root in stack:
        charge(root, None)
    return {"total_ms": round(sum(e[2] for e in entries), 1),
            "by_package_ms": {k: round(v, 1) for k, v in charged.most_common()}}


# -- correctness ---------------------------------------------------------------------------
def correctness_check(memman_exe: str, memories: list[tuple[str, str]], env: dict,
                      rng: random.Random) -> dict:
    """For CHECK_QUERIES random memories, a query of their CHECK_WORDS rarest content
    words must rank them (or a memory with identical content) in the top CHECK_TOP."""
    df: Counter = Counter()
    for _, content in memories:
        df.update(content_words(content))  # content_words is already distinct
    cases = []
    while len(cases) < CHECK_QUERIES:
        insight_id, content = rng.choice(memories)
        candidates = content_words(content)
        if len(candidates) < CHECK_WORDS:
            continue
        rarest = set(sorted(candidates, key=lambda w: (df[w], w))[:CHECK_WORDS])
        query = " ".join(w for w in candidates if w in rarest)  # in the memory's order
        _, proc = run("correctness recall", [memman_exe, "recall", query], env)
        top = [r["insight"] for r in json.loads(proc.stdout)["results"][:CHECK_TOP]]
        rank = next((n for n, r in enumerate(top, 1)
                     if r["id"] == insight_id or r["content"] == content), None)
        cases.append({"id": insight_id, "query": query, "rank": rank})
    passed = sum(1 for c in cases if c["rank"] is not None)
    return {"passed": passed, "total": len(cases), "ok": passed == len(cases), "cases": cases}


# -- main --------------------------------------------------------------------------------
def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of sizes: {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be at least 1")
    return sizes


def summarise(samples: list[float], base: float) -> dict:
    med = statistics.median(samples)
    return {"runs": len(samples), "median_ms": round(med, 2), "p90_ms": round(p90(samples), 2),
            "ratio": round(med / base, 3), "samples_ms": [round(s, 2) for s in samples]}


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES),
                        help=f"store sizes, comma-separated ({DEFAULT_SIZES})")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command (20)")
    parser.add_argument("--memman", metavar="PATH",
                        help="memman executable (default: the one beside this Python, else PATH)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    memman_exe = find_memman(args.memman)
    compiled = byte_compile()
    rng = random.Random(SEED)
    total_rounds = WARMUP_ROUNDS + args.runs
    bench_start = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="memman-bench-") as tmp:
        stores = {}
        for size in args.sizes:
            progress(f"building the {size_label(size)} store ...")
            root = Path(tmp) / f"data-{size}"
            t0 = time.perf_counter()
            memories, stats = build_store(root, size, rng)
            stats["build_s"] = round(time.perf_counter() - t0, 1)
            progress(f"built {size_label(size)} in {stats['build_s']}s "
                     f"({stats['edges']} edges, {stats['db_mb']} MB)")
            stores[size] = {"env": child_env(root), "memories": memories, "stats": stats,
                            "queries": make_queries(rng, memories, total_rounds)}

        commands = {"baseline": (lambda i: [sys.executable, "-c", "import click, sqlite3"],
                                 child_env(Path(tmp) / "unused"))}
        for size, store in stores.items():
            commands[f"recall {size_label(size)}"] = (
                lambda i, q=store["queries"]: [memman_exe, "recall", q[i]], store["env"])
        names = list(commands)
        samples: dict[str, list[float]] = {name: [] for name in names}
        details: dict[str, dict[str, list]] = {
            name: {"hits": [], "traversed": [], "anchors": [], "sources": []}
            for name in names[1:]}
        progress(f"timing {len(names)} commands x {total_rounds} rounds ...")
        for i in range(total_rounds):
            order = names[i % len(names):] + names[:i % len(names)]  # rotate positions too
            for name in order:
                make_cmd, env = commands[name]
                ms, proc = run(name, make_cmd(i), env)
                if i < WARMUP_ROUNDS:
                    continue
                samples[name].append(ms)
                if name != "baseline":
                    out = json.loads(proc.stdout)
                    details[name]["hits"].append(len(out["results"]))
                    details[name]["traversed"].append(out["meta"].get("traversed", 0))
                    details[name]["anchors"].append(out["meta"].get("anchor_count", 0))
                    details[name]["sources"].append(out["meta"].get("vector_source"))

        breakdowns = {}
        for size, store in stores.items():
            progress(f"phase breakdown, {size_label(size)} ...")
            breakdowns[size] = phase_breakdown(
                make_queries(rng, store["memories"], PHASE_RUNS), store["env"])
        largest = stores[max(stores)]
        imports = import_profile(largest["queries"][0], largest["env"])

        check_size = CHECK_SIZE if CHECK_SIZE in stores else max(stores)
        progress(f"correctness check at {size_label(check_size)} ...")
        check = correctness_check(memman_exe, stores[check_size]["memories"],
                                  stores[check_size]["env"], rng)

    base = statistics.median(samples["baseline"])
    results = {name: summarise(samples[name], base) for name in names}
    for name in names[1:]:
        d = details[name]
        results[name].update({
            "hits_median": statistics.median(d["hits"]),
            "anchors_median": statistics.median(d["anchors"]),
            "traversed_median": statistics.median(d["traversed"]),
            "vector_sources": sorted(set(map(str, d["sources"]))),
        })
    goals = []
    size, limit = GOAL_VS_BASELINE
    if size in stores:
        ratio = results[f"recall {size_label(size)}"]["median_ms"] / base
        goals.append({"row": f"recall {size_label(size)}", "goal": f"<= {limit}x baseline",
                      "ratio": round(ratio, 3), "met": ratio <= limit})
    size, ref, limit = GOAL_SCALING
    if size in stores and ref in stores:
        ratio = (results[f"recall {size_label(size)}"]["median_ms"]
                 / results[f"recall {size_label(ref)}"]["median_ms"])
        goals.append({"row": f"recall {size_label(size)}",
                      "goal": f"<= {limit}x recall {size_label(ref)}",
                      "ratio": round(ratio, 3), "met": ratio <= limit})
    goal_text = {g["row"]: f"{g['goal']}: {g['ratio']:.2f}x, "
                           f"{'goal met' if g['met'] else 'goal missed'}" for g in goals}

    print(f"memman recall latency: Python {platform.python_version()} "
          f"({platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"{args.runs} runs per command after {WARMUP_ROUNDS} warm-up rounds; "
          f"memman: {memman_exe}")
    print(f"bytecode: {compiled}")
    for size, store in stores.items():
        st = store["stats"]
        kinds = ", ".join(f"{k} {v}" for k, v in st["edges_by_type"].items())
        print(f"store {size_label(size):>5}: {size} memories, {st['edges']} edges ({kinds}); "
              f"db {st['db_mb']} MB, vector file {st['vector_file_mb']} MB; "
              f"built in {st['build_s']}s")
    print()
    print(f"{'command':<12} {'runs':>4} {'median ms':>10} {'p90 ms':>8} {'ratio':>7} "
          f"{'hits':>5} {'traversed':>9}  goal")
    for name in names:
        r = results[name]
        extra = (f"{r['hits_median']:>5g} {r['traversed_median']:>9g}" if name != "baseline"
                 else f"{'':>5} {'':>9}")
        print(f"{name:<12} {r['runs']:>4} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} "
              f"{r['ratio']:>6.2f}x {extra}  {goal_text.get(name, '')}".rstrip())
    odd = {n: results[n]["vector_sources"] for n in names[1:]
           if results[n]["vector_sources"] != ["matrix"]}
    if odd:
        print(f"warning: recall did not always read the vector file: {odd}")

    print()
    print("phase breakdown: one recall in a fresh interpreter, median of "
          f"{PHASE_RUNS} queries, exclusive ms")
    sizes = list(stores)
    print(f"{'phase':<30}" + "".join(f"{size_label(s):>9}" for s in sizes) + "  calls")
    labels = list(dict.fromkeys(label for s in sizes for label in breakdowns[s]["phases"]))
    for label in labels:
        cells = [breakdowns[s]["phases"].get(label, {"ms": 0.0}) for s in sizes]
        if all(c["ms"] < 0.005 for c in cells):
            continue
        calls = "/".join(str(c.get("calls", 0)) for c in cells)
        print(f"{label:<30}" + "".join(f"{c['ms']:>9.2f}" for c in cells) + f"  {calls}")
    rows = (("unattributed", lambda s: breakdowns[s]["unattributed_ms"]),
            ("in-process total", lambda s: breakdowns[s]["total_ms"]),
            ("whole-process median (table)",
             lambda s: results[f"recall {size_label(s)}"]["median_ms"]))
    for label, value in rows:
        print(f"{label:<30}" + "".join(f"{value(s):>9.2f}" for s in sizes))
    print("memories reached by the graph walk: "
          + ", ".join(f"{size_label(s)} {breakdowns[s]['traversed']:g}" for s in sizes))
    late = sorted({m for s in sizes for m in breakdowns[s]["late_imports"]})
    if late:
        print(f"imported inside the phases (their import time is counted there): "
              f"{', '.join(late)}")
    top = list(imports["by_package_ms"].items())[:8]
    print(f"import time of 'memman recall' (-X importtime, self time per package): "
          f"{imports['total_ms']:.1f} ms total; "
          + ", ".join(f"{k} {v:.1f}" for k, v in top))

    print()
    print(f"correctness at {size_label(check_size)}: {check['passed']}/{check['total']} "
          f"queries of {CHECK_WORDS} rare words found their memory in the top {CHECK_TOP}"
          f" - {'ok' if check['ok'] else 'FAILED'}")
    for case in check["cases"]:
        if case["rank"] is None:
            print(f"  missed {case['id']}: {case['query']!r}")
    elapsed = time.perf_counter() - bench_start
    print(f"bench took {elapsed:.1f}s")

    if args.json:
        write_results(args.json, memman_exe, {
            "sizes": sizes,
            "runs": args.runs,
            "warmup_rounds": WARMUP_ROUNDS,
            "stores": {str(s): stores[s]["stats"] for s in sizes},
            "results": results,
            "goals": goals,
            "phases": {str(s): breakdowns[s] for s in sizes},
            "import_profile": imports,
            "correctness": {"size": check_size, **check},
            "elapsed_s": round(elapsed, 1),
        })
    return 0 if check["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
