"""Manual edges queued by ``memman import``, applied at the end of a drain.

An import queues its memories as ordinary rows and their manual edges in the
``pending_edges`` table of queue.db. Each endpoint is either the memory the worker
stores for a queue row (``*_queue_id``) or an existing memory of the store (when
that is NULL). An edge is written once both endpoints are active memories, exactly
as exported (weight, metadata, created_at). It is dropped when an endpoint can never
appear (its queue row is done but stored nothing that is still active, e.g. the
memory was forgotten or pruned since) or after ``MAX_AGE_SECONDS`` of waiting.
"""
from memman import clock
from memman.store.model import Edge

BATCH = 2000  # edges looked at per store per drain
MAX_AGE_SECONDS = 7 * 86400
WAITING_STATUSES = ("pending", "claimed", "failed", "stale")  # the row may still store it

WAIT = "wait"
GONE = "gone"


def apply_pending(queue, backend, store: str, *, limit: int = BATCH) -> dict:
    """Resolve and write the store's pending edges: {applied, dropped, waiting}."""
    rows = queue.pending_edges(store, limit)
    if not rows:
        return {"applied": 0, "dropped": 0, "waiting": 0}
    cutoff = clock.now() - MAX_AGE_SECONDS
    statuses: dict[int, str | None] = {}
    ready: list[tuple[int, Edge]] = []
    dropped: list[int] = []
    waiting = 0
    for row in rows:
        source = _resolve(queue, backend, row["source_id"], row["source_queue_id"], statuses)
        target = _resolve(queue, backend, row["target_id"], row["target_queue_id"], statuses)
        if GONE in (source, target):
            dropped.append(row["id"])
        elif WAIT in (source, target):
            if row["queued_at"] < cutoff:
                dropped.append(row["id"])
            else:
                waiting += 1
        elif source == target:  # both ends became one memory: never a self-link
            dropped.append(row["id"])
        else:
            import json

            ready.append((row["id"], Edge(source, target, row["edge_type"], row["weight"],
                                          json.loads(row["metadata"] or "{}"),
                                          row["created_at"] or "")))
    if ready:
        with backend.transaction():
            for _, edge in ready:
                backend.link_edge(edge, keep_heavier=False)
            backend.log_op("link", None, f"import: applied {len(ready)} manual edge(s)")
    queue.delete_pending_edges([i for i, _ in ready] + dropped)
    return {"applied": len(ready), "dropped": len(dropped), "waiting": waiting}


def _resolve(queue, backend, insight_id: str, queue_id: int | None, statuses: dict) -> str:
    """The active memory's id, WAIT, or GONE."""
    if queue_id is None:
        found = backend.get_insight(insight_id)
        return found.id if found is not None else WAIT
    for insight in backend.find_by_queue_id(queue_id, queue.origin):
        if insight.deleted_at is None:
            return insight.id
    if queue_id not in statuses:
        row = queue.get(queue_id)
        statuses[queue_id] = row["status"] if row is not None else None
    return WAIT if statuses[queue_id] in WAITING_STATUSES else GONE


def apply_all(run) -> dict:
    """Every store with pending edges (within the drain's ``--stores``), per store."""
    from memman.store.open import open_store, store_exists

    out: dict = {}
    for store in run.queue.pending_edge_stores():
        if run.stores and store not in run.stores:
            continue
        try:
            ctx = run.contexts.get(store)
            if ctx is not None:
                out[store] = apply_pending(run.queue, ctx.backend, store)
                continue
            if not store_exists(run.datadir, run.settings, store):
                continue  # nothing stored yet: the edges wait for the store's rows
            backend = open_store(run.datadir, run.settings, store)
            try:
                out[store] = apply_pending(run.queue, backend, store)
            finally:
                backend.close()
        except Exception as exc:  # upkeep failing must not lose the pass's work
            out[store] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
