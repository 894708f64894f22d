"""Records stored by every backend, and the contract's constants."""
import json
from dataclasses import dataclass, field, fields

from memman.constants import (  # noqa: F401  (re-exported for callers of the model)
    CATEGORIES, DEFAULT_CATEGORY, DEFAULT_IMPORTANCE, DEFAULT_SOURCE, EDGE_TYPES,
    MAX_CONTENT_BYTES, MAX_ENTITIES, MAX_ENTITY_CHARS, SOURCES,
)

JSON_LIST_FIELDS = ("entities", "keywords", "semantic_facts")


@dataclass
class Insight:
    id: str
    content: str
    category: str = DEFAULT_CATEGORY
    importance: int = DEFAULT_IMPORTANCE
    entities: list = field(default_factory=list)
    source: str = DEFAULT_SOURCE
    access_count: int = 0
    keywords: list | None = None
    summary: str | None = None
    semantic_facts: list | None = None
    last_accessed_at: str | None = None
    effective_importance: float = 0.5
    linked_at: str | None = None
    enriched_at: str | None = None
    created_at: str = ""
    updated_at: str = ""
    deleted_at: str | None = None
    prompt_version: str | None = None
    model_id: str | None = None
    embedding_model: str | None = None
    queue_id: int | None = None
    protected: bool = False
    # Which queue.db ``queue_id`` counts in (that queue's uuid): hosts sharing a
    # Postgres store number their queue rows independently.
    queue_origin: str | None = None

    COLUMNS = ()  # filled below

    @classmethod
    def from_row(cls, row) -> "Insight":
        data = {}
        keys = row.keys()
        for name in cls.COLUMNS:
            if name not in keys:
                continue
            value = row[name]
            if name in JSON_LIST_FIELDS and isinstance(value, str):
                value = json.loads(value) if value else ([] if name == "entities" else None)
            data[name] = value
        if "protected" in data:
            data["protected"] = bool(data["protected"])
        return cls(**data)

    def to_dict(self) -> dict:
        """The JSON shape every command prints for a memory."""
        out = {
            "id": self.id,
            "content": self.content,
            "category": self.category,
            "importance": self.importance,
            "entities": list(self.entities or []),
            "source": self.source,
            "access_count": self.access_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        for optional in ("deleted_at", "summary", "linked_at", "enriched_at", "queue_id"):
            value = getattr(self, optional)
            if value is not None:
                out[optional] = value
        if self.protected:
            out["protected"] = True
        return out

    def snapshot(self) -> dict:
        """The fields the oplog keeps as before/after images."""
        return {
            "content": self.content,
            "category": self.category,
            "importance": self.importance,
            "entities": list(self.entities or []),
            "source": self.source,
            "summary": self.summary,
        }


Insight.COLUMNS = tuple(f.name for f in fields(Insight))


@dataclass
class Version:
    """An earlier state of a memory, kept when a change replaced or deleted it.

    ``written_at``/``queue_id``: when and by which queue row this state was written;
    ``changed_at``/``change``/``reason``/``changed_by_queue_id``: what ended it (an oplog
    operation such as ``reconcile-update``, ``forget`` or ``restore``). ``embedding``
    and ``edges`` are loaded only for a restore."""
    insight_id: str
    version: int
    content: str
    category: str
    importance: int
    entities: list
    source: str
    deleted: bool
    written_at: str
    queue_id: int | None
    changed_at: str
    change: str
    reason: str | None = None
    changed_by_queue_id: int | None = None
    keywords: list | None = None
    summary: str | None = None
    semantic_facts: list | None = None
    embedding: bytes | None = None
    embedding_model: str | None = None
    edges: list | None = None

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "content": self.content,
            "category": self.category,
            "importance": self.importance,
            "entities": list(self.entities or []),
            "source": self.source,
            "deleted": self.deleted,
            "written_at": self.written_at,
            "queue_id": self.queue_id,
            "changed_at": self.changed_at,
            "change": self.change,
            "reason": self.reason,
            "changed_by_queue_id": self.changed_by_queue_id,
        }


@dataclass
class Edge:
    source_id: str
    target_id: str
    edge_type: str
    weight: float = 1.0
    metadata: dict = field(default_factory=dict)
    created_at: str = ""

    def to_dict(self) -> dict:
        return {
            "source_id": self.source_id,
            "target_id": self.target_id,
            "edge_type": self.edge_type,
            "weight": self.weight,
            "metadata": self.metadata,
            "created_at": self.created_at,
        }


@dataclass
class OpEntry:
    id: int
    operation: str
    insight_id: str | None
    detail: str | None
    created_at: str
    before: dict | None = None
    after: dict | None = None

    @classmethod
    def from_row(cls, row) -> "OpEntry":
        """An oplog row of either backend: before/after as JSON text (SQLite) or
        already decoded (Postgres JSONB)."""
        def image(value):
            return json.loads(value) if isinstance(value, str) and value else (value or None)

        return cls(row["id"], row["operation"], row["insight_id"], row["detail"],
                   row["created_at"], image(row["before"]), image(row["after"]))

    def to_dict(self) -> dict:
        return {
            "created_at": self.created_at,
            "operation": self.operation,
            "insight_id": self.insight_id,
            "detail": self.detail,
        }
