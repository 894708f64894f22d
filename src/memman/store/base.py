"""The backend protocol: every storage verb memman uses, in one small class.

A backend subclass implements each verb for one database. Callers never write SQL
outside a backend; anything a command needs from storage is a verb here. Verbs
that change data run in one transaction (``with backend.transaction():`` groups
several into one).
"""
from contextlib import AbstractContextManager
from typing import Iterator

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

    def count_stale(self, prompt_version: str, model_id: str) -> int:
        """Active memories produced under another prompt version or model, or never
        stamped (written before the pipeline enriched them)."""
        raise NotImplementedError

    def has_any_rows(self) -> bool:
        """True once the store ever held a memory (deleted ones count)."""
        raise NotImplementedError

    def active_vectors(self) -> list[tuple[str, bytes]]:
        """(id, float32 blob) of every active memory that has a vector."""
        raise NotImplementedError

    def active_vectors_for(self, insight_ids: list[str]) -> list[tuple[str, bytes]]:
        """(id, blob) for those of ``insight_ids`` that are active and have a vector."""
        raise NotImplementedError

    def vector_sizes(self) -> dict[int, int]:
        """Byte length of stored vectors -> how many active memories have that size."""
        raise NotImplementedError

    def vector_rows(self) -> list[tuple[int, bytes]]:
        """(seq, float32 blob) of every active memory with a vector, by seq."""
        raise NotImplementedError

    def ids_without_vectors(self, limit: int) -> list[str]:
        raise NotImplementedError

    def latest_with_source(self, source: str, exclude: set[str],
                           before: str) -> Insight | None:
        """The newest active memory from ``source`` created at or before ``before``."""
        raise NotImplementedError

    def closest_in_time(self, center: str, start: str, end: str, limit: int,
                        exclude: set[str]) -> list[Insight]:
        """Active memories created in [start, end], closest to ``center`` first."""
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

    def related(self, insight_id: str, edge_type: str | None, depth: int,
                limit: int) -> list[tuple[Insight, int, str]]:
        """Active memories within ``depth`` hops of ``insight_id`` over edges in either
        direction (only ``edge_type`` edges when given), never passing through a
        forgotten memory: (memory, hops, type of the heaviest edge that reached it at
        that distance), nearest first, then importance descending; at most ``limit``."""
        raise NotImplementedError

    # -- export ----------------------------------------------------------------
    def read_snapshot(self) -> AbstractContextManager:
        """A consistent read view for several reads (writers are not blocked)."""
        raise NotImplementedError

    def iter_insights(self, *, include_deleted: bool = True) -> Iterator[Insight]:
        """Every memory in insertion order, fetched in batches (never all at once)."""
        raise NotImplementedError

    def iter_edges(self) -> Iterator[Edge]:
        """Every edge in insertion order, fetched in batches."""
        raise NotImplementedError

    def applied_migrations(self) -> list[str]:
        """Names of the schema migrations applied to this store, in order."""
        raise NotImplementedError

    # -- recall ----------------------------------------------------------------
    # Anchor queries take optional category/source filters so a filtered recall
    # still finds ``limit`` matching memories.
    def recall_keyword(self, terms: list[str], limit: int, *, category=None,
                       source=None) -> list[tuple[str, float]]:
        """(id, relevance) by BM25 over memories matching any term, best first."""
        raise NotImplementedError

    def recall_entity(self, entities: list[str], limit: int, *, category=None,
                      source=None) -> list[tuple[str, int]]:
        """(id, how many of ``entities`` it names), most first, newest first."""
        raise NotImplementedError

    def recall_recent(self, limit: int, *, category=None, source=None) -> list[str]:
        raise NotImplementedError

    def ids_for_seqs(self, seqs: list[int], *, category=None, source=None) -> dict[int, str]:
        """Active memories among ``seqs`` (passing the filters): seq -> id."""
        raise NotImplementedError

    def seqs_for_ids(self, insight_ids: list[str]) -> dict[str, int]:
        raise NotImplementedError

    def vectors_after(self, seq: int, *, changed_since: str | None = None
                      ) -> list[tuple[int, str, bytes]]:
        """(seq, id, blob) of active memories newer than ``seq`` or updated after
        ``changed_since``: what a precomputed vector file may not know yet."""
        raise NotImplementedError

    def edges_from(self, insight_ids: list[str]) -> list[tuple[str, str, str, float]]:
        """(source, target, type, weight) leaving ``insight_ids`` to active memories."""
        raise NotImplementedError

    # -- edges ---------------------------------------------------------------
    def upsert_edge(self, edge: Edge) -> None:
        raise NotImplementedError

    def link_edge(self, edge: Edge, *, keep_heavier: bool = True) -> float | None:
        """Write a manual edge: its metadata and created_at replace any existing edge's;
        the weight is the edge's, or with ``keep_heavier`` the existing one if that is
        higher. Returns the existing weight (None when the edge is new)."""
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

    def optimize(self) -> None:
        """Refresh the planner's statistics (cheap; run after writes in bulk)."""
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
