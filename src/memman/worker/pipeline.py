"""One queued row -> memories, applied in one store transaction.

Idempotent: every memory a row produces carries the row's id in ``queue_id``; a row
whose memories are already there (a crash between the store commit and marking
the row done) is not applied again.
"""
import json
import uuid

from memman.store.model import DEFAULT_CATEGORY, DEFAULT_IMPORTANCE, DEFAULT_SOURCE, Insight


def hints_of(row) -> dict:
    return {
        "category": row["hint_cat"],
        "importance": row["hint_imp"],
        "source": row["hint_source"],
        "entities": json.loads(row["hint_entities"]) if row["hint_entities"] else None,
        "replaced_id": row["hint_replaced_id"],
        "no_reconcile": bool(row["hint_no_reconcile"]),
    }


def process_row(backend, row) -> dict:
    """Apply ``row`` to ``backend``; returns the per-row result for the drain output."""
    hints = hints_of(row)
    with backend.transaction():
        already = backend.find_by_queue_id(row["id"])
        if already:
            return {"queue_id": row["id"], "action": "already_applied",
                    "ids": [i.id for i in already]}
        if hints["replaced_id"]:
            target = backend.get_insight(hints["replaced_id"])
            if target is not None:
                return _replace(backend, row, hints, target)
        insight = Insight(
            id=str(uuid.uuid4()),
            content=row["content"],
            category=hints["category"] or DEFAULT_CATEGORY,
            importance=hints["importance"] or DEFAULT_IMPORTANCE,
            entities=hints["entities"] or [],
            source=hints["source"] or DEFAULT_SOURCE,
            queue_id=row["id"],
        )
        backend.insert_insight(insight)
        backend.log_op("remember", insight.id, f"queue row {row['id']}", after=insight.snapshot())
    return {"queue_id": row["id"], "action": "added", "ids": [insight.id]}


def _replace(backend, row, hints, target) -> dict:
    before = target.snapshot()
    changes = {"content": row["content"], "queue_id": row["id"],
               "linked_at": None, "enriched_at": None}
    for name in ("category", "importance", "source", "entities"):
        if hints[name] is not None:
            changes[name] = hints[name]
    backend.update_insight(target.id, changes)
    backend.set_embedding(target.id, None, None)  # the old vector described the old text
    after = backend.get_insight(target.id).snapshot()
    backend.log_op("replace", target.id, f"queue row {row['id']}", before=before, after=after)
    return {"queue_id": row["id"], "action": "replaced", "ids": [target.id],
            "replaced_id": target.id}
