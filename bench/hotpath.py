#!/usr/bin/env python3
"""Whole-process latency of memman's hot-path commands, as an agent runs them.

Every sample is one complete subprocess (interpreter start-up, imports, the
command itself, exit), timed with ``time.perf_counter`` around ``subprocess.run``:

* ``baseline``        ``python -c "import click, sqlite3"``: the floor any
                      click + sqlite3 CLI pays before doing anything
* ``remember``        ``memman remember "<a sentence>"``: queue one memory
* ``recall --basic``  ``memman recall --basic "<2-3 words>"``: FTS5 keyword recall

against a throw-away data dir holding a synthetic store of ``--store-size``
memories. The three commands are interleaved round-robin (after 3 warm-up
rounds) so machine noise hits them equally. Results are reported as median and
p90 milliseconds and as a ratio to the baseline median, against the goals:
remember <= 1.3x baseline, recall --basic <= 1.5x baseline (report only: the exit
status is 0 either way).

Usage::

    python bench/hotpath.py [--runs 25] [--store-size 10000] [--memman PATH] [--json OUT]

Standard library only (plus memman itself, to build the store).
"""
import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

try:
    import memman  # noqa: F401
except ImportError:  # run from a checkout without an installed memman
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from memman import clock  # noqa: E402
from memman.config.datadir import DataDir  # noqa: E402
from memman.store.model import CATEGORIES, SOURCES, Insight  # noqa: E402
from memman.store.sqlite import SQLiteBackend  # noqa: E402
from memman.textutil import STOPWORDS, words  # noqa: E402

WARMUP_ROUNDS = 3
STORE = "default"
GOALS = {"remember": 1.3, "recall --basic": 1.5}
HEAVY_MODULES = ("numpy", "httpx", "psycopg", "tqdm", "portalocker")
SEED = 42

# -- synthetic content ---------------------------------------------------------------
PEOPLE = """
alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert
sybil trent victor walter yusuf priya kenji mateo sofia lars ingrid omar fatima chen
diego hannah marek noor tomas ayesha bjorn camila dmitri elena
""".split()

SERVICES = """
billing-api auth-service payments-gateway search-indexer notification-worker
user-profile inventory-sync report-builder media-transcoder checkout-web admin-portal
audit-log feature-flags rate-limiter session-store email-sender webhook-relay
ledger-service pricing-engine catalog-api recommendation-svc fraud-detector
metrics-collector config-server image-resizer geo-lookup export-worker
""".split()

TECH = """
postgres redis kafka rabbitmq nginx envoy kubernetes terraform docker helm grafana
prometheus sentry datadog elasticsearch opensearch clickhouse sqlite fastapi django
flask celery pytest mypy ruff poetry uvicorn gunicorn react typescript webpack vite
graphql grpc protobuf openapi jwt oauth s3 cloudfront lambda dynamodb bigquery
airflow dbt spark pandas numpy golang rust java kotlin swift github-actions jenkins
argocd vault consul istio memcached cassandra mongodb
""".split()

NOUNS = """
migration schema index query cache queue worker cron job pipeline deploy rollout
release branch commit review test fixture mock timeout retry backoff deadline
latency throughput error exception trace log metric alert dashboard runbook incident
postmortem outage ticket sprint backlog roadmap estimate budget quota limit
connection pool transaction lock deadlock replica shard partition backup snapshot
restore failover cluster node container image registry secret certificate token
session cookie header payload endpoint route handler middleware client server
config flag toggle experiment cohort invoice refund subscription customer tenant
account permission role audit webhook callback batch stream consumer producer topic
offset checkpoint compaction vacuum tokenizer parser serializer encoder fixture
benchmark profile regression hotfix patch version changelog dependency lockfile
monorepo package module interface adapter repository controller template
""".split()

ADJECTIVES = """
slow flaky stale fragile brittle noisy expensive idempotent stateless async blocking
deprecated legacy critical optional nightly hourly weekly strict lenient verbose
minimal cached sharded encrypted compressed versioned immutable eventual consistent
""".split()

VERBS = """
migrate refactor deprecate rewrite split merge cache shard index retry throttle
batch stream validate sanitize encrypt rotate pin upgrade downgrade revert
benchmark profile document monitor alert page
""".split()

