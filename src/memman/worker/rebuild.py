"""``graph rebuild``: re-enrich, re-embed and relink a store's memories.

Runs under the drain lock, so it never races the worker. Two passes: first every
target memory gets fresh enrichment (LLM, or rules in zero-config mode), a vector
of content + keywords and current provenance stamps; then each is relinked in
creation order (the worker's automatic edges of all targets are dropped first,
then rebuilt; manual links stay). ``stale_only`` limits the targets to memories
stamped by other prompts or another model than the current configuration.
"""
from memman import clock
from memman.errors import MemmanError

BATCH = 50


def rebuild(datadir, settings, store: str, *, stale_only: bool = False, dry_run: bool = False,
            progress: bool = False) -> dict:
    from memman.worker.drain import DrainLock
    from memman.worker.provenance import active

    current = active(settings)
    lock = DrainLock(datadir)
    if not lock.acquire():
        raise MemmanError("a drain or another graph rebuild is running on this data dir; "
                          "try again when it has finished")
    try:
        from memman.llm.client import from_settings
        from memman.worker.context import StoreContext

        llm = None if dry_run else from_settings(settings)
        ctx = StoreContext(datadir, settings, store, llm)
        try:
            targets = _targets(ctx.backend, current if stale_only else None)
            out = {"store": store, "mode": current["mode"],
                   "active_pv": current["prompt_version"], "active_model": current["model_id"]}
            if dry_run:
                return {**out, "total": len(targets), "dry_run": True}
            if not targets:
                return {**out, "processed": 0, "remaining": 0,
                        **({"skipped": "no_stale_rows"} if stale_only else {})}
            from memman import progress as progress_bar

            # One step per memory and pass: re-enrich + re-embed, then relink.
            with progress_bar.bar(2 * len(targets), desc="rebuild", unit="step",
                                  show=None if progress else False) as bar:
                for start in range(0, len(targets), BATCH):
                    _refresh(ctx, targets[start:start + BATCH])
                    bar.update(len(targets[start:start + BATCH]))
                # Drop every target's automatic edges before relinking any: relinking
                # one memory must not delete the edges another's relink just made.
                with ctx.backend.transaction():
                    for insight_id in targets:
                        ctx.backend.delete_auto_edges_of(insight_id)
                for insight_id in targets:
                    _relink(ctx, insight_id)
                    bar.update(1)
            ctx.backend.log_op("rebuild", None,
                               f"{len(targets)} memories ({'stale only' if stale_only else 'all'})")
            from memman.worker.maintenance import write_recall_vectors

            write_recall_vectors(ctx)
            ctx.backend.optimize()
            return {**out, "processed": len(targets), "remaining": 0}
        finally:
            ctx.close()
            if llm is not None:
                llm.close()
    finally:
        lock.release()


def _targets(backend, current: dict | None) -> list[str]:
    rows = backend.newest(10**9, set())
    rows.sort(key=lambda i: (i.created_at, i.id))
    if current is None:
        return [i.id for i in rows]
    return [i.id for i in rows
            if (i.prompt_version or "") != current["prompt_version"]
            or (i.model_id or "") != current["model_id"]]


def _refresh(ctx, ids: list[str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from memman.embed.registry import embed_text
    from memman.embed.vectors import to_blob
    from memman.worker.apply import merge, provenance
    from memman.worker.prepare import Enrichment
    from memman.worker.process import heuristic_enrichment

    rows = ctx.backend.get_insights(ids)
    if ctx.llm is not None:
        from memman.llm import tasks

        with ThreadPoolExecutor(max_workers=5) as pool:
            raw = list(pool.map(lambda r: tasks.enrich(ctx.llm, r.content), rows))
        enrichments = [Enrichment(e.keywords, e.summary, e.semantic_facts, e.entities)
                       for e in raw]
    else:
        enrichments = [heuristic_enrichment(ctx, r.content, r.entities) for r in rows]
    vectors = ctx.embedder.embed([embed_text(r.content, e.keywords)
                                  for r, e in zip(rows, enrichments, strict=True)])
    stamps = provenance(ctx)
    now = clock.iso()
    with ctx.backend.transaction():
        ctx.check_fingerprint()  # an embed swap may have cut over since the embedding
        for row, enrichment, vector in zip(rows, enrichments, vectors, strict=True):
            ctx.backend.update_insight(row.id, {
                "keywords": enrichment.keywords, "summary": enrichment.summary,
                "semantic_facts": enrichment.semantic_facts,
                "entities": merge(row.entities, enrichment.entities),
                "enriched_at": now, "embedding_model": ctx.embedder.model,
                "updated_at": row.updated_at, **stamps})
            ctx.backend.set_embedding(row.id, to_blob(vector), ctx.embedder.model)
        ctx.ensure_fingerprint()
    for row, vector in zip(rows, vectors, strict=True):
        ctx.index.upsert(row.id, vector)


def _relink(ctx, insight_id: str) -> None:
    from memman.embed.vectors import from_blob
    from memman.graph import causal, entity, semantic, temporal

    insight = ctx.backend.get_insight(insight_id)
    if insight is None:
        return
    vector = None
    for _, blob in ctx.backend.active_vectors_for([insight_id]):
        vector = from_blob(blob)
    with ctx.backend.transaction():
        edges = (temporal.temporal_edges(ctx.backend, insight, set())
                 + entity.entity_edges(ctx.backend, insight, set())
                 + semantic.semantic_edges(insight_id, vector, ctx.index, ctx.threshold, set()))
        related = [i for i, _ in ctx.index.search(vector, 5, min_sim=0.3)]
        pool = causal.candidate_pool(ctx.backend, insight, related, set())
        if ctx.llm is None:
            edges += causal.heuristic_edges(insight, pool)
        elif pool:
            from memman.llm import tasks

            from memman.llm.client import LLMError

            try:
                links = tasks.infer_causal(ctx.llm, {"id": insight_id, "content": insight.content},
                                           [{"id": p.id, "content": p.content} for p in pool])
                edges += causal.llm_edges(links)
            except LLMError:
                pass  # its temporal, entity and semantic edges still go in
        for edge in edges:
            ctx.backend.upsert_edge(edge)
        ctx.backend.update_insight(insight_id, {"linked_at": clock.iso(),
                                                "updated_at": insight.updated_at})
