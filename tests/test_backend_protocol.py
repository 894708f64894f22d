"""The backend protocol, verb by verb, on SQLite and on Postgres: both must behave
the same. Postgres-only facts (schema naming, the HNSW index, advisory locks, DSN
errors) are at the end."""
import json
import struct
import uuid

import pytest

from memman.errors import MemmanError
from memman.store.model import Edge, Insight


def _open_pg(dsn, store, **kw):
    from memman.store.postgres import PostgresBackend

    return PostgresBackend(dsn, store, **kw)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    if request.param == "sqlite":
        from memman.store.sqlite import SQLiteBackend

        b = SQLiteBackend(tmp_path / "memman.db")
    else:
        b = _open_pg(request.getfixturevalue("pg_dsn"), "t" + uuid.uuid4().hex[:12],
                     create=True)
    yield b
    b.close()


@pytest.fixture
def pg(pg_dsn):
    b = _open_pg(pg_dsn, "proto", create=True)
    yield b
    b.close()


def add(backend, content, **kw):
    insight = Insight(id=str(uuid.uuid4()), content=content, **kw)
    backend.insert_insight(insight)
    return insight


def words(backend, *terms, **kw):
    return [r.id for r in backend.search_basic(list(terms), category=kw.get("category"),
                                               source=kw.get("source"), limit=100)]


def blob(*values):
    return struct.pack(f"<{len(values)}f", *values)


# -- memories ---------------------------------------------------------------------
def test_insert_get_update_roundtrip(backend):
    a = add(backend, "alpha", category="fact", importance=4, entities=["Alice"],
            keywords=["k1"], semantic_facts=["f"], queue_id=7)
    got = backend.get_insight(a.id)
    assert (got.content, got.category, got.importance) == ("alpha", "fact", 4)
    assert got.entities == ["Alice"] and got.keywords == ["k1"] and got.semantic_facts == ["f"]
    assert got.queue_id == 7 and got.protected is False and got.created_at.endswith("Z")
    backend.update_insight(a.id, {"summary": "s", "entities": ["Bob", "Carol"]})
    got = backend.get_insight(a.id)
    assert got.summary == "s" and got.entities == ["Bob", "Carol"]
    assert [i.id for i in backend.find_by_queue_id(7)] == [a.id]
    with pytest.raises(ValueError):
        backend.update_insight(a.id, {"nope": 1})
    assert backend.set_protected(a.id, True) and backend.get_insight(a.id).protected


def test_soft_delete_drops_edges_and_is_single_shot(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.7))
    backend.upsert_edge(Edge(b.id, a.id, "semantic", 0.7))
    assert backend.soft_delete_insight(a.id) is True
    assert backend.edges_of(b.id) == []
    assert backend.soft_delete_insight(a.id) is False
    assert backend.get_insight(a.id) is None
    assert backend.get_insight(a.id, include_deleted=True).deleted_at
    assert backend.get_insights([a.id, b.id])[0].id == b.id
    assert backend.count_active() == 1 and backend.has_any_rows()
    assert backend.set_protected(a.id, True) is False


# -- keyword index -------------------------------------------------------------------
def test_keyword_index_follows_insert_update_and_soft_delete(backend):
    a = add(backend, "The deploy pipeline uses GitHub Actions")
    assert words(backend, "pipeline") == [a.id]
    assert words(backend, "deploying") == [a.id]  # stemming
    assert words(backend, "the") == [a.id]  # no stop words, as FTS5
    backend.update_insight(a.id, {"content": "The release process uses Buildkite"})
    assert words(backend, "pipeline") == []
    assert words(backend, "buildkite") == [a.id]
    backend.update_insight(a.id, {"keywords": ["ci", "automation"]})
    assert words(backend, "automation") == [a.id]
    assert backend.term_doc_count("automation") == 1
    assert backend.soft_delete_insight(a.id)
    assert words(backend, "buildkite") == []
    assert backend.term_doc_count("automation") == 0
    assert backend.keyword_index_drift() == (0, 0)


