"""The backend protocol: every storage verb memman uses, in one small class.

A backend subclass implements each verb for one database. Callers never write SQL
outside a backend; anything a command needs from storage is a verb here. Verbs
that change data run in one transaction (``with backend.transaction():`` groups
several into one).
"""
from contextlib import AbstractContextManager
from typing import Iterator

from memman.store.model import Edge, Insight, OpEntry, Version


# What ``migrate`` copies, table by table in this order (parents before children),
# with every column a backend must give and take (SQLite's names and plain types:
# JSON as text, vectors as little-endian float32 bytes, times as RFC 3339 text).
# Derived data (keyword index, entity index, recall vector file) is rebuilt by the
# target, never copied.
COPIED_TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "insights": (
        "seq", "id", "content", "category", "importance", "entities", "source",
        "access_count", "keywords", "summary", "semantic_facts", "last_accessed_at",
        "embedding", "embedding_pending", "effective_importance", "linked_at",
        "enriched_at", "created_at", "updated_at", "deleted_at", "prompt_version",
        "model_id", "embedding_model", "queue_id", "protected", "queue_origin"),
    "edges": ("source_id", "target_id", "edge_type", "weight", "metadata", "created_at"),
    "oplog": ("id", "operation", "insight_id", "detail", "created_at", "before", "after"),
    "insight_history": (
        "seq", "insight_id", "version", "content", "category", "importance", "entities",
        "source", "keywords", "summary", "semantic_facts", "embedding", "embedding_model",
        "edges", "deleted", "written_at", "queue_id", "changed_at", "change", "reason",
        "changed_by_queue_id"),
}


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

    def find_by_queue_id(self, queue_id: int, origin: str | None = None) -> list[Insight]:
        """Memories written by queue row ``queue_id`` (of the queue.db whose uuid is
        ``origin``, when given)."""
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
        """(id, importance, access_count, last_accessed_at or created_at, edge rows,
        protected) for every active memory."""
        raise NotImplementedError

    def set_effective_importance(self, values: list[tuple[str, float]]) -> None:
        raise NotImplementedError

    def prune_candidates(self, limit: int, created_before: str) -> list[Insight]:
        """Lowest effective importance first, never immune (importance >= 4 or
        protected) and never created at or after ``created_before``."""
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

    # -- usage and recall stats --------------------------------------------------
    def list_oplog_ops(self, operations: list[str], *, since: str | None,
                       limit: int) -> list[OpEntry]:
        """Oplog entries of ``operations`` only, newest first."""
        raise NotImplementedError

    def never_recalled(self, *, created_before: str, limit: int) -> tuple[int, list[Insight]]:
        """Active memories created before ``created_before`` that no recall ever
        returned: (how many, the ``limit`` oldest of them)."""
        raise NotImplementedError

    def insights_by_id_prefix(self, prefixes: list[str]) -> dict[str, Insight]:
        """The memory (active preferred, forgotten ones too) whose id starts with each
        prefix; prefixes that match nothing are left out."""
        raise NotImplementedError

    # -- lifecycle and history ---------------------------------------------------
    def save_version(self, insight_id: str, change: str, *, reason: str | None = None,
                     queue_id: int | None = None) -> int | None:
        """Keep the memory's current state (fields, vector, edges, deleted or not) as
        its next history version, recording ``change`` as what ends it; call it right
        before the change. The new version number, or None for an unknown id."""
        raise NotImplementedError

    def versions_of(self, insight_id: str) -> list[Version]:
        """The memory's earlier versions, oldest first (without vectors and edges)."""
        raise NotImplementedError

    def get_version(self, insight_id: str, version: int) -> Version | None:
        """One earlier version, with its vector and edges."""
        raise NotImplementedError

    def set_protected(self, insight_id: str, protected: bool) -> bool:
        """Mark an active memory (un)protected from auto-prune; False if not active."""
        raise NotImplementedError

    def degrees_of(self, insight_ids: list[str]) -> dict[str, int]:
        """Edge rows touching each of ``insight_ids`` (a mirrored link counts twice);
        ids without edges are left out."""
        raise NotImplementedError

    # -- migrate ---------------------------------------------------------------
    def dump_rows(self, table: str, *, batch: int = 500) -> Iterator[dict]:
        """Every row of ``table`` (a COPIED_TABLES key) as a dict of exactly its
        COPIED_TABLES columns, in primary-key order, deleted memories included."""
        raise NotImplementedError

    def load_rows(self, table: str, rows: list[dict]) -> None:
        """Insert ``rows`` (as dump_rows gives them) keeping every value, ids and
        sequence numbers included; the caller holds a transaction."""
        raise NotImplementedError

    # -- embed swap ------------------------------------------------------------
    # Moving a store to another embedder while it stays in use (memman.embed.swap):
    # the new model's vectors are backfilled into a pending slot per memory, beside
    # the live ``embedding`` that recall and the worker keep using, then one cutover
    # transaction makes them live. The swap's state is in meta: ``embed_swap_state``
    # ("backfilling"), ``embed_swap_cursor`` (highest seq the backfill has passed),
    # ``embed_swap_target_provider``, ``_target_model``, ``_target_dim``.
    # Invariant every backend keeps: a change of a memory's content or keywords
    # clears its pending vector (it was made from the old text).
    def swap_state(self) -> dict | None:
        """The swap in progress: ``{state, cursor, target_provider, target_model,
        target_dim}`` (cursor and dim as ints), or None when there is none."""
        raise NotImplementedError

    def swap_begin(self, target: dict) -> None:
        """Start a swap to ``target`` ({provider, model, dim}) in one transaction:
        every memory gets an empty pending slot for ``dim``-dimension vectors (a
        column on Postgres), and meta records state "backfilling", the target and
        cursor 0. Raises MemmanError when a swap is already in progress."""
        raise NotImplementedError

    def pending_batch(self, after_seq: int, limit: int) -> list[tuple]:
        """Active memories with ``seq > after_seq`` and no pending vector, by seq:
        ``(seq, id, content, keywords list or None, token)``. ``token`` is opaque and
        goes back to ``write_pending``; it identifies the text as read."""
        raise NotImplementedError

    def write_pending(self, rows: list[tuple], target: dict, *,
                      cursor: int | None = None) -> int:
        """Store pending vectors, ``rows`` = ``(id, float32 blob, token)``, in one
        transaction, and advance ``embed_swap_cursor`` to ``cursor`` when given. A row
        whose content or keywords changed since ``pending_batch`` read its token is
        skipped (token None: write regardless; for a caller that holds the row's write
        transaction). Writes nothing unless a swap to ``target`` is in progress.
        Returns how many vectors were stored."""
        raise NotImplementedError

    def count_missing_pending(self) -> int:
        """Active memories without a pending vector (meaningful during a swap)."""
        raise NotImplementedError

    def cutover_transaction(self) -> AbstractContextManager:
        """A transaction during which no other writer can change memories (SQLite:
        the BEGIN IMMEDIATE write lock; Postgres: also lock the memories table), so
        the last missing pending vectors can be filled and ``swap_cutover`` run with
        nothing slipping in between."""
        raise NotImplementedError

    def swap_cutover(self, target: dict) -> int:
        """In one transaction: every active memory's pending vector becomes its live
        one (``embedding_model`` = target model), a forgotten memory's vector becomes
        its pending one or none, pending slots are dropped, ``embed_fingerprint``
        becomes ``target`` and the swap keys are deleted. Raises MemmanError (and
        changes nothing) if no swap to ``target`` is in progress or an active memory
        still lacks a pending vector. Returns the number of active memories switched."""
        raise NotImplementedError

    def swap_abort(self) -> bool:
        """Drop every pending vector (the column and its index on Postgres) and the
        swap keys, in one transaction; live vectors and the fingerprint are untouched.
        False when no swap was in progress."""
        raise NotImplementedError

    # -- doctor ----------------------------------------------------------------
    # Read-only facts for ``memman doctor`` and the health line of ``status``.
    def integrity_problems(self, limit: int = 20) -> list[str]:
        """What the database's own consistency check reports; [] when it is sound."""
        raise NotImplementedError

    def insight_columns(self) -> set[str]:
        """Column names of the memories table as stored."""
        raise NotImplementedError

    def enrichment_gaps(self) -> dict[str, int]:
        """Active memories lacking each pipeline product: ``enriched_at``,
        ``linked_at``, ``embedding`` -> how many lack it."""
        raise NotImplementedError

    def oplog_delta_counts(self, operations: tuple[str, ...]) -> tuple[int, int]:
        """(oplog rows of ``operations``, how many of them carry before/after)."""
        raise NotImplementedError

    def orphan_count(self) -> int:
        """Active memories without any edge."""
        raise NotImplementedError

    def dangling_edge_count(self) -> int:
        """Edges with an endpoint that is missing or forgotten."""
        raise NotImplementedError

    def edge_degrees(self) -> list[int]:
        """Edge rows touching each active memory (a mirrored link counts twice)."""
        raise NotImplementedError

    def meta_keys(self, prefix: str) -> list[str]:
        """Meta keys starting with ``prefix``, sorted."""
        raise NotImplementedError

    def keyword_index_drift(self) -> tuple[int, int]:
        """(active memories missing from the keyword index, index rows that belong
        to no active memory)."""
        raise NotImplementedError

    # -- postgres and many hosts ---------------------------------------------------
    # Vector anchors come from the backend (an index on Postgres, the recall vector
    # file or a scan on SQLite), so recall has one path. ``query`` is a float32
    # little-endian blob of the store's dimension.
    def vector_top(self, query: bytes, k: int, *, min_sim: float = 0.0, category=None,
                   source=None) -> list[tuple[str, float]]:
        """(id, cosine) of the ``k`` active memories nearest ``query`` with cosine >=
        ``min_sim`` (and passing the filters), best first."""
        raise NotImplementedError

    def vector_similarity(self, query: bytes, insight_ids: list[str]) -> dict[str, float]:
        """Cosine of ``query`` with each of ``insight_ids`` that is active and has a
        vector of the same size."""
        raise NotImplementedError

    def vector_source(self, query: bytes) -> str:
        """Where ``vector_top`` finds its answers: "index", "matrix" or "store"."""
        return "store"

    def vector_file_dir(self) -> str | None:
        """The folder for the recall vector file the worker writes; None for a backend
        that answers vector queries from its own index (nothing to write)."""
        return None

    def bind_vector_dim(self, dim: int) -> None:
        """Fix the store's vector size to ``dim`` (the fingerprint's). A backend that
        enforces sizes refuses a different ``dim`` with a one-line error; SQLite does
        not enforce them, so the default does nothing."""

    def drain_lock(self, timeout: float | None = None) -> AbstractContextManager:
        """Held for this store's part of a drain, so workers on several hosts never
        drain into one store at once; yields False when ``timeout`` seconds passed
        without getting it. The default yields True at once: a per-host store is
        already serialised by the data dir's drain.lock."""
        from contextlib import nullcontext

        return nullcontext(True)

    def record_heartbeat(self, host: str, pid: int, run_id: str | None = None) -> None:
        """Note that the worker on ``host`` is draining into this store now."""
        import json

        from memman import clock

        self.set_meta(f"worker_heartbeat:{host}", json.dumps(
            {"host": host, "pid": int(pid), "run_id": run_id,
             "last_heartbeat_at": clock.iso()}, sort_keys=True))

    def heartbeats(self) -> list[dict]:
        """The last heartbeat of each host: {host, pid, run_id, last_heartbeat_at},
        by host."""
        import json

        out = []
        for key in self.meta_keys("worker_heartbeat:"):
            try:
                out.append(json.loads(self.get_meta(key) or ""))
            except ValueError:
                continue
        return sorted(out, key=lambda h: h.get("host", ""))
