"""Upkeep after every drain, whatever budget the drain used.

Effective importance refresh (memman.lifecycle.retention), auto-prune over
``MEMMAN_MAX_INSIGHTS`` (immune and just-written memories are never pruned; a pruned
memory keeps its last state as a history version, so ``insights restore`` can bring
it back), vectors for memories that lack one, oplog trimming, and queue hygiene
(done rows, old worker runs).
"""
from memman import clock
from memman.embed.vectors import to_blob
from memman.lifecycle.retention import effective_importance

PRUNE_BATCH = 50
# At most this many memories are pruned per pass: a store far over the cap (a lowered
# MEMMAN_MAX_INSIGHTS, a big import) shrinks over several passes instead of one pass
# that runs for minutes and holds the store's write lock throughout.
PRUNE_PER_PASS = 200
PRUNE_GRACE_SECONDS = 3600  # a memory younger than this is never pruned
OPLOG_RETENTION_DAYS = 180
OPLOG_MAX_ROWS = 5000
BACKFILL_BATCH = 200


def refresh_importance(backend) -> int:
    now = clock.now()
    values = [(row[0], effective_importance(row[1], row[2], row[3], row[4], now))
              for row in backend.importance_inputs()]
    backend.set_effective_importance(values)
    return len(values)


def auto_prune(backend, cap: int) -> list[str]:
    excess = min(backend.count_active() - cap, PRUNE_PER_PASS)
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
                why = f"effective importance {insight.effective_importance:.3f}"
                backend.save_version(insight.id, "auto_prune", reason=why)
                if backend.soft_delete_insight(insight.id):
                    backend.log_op("auto_prune", insight.id, why, before=insight.snapshot())
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
        ctx.check_fingerprint()
        for row, vector in zip(rows, vectors, strict=True):
            ctx.backend.set_embedding(row.id, to_blob(vector), ctx.embedder.model)
        ctx.ensure_fingerprint()
    for row, vector in zip(rows, vectors, strict=True):
        ctx.index.upsert(row.id, vector)
    return len(rows)


def maintain_store(ctx, cap: int) -> dict:
    ctx.follow_swap()  # an embed swap may have cut over during the drain
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
    return write_store_vectors(ctx.backend)


def write_store_vectors(backend) -> int | None:
    """``write_recall_vectors`` for an open backend (``embed swap`` calls it at cutover)."""
    import json

    from memman.recall import matrix

    store_dir = backend.vector_file_dir()
    if store_dir is None:  # the backend answers vector queries from its own index
        return None
    written_at = clock.iso()  # before reading: later changes count as newer than the file
    # One read view: the fingerprint and the vectors must be of the same model, even
    # when an embed swap cuts over meanwhile.
    with backend.read_snapshot():
        text = backend.get_meta("embed_fingerprint")
        if not text:
            return None
        rows = backend.vector_rows()
    return matrix.write(store_dir, json.loads(text), rows, written_at)


def maintain_queue(queue) -> dict:
    return {"done_purged": queue.purge("done"), "runs_pruned": queue.prune_runs()}
