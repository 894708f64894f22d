"""The backend protocol: every storage verb memman uses, in one small class.

A backend subclass implements each verb for one database. Callers never write SQL
outside a backend; anything a command needs from storage is a verb here. Verbs
that change data run in one transaction (``with backend.transaction():`` groups
several into one).
"""
from contextlib import AbstractContextManager

from memman.store.model import Edge, Insight, OpEntry


class Backend:
    name = "abstract"
    readonly = False

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager:
        raise NotImplementedError

    @property
    def location(self) -> str:
        """Where the data lives (a path or a schema), for status output."""
        raise NotImplementedError

    # -- meta --------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        raise NotImplementedError

    def set_meta(self, key: str, value: str | None) -> None:
        raise NotImplementedError

    # -- memories ----------------------------------------------------------
    def insert_insight(self, insight: Insight) -> None:
        raise NotImplementedError

    def get_insight(self, insight_id: str, *, include_deleted: bool = False) -> Insight | None:
        raise NotImplementedError

    def update_insight(self, insight_id: str, changes: dict) -> None:
        raise NotImplementedError

    def soft_delete_insight(self, insight_id: str) -> bool:
        """Mark deleted and drop its edges; False if it was not active."""
        raise NotImplementedError

    def find_by_queue_id(self, queue_id: int) -> list[Insight]:
        raise NotImplementedError

    def search_basic(self, terms: list[str], *, category: str | None, source: str | None,
                     limit: int) -> list[Insight]:
        raise NotImplementedError

    def record_access(self, insight_ids: list[str]) -> None:
        raise NotImplementedError

    def note_recall(self, insight_ids: list[str], operation: str, detail: str) -> bool:
        """Best-effort access bookkeeping plus an oplog line. Never blocks a recall
        for long and never raises; False when it was skipped."""
        raise NotImplementedError

    def counts(self) -> dict:
        """total/deleted counts, edges, oplog rows, by_category, top_entities."""
        raise NotImplementedError

    def set_embedding(self, insight_id: str, vector: bytes | None, model: str | None) -> None:
        raise NotImplementedError

    def get_insights(self, insight_ids: list[str]) -> list[Insight]:
        """Active memories among ``insight_ids`` (any order)."""
        raise NotImplementedError

    def count_active(self) -> int:
        raise NotImplementedError

    def has_any_rows(self) -> bool:
        """True once the store ever held a memory (deleted ones count)."""
        raise NotImplementedError

    def active_vectors(self) -> list[tuple[str, bytes]]:
        """(id, float32 blob) of every active memory that has a vector."""
        raise NotImplementedError

    def ids_without_vectors(self, limit: int) -> list[str]:
        raise NotImplementedError

    def latest_with_source(self, source: str, exclude: set[str]) -> Insight | None:
        raise NotImplementedError

    def created_since(self, since: str, limit: int, exclude: set[str]) -> list[Insight]:
        """Newest first, active, created at or after ``since``."""
        raise NotImplementedError

    def newest(self, limit: int, exclude: set[str]) -> list[Insight]:
        raise NotImplementedError

    def entity_sharers(self, entity: str, limit: int, exclude: set[str]) -> list[str]:
        """Newest active memories naming ``entity`` (case-insensitive)."""
        raise NotImplementedError

    def entity_count(self, entity: str) -> int:
        raise NotImplementedError

    def keyword_candidates(self, terms: list[str], limit: int,
                           exclude: set[str]) -> list[tuple[str, float]]:
        """Active memories matching any term, best BM25 first: (id, score)."""
        raise NotImplementedError

    def term_doc_count(self, term: str) -> int:
        """How many active memories contain ``term`` (as the keyword index sees it)."""
        raise NotImplementedError

    def neighbours(self, insight_ids: list[str], depth: int, limit: int) -> list[str]:
        """Ids reachable over edges within ``depth`` hops (excluding the start ids)."""
        raise NotImplementedError

    # -- edges ---------------------------------------------------------------
    def upsert_edge(self, edge: Edge) -> None:
        raise NotImplementedError

    def edges_of(self, insight_id: str) -> list[Edge]:
        raise NotImplementedError

    def delete_edges_of(self, insight_id: str) -> int:
        raise NotImplementedError

    def delete_auto_edges_of(self, insight_id: str) -> int:
        """Drop the edges the worker derived for a memory; manual links stay."""
        raise NotImplementedError

    def count_edges(self) -> int:
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------
    def importance_inputs(self) -> list[tuple]:
        """(id, importance, access_count, last_accessed_at or created_at, edge rows)
        for every active memory."""
        raise NotImplementedError

    def set_effective_importance(self, values: list[tuple[str, float]]) -> None:
        raise NotImplementedError

    def prune_candidates(self, limit: int, created_before: str) -> list[Insight]:
        """Lowest effective importance first, never immune (importance >= 4 or
        accessed 3+ times) and never created at or after ``created_before``."""
        raise NotImplementedError

    def trim_oplog(self, before: str, keep: int) -> int:
        raise NotImplementedError

    # -- oplog ---------------------------------------------------------------
    def log_op(self, operation: str, insight_id: str | None, detail: str | None = None,
               before: dict | None = None, after: dict | None = None) -> None:
        raise NotImplementedError

    def list_oplog(self, *, since: str | None, limit: int) -> list[OpEntry]:
        raise NotImplementedError

    def oplog_stats(self, *, since: str | None) -> dict:
        raise NotImplementedError