def test_keyword_index_splits_punctuation_and_indexes_entities(backend):
    a = add(backend, "run deploy.sh from ci/scripts", entities=["Alice", "BillingService"])
    assert words(backend, "alice") == [a.id]
    assert words(backend, "billingservice") == [a.id]
    assert words(backend, "scripts") == [a.id] and words(backend, "deploy") == [a.id]


def test_search_basic_is_and_filtered_and_ordered(backend):
    low = add(backend, "redis cache eviction policy", importance=2)
    high = add(backend, "redis cache warmup script", importance=5, category="fact")
    add(backend, "redis only", importance=5)
    assert words(backend, "redis", "cache") == [high.id, low.id]
    assert words(backend, "redis", "cache", category="fact") == [high.id]
    assert words(backend, "redis", source="agent") == []


def test_search_survives_query_syntax_in_terms(backend):
    add(backend, 'a "quoted" NEAR OR thing')
    for term in ['"', "OR", "NEAR(", "*", "a:b", "&|!", "'"]:
        backend.search_basic([term], category=None, source=None, limit=5)
        backend.recall_keyword([term], 5)
        backend.term_doc_count(term)


def test_keyword_ranking_is_or_and_prefers_content(backend):
    in_content = add(backend, "kafka consumer lag alert")
    in_keywords = add(backend, "a note about queues", keywords=["kafka"])
    other = add(backend, "postgres vacuum", category="fact")
    ranked = [i for i, _ in backend.recall_keyword(["kafka", "vacuum"], 10)]
    assert set(ranked) == {in_content.id, in_keywords.id, other.id}
    assert ranked.index(in_content.id) < ranked.index(in_keywords.id)
    assert [i for i, _ in backend.recall_keyword(["kafka", "vacuum"], 10,
                                                 category="fact")] == [other.id]
    found = backend.keyword_candidates(["kafka"], 10, {in_content.id})
    assert [i for i, _ in found] == [in_keywords.id] and found[0][1] > 0


# -- entities, recency --------------------------------------------------------------
def test_entity_verbs(backend):
    one = add(backend, "one", entities=["Alice", "Bob"])
    two = add(backend, "two", entities=["alice"])
    gone = add(backend, "three", entities=["Alice"])
    backend.soft_delete_insight(gone.id)
    assert backend.entity_count("ALICE") == 2
    assert set(backend.entity_sharers("alice", 10, set())) == {one.id, two.id}
    assert backend.entity_sharers("alice", 10, {two.id}) == [one.id]
    assert backend.recall_entity(["alice", "BOB"], 10)[0] == (one.id, 2)
    assert backend.recall_recent(1) == [two.id]
    assert [i.id for i in backend.newest(5, {two.id})] == [one.id]


def test_counts_and_top_entities(backend):
    add(backend, "one", entities=["Alice", "Bob"], category="fact")
    add(backend, "two", entities=["alice"])
    gone = add(backend, "three", entities=["Alice"])
    backend.soft_delete_insight(gone.id)
    counts = backend.counts()
    assert counts["total_insights"] == 2 and counts["deleted_insights"] == 1
    assert counts["by_category"] == {"fact": 1, "general": 1}
    assert counts["top_entities"][0] == {"entity": "Alice", "count": 2}


