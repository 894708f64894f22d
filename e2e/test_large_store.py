"""A 100,000-memory store is recalled correctly (whole processes).

The store is built straight through the SQLite backend by the recall benchmark's
builder (the worker would take an hour for 100k rows), with vectors, edges and the
recall vector file as a drained store has them. Then: distinctive queries find their
memory in the top 3, a forgotten memory never comes back, and a memory written after
the vector file is still found.
"""
import json
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIZE = 100_000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import recall_latency
    finally:
        sys.path.remove(str(ROOT / "bench"))
    root = tmp_path_factory.mktemp("big") / "memman"
    memories, _ = recall_latency.build_store(root, SIZE, random.Random(7))
    return root, memories, recall_latency


def test_hundred_thousand_memories(big_store, memman_bin, tmp_path):
    import subprocess

    root, memories, bench = big_store
    env = {"MEMMAN_DATA_DIR": str(root), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def mm(*args):
        proc = subprocess.run([memman_bin, *args], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    assert mm("status")["total_insights"] == SIZE
    check = bench.correctness_check(memman_bin, memories, env, random.Random(11))
    assert check["ok"], [c for c in check["cases"] if c["rank"] is None]

    target_id, content = memories[len(memories) // 2]
    words = " ".join(content.split()[:8])
    assert target_id in [r["insight"]["id"] for r in mm("recall", words)["results"]]
    mm("forget", target_id)
    assert target_id not in [r["insight"]["id"] for r in mm("recall", words)["results"]]

    mm("remember", "Zebulon calibrates the quasar telemetry dashboards nightly",
       "--no-reconcile")
    mm("scheduler", "drain")
    hit = mm("recall", "quasar telemetry Zebulon")["results"][0]
    assert hit["insight"]["content"].startswith("Zebulon calibrates")
