#!/usr/bin/env python3
"""Whole-process latency of ``memman mcp``, as an MCP client starts and calls it.

Every sample spawns one ``memman mcp`` process, writes JSON-RPC lines to its stdin
and times, with ``time.perf_counter`` from just before the spawn:

* ``baseline``          ``python -c "import click, sqlite3"`` run to exit: the floor
                        any click + sqlite3 CLI pays
* ``initialize``        until the ``initialize`` answer line arrives (what a client
                        waits for before it can list tools); ``+exit`` also closes
                        stdin and waits for the process to end
* ``memory_recall``     ``initialize``, then one ``tools/call memory_recall`` with a
                        2-5 word query (ranked recall, cold process: imports numpy,
                        reads the vector file), until its answer arrives; ``+exit``
                        as above

against a throw-away data dir holding a synthetic, drained store of
``--store-size`` memories (built as bench/recall_latency.py builds it: builtin
vectors, graph, recall vector file). The commands run interleaved round-robin, 3
warm-up rounds then ``--runs`` timed rounds (default 20), each recall with a
different query taken from a stored memory. Then ``warm recall``: ``--runs``
recalls answered one after another by a single long-running server, timed per
call (no process start-up). Results: median and p90 milliseconds, and the ratio
to the baseline median. Report only: the exit status is 0 unless a call fails.

Usage::

    python bench/mcp_latency.py [--runs 20] [--store-size 10000] [--memman PATH]
                                [--json OUT]

Standard library + numpy + memman (to build the store).
"""
import argparse
import json
import os
import platform
import random
import statistics
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

from hotpath import (  # noqa: E402
    byte_compile, child_env, find_memman, p90, run, write_results)
from recall_latency import build_store, make_queries  # noqa: E402

WARMUP_ROUNDS = 3
SEED = 42
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "bench", "version": "1"}}}


def recall_request(query: str, msg_id: int = 2) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call",
            "params": {"name": "memory_recall", "arguments": {"query": query, "limit": 10}}}


class Session:
    """One ``memman mcp`` process; ``ask`` writes a request and reads its answer."""

    def __init__(self, memman: str, env: dict):
        self.proc = subprocess.Popen([memman, "mcp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def ask(self, message: dict) -> dict:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"bench: memman mcp ended early: {self.proc.stderr.read().decode()[-2000:]}")
        answer = json.loads(line)
        if "error" in answer or answer.get("result", {}).get("isError"):
            sys.exit(f"bench: memman mcp answered an error: {answer}")
        return answer

    def finish(self) -> None:
        self.proc.stdin.close()
        if self.proc.wait(timeout=60) != 0:
            sys.exit(f"bench: memman mcp exited {self.proc.returncode}")


def time_session(memman: str, env: dict, query: str | None) -> tuple[float, float, dict]:
    """(ms to the last answer, ms to process exit, last answer)."""
    start = time.perf_counter()
    session = Session(memman, env)
    answer = session.ask(INITIALIZE)
    if query is not None:
        answer = session.ask(recall_request(query))
    answered = time.perf_counter()
    session.finish()
    ended = time.perf_counter()
    return (answered - start) * 1000.0, (ended - start) * 1000.0, answer


def summary(samples: list[float], base: float) -> dict:
    med = statistics.median(samples)
    return {"runs": len(samples), "median_ms": round(med, 2), "p90_ms": round(p90(samples), 2),
            "ratio": round(med / base, 3), "samples_ms": [round(s, 2) for s in samples]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per row (20)")
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
    names = ("baseline", "initialize", "initialize +exit", "memory_recall",
             "memory_recall +exit")
    samples: dict[str, list[float]] = {name: [] for name in names}
    hits: list[int] = []

    with tempfile.TemporaryDirectory(prefix="memman-bench-") as tmp:
        root = Path(tmp) / "data"
        env = child_env(root)
        t0 = time.perf_counter()
        memories, _ = build_store(root, args.store_size, rng)
        build_s = time.perf_counter() - t0
        queries = make_queries(rng, memories, total + args.runs)

        for i in range(total):
            jobs = ["baseline", "initialize", "memory_recall"]
            jobs = jobs[i % 3:] + jobs[:i % 3]  # rotate positions too
            for job in jobs:
                if job == "baseline":
                    ms, _ = run("baseline", [sys.executable, "-c", "import click, sqlite3"], env)
                    if i >= WARMUP_ROUNDS:
                        samples["baseline"].append(ms)
                    continue
                query = queries[i] if job == "memory_recall" else None
                answered, ended, answer = time_session(memman, env, query)
                if i < WARMUP_ROUNDS:
                    continue
                samples[job].append(answered)
                samples[f"{job} +exit"].append(ended)
                if query is not None:
                    hits.append(len(answer["result"]["structuredContent"]["results"]))

        session = Session(memman, env)  # warm: one server, many recalls
        session.ask(INITIALIZE)
        session.ask(recall_request(queries[0], 1))
        warm = []
        for n, query in enumerate(queries[total:total + args.runs]):
            start = time.perf_counter()
            session.ask(recall_request(query, n + 2))
            warm.append((time.perf_counter() - start) * 1000.0)
        session.finish()

    base = statistics.median(samples["baseline"])
    results = {name: summary(samples[name], base) for name in names}
    results["warm recall (per call)"] = summary(warm, base)
    print(f"memman mcp latency: Python {platform.python_version()} "
          f"({platform.system()} {platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"store: {args.store_size} memories (built in {build_s:.1f}s); {args.runs} runs per "
          f"row after {WARMUP_ROUNDS} warm-up rounds")
    print(f"memman: {memman}")
    print(f"bytecode: {compiled}")
    print()
    print(f"{'row':<24} {'runs':>4} {'median ms':>10} {'p90 ms':>8} {'ratio':>7}")
    for name, r in results.items():
        print(f"{name:<24} {r['runs']:>4} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} "
              f"{r['ratio']:>6.2f}x")
    print()
    print(f"memory_recall hits per query: median {statistics.median(hits):g} "
          f"(min {min(hits)}, max {max(hits)})")
    elapsed = time.perf_counter() - bench_start
    print(f"bench took {elapsed:.1f}s")
    if args.json:
        write_results(args.json, memman, {
            "store_size": args.store_size,
            "runs": args.runs, "warmup_rounds": WARMUP_ROUNDS, "results": results,
            "elapsed_s": round(elapsed, 1),
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