def test_record_access_skips_deleted_and_note_recall(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    backend.soft_delete_insight(b.id)
    backend.record_access([a.id, b.id])
    assert backend.get_insight(a.id).access_count == 1
    assert backend.get_insight(b.id, include_deleted=True).access_count == 0
    assert backend.note_recall([a.id], "recall:basic", "q") is True
    assert backend.get_insight(a.id).access_count == 2
    assert backend.list_oplog_ops(["recall:basic"], since=None, limit=5)[0].detail == "q"


# -- edges and the graph ----------------------------------------------------------------
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
    assert backend.link_edge(Edge(a.id, b.id, "causal", 0.3, {"created_by": "manual"})) == 0.8
    assert backend.delete_auto_edges_of(a.id) == 1  # the semantic one; the manual stays
    assert [e.edge_type for e in backend.edges_of(b.id)] == ["causal"]
    assert backend.count_edges() == 1


def test_edge_type_is_checked(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    with pytest.raises(Exception):  # noqa: B017 (each driver raises its own IntegrityError)
        backend.upsert_edge(Edge(a.id, b.id, "friendship", 1.0))
    assert backend.count_edges() == 0


def test_neighbourhood_verbs(backend):
    a, b, c, d = (add(backend, n, importance=i) for n, i in
                  (("a", 3), ("b", 2), ("c", 5), ("d", 3)))
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.5))
    backend.upsert_edge(Edge(a.id, b.id, "causal", 0.9))
    backend.upsert_edge(Edge(b.id, c.id, "temporal", 1.0))
    backend.upsert_edge(Edge(d.id, a.id, "entity", 1.0))
    assert backend.neighbours([a.id], 1, 10) == [b.id]
    assert set(backend.neighbours([a.id], 2, 10)) == {b.id, c.id}
    related = [(i.id, hops, via) for i, hops, via in backend.related(a.id, None, 2, 10)]
    assert related[:2] in ([(d.id, 1, "entity"), (b.id, 1, "causal")],
                           [(b.id, 1, "causal"), (d.id, 1, "entity")])
    assert related[2] == (c.id, 2, "temporal")
    assert [i.id for i, _, _ in backend.related(a.id, "semantic", 2, 10)] == [b.id]
    assert sorted(backend.edges_from([a.id])) == sorted(
        [(a.id, b.id, "semantic", 0.5), (a.id, b.id, "causal", 0.9)])
    assert backend.degrees_of([a.id, c.id]) == {a.id: 3, c.id: 1}
    backend.soft_delete_insight(c.id)
    assert backend.neighbours([a.id], 2, 10) == [b.id]
    assert backend.orphan_count() == 0 and backend.dangling_edge_count() == 0


# -- oplog and meta -------------------------------------------------------------------
def test_oplog_before_after_stats_and_trim(backend):
    a = add(backend, "alpha")
    backend.log_op("forget", a.id, "bye", before=a.snapshot())
    backend.log_op("remember", a.id, "hi", after={"content": "alpha"})
    first, second = backend.list_oplog(since=None, limit=5)
    assert first.operation == "remember" and first.after == {"content": "alpha"}
    assert second.before["content"] == "alpha" and second.after is None
    stats = backend.oplog_stats(since=None)
    assert stats == {"operation_counts": {"forget": 1, "remember": 1}, "never_accessed": 1,
                     "total_active": 1}
    assert backend.oplog_delta_counts(("forget",)) == (1, 1)
    assert backend.trim_oplog("0000", 1) == 1
    assert [e.operation for e in backend.list_oplog(since=None, limit=5)] == ["remember"]


def test_meta(backend):
    assert backend.get_meta("k") is None
    backend.set_meta("k", "v1")
    backend.set_meta("k", "v2")
    backend.set_meta("k_x", "w")
    assert backend.get_meta("k") == "v2"
    assert backend.meta_keys("k_") == ["k_x"]
    backend.set_meta("k", None)
    assert backend.get_meta("k") is None


def test_transaction_rolls_back_everything(backend):
    with pytest.raises(RuntimeError):
        with backend.transaction():
            add(backend, "will vanish")
            backend.log_op("remember", None, "x")
            backend.set_meta("k", "v")
            raise RuntimeError("boom")
    assert backend.counts()["total_insights"] == 0
    assert backend.list_oplog(since=None, limit=10) == []
    assert backend.get_meta("k") is None


# -- history ----------------------------------------------------------------------------
def test_history_versions_keep_vector_and_edges(backend):
    a, b = add(backend, "first words", entities=["X"]), add(backend, "beta")
    backend.set_embedding(a.id, blob(0.25, -0.5, 1.0), "m1")
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.6, {"created_by": "auto"}))
    assert backend.save_version(a.id, "reconcile-update", reason="newer") == 1
    backend.update_insight(a.id, {"content": "second words"})
    assert backend.save_version(a.id, "forget") == 2
    assert backend.save_version("missing", "forget") is None
    versions = backend.versions_of(a.id)
    assert [(v.version, v.content, v.change) for v in versions] == [
        (1, "first words", "reconcile-update"), (2, "second words", "forget")]
    assert versions[0].entities == ["X"] and versions[0].embedding is None
    full = backend.get_version(a.id, 1)
    assert full.embedding == blob(0.25, -0.5, 1.0) and full.embedding_model == "m1"
    assert full.edges[0]["target_id"] == b.id and full.reason == "newer"
    assert backend.get_version(a.id, 9) is None