TEMPLATES = (
    ("decision", "{p} decided to {v} the {n} in {s} using {t} because the old {n2} was {a}."),
    ("preference", "{p} prefers {t} over {t2} for {n} work in {s}."),
    ("fact", "The {s} {n} runs on {t} and talks to {s2} through {t2}."),
    ("fact", "{s} keeps its {n} in {t}; the {n2} is {a} and rebuilt {a2}."),
    ("insight", "When the {n} in {s} gets {a}, check the {t} {n2} before blaming {s2}."),
    ("context", "This sprint {p} and {p2} are working on the {s} {n} {n2} with {t}."),
    ("decision", "We agreed with {p} that {s} must never {v} the {n} without a {n2}."),
    ("preference", "{p} wants every {n} in {s} to be {a}, with {t} checks in CI."),
    ("insight", "A {a} {n} in {t} caused the {s} {n2} outage that {p} wrote up."),
    ("general", "Remember to {v} the {t} {n} for {s} before the {a} {n2} release."),
    ("fact", "{s} reads {n} data from {s2} every {num} minutes via {t}."),
    ("context", "{p} owns the {s} {n}; ask {p2} about the {t} {n2}."),
)


def make_memory(rng: random.Random) -> tuple[str, str, list[str]]:
    """(content, suggested category, entities) from a random template."""
    category, template = rng.choice(TEMPLATES)
    p, p2 = rng.sample(PEOPLE, 2)
    s, s2 = rng.sample(SERVICES, 2)
    t, t2 = rng.sample(TECH, 2)
    n, n2 = rng.sample(NOUNS, 2)
    a, a2 = rng.sample(ADJECTIVES, 2)
    content = template.format(p=p.title(), p2=p2.title(), s=s, s2=s2, t=t, t2=t2, n=n,
                              n2=n2, a=a, a2=a2, v=rng.choice(VERBS), num=rng.randint(2, 90))
    content = content[0].upper() + content[1:]
    if rng.random() < 0.4:  # some longer memories
        content += f" See the {rng.choice(NOUNS)} notes from {rng.choice(PEOPLE).title()}."
    used = [x for x in (p.title(), p2.title(), s, s2, t, t2) if x in content]
    entities = rng.sample(used, min(len(used), rng.randint(1, 4)))
    return content, category, entities


def content_words(text: str) -> list[str]:
    return [w for w in dict.fromkeys(words(text))
            if len(w) >= 4 and w.isalpha() and w not in STOPWORDS]


def build_store(root: Path, size: int, rng: random.Random) -> list[str]:
    """Write ``size`` memories to the default store in one transaction; returns
    their contents (the queries are drawn from them)."""
    datadir = DataDir(root)
    datadir.ensure_store_dir(STORE)
    backend = SQLiteBackend(datadir.store_db(STORE))
    contents = []
    now = time.time()
    try:
        with backend.transaction():
            for _ in range(size):
                content, suggested, entities = make_memory(rng)
                category = suggested if rng.random() < 0.7 else rng.choice(CATEGORIES)
                created = clock.iso(now - rng.uniform(0, 365 * 86400))
                kw = content_words(content)
                backend.insert_insight(Insight(
                    id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    content=content,
                    category=category,
                    importance=rng.randint(1, 5),
                    entities=entities,
                    source=rng.choices(SOURCES, weights=(6, 3, 1))[0],
                    access_count=rng.randint(0, 20),
                    keywords=rng.sample(kw, min(len(kw), 3)),
                    effective_importance=round(rng.random(), 3),
                    created_at=created,
                    updated_at=created,
                    linked_at=created,
                    enriched_at=created,
                ))
                contents.append(content)
    finally:
        backend.close()
    return contents


def make_queries(rng: random.Random, contents: list[str], count: int) -> list[str]:
    """2-3 word queries, each taken from one stored memory, so each matches it."""
    queries = []
    while len(queries) < count:
        candidates = content_words(rng.choice(contents))
        if len(candidates) >= 3:
            queries.append(" ".join(rng.sample(candidates, rng.choice((2, 3)))))
    return queries


# -- running ---------------------------------------------------------------------------
def find_memman(option: str | None) -> str:
    if option:
        path = shutil.which(option) or option
        if not Path(path).is_file():
            sys.exit(f"bench: --memman {option!r} is not an executable file")
        return str(Path(path).absolute())
    beside = shutil.which("memman", path=str(Path(sys.executable).parent))
    found = beside or shutil.which("memman")
    if not found:
        sys.exit("bench: no 'memman' beside the running Python or on PATH; pass --memman PATH")
    return found


