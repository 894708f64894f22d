"""A memory's earlier versions, and putting one back.

Every change that replaces or removes a memory's content first keeps the current
state as the next version (``Backend.save_version``): reconciliation UPDATE and
DELETE, ``replace``, ``forget``, auto-prune, and ``restore`` itself. A version
holds the fields, the vector and the edges the memory had, and says what ended
it (the oplog operation, the reason, the queue row).

``restore`` makes version N the current state again, in one transaction: fields,
vector (when it still fits the store's embedder, else none, so the next drain
re-embeds it), undeleted if it was forgotten, the worker's edges of the newer text
replaced by the version's edges whose other end is still active. Manual links stay.
The state it replaces is kept as a new version, so a restore can be undone the same
way.
"""
import json

from memman import clock
from memman.errors import MemmanError, NotFoundError
from memman.store.model import Edge


def current_entry(insight) -> dict:
    """The memory as it is now, shaped like a history version."""
    return {"content": insight.content, "category": insight.category,
            "importance": insight.importance, "entities": list(insight.entities or []),
            "source": insight.source, "deleted": insight.deleted_at is not None,
            "written_at": insight.updated_at, "queue_id": insight.queue_id, "current": True}


def chain(backend, insight) -> dict:
    versions = [v.to_dict() for v in backend.versions_of(insight.id)]
    now = {"version": len(versions) + 1, **current_entry(insight)}
    return {"id": insight.id, "current_version": now["version"], "versions": versions + [now]}


def restore(backend, insight_id: str, number: int) -> dict:
    current = backend.get_insight(insight_id, include_deleted=True)
    if current is None:
        raise NotFoundError(f"insight '{insight_id}' not found")
    known = len(backend.versions_of(insight_id))
    if number == known + 1:
        raise MemmanError(f"version {number} is the current version of insight "
                          f"'{insight_id}'; nothing to restore")
    target = backend.get_version(insight_id, number)
    if target is None:
        span = f"it has versions 1-{known + 1}, {known + 1} being the current one" if known \
            else "it has no earlier versions"
        raise MemmanError(f"insight '{insight_id}' has no version {number}; {span}")
    with backend.transaction():
        backend.save_version(insight_id, "restore", reason=f"restored version {number}")
        vector = target.embedding if _fits(backend, target.embedding,
                                           target.embedding_model) else None
        backend.update_insight(insight_id, {
            "content": target.content, "category": target.category,
            "importance": target.importance, "entities": target.entities,
            "source": target.source, "keywords": target.keywords, "summary": target.summary,
            "semantic_facts": target.semantic_facts, "queue_id": target.queue_id,
            "deleted_at": None, "linked_at": clock.iso()})
        backend.set_embedding(insight_id, vector, target.embedding_model if vector else None)
        backend.delete_auto_edges_of(insight_id)
        edges = [Edge(e["source_id"], e["target_id"], e["edge_type"], e["weight"],
                      e.get("metadata") or {}, e.get("created_at") or "")
                 for e in target.edges or []]
        others = {e.target_id if e.source_id == insight_id else e.source_id for e in edges}
        alive = {i.id for i in backend.get_insights(list(others - {insight_id}))}
        kept = [e for e in edges
                if (e.target_id if e.source_id == insight_id else e.source_id) in alive]
        for edge in kept:
            backend.upsert_edge(edge)
        after = backend.get_insight(insight_id)
        backend.log_op("restore", insight_id, f"restored version {number}",
                       before=current.snapshot(), after=after.snapshot())
    return {"status": "restored", "id": insight_id, "restored_version": number,
            "current_version": known + 2, "undeleted": current.deleted_at is not None,
            "edges_restored": len(kept), "embedding": "restored" if vector else "pending",
            "insight": after.to_dict()}


def _fits(backend, blob: bytes | None, model: str | None) -> bool:
    """A kept vector is reused only when the store's embedder made it: the same model
    (an embed swap may keep the dimension) and the same dimension."""
    if blob is None:
        return False
    try:
        fingerprint = json.loads(backend.get_meta("embed_fingerprint") or "null")
    except ValueError:
        return False
    fingerprint = fingerprint or {}
    if model and fingerprint.get("model") and model != fingerprint["model"]:
        return False
    dim = fingerprint.get("dim")
    return not dim or len(blob) == 4 * int(dim)