# -- vectors -----------------------------------------------------------------------------
def test_vectors_roundtrip_float32(backend):
    a, b = add(backend, "alpha"), add(backend, "beta")
    backend.set_embedding(a.id, blob(0.25, -0.5, 1.0), "builtin:hash-v1")
    assert backend.active_vectors() == [(a.id, blob(0.25, -0.5, 1.0))]
    assert backend.active_vectors_for([a.id, b.id]) == [(a.id, blob(0.25, -0.5, 1.0))]
    assert backend.vector_sizes() == {12: 1}
    assert backend.ids_without_vectors(10) == [b.id]
    assert backend.get_insight(a.id).embedding_model == "builtin:hash-v1"
    seq = backend.seqs_for_ids([a.id])[a.id]
    assert backend.vector_rows() == [(seq, blob(0.25, -0.5, 1.0))]
    assert backend.ids_for_seqs([seq]) == {seq: a.id}
    assert [r[1] for r in backend.vectors_after(0)] == [a.id]
    assert backend.vectors_after(seq) == []


def test_vector_top_ranks_filters_and_skips_forgotten(backend):
    import json

    backend.set_meta("embed_fingerprint", json.dumps({"provider": "t", "model": "m", "dim": 3}))
    near = add(backend, "near", category="fact")
    mid = add(backend, "mid")
    far = add(backend, "far")
    gone = add(backend, "gone")
    for insight, vec in ((near, (1, 0, 0)), (mid, (0.8, 0.6, 0)), (far, (0, 0, 1)),
                         (gone, (1, 0, 0))):
        backend.set_embedding(insight.id, blob(*vec), "m")
    backend.soft_delete_insight(gone.id)
    query = blob(1, 0, 0)
    top = backend.vector_top(query, 5, min_sim=0.1)
    assert [i for i, _ in top] == [near.id, mid.id]
    assert top[0][1] == pytest.approx(1.0) and top[1][1] == pytest.approx(0.8)
    assert [i for i, _ in backend.vector_top(query, 5, min_sim=0.1, category="fact")] == [
        near.id]
    assert [i for i, _ in backend.vector_top(query, 1)] == [near.id]
    sims = backend.vector_similarity(query, [mid.id, far.id, gone.id])
    assert set(sims) == {mid.id, far.id} and sims[far.id] == pytest.approx(0.0, abs=1e-6)
    assert backend.vector_source(query) in ("index", "store", "matrix")


# -- lifecycle, export, doctor ------------------------------------------------------------
def test_lifecycle_verbs(backend):
    keep = add(backend, "important", importance=5)
    weak = add(backend, "weak", importance=1)
    backend.set_effective_importance([(weak.id, 0.1), (keep.id, 0.9)])
    assert backend.get_insight(weak.id).effective_importance == pytest.approx(0.1)
    assert [i.id for i in backend.prune_candidates(10, "9999")] == [weak.id]
    inputs = {r[0]: r for r in backend.importance_inputs()}
    assert inputs[weak.id][1:3] == (1, 0) and inputs[weak.id][5] == 0
    count, oldest = backend.never_recalled(created_before="9999", limit=1)
    assert count == 2 and len(oldest) == 1
    assert backend.insights_by_id_prefix([keep.id[:8], "zzzz"]) == {
        keep.id[:8]: backend.get_insight(keep.id)}
    assert backend.count_stale("pv", "m") == 2


def test_export_iterators_and_snapshot(backend):
    ids = [add(backend, f"row {n}").id for n in range(7)]
    backend.upsert_edge(Edge(ids[0], ids[1], "temporal", 1.0))
    backend.soft_delete_insight(ids[6])
    with backend.read_snapshot():
        assert [i.id for i in backend.iter_insights(batch=3)] == ids
        assert [i.id for i in backend.iter_insights(include_deleted=False)] == ids[:6]
        assert [(e.source_id, e.edge_type) for e in backend.iter_edges()] == [
            (ids[0], "temporal")]
    names = backend.applied_migrations()
    assert names and len(names) == len(set(names))


