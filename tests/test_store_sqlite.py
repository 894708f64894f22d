"""The SQLite backend: migrations, FTS sync, edges, oplog, transactions."""
import sqlite3
import uuid

import pytest

from memman.store.model import Edge, Insight
from memman.store.sqlite import SQLiteBackend
from memman.store.sqlite_schema import migrations


@pytest.fixture
def backend(tmp_path):
    b = SQLiteBackend(tmp_path / "memman.db")
    yield b
    b.close()


def add(backend, content, **kw):
    insight = Insight(id=str(uuid.uuid4()), content=content, **kw)
    backend.insert_insight(insight)
    return insight


def fts_ids(backend, word):
    return [r.id for r in backend.search_basic([word], category=None, source=None, limit=100)]


def test_migrations_recorded_once(tmp_path):
    path = tmp_path / "m.db"
    SQLiteBackend(path).close()
    SQLiteBackend(path).close()
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == sorted(migrations.names)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental


def test_schema_has_reference_columns(backend):
    cols = {r[1] for r in backend.conn.execute("PRAGMA table_info(insights)")}
    for name in ("prompt_version", "model_id", "embedding_model", "linked_at", "enriched_at",
                 "last_accessed_at", "effective_importance", "summary", "keywords",
                 "semantic_facts", "embedding", "embedding_pending", "queue_id", "deleted_at"):
        assert name in cols


def test_fts_follows_insert_update_and_soft_delete(backend):
    a = add(backend, "The deploy pipeline uses GitHub Actions")
    assert fts_ids(backend, "pipeline") == [a.id]
    assert fts_ids(backend, "deploying") == [a.id]  # porter stemming
    backend.update_insight(a.id, {"content": "The release process uses Buildkite"})
    assert fts_ids(backend, "pipeline") == []
    assert fts_ids(backend, "buildkite") == [a.id]
    backend.update_insight(a.id, {"keywords": ["ci", "automation"]})
    assert fts_ids(backend, "automation") == [a.id]
    assert backend.soft_delete_insight(a.id)
    assert fts_ids(backend, "buildkite") == []
    backend.conn.execute("DELETE FROM insights WHERE id = ?", (a.id,))
    assert backend.conn.execute("SELECT count(*) FROM insights_fts").fetchone()[0] == 0


def test_fts_indexes_entities(backend):
    a = add(backend, "owns the invoices", entities=["Alice", "BillingService"])
    assert fts_ids(backend, "alice") == [a.id]


def test_search_basic_is_and_filtered_and_ordered(backend):
    low = add(backend, "redis cache eviction policy", importance=2)
    high = add(backend, "redis cache warmup script", importance=5, category="fact")
    add(backend, "redis only", importance=5)
    found = [r.id for r in backend.search_basic(["redis", "cache"], category=None, source=None,
                                                 limit=10)]
    assert found == [high.id, low.id]
    only_facts = backend.search_basic(["redis", "cache"], category="fact", source=None, limit=10)
    assert [r.id for r in only_facts] == [high.id]
    assert backend.search_basic(["redis"], category=None, source="agent", limit=10) == []


def test_search_basic_survives_fts_syntax_in_terms(backend):
    add(backend, 'a "quoted" NEAR OR thing')
    for term in ['"', "OR", "NEAR(", "*", "a:b"]:
        backend.search_basic([term], category=None, source=None, limit=5)  # no exception


def test_soft_delete_drops_edges_and_is_single_shot(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.7))
    backend.upsert_edge(Edge(b.id, a.id, "semantic", 0.7))
    assert backend.soft_delete_insight(a.id) is True
    assert backend.edges_of(b.id) == []
    assert backend.soft_delete_insight(a.id) is False
    assert backend.get_insight(a.id) is None
    assert backend.get_insight(a.id, include_deleted=True).deleted_at


def test_edge_upsert_keeps_max_weight_and_manual_metadata(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.4, {"created_by": "auto"}))
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.9, {"created_by": "auto", "v": 2}))
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.5, {"created_by": "auto", "v": 3}))
    (edge,) = backend.edges_of(a.id)
    assert edge.weight == 0.9 and edge.metadata["v"] == 2
    backend.upsert_edge(Edge(a.id, b.id, "causal", 0.5, {"created_by": "manual"}))
    backend.upsert_edge(Edge(a.id, b.id, "causal", 0.8, {"created_by": "llm"}))
    causal = [e for e in backend.edges_of(a.id) if e.edge_type == "causal"][0]
    assert causal.weight == 0.8 and causal.metadata["created_by"] == "manual"


def test_edge_type_is_checked(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    with pytest.raises(sqlite3.IntegrityError):
        backend.upsert_edge(Edge(a.id, b.id, "friendship", 1.0))


def test_transaction_rolls_back_everything(backend):
    with pytest.raises(RuntimeError):
        with backend.transaction():
            add(backend, "will vanish")
            backend.log_op("remember", None, "x")
            raise RuntimeError("boom")
    assert backend.counts()["total_insights"] == 0
    assert backend.list_oplog(since=None, limit=10) == []


def test_oplog_before_after_and_stats(backend):
    a = add(backend, "alpha")
    backend.log_op("forget", a.id, "bye", before=a.snapshot())
    (entry,) = backend.list_oplog(since=None, limit=5)
    assert entry.before["content"] == "alpha" and entry.after is None
    stats = backend.oplog_stats(since=None)
    assert stats == {"operation_counts": {"forget": 1}, "never_accessed": 1, "total_active": 1}


def test_counts_and_top_entities(backend):
    add(backend, "one", entities=["Alice", "Bob"], category="fact")
    add(backend, "two", entities=["alice"])
    gone = add(backend, "three", entities=["Alice"])
    backend.soft_delete_insight(gone.id)
    counts = backend.counts()
    assert counts["total_insights"] == 2 and counts["deleted_insights"] == 1
    assert counts["by_category"] == {"fact": 1, "general": 1}
    assert counts["top_entities"][0]["count"] == 2


def test_record_access_skips_deleted(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    backend.soft_delete_insight(b.id)
    backend.record_access([a.id, b.id])
    assert backend.get_insight(a.id).access_count == 1
    assert backend.get_insight(b.id, include_deleted=True).access_count == 0


def test_embedding_roundtrip_float32(backend):
    import struct

    a = add(backend, "alpha")
    blob = struct.pack("<3f", 0.25, -0.5, 1.0)
    backend.set_embedding(a.id, blob, "builtin:hash-v1")
    row = backend.conn.execute("SELECT embedding, embedding_model FROM insights").fetchone()
    assert struct.unpack("<3f", row[0]) == (0.25, -0.5, 1.0)
    assert row[1] == "builtin:hash-v1"


def test_note_recall_gives_up_quickly_when_store_is_busy(tmp_path):
    path = tmp_path / "busy.db"
    b = SQLiteBackend(path)
    a = add(b, "alpha")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        assert b.note_recall([a.id], "recall:basic", "q") is False
    finally:
        blocker.execute("ROLLBACK")
    assert b.note_recall([a.id], "recall:basic", "q") is True
    assert b.get_insight(a.id).access_count == 1
    b.close()
