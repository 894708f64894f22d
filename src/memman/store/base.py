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

    # -- edges ---------------------------------------------------------------
    def upsert_edge(self, edge: Edge) -> None:
        raise NotImplementedError

    def edges_of(self, insight_id: str) -> list[Edge]:
        raise NotImplementedError

    def delete_edges_of(self, insight_id: str) -> int:
        raise NotImplementedError

    # -- oplog ---------------------------------------------------------------
    def log_op(self, operation: str, insight_id: str | None, detail: str | None = None,
               before: dict | None = None, after: dict | None = None) -> None:
        raise NotImplementedError

    def list_oplog(self, *, since: str | None, limit: int) -> list[OpEntry]:
        raise NotImplementedError

    def oplog_stats(self, *, since: str | None) -> dict:
        raise NotImplementedError