def test_doctor_verbs_on_a_sound_store(backend):
    a = add(backend, "alpha")
    assert backend.integrity_problems() == []
    assert {"id", "content", "embedding", "deleted_at"} <= backend.insight_columns()
    assert backend.enrichment_gaps() == {"enriched_at": 1, "linked_at": 1, "embedding": 1}
    assert backend.edge_degrees() == [0] and backend.orphan_count() == 1
    backend.optimize()
    assert backend.get_insight(a.id) is not None


def test_many_hosts_verbs(backend):
    with backend.drain_lock(timeout=0) as got:
        assert got is True
    backend.record_heartbeat("host-a", 11, "run-1")
    backend.record_heartbeat("host-b", 22, None)
    backend.record_heartbeat("host-a", 12, "run-2")
    beats = backend.heartbeats()
    assert [(h["host"], h["pid"], h["run_id"]) for h in beats] == [
        ("host-a", 12, "run-2"), ("host-b", 22, None)]
    assert all(h["last_heartbeat_at"].endswith("Z") for h in beats)
    backend.bind_vector_dim(3)  # SQLite: no-op; Postgres: types the column


# -- Postgres only -------------------------------------------------------------------------
def _schemas(dsn):
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}


def test_pg_awkward_store_names_get_distinct_schemas(pg_dsn):
    from memman.config.stores import pg_schema_name

    names = ["work", "Work", "my-store", "9lives", "x" * 64, "a_b", "a-b"]
    opened = []
    for name in names:
        b = _open_pg(pg_dsn, name, create=True)
        add(b, f"memory of {name}")
        opened.append(b)
    schemas = [pg_schema_name(n) for n in names]
    assert len(set(schemas)) == len(names) and all(len(s) <= 63 for s in schemas)
    assert set(schemas) <= _schemas(pg_dsn)
    for name, b in zip(names, opened, strict=True):
        assert [i.content for i in b.newest(5, set())] == [f"memory of {name}"]
        b.close()
    from memman.store.postgres import store_schemas

    assert set(store_schemas(pg_dsn)) == set(names)


def test_pg_missing_store_is_not_created_without_create(pg_dsn):
    from memman.errors import NotFoundError

    with pytest.raises(NotFoundError, match="does not exist"):
        _open_pg(pg_dsn, "ghost")
    assert "store_ghost" not in _schemas(pg_dsn)


def test_pg_hnsw_index_and_vector_size_are_bound_once(pg_dsn):
    import json

    from memman.store import pg_connect

    b = _open_pg(pg_dsn, "vec", create=True)
    a = add(b, "alpha")
    b.set_embedding(a.id, blob(1, 0, 0, 0), "m")
    b.set_meta("embed_fingerprint", json.dumps({"provider": "t", "model": "m", "dim": 4}))
    index_sql = "SELECT indexrelid::bigint, pg_get_indexdef(indexrelid) FROM pg_index " \
                "WHERE indexrelid = to_regclass('store_vec.idx_insights_hnsw')"
    oid, definition = b.conn.execute(index_sql).fetchone()
    assert "hnsw" in definition and "vector_cosine_ops" in definition
    assert "deleted_at IS NULL" in definition
    b.close()
    pg_connect.close_parked()  # a brand-new connection, as another process would open
    again = _open_pg(pg_dsn, "vec")
    again.bind_vector_dim(4)
    again.set_meta("embed_fingerprint", json.dumps({"provider": "t", "model": "m", "dim": 4}))
    assert again.conn.execute(index_sql).fetchone()[0] == oid  # never rebuilt
    assert again.applied_migrations().count("vector_dim_4") == 1
    assert again.conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'store_vec.insights'::regclass AND attname = 'embedding'"
    ).fetchone()[0] == "vector(4)"
    with pytest.raises(MemmanError) as err:
        again.set_embedding(a.id, blob(1, 0, 0), "m")
    assert "\n" not in str(err.value) and "vector(4)" in str(err.value)
    with pytest.raises(MemmanError, match="vector\\(4\\)"):
        again.bind_vector_dim(8)
    assert again.active_vectors() == [(a.id, blob(1, 0, 0, 0))]
    again.close()