def child_env(root: Path) -> dict:
    """The caller's environment minus any MEMMAN_* settings, pointed at ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env["MEMMAN_DATA_DIR"] = str(root)
    return env


def run(label: str, cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()[-2000:]
        sys.exit(f"bench: {label} failed with exit {proc.returncode}: {cmd!r}\n{detail}")
    return elapsed * 1000.0, proc


def write_results(path: str, memman: str, fields: dict) -> None:
    """The ``--json`` file every bench writes: the machine, the memman timed, then
    the bench's own ``fields``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "memman": memman,
        **fields,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def p90(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def heavy_imports(label: str, args: list[str], env: dict) -> list[str]:
    """Which of HEAVY_MODULES ``python -X importtime -m memman ARGS`` imports."""
    _, proc = run(f"{label} (importtime)",
                  [sys.executable, "-X", "importtime", "-m", "memman", *args], env)
    seen = set()
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        name = line.rsplit("|", 1)[-1].strip()
        top = name.split(".")[0]
        if top in HEAVY_MODULES:
            seen.add(top)
    return sorted(seen)


def byte_compile() -> str:
    """Write .pyc files for memman, as a wheel install does.

    An editable checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise
    recompile every memman module from source in every timed process, which
    measures the checkout, not what users run.
    """
    import compileall

    import memman

    package = Path(memman.__file__).parent
    ok = compileall.compile_dir(str(package), quiet=1)
    return f"compiled {package}" if ok else f"compileall reported errors in {package}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25, help="timed runs per command (25)")
    parser.add_argument("--store-size", type=int, default=10000,
                        help="memories in the synthetic store (10000)")
    parser.add_argument("--memman", metavar="PATH",
                        help="memman executable (default: the one beside this Python, else PATH)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.store_size < 1:
        parser.error("--runs and --store-size must be at least 1")

    memman = find_memman(args.memman)
    compiled = byte_compile()
    rng = random.Random(SEED)
    total = WARMUP_ROUNDS + args.runs
    bench_start = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="memman-bench-") as tmp:
        root = Path(tmp) / "data"
        env = child_env(root)

        t0 = time.perf_counter()
        contents = build_store(root, args.store_size, rng)
        build_s = time.perf_counter() - t0
        run("setup: remember warmup", [memman, "remember", "warmup"], env)  # creates queue.db

        sentences = [make_memory(rng)[0] for _ in range(total)]
        queries = make_queries(rng, contents, total)
        commands = {
            "baseline": lambda i: [sys.executable, "-c", "import click, sqlite3"],
            "remember": lambda i: [memman, "remember", sentences[i]],
            "recall --basic": lambda i: [memman, "recall", "--basic", queries[i]],
        }
        names = list(commands)
        samples: dict[str, list[float]] = {name: [] for name in names}
        hits: list[int] = []

        for i in range(total):
            order = names[i % len(names):] + names[:i % len(names)]  # rotate positions too
            for name in order:
                ms, proc = run(name, commands[name](i), env)
                if i < WARMUP_ROUNDS:
                    continue
                samples[name].append(ms)
                if name == "recall --basic":
                    hits.append(len(json.loads(proc.stdout)["results"]))

        imports = {
            "remember": heavy_imports("remember", ["remember", sentences[0]], env),
            "recall --basic": heavy_imports("recall --basic",
                                            ["recall", "--basic", queries[0]], env),
        }

    base = statistics.median(samples["baseline"])
    results = {}
    for name in names:
        med = statistics.median(samples[name])
        results[name] = {
            "runs": len(samples[name]),
            "median_ms": round(med, 2),
            "p90_ms": round(p90(samples[name]), 2),
            "ratio": round(med / base, 3),
            "samples_ms": [round(s, 2) for s in samples[name]],
        }
        if name in GOALS:
            results[name]["goal_ratio"] = GOALS[name]
            results[name]["goal_met"] = med / base <= GOALS[name]

    print(f"memman hot-path latency: Python {platform.python_version()} "
          f"({platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"store: {args.store_size} memories (built in {build_s:.1f}s); "
          f"{args.runs} runs per command after {WARMUP_ROUNDS} warm-up rounds")
    print(f"memman: {memman}")
    print(f"bytecode: {compiled}")
    print()
    print(f"{'command':<16} {'runs':>4} {'median ms':>10} {'p90 ms':>8} {'ratio':>7}  goal")
    for name in names:
        r = results[name]
        goal = ""
        if name in GOALS:
            goal = f"<= {GOALS[name]}x: {'goal met' if r['goal_met'] else 'goal missed'}"
        print(f"{name:<16} {r['runs']:>4} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} "
              f"{r['ratio']:>6.2f}x  {goal}".rstrip())
    print()
    print(f"recall --basic hits per query: median {statistics.median(hits):g} "
          f"(min {min(hits)}, max {max(hits)})")
    for name, mods in imports.items():
        print(f"heavy imports in {name}: {', '.join(mods) if mods else 'none'}")
    elapsed = time.perf_counter() - bench_start
    print(f"bench took {elapsed:.1f}s")

    if args.json:
        write_results(args.json, memman, {
            "store_size": args.store_size,
            "runs": args.runs,
            "warmup_rounds": WARMUP_ROUNDS,
            "results": results,
            "recall_hits": {"median": statistics.median(hits), "min": min(hits),
                            "max": max(hits)},
            "heavy_imports": imports,
            "elapsed_s": round(elapsed, 1),
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
