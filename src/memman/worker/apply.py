"""Write a planned row to the store in one transaction: memories, vectors, edges,
oplog, provenance, and a history version of every memory the row updates or
deletes (memman.lifecycle.history). If anything fails the transaction rolls back
and the caller drops the in-memory vector index (it is rebuilt from the store on
next use)."""
import uuid

from memman import clock
from memman.graph import causal, entity, semantic, temporal
from memman.store.model import Insight



def provenance(ctx) -> dict:
    from memman.worker.provenance import HEURISTIC_MODEL, HEURISTIC_PROMPT_VERSION

    if ctx.llm is None:
        return {"prompt_version": HEURISTIC_PROMPT_VERSION, "model_id": HEURISTIC_MODEL}
    from memman.llm.prompts import PROMPT_VERSION

    return {"prompt_version": PROMPT_VERSION,
            "model_id": ctx.llm.models.get("slow_canonical")}


def apply_plan(ctx, plan) -> list[dict]:
    from memman.embed.registry import embed_text
    from memman.embed.swap import write_worker_pending
    from memman.embed.vectors import to_blob

    prepared, backend = plan.prepared, ctx.backend
    row, hints = prepared.row, prepared.hints
    stamps = provenance(ctx)
    results: list[dict] = []
    written: list[tuple[int, Insight, object]] = []  # (fact index, memory, vector)
    removed: list[str] = []
    batch_ids: set[str] = set()
    origin = getattr(ctx, "queue_origin", None)
    with backend.transaction():
        applied = backend.find_by_queue_id(row["id"], origin)
        if applied:
            return [{"action": "already_applied", "ids": [i.id for i in applied]}]
        ctx.check_fingerprint()  # no vectors of a model an embed swap replaced meanwhile
        for n, (fact, decision) in enumerate(zip(prepared.facts, plan.decisions, strict=True)):
            enrichment = prepared.enrichments[n]
            vector = prepared.vectors[n]
            if decision.action == "NONE":
                results.append({"action": "skipped", "content": fact.text,
                                "reason": decision.reason, "target_id": decision.target_id})
                continue
            target = None
            if decision.action in ("UPDATE", "REPLACE") and decision.target_id:
                target = backend.get_insight(decision.target_id)
            now = clock.iso()
            if target is not None:
                text = row["content"] if decision.action == "REPLACE" else (
                    decision.merged_text or fact.text)
                if text != fact.text:
                    vector = ctx.embedder.embed_one(embed_text(text, enrichment.keywords))
                before = target.snapshot()
                op = "replace" if decision.action == "REPLACE" else "reconcile-update"
                why = decision.reason or ("memman replace" if op == "replace" else "")
                backend.save_version(target.id, op, reason=why[:500] or None,
                                     queue_id=row["id"])
                changes = {
                    "content": text, "queue_id": row["id"], "queue_origin": origin,
                    "entities": _entities_after(decision.action, target, fact, enrichment,
                                                hints),
                    "keywords": enrichment.keywords, "summary": enrichment.summary,
                    "semantic_facts": enrichment.semantic_facts,
                    "linked_at": now, "enriched_at": now,
                    "embedding_model": ctx.embedder.model, **stamps,
                }
                for name in ("category", "importance", "source"):
                    if decision.action == "UPDATE" or hints[name] is not None:
                        changes[name] = (hints[name] if hints[name] is not None
                                         else getattr(fact, name, None) or getattr(target, name))
                backend.update_insight(target.id, changes)
                backend.set_embedding(target.id, to_blob(vector), ctx.embedder.model)
                backend.delete_auto_edges_of(target.id)
                after = backend.get_insight(target.id)
                backend.log_op(op, target.id, f"queue row {row['id']}: {decision.reason}"[:500],
                               before=before, after=after.snapshot())
                written.append((n, after, vector))
                batch_ids.add(after.id)
                results.append({"action": "replaced" if op == "replace" else "updated",
                                "id": after.id, "content": text})
                continue
            if decision.action == "DELETE" and decision.target_id:
                old = backend.get_insight(decision.target_id)
                if old is not None and old.id not in batch_ids:
                    backend.save_version(old.id, "reconcile-delete",
                                         reason=(decision.reason or "")[:500] or None,
                                         queue_id=row["id"])
                    backend.soft_delete_insight(old.id)
                    why = f"contradicted by queue row {row['id']}: {decision.reason}"
                    backend.log_op("reconcile-delete", old.id, why[:500], before=old.snapshot())
                    removed.append(old.id)
            insight = Insight(
                id=_free_id(backend, hints.get("id")), created_at=hints.get("created_at") or "",
                content=fact.text, category=fact.category,
                importance=fact.importance,
                entities=merge(fact.entities, enrichment.entities),
                source=hints["source"] or "user", keywords=enrichment.keywords,
                summary=enrichment.summary, semantic_facts=enrichment.semantic_facts,
                linked_at=now, enriched_at=now, embedding_model=ctx.embedder.model,
                queue_id=row["id"], queue_origin=origin, **stamps)
            backend.insert_insight(insight)
            backend.set_embedding(insight.id, to_blob(vector), ctx.embedder.model)
            backend.log_op("remember", insight.id, f"queue row {row['id']}",
                           after=insight.snapshot())
            written.append((n, insight, vector))
            batch_ids.add(insight.id)
            result = {"action": "added", "id": insight.id, "content": fact.text}
            if decision.action == "DELETE" and decision.target_id in removed:
                result["deleted_id"] = decision.target_id
            results.append(result)
        index = ctx.index
        for gone in removed:
            index.remove(gone)
        for _, insight, vector in written:
            index.upsert(insight.id, vector)
        counts = {}
        gone = set(removed)
        for position, (n, insight, vector) in enumerate(written):
            # Link as if the row's facts had arrived one by one: a fact never sees
            # the facts after it (the source's backbone stays in order).
            later = {w[1].id for w in written[position + 1:]} | gone
            edges = (temporal.temporal_edges(backend, insight, later)
                     + entity.entity_edges(backend, insight, later)
                     + semantic.semantic_edges(insight.id, vector, index, ctx.threshold, later)
                     + _causal_edges(plan.causal[n] if n < len(plan.causal) else None, insight))
            edges = [e for e in edges if e.source_id != e.target_id
                     and e.source_id not in gone and e.target_id not in gone]
            for edge in edges:
                backend.upsert_edge(edge)
            counts[insight.id] = _count(edges)
        for result in results:
            if result.get("id") in counts:
                result["edges_created"] = counts[result["id"]]
        write_worker_pending(ctx, plan, written)
        ctx.ensure_fingerprint()
    return results


