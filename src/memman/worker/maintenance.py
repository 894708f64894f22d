"""Upkeep after every drain, whatever budget the drain used.

Effective importance refresh, auto-prune over ``MEMMAN_MAX_INSIGHTS`` (immune and
just-written memories are never pruned), vectors for memories that lack one,
oplog trimming, and queue hygiene (done rows, old worker runs).
"""
import math

from memman import clock
from memman.embed.vectors import to_blob

HALF_LIFE_DAYS = 30.0
BASE_WEIGHT = {5: 1.0, 4: 0.8, 3: 0.5, 2: 0.3}
EDGE_FACTOR = 0.1
EDGE_CAP = 5
PRUNE_BATCH = 50
PRUNE_GRACE_SECONDS = 3600  # a memory younger than this is never pruned
OPLOG_RETENTION_DAYS = 180
OPLOG_MAX_ROWS = 5000
BACKFILL_BATCH = 200


def effective_importance(importance: int, access_count: int, last_seen: str, edges: int,
                         now: float) -> float:
    """base(importance) x max(1, ln(1 + accesses)) x 0.5^(days idle / 30) x edge bonus."""
    base = BASE_WEIGHT.get(importance, 0.15)
    days = max(0.0, (now - clock.parse_iso(last_seen)) / 86400)
    return round(base * max(1.0, math.log1p(access_count)) * 0.5 ** (days / HALF_LIFE_DAYS)
                 * (1 + EDGE_FACTOR * min(edges, EDGE_CAP)), 6)


def refresh_importance(backend) -> int:
    now = clock.now()
    values = [(row[0], effective_importance(row[1], row[2], row[3], row[4], now))
              for row in backend.importance_inputs()]
    backend.set_effective_importance(values)
    return len(values)


def auto_prune(backend, cap: int) -> list[str]:
    excess = backend.count_active() - cap
    pruned: list[str] = []
    if excess <= 0:
        return pruned
    grace = clock.iso(clock.now() - PRUNE_GRACE_SECONDS)
    while excess > 0:
        batch = backend.prune_candidates(min(excess, PRUNE_BATCH), grace)
        if not batch:
            break
        with backend.transaction():
            for insight in batch:
                if backend.soft_delete_insight(insight.id):
                    backend.log_op("auto_prune", insight.id,
                                   f"effective importance {insight.effective_importance:.3f}",
                                   before=insight.snapshot())
                    pruned.append(insight.id)
        excess -= len(batch)
    return pruned


def backfill_vectors(ctx) -> int:
    """Memories stored without a vector (older builds, a failed embedder) get one."""
    from memman.embed.registry import embed_text

    ids = ctx.backend.ids_without_vectors(BACKFILL_BATCH)
    if not ids:
        return 0
    rows = ctx.backend.get_insights(ids)
    vectors = ctx.embedder.embed([embed_text(r.content, r.keywords) for r in rows])
    with ctx.backend.transaction():
        for row, vector in zip(rows, vectors, strict=True):
            ctx.backend.set_embedding(row.id, to_blob(vector), ctx.embedder.model)
        ctx.ensure_fingerprint()
    for row, vector in zip(rows, vectors, strict=True):
        ctx.index.upsert(row.id, vector)
    return len(rows)


def maintain_store(ctx, cap: int) -> dict:
    out = {"backfilled": backfill_vectors(ctx)}
    refresh_importance(ctx.backend)
    pruned = auto_prune(ctx.backend, cap)
    for gone in pruned:
        ctx.index.remove(gone)
    out["pruned"] = len(pruned)
    out["oplog_trimmed"] = ctx.backend.trim_oplog(
        clock.iso(clock.now() - OPLOG_RETENTION_DAYS * 86400), OPLOG_MAX_ROWS)
    out["recall_vectors"] = write_recall_vectors(ctx)
    ctx.backend.optimize()
    return out


def write_recall_vectors(ctx) -> int | None:
    """Refresh the store's recall vector file (None when the store has no fingerprint)."""
    import json
    import os

    from memman.recall import matrix

    text = ctx.backend.get_meta("embed_fingerprint")
    if not text:
        return None
    written_at = clock.iso()  # before reading: later changes count as newer than the file
    store_dir = os.path.dirname(ctx.backend.location)
    return matrix.write(store_dir, json.loads(text), ctx.backend.vector_rows(), written_at)


def maintain_queue(queue) -> dict:
    return {"done_purged": queue.purge("done"), "runs_pruned": queue.prune_runs()}