def test_pg_vector_top_can_use_the_hnsw_index(pg):
    import json

    pg.set_meta("embed_fingerprint", json.dumps({"provider": "t", "model": "m", "dim": 3}))
    a = add(pg, "alpha")
    pg.set_embedding(a.id, blob(1, 0, 0), "m")
    with pg.transaction():
        pg.conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in pg.conn.execute(
            "EXPLAIN SELECT id FROM insights WHERE deleted_at IS NULL AND embedding IS NOT NULL "
            "ORDER BY embedding <=> '[1,0,0]' LIMIT 30"))
    assert "idx_insights_hnsw" in plan


def test_pg_drain_lock_serialises_two_workers(pg_dsn):
    first = _open_pg(pg_dsn, "shared", create=True)
    from memman.store import pg_connect

    second = _open_pg(pg_dsn, "shared")  # its own connection: the first is in use
    assert second.conn is not first.conn
    with first.drain_lock() as got:
        assert got
        with second.drain_lock(timeout=0) as other:
            assert other is False
    with second.drain_lock(timeout=0) as other:
        assert other is True
    first.close()
    second.close()
    pg_connect.close_parked()


def test_pg_one_connection_is_reused_across_opens(pg_dsn):
    b = _open_pg(pg_dsn, "reuse", create=True)
    conn = b.conn
    b.close()
    again = _open_pg(pg_dsn, "reuse")
    assert again.conn is conn
    again.close()


def test_pg_readonly_open_refuses_writes(pg_dsn):
    _open_pg(pg_dsn, "ro", create=True).close()
    b = _open_pg(pg_dsn, "ro")
    assert b.readonly is False
    b.close()
    ro = _open_pg(pg_dsn, "ro", readonly=True)
    assert ro.readonly is True
    with pytest.raises(MemmanError, match="read-only"):
        add(ro, "nope")
    assert ro.note_recall([], "recall:basic", "q") is False
    assert ro.newest(5, set()) == []
    ro.close()
    # the parked connection goes to its next user as a plain, writable session
    from memman.store import pg_connect

    conn = pg_connect.connect(pg_dsn)
    assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "off"
    assert "store_ro" not in conn.execute("SHOW search_path").fetchone()[0]
    conn.execute("CREATE SCHEMA scratch_after_ro")
    conn.execute("DROP SCHEMA scratch_after_ro")
    pg_connect.release(pg_dsn, conn)


def test_pg_bad_dsn_is_one_line_without_the_password():
    with pytest.raises(MemmanError) as err:
        _open_pg("postgresql://memman:s3cr%40t@127.0.0.1:1/memman", "x")
    text = str(err.value)
    assert "\n" not in text and "s3cr" not in text and "****" in text


def test_pg_archive_renames_the_schema(pg_dsn):
    from memman.store.postgres import archive_store, store_schemas

    b = _open_pg(pg_dsn, "old-notes", create=True)
    add(b, "keep me")
    b.close()
    target = archive_store(pg_dsn, "old-notes")
    assert target.startswith("archived_") and target in _schemas(pg_dsn)
    assert "old-notes" not in store_schemas(pg_dsn)
    import psycopg

    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(f"SELECT content FROM {target}.insights").fetchone()[0] == "keep me"


