"""Building stores in exact states for the doctor tests, through the backend verbs."""
import json
import sqlite3
import uuid

import numpy as np

from memman import clock
from memman.config.datadir import DataDir
from memman.recall import matrix
from memman.store.model import Edge, Insight
from memman.store.sqlite import SQLiteBackend
from memman.worker.provenance import HEURISTIC_MODEL, HEURISTIC_PROMPT_VERSION

DIM = 384
FINGERPRINT = {"provider": "builtin", "model": "hash-ngram-v1", "dim": DIM}


def vector(seed: int, dim: int = DIM) -> bytes:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(dim).astype("<f4")
    return (v / np.linalg.norm(v)).astype("<f4").tobytes()


def seed_store(root, n: int, *, store: str = "default", mesh: bool = True,
               fingerprint: dict | None = FINGERPRINT) -> list[str]:
    """``n`` fully processed memories; ``mesh`` links every pair both ways. Writes
    the recall vector file as the worker would. Returns the ids in order."""
    datadir = DataDir(root)
    datadir.ensure_store_dir(store)
    backend = SQLiteBackend(datadir.store_db(store))
    ids = []
    try:
        now = clock.iso()
        with backend.transaction():
            if fingerprint is not None:
                backend.set_meta("embed_fingerprint", json.dumps(fingerprint, sort_keys=True))
            for i in range(n):
                insight = Insight(id=str(uuid.uuid4()), content=f"memory number {i} about "
                                  f"topic{i}", entities=[f"Topic{i}"], keywords=[f"topic{i}"],
                                  linked_at=now, enriched_at=now,
                                  prompt_version=HEURISTIC_PROMPT_VERSION,
                                  model_id=HEURISTIC_MODEL, embedding_model=FINGERPRINT["model"])
                backend.insert_insight(insight)
                backend.set_embedding(insight.id, vector(i), FINGERPRINT["model"])
                backend.log_op("remember", insight.id, "seeded", after={"content": "x"})
                ids.append(insight.id)
            if mesh:
                for a in ids:
                    for b in ids:
                        if a != b:
                            backend.upsert_edge(Edge(a, b, "semantic", 0.7, {}, now))
        if fingerprint is not None:
            matrix.write(datadir.store_dir(store), fingerprint, backend.vector_rows(),
                         clock.iso())
    finally:
        backend.close()
    return ids


def sql(root, statement: str, args=(), *, store: str = "default", fk: bool = True) -> None:
    """Break a store on purpose (the states doctor must notice cannot be reached
    through memman's own verbs)."""
    conn = sqlite3.connect(str(DataDir(root).store_db(store)), isolation_level=None)
    try:
        if not fk:
            conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(statement, args)
    finally:
        conn.close()


def find(result: dict, name: str, **where) -> dict:
    found = [c for c in result["checks"] if c["name"] == name
             and all(c.get(k) == v for k, v in where.items())]
    assert len(found) == 1, (name, where, result["checks"])
    return found[0]
