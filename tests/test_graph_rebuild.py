"""graph rebuild: re-enrich, re-embed and relink; stale-only; dry run; locks."""
from memman.config.datadir import DataDir
from memman.store.model import Edge
from memman.store.sqlite import SQLiteBackend
from memman.worker.drain import DrainLock


def backend(data_dir):
    return SQLiteBackend(data_dir / "data" / "default" / "memman.db")


def seed(ok):
    for text in ("Alice owns the billing service",
                 "We moved billing to PostgreSQL because MySQL lacked JSONB support",
                 "MySQL lacks JSONB support"):
        ok("remember", text)
    out = ok("scheduler", "drain")
    return [f["id"] for row in out["rows"] for f in row["facts"]]


def edge_set(b, kind=None):
    rows = b.conn.execute("SELECT source_id, target_id, edge_type FROM edges").fetchall()
    return {tuple(r) for r in rows if kind is None or r[2] == kind}


def test_rebuild_restores_auto_edges_keeps_manual_ones_and_finds_late_causes(ok, data_dir):
    alice, moved, lacks = seed(ok)
    b = backend(data_dir)
    assert not edge_set(b, "causal")  # the cause arrived after its effect
    b.upsert_edge(Edge(alice, lacks, "semantic", 0.9, {"created_by": "manual"}))
    b.conn.execute("DELETE FROM edges WHERE edge_type != 'semantic' OR "
                   "json_extract(metadata, '$.created_by') != 'manual'")
    b.close()
    out = ok("graph", "rebuild")
    assert out["processed"] == 3 and out["remaining"] == 0 and out["mode"] == "heuristic"
    b = backend(data_dir)
    edges = edge_set(b)
    assert (alice, lacks, "semantic") in edges  # the manual link survived
    assert (lacks, moved, "causal") in edges    # found now that both exist
    assert any(kind == "temporal" for _, _, kind in edges)
    assert any(kind == "entity" for _, _, kind in edges)
    b.close()
    assert "rebuild" in [e["operation"] for e in ok("log", "list")["entries"]]


def test_stale_only_touches_only_drifted_memories(ok, data_dir):
    alice, moved, lacks = seed(ok)
    b = backend(data_dir)
    b.conn.execute("UPDATE insights SET prompt_version = 'old-prompts', keywords = NULL "
                   "WHERE id = ?", (moved,))
    b.close()
    assert ok("status")["stale_insights"] == 1
    assert ok("graph", "rebuild", "--dry-run", "--stale-only")["total"] == 1
    out = ok("graph", "rebuild", "--stale-only")
    assert out["processed"] == 1
    assert ok("status")["stale_insights"] == 0
    b = backend(data_dir)
    assert b.get_insight(moved).keywords  # re-enriched
    b.close()
    again = ok("graph", "rebuild", "--stale-only")
    assert again["processed"] == 0 and again["skipped"] == "no_stale_rows"


def test_dry_run_writes_nothing(ok, data_dir):
    seed(ok)
    b = backend(data_dir)
    before = b.conn.execute("SELECT count(*) FROM edges").fetchone()[0]
    b.conn.execute("DELETE FROM edges")
    b.close()
    out = ok("graph", "rebuild", "--dry-run")
    assert out == {**out, "total": 3, "dry_run": True}
    b = backend(data_dir)
    assert b.conn.execute("SELECT count(*) FROM edges").fetchone()[0] == 0 < before
    b.close()


def test_rebuild_is_gated_and_exclusive(ok, run, data_dir):
    seed(ok)
    lock = DrainLock(DataDir(data_dir))
    assert lock.acquire()
    try:
        busy = run("graph", "rebuild")
        assert busy.exit_code == 1 and "drain or another graph rebuild" in busy.stderr
    finally:
        lock.release()
    ok("scheduler", "stop")
    stopped = run("graph", "rebuild")
    assert stopped.exit_code == 1
    assert "Scheduler is stopped; cannot rebuild" in stopped.stderr
    assert ok("graph", "rebuild", "--dry-run")["total"] == 3  # reading is fine


def test_rebuild_of_unknown_store(run):
    result = run("--store", "ghost", "graph", "rebuild")
    assert result.exit_code == 1 and "store 'ghost' does not exist" in result.stderr
