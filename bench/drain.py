#!/usr/bin/env python3
"""Whole-process throughput of ``memman scheduler drain``, in rows per minute.

Each mode works in its own throw-away data dir: ``--rows`` distinct, realistic
notes (default 200) are inserted straight into ``queue.db`` (``QueueDB.enqueue``,
as ``memman remember`` does, without paying a process per row), then one
``memman scheduler drain --limit ... --timeout 3600`` process is timed from spawn
to exit with ``time.perf_counter``:

* ``zero-config``     no model, the builtin embedder (goal: > 1,000 rows/min)
* ``llm pipelined``   a loopback OpenAI-compatible chat model answering every
                      request after 200 ms and a loopback ``/v1/embeddings``
                      answering after 50 ms (``bench/loopback_servers.py``);
                      the drain's default pipeline
* ``llm sequential``  the same servers with ``MEMMAN_DRAIN_SEQUENTIAL=1``: one row
                      at a time, one thread (the baseline; goal: pipelined >= 3x)

Every drain must report ``processed == rows``, ``failed == 0`` and every fact
``added`` (the notes are distinct, nothing may be skipped as a duplicate);
otherwise the bench aborts with exit status 1. The goals are report only.

Usage::

    python bench/drain.py [--rows 200] [--memman PATH] [--json OUT]

Standard library + numpy + memman (for QueueDB and the prompt markers).
"""
import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import memman  # noqa: F401
except ImportError:  # run from a checkout without an installed memman
    sys.path.insert(0, str(HERE.parent / "src"))

from hotpath import byte_compile, child_env, find_memman, write_results  # noqa: E402
from loopback_servers import ChatServer, EmbedServer  # noqa: E402

from memman.config.datadir import DataDir  # noqa: E402
from memman.queue.db import QueueDB  # noqa: E402

SEED = 7
STORE = "default"
CHAT_DELAY = 0.200
EMBED_DELAY = 0.050
EMBED_DIM = 384
ZERO_CONFIG_GOAL = 1000.0  # rows/min, strictly more
SPEEDUP_GOAL = 3.0  # pipelined / sequential, at least
PROGRESS_SECONDS = 10.0