# -- embed swap and migrate ------------------------------------------------------------------
def test_embed_swap_cycle(backend):
    import json

    old = {"provider": "ollama", "model": "old", "dim": 3}
    new = {"provider": "ollama", "model": "new", "dim": 2}
    backend.set_meta("embed_fingerprint", json.dumps(old))
    a, b = add(backend, "alpha"), add(backend, "beta")
    for insight in (a, b):
        backend.set_embedding(insight.id, blob(1, 0, 0), "old")
    backend.swap_begin(new)
    with pytest.raises(MemmanError):
        backend.swap_begin(new)
    assert backend.swap_state()["target_dim"] == 2
    batch = backend.pending_batch(0, 10)
    assert [r[1] for r in batch] == [a.id, b.id]
    backend.update_insight(b.id, {"content": "beta changed"})  # voids b's token
    written = backend.write_pending([(r[1], blob(0, 1), r[4]) for r in batch], new, cursor=9)
    assert written == 1 and backend.swap_state()["cursor"] == 9
    with pytest.raises(MemmanError, match="lack"):
        backend.swap_cutover(new)
    with backend.cutover_transaction():
        assert backend.write_pending([(b.id, blob(0, 1), None)], new) == 1
        assert backend.count_missing_pending() == 0
        assert backend.swap_cutover(new) == 2
    assert backend.swap_state() is None
    assert json.loads(backend.get_meta("embed_fingerprint"))["dim"] == 2
    assert dict(backend.active_vectors()) == {a.id: blob(0, 1), b.id: blob(0, 1)}
    assert [i for i, _ in backend.vector_top(blob(0, 1), 5)] in ([a.id, b.id], [b.id, a.id])
    backend.swap_begin(old)
    assert backend.swap_abort() is True and backend.swap_abort() is False


def test_dump_and_load_rows_round_trip_between_backends(backend, tmp_path):
    from memman.store.base import COPIED_TABLES
    from memman.store.sqlite import SQLiteBackend

    a, b = add(backend, "alpha", entities=["A"], keywords=["k"]), add(backend, "beta")
    backend.set_embedding(a.id, blob(0.5, 0.25), "m")
    backend.upsert_edge(Edge(a.id, b.id, "semantic", 0.5, {"created_by": "auto"}))
    backend.log_op("remember", a.id, "x", after={"content": "alpha"})
    backend.save_version(a.id, "forget")
    backend.set_protected(b.id, True)
    backend.set_meta("k", "v")
    dumped = {t: list(backend.dump_rows(t, batch=1)) for t in COPIED_TABLES}
    target = SQLiteBackend(tmp_path / "copy.db")
    with target.transaction():
        for table, rows in dumped.items():
            target.load_rows(table, rows)
    again = {t: list(target.dump_rows(t)) for t in COPIED_TABLES}
    target.close()
    for table in COPIED_TABLES:
        assert len(again[table]) == len(dumped[table])
    assert again["insights"][0]["embedding"] == blob(0.5, 0.25)
    assert json.loads(again["insights"][0]["entities"]) == ["A"]
    assert again["insights"][1]["protected"] == 1
    assert json.loads(again["edges"][0]["metadata"]) == {"created_by": "auto"}
    assert json.loads(again["oplog"][0]["after"]) == {"content": "alpha"}


def test_pg_load_rows_keeps_ids_and_continues_sequences(pg, tmp_path):
    from memman.store.base import COPIED_TABLES
    from memman.store.sqlite import SQLiteBackend

    source = SQLiteBackend(tmp_path / "src.db")
    first = add(source, "one", entities=["X"])
    add(source, "two")
    source.log_op("remember", first.id, "x")
    source.save_version(first.id, "forget")
    with pg.transaction():
        for table in COPIED_TABLES:
            pg.load_rows(table, list(source.dump_rows(table)))
    source.close()
    assert [i.content for i in pg.iter_insights()] == ["one", "two"]
    assert pg.entity_count("x") == 1 and words(pg, "two")
    later = add(pg, "three")
    assert pg.seqs_for_ids([later.id])[later.id] == 3
    pg.log_op("forget", later.id)
    assert pg.list_oplog(since=None, limit=1)[0].id == 2
    assert pg.save_version(first.id, "restore") == 2


def test_pg_close_releases_a_drain_lock_left_held(pg_dsn):
    first = _open_pg(pg_dsn, "held", create=True)
    lock = first.drain_lock()
    assert lock.__enter__() is True
    first.close()  # the worker died between enter and exit, say; its connection is parked
    import psycopg

    from memman.store.postgres import advisory_key

    with psycopg.connect(pg_dsn, autocommit=True) as other:  # another host's session
        assert other.execute("SELECT pg_try_advisory_lock(%s)",
                             (advisory_key(first.schema, "drain"),)).fetchone()[0] is True