def _causal_edges(job, insight) -> list:
    """Causal Edges for a written memory from its fact's causal job."""
    if job is None:
        return []
    kind, payload = job
    if kind == "heuristic":
        return causal.heuristic_edges(insight, payload)
    links = []
    for link in payload:
        src = insight.id if link.source_id == "new" else link.source_id
        dst = insight.id if link.target_id == "new" else link.target_id
        if src != dst:
            link.source_id, link.target_id = src, dst
            links.append(link)
    return causal.llm_edges(links)


def _count(edges) -> dict:
    out = {"temporal": 0, "entity": 0, "semantic": 0, "causal": 0}
    for edge in edges:
        out[edge.edge_type] += 1
    return out


def _free_id(backend, wanted: str | None) -> str:
    """An import's original id when no memory of the store (forgotten ones too) has it."""
    if wanted and backend.get_insight(wanted, include_deleted=True) is None:
        return wanted
    return str(uuid.uuid4())


def merge(*lists) -> list[str]:
    from memman.worker.prepare import merge_entities

    return merge_entities(*lists)


def _entities_after(action: str, target, fact, enrichment, hints) -> list[str]:
    """A merge keeps what the target named; a replacement keeps the original's
    entities unless the caller gave new ones with --entities."""
    if action == "REPLACE" and hints["entities"] is not None:
        return merge(hints["entities"], enrichment.entities)
    return merge(target.entities, fact.entities, enrichment.entities)