# -- distinct, realistic notes --------------------------------------------------------------
PEOPLE = """Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy
Rupert Sybil Trent Victor Walter Yusuf Priya Kenji Mateo Sofia Lars Ingrid Omar Fatima Chen
Diego Hannah Marek Noor Tomas Ayesha Bjorn Camila Dmitri Elena""".split()
SERVICES = """billing-api auth-service payments-gateway search-indexer notification-worker
user-profile inventory-sync report-builder media-transcoder checkout-web admin-portal audit-log
feature-flags rate-limiter session-store email-sender webhook-relay ledger-service
pricing-engine catalog-api recommendation-svc fraud-detector metrics-collector config-server
image-resizer geo-lookup export-worker""".split()
TECH = """Postgres Redis Kafka RabbitMQ nginx Envoy Kubernetes Terraform Docker Helm Grafana
Prometheus Sentry Elasticsearch ClickHouse SQLite FastAPI Django Flask Celery pytest mypy ruff
Poetry uvicorn gunicorn React TypeScript webpack Vite GraphQL gRPC protobuf OpenAPI S3
CloudFront Lambda DynamoDB BigQuery Airflow dbt Spark pandas numpy Go Rust Kotlin Jenkins
ArgoCD Vault Consul Istio memcached Cassandra MongoDB""".split()
NOUNS = """migration schema index query cache queue worker cron pipeline rollout release branch
fixture timeout retry backoff deadline alert dashboard runbook incident outage quota
connection-pool transaction lock replica shard partition backup snapshot failover cluster
container registry secret certificate token session cookie header payload endpoint
middleware config flag experiment invoice refund subscription tenant permission webhook
batch stream consumer topic offset checkpoint tokenizer parser serializer benchmark hotfix
changelog lockfile monorepo adapter template""".split()
ADJECTIVES = """slow flaky stale fragile noisy expensive idempotent stateless blocking
deprecated legacy critical nightly hourly weekly strict verbose cached sharded encrypted
compressed versioned immutable""".split()
VERBS = """migrate refactor deprecate rewrite split merge shard index throttle batch validate
sanitize encrypt rotate pin upgrade revert profile document monitor""".split()
REASONS = [r.strip() for r in """the old setup lost data during failovers |
it halved the p99 latency in load tests | the vendor ends support next year |
two incidents last quarter traced back to it | the audit team asked for it |
it keeps the CI run under ten minutes | on-call kept getting paged at night |
the free tier ran out of quota""".split("|")]
WHEN = ("nightly", "hourly", "weekly", "on every deploy", "after each schema change")
TEMPLATES = (
    "{p} decided to {v} the {n} in {s} using {t} because {r}.",
    "{p} prefers {t} over {t2} for {n} work in {s}, since {r}.",
    "The {s} {n} runs on {t} and talks to {s2} through {t2}.",
    "{s} keeps its {n} in {t}; the {a} {n2} is rebuilt {w}.",
    "When the {n} in {s} gets {a}, check the {t} {n2} before blaming {s2}.",
    "We agreed with {p} that {s} must never {v} the {n} without a {n2}.",
    "{p} wants every {n} in {s} to be {a}, with {t} checks in CI.",
    "A {a} {n} in {t} caused the {s} {n2} outage that {p} wrote up.",
    "Remember to {v} the {t} {n} for {s} before the {a} {n2} release.",
    "{s} reads {n} data from {s2} every {num} minutes via {t}.",
    "{p} owns the {s} {n}; ask {p2} about the {t} {n2}.",
    "The {s} team moved its {n} from {t2} to {t} because {r}.",
    "Port {port} on the {s} hosts is reserved for the {t} {n}; {p} set that up.",
    "Set the {t} {n} timeout in {s} to {num} seconds, or the {n2} in {s2} piles up.",
)
STOP = frozenset("a an and are as at be because before by every for from in into is it its "
                 "of on or over since that the then this to when with".split())


def _tokens(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP}


def make_notes(count: int, seed: int = SEED) -> list[str]:
    """``count`` distinct notes; no note's words are mostly another note's words, so
    zero-config reconciliation never takes one for a duplicate."""
    rng = random.Random(seed)
    notes: list[str] = []
    seen: list[set[str]] = []
    attempts = 0
    while len(notes) < count:
        attempts += 1
        if attempts > 100 * count:
            sys.exit(f"bench: could not make {count} distinct notes")
        p, p2 = rng.sample(PEOPLE, 2)
        s, s2 = rng.sample(SERVICES, 2)
        t, t2 = rng.sample(TECH, 2)
        n, n2 = rng.sample(NOUNS, 2)
        a = rng.choice(ADJECTIVES)
        text = rng.choice(TEMPLATES).format(
            p=p, p2=p2, s=s, s2=s2, t=t, t2=t2, n=n, n2=n2, a=a, v=rng.choice(VERBS),
            r=rng.choice(REASONS), w=rng.choice(WHEN), num=rng.randint(2, 90),
            port=rng.randint(1025, 9999))
        text = text[0].upper() + text[1:]
        words = _tokens(text)
        if any(len(words & other) / len(words | other) > 0.6 or words <= other or other <= words
               for other in seen):
            continue
        notes.append(text)
        seen.append(words)
    return notes


# -- running ------------------------------------------------------------------------------
def fail(message: str) -> "None":
    print(f"bench: ABORT: {message}", file=sys.stderr)
    sys.exit(1)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def drain_env(root: Path, *, sequential: bool) -> dict:
    """hotpath's child environment, plus a private HOME and the sequential switch."""
    env = child_env(root)
    env["HOME"] = str(root.parent / "home")
    if sequential:
        env["MEMMAN_DRAIN_SEQUENTIAL"] = "1"
    return env


def config_set(memman: str, env: dict, key: str, value: str) -> None:
    proc = subprocess.run([memman, "config", "set", key, value], env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    if proc.returncode != 0:
        fail(f"memman config set {key} {value} failed: {proc.stderr.strip()}")


def enqueue(root: Path, notes: list[str]) -> float:
    start = time.perf_counter()
    datadir = DataDir(root).ensure()
    queue = QueueDB(datadir.queue_db)
    try:
        for note in notes:
            queue.enqueue(STORE, note)
    finally:
        queue.close()
    return time.perf_counter() - start


def done_rows(root: Path) -> int:
    try:
        queue = QueueDB(root / "queue.db", readonly=True)
    except Exception:  # noqa: BLE001 - progress only
        return -1
    try:
        return queue.stats()["done"]
    except Exception:  # noqa: BLE001
        return -1
    finally:
        queue.close()


def timed_drain(label: str, memman: str, root: Path, env: dict, rows: int) -> tuple[float, dict]:
    cmd = [memman, "scheduler", "drain", "--limit", str(max(1000, rows)), "--timeout", "3600"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while True:
        try:
            out, err = proc.communicate(timeout=PROGRESS_SECONDS)
            break
        except subprocess.TimeoutExpired:  # retrying communicate loses no output
            say(f"  {label}: {done_rows(root)}/{rows} rows done after "
                f"{time.perf_counter() - start:.0f}s")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        fail(f"{label}: drain exited {proc.returncode}: {(err or out).strip()[-2000:]}")
    try:
        result = json.loads(out)
    except ValueError:
        fail(f"{label}: drain output is not JSON: {out[-2000:]!r}")
    check(label, result, rows)
    return elapsed, result


def check(label: str, result: dict, rows: int) -> None:
    problems = []
    if result.get("skipped"):
        problems.append(f"drain skipped: {result['skipped']}")
    if result.get("processed") != rows:
        problems.append(f"processed {result.get('processed')}, expected {rows}")
    if result.get("failed") != 0:
        problems.append(f"failed {result.get('failed')}, expected 0")
    if result.get("remaining"):
        problems.append(f"remaining {result['remaining']}")
    for row in result.get("rows", []):
        if row.get("status") != "done":
            problems.append(f"row {row.get('queue_id')}: {row.get('status')} "
                            f"{row.get('error', '')}")
        elif row.get("skip_reason"):
            problems.append(f"row {row['queue_id']} skipped: {row['skip_reason']}")
        else:
            actions = [f.get("action") for f in row.get("facts", [])]
            if actions != ["added"]:
                problems.append(f"row {row['queue_id']}: facts {actions}, expected ['added']")
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        fail(f"{label}: the drain did not store every row exactly once:\n  {shown}{more}")


def run_mode(label: str, memman: str, notes: list[str], *, chat: ChatServer | None = None,
             embed: EmbedServer | None = None, sequential: bool = False) -> dict:
    rows = len(notes)
    with tempfile.TemporaryDirectory(prefix="memman-bench-drain-") as tmp:
        root = Path(tmp) / "data"
        env = drain_env(root, sequential=sequential)
        if chat is not None:
            config_set(memman, env, "MEMMAN_LLM_ENDPOINT", chat.url + "/v1")
            config_set(memman, env, "MEMMAN_EMBED_PROVIDER", "openai")
            config_set(memman, env, "MEMMAN_OPENAI_EMBED_ENDPOINT", embed.url + "/v1")
        queued_s = enqueue(root, notes)
        before = {**(chat.counts if chat else {}), **(embed.counts if embed else {})}
        say(f"{label}: draining {rows} rows (queued in {queued_s:.2f}s)")
        elapsed, result = timed_drain(label, memman, root, env, rows)
        after = {**(chat.counts if chat else {}), **(embed.counts if embed else {})}
        mode = result.get("mode")
        want = "llm" if chat is not None else "heuristic"
        if mode != want:
            fail(f"{label}: the drain ran in {mode!r} mode, expected {want!r}")
    requests = {k: v - before.get(k, 0) for k, v in sorted(after.items())
                if v - before.get(k, 0)}
    rate = rows / elapsed * 60.0
    say(f"{label}: {rows} rows in {elapsed:.1f}s = {rate:.0f} rows/min")
    return {"rows": rows, "seconds": round(elapsed, 3), "rows_per_min": round(rate, 1),
            "llm_calls": result.get("llm_calls", 0), "server_requests": requests,
            "sequential": sequential}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200, help="queued rows per mode (200)")
    parser.add_argument("--memman", metavar="PATH",
                        help="memman executable (default: the one beside this Python, else PATH)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    memman = find_memman(args.memman)
    compiled = byte_compile()
    notes = make_notes(args.rows)
    bench_start = time.perf_counter()
    results: dict[str, dict] = {}

    results["zero-config"] = run_mode("zero-config", memman, notes)
    with ChatServer(CHAT_DELAY) as chat, EmbedServer(EMBED_DELAY, EMBED_DIM) as embed:
        results["llm pipelined"] = run_mode("llm pipelined", memman, notes,
                                            chat=chat, embed=embed)
        results["llm sequential"] = run_mode("llm sequential", memman, notes,
                                             chat=chat, embed=embed, sequential=True)
        server_errors = chat.errors + embed.errors
    if server_errors:
        fail(f"the loopback servers rejected {len(server_errors)} requests: "
             f"{server_errors[:3]}")

    zero = results["zero-config"]
    zero["goal"] = f"> {ZERO_CONFIG_GOAL:g} rows/min"
    zero["goal_met"] = zero["rows_per_min"] > ZERO_CONFIG_GOAL
    pipe, seq = results["llm pipelined"], results["llm sequential"]
    speedup = pipe["rows_per_min"] / seq["rows_per_min"]
    pipe["speedup"] = round(speedup, 2)
    pipe["goal"] = f">= {SPEEDUP_GOAL:g}x sequential"
    pipe["goal_met"] = speedup >= SPEEDUP_GOAL

    print(f"memman drain throughput: Python {platform.python_version()} "
          f"({platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"{args.rows} distinct notes per mode, one 'memman scheduler drain' process each; "
          f"LLM modes: chat {CHAT_DELAY * 1000:.0f} ms, embeddings {EMBED_DELAY * 1000:.0f} ms "
          f"per request")
    print(f"memman: {memman}")
    print(f"bytecode: {compiled}")
    print()
    print(f"{'mode':<15} {'rows':>5} {'seconds':>8} {'rows/min':>9}  goal")
    for name, r in results.items():
        goal = ""
        if name == "zero-config":
            goal = f"{r['goal']}: {'goal met' if r['goal_met'] else 'goal missed'}"
        elif name == "llm pipelined":
            goal = (f"{r['goal']}: {speedup:.2f}x, "
                    f"{'goal met' if r['goal_met'] else 'goal missed'}")
        elif name == "llm sequential":
            goal = "baseline"
        print(f"{name:<15} {r['rows']:>5} {r['seconds']:>8.1f} {r['rows_per_min']:>9.0f}  "
              f"{goal}".rstrip())
    print()
    for name in ("llm pipelined", "llm sequential"):
        reqs = dict(results[name]["server_requests"])
        texts, embeds = reqs.pop("texts", 0), reqs.pop("embeddings", 0)
        print(f"{name} requests: chat " + ", ".join(f"{k} {v}" for k, v in reqs.items())
              + f"; embeddings {embeds} ({texts} texts)")
    elapsed = time.perf_counter() - bench_start
    print(f"bench took {elapsed:.1f}s")

    if args.json:
        write_results(args.json, memman, {
            "rows": args.rows,
            "chat_delay_ms": CHAT_DELAY * 1000,
            "embed_delay_ms": EMBED_DELAY * 1000,
            "results": results,
            "speedup": round(speedup, 2),
            "elapsed_s": round(elapsed, 1),
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
