"""doctor's store checks, each driven into pass, warn and fail by building the state."""
import json
import os

import pytest

from memman import clock
from tests.doctor_helpers import DIM, seed_store, sql, vector
from tests.doctor_helpers import find as _find


@pytest.fixture
def doctor(run):
    """doctor(*args) -> (exit code, JSON)."""
    def invoke(*args):
        result = run("doctor", *args)
        assert result.exit_code in (0, 1), result
        return result.exit_code, result.json

    return invoke


def status_of(doctor, name, *args, store="default"):
    _, out = doctor(*args)
    return _find(out, name, store=store)


def test_healthy_drained_store_passes_every_store_check(remember_drained, doctor):
    for text in ("We use PostgreSQL for the billing service",
                 "The billing service runs on Kubernetes",
                 "Alice prefers tabs over spaces in Python"):
        remember_drained(text)
    code, out = doctor()
    store = [c for c in out["checks"] if c.get("store") == "default"]
    assert {c["name"] for c in store} >= {
        "integrity", "schema_columns", "embed_fingerprint", "no_stale_swap_meta",
        "dangling_edges", "embedding_consistency", "fts_sync", "recall_vectors",
        "enrichment_coverage", "oplog_delta_coverage", "orphan_insights",
        "embed_threshold", "provenance_drift", "edge_degree"}
    assert [c for c in store if c["status"] != "pass"] == []
    assert code == 0 and out["overall"] in ("pass", "warn")
    assert all("remedy" not in c for c in store)


def test_integrity_fails_for_a_file_that_is_not_a_database(data_dir, doctor):
    seed_store(data_dir, 2)
    path = data_dir / "data" / "default" / "memman.db"
    for side in ("-wal", "-shm"):
        (path.parent / (path.name + side)).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database at all" * 200)
    code, out = doctor()
    check = _find(out, "integrity", store="default")
    assert check["status"] == "fail" and "remedy" in check
    assert code == 1 and out["overall"] == "fail"


def test_schema_columns_pass_warn_and_fail(data_dir, doctor):
    seed_store(data_dir, 2)
    assert status_of(doctor, "schema_columns")["status"] == "pass"
    sql(data_dir, "INSERT INTO _migrations (name, applied_at) VALUES ('m999_future', 'x')")
    check = status_of(doctor, "schema_columns")
    assert check["status"] == "warn" and "m999_future" in check["detail"]
    sql(data_dir, "DELETE FROM _migrations WHERE name = 'm999_future'")
    sql(data_dir, "ALTER TABLE insights DROP COLUMN semantic_facts")
    check = status_of(doctor, "schema_columns")
    assert check["status"] == "fail" and "semantic_facts" in check["detail"]


def test_embed_fingerprint_pass_and_fail(data_dir, doctor):
    seed_store(data_dir, 2)
    check = status_of(doctor, "embed_fingerprint")
    assert check["status"] == "pass" and "builtin/hash-ngram-v1" in check["detail"]
    sql(data_dir, "UPDATE meta SET value = 'not json' WHERE key = 'embed_fingerprint'")
    assert status_of(doctor, "embed_fingerprint")["status"] == "fail"
    sql(data_dir, "DELETE FROM meta WHERE key = 'embed_fingerprint'")
    check = status_of(doctor, "embed_fingerprint")
    assert check["status"] == "fail" and "no embed_fingerprint" in check["detail"]


def test_embed_fingerprint_fails_when_the_provider_key_is_missing(data_dir, doctor):
    seed_store(data_dir, 2, fingerprint={"provider": "voyage", "model": "voyage-3-lite",
                                         "dim": DIM})
    check = status_of(doctor, "embed_fingerprint")
    assert check["status"] == "fail" and "MEMMAN_VOYAGE_API_KEY" in check["detail"]
    assert "config set MEMMAN_VOYAGE_API_KEY" in check["remedy"]


def test_stale_swap_meta_pass_and_warn(data_dir, doctor):
    seed_store(data_dir, 2)
    assert status_of(doctor, "no_stale_swap_meta")["status"] == "pass"
    sql(data_dir, "INSERT INTO meta (key, value) VALUES ('embed_swap_state', 'backfilling')")
    check = status_of(doctor, "no_stale_swap_meta")
    assert check["status"] == "warn" and "embed_swap_state" in check["detail"]


def test_dangling_edges_pass_and_fail(data_dir, doctor):
    ids = seed_store(data_dir, 3)
    assert status_of(doctor, "dangling_edges")["status"] == "pass"
    # A forgotten memory whose edges survived, and an edge to a memory that is gone.
    sql(data_dir, "UPDATE insights SET deleted_at = ? WHERE id = ?", (clock.iso(), ids[2]))
    sql(data_dir, "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, "
        "created_at) VALUES (?, 'gone', 'semantic', 0.5, '{}', 'x')", (ids[0],), fk=False)
    check = status_of(doctor, "dangling_edges")
    assert check["status"] == "fail" and check["detail"].startswith("5 edges")


def test_embedding_consistency_pass_and_fail(data_dir, doctor):
    ids = seed_store(data_dir, 3)
    assert status_of(doctor, "embedding_consistency")["status"] == "pass"
    sql(data_dir, "UPDATE insights SET embedding = ? WHERE id = ?", (vector(9, 512), ids[0]))
    check = status_of(doctor, "embedding_consistency")
    assert check["status"] == "fail"
    assert "1 of 512d" in check["detail"] and "2 of 384d" in check["detail"]


def test_fts_sync_pass_warn_and_fail(data_dir, doctor):
    ids = seed_store(data_dir, 3)
    assert status_of(doctor, "fts_sync")["status"] == "pass"
    sql(data_dir, "INSERT INTO insights_fts (rowid, content, entities, keywords) "
        "VALUES (999, 'ghost', '[]', '')")
    check = status_of(doctor, "fts_sync")
    assert check["status"] == "warn" and check["detail"].startswith("1 keyword-index rows")
    sql(data_dir, "DELETE FROM insights_fts WHERE rowid = "
        "(SELECT seq FROM insights WHERE id = ?)", (ids[1],))
    check = status_of(doctor, "fts_sync")
    assert check["status"] == "fail" and check["detail"].startswith("1 active memories")
    assert "graph rebuild" in check["remedy"]


def test_recall_vectors_pass_and_warn(data_dir, doctor):
    ids = seed_store(data_dir, 3)
    assert status_of(doctor, "recall_vectors")["status"] == "pass"
    clock.shift(5)
    sql(data_dir, "UPDATE insights SET updated_at = ?, embedding = ? WHERE id = ?",
        (clock.iso(), vector(42), ids[0]))
    check = status_of(doctor, "recall_vectors")
    assert check["status"] == "warn" and check["detail"].startswith("1 vectors changed")
    os.remove(data_dir / "data" / "default" / "recall_vectors.v1.bin")
    check = status_of(doctor, "recall_vectors")
    assert check["status"] == "warn" and "missing" in check["detail"]
    assert check["remedy"].endswith("scheduler drain")


def test_enrichment_coverage_pass_warn_and_fail(data_dir, doctor):
    ids = seed_store(data_dir, 10)
    assert status_of(doctor, "enrichment_coverage")["status"] == "pass"
    sql(data_dir, "UPDATE insights SET enriched_at = NULL WHERE id = ?", (ids[0],))
    check = status_of(doctor, "enrichment_coverage")
    assert check["status"] == "warn" and "90.0%" in check["detail"]
    sql(data_dir, "UPDATE insights SET linked_at = NULL WHERE id IN (?, ?)", ids[1:3])
    check = status_of(doctor, "enrichment_coverage")
    assert check["status"] == "fail" and "linked_at" in check["detail"]


def test_oplog_delta_coverage_always_passes_with_a_share(data_dir, doctor):
    seed_store(data_dir, 2)
    sql(data_dir, "INSERT INTO oplog (operation, insight_id, detail, created_at) "
        "VALUES ('forget', 'x', 'no delta', 'x'), ('forget', 'y', 'no delta', 'x')")
    check = status_of(doctor, "oplog_delta_coverage")
    assert check["status"] == "pass" and check["detail"].startswith("50% of 4")


def test_orphan_insights_pass_warn_and_fail(data_dir, doctor):
    ids = seed_store(data_dir, 20)
    assert status_of(doctor, "orphan_insights")["status"] == "pass"
    sql(data_dir, "DELETE FROM edges WHERE source_id = ? OR target_id = ?", (ids[0], ids[0]))
    check = status_of(doctor, "orphan_insights")
    assert check["status"] == "warn" and "(5.0%)" in check["detail"]
    sql(data_dir, "DELETE FROM edges WHERE source_id = ? OR target_id = ?", (ids[1], ids[1]))
    assert status_of(doctor, "orphan_insights")["status"] == "fail"


def test_edge_degree_pass_warn_and_fail(data_dir, doctor):
    ids = seed_store(data_dir, 4)  # full mesh: 6 edge rows per memory
    check = status_of(doctor, "edge_degree")
    assert check["status"] == "pass" and "median 6" in check["detail"]
    sql(data_dir, "DELETE FROM edges WHERE NOT ((source_id = ? AND target_id = ?) OR "
        "(source_id = ? AND target_id = ?) OR (source_id = ? AND target_id = ?) OR "
        "(source_id = ? AND target_id = ?))", (ids[0], ids[1], ids[1], ids[0],
                                               ids[2], ids[3], ids[3], ids[2]))
    assert status_of(doctor, "edge_degree")["status"] == "warn"
    sql(data_dir, "DELETE FROM edges WHERE source_id IN (?, ?)", (ids[2], ids[3]))
    check = status_of(doctor, "edge_degree")
    assert check["status"] == "fail" and "median 1" in check["detail"]


def test_embed_threshold_pass_and_warn_for_an_uncalibrated_model(data_dir, doctor, run):
    seed_store(data_dir, 2)
    assert status_of(doctor, "embed_threshold")["status"] == "pass"
    seed_store(data_dir, 2, store="ollama", fingerprint={
        "provider": "ollama", "model": "my-own-model", "dim": DIM})
    check = status_of(doctor, "embed_threshold", store="ollama")
    assert check["status"] == "warn" and "not calibrated" in check["detail"]
    assert "MEMMAN_AUTO_SEMANTIC_THRESHOLD_ollama" in check["remedy"]
    assert run("config", "set", "MEMMAN_AUTO_SEMANTIC_THRESHOLD_ollama", "0.7").exit_code == 0
    check = status_of(doctor, "embed_threshold", store="ollama")
    assert check["status"] == "pass" and "override" in check["detail"]


def test_provenance_drift_pass_and_warn(data_dir, doctor):
    ids = seed_store(data_dir, 3)
    assert status_of(doctor, "provenance_drift")["status"] == "pass"
    sql(data_dir, "UPDATE insights SET model_id = 'old-model' WHERE id = ?", (ids[0],))
    check = status_of(doctor, "provenance_drift")
    assert check["status"] == "warn" and check["detail"].startswith("1 memories")
    assert check["remedy"].endswith("graph rebuild --stale-only")


def test_empty_store_runs_only_the_structural_checks(data_dir, doctor, run):
    assert run("store", "create", "empty").exit_code == 0
    code, out = doctor("--store", "empty")
    names = {c["name"] for c in out["checks"] if c.get("store") == "empty"}
    assert "edge_degree" not in names and "orphan_insights" not in names
    assert {"integrity", "schema_columns", "embed_fingerprint"} <= names
    assert all(c["status"] == "pass" for c in out["checks"] if c.get("store") == "empty")
    assert {c.get("store") for c in out["checks"]} == {None, "empty"}
    assert out["stores"] == ["empty"] and code == 0


def test_store_option_limits_checks_and_unknown_store_is_an_error(data_dir, run, doctor):
    seed_store(data_dir, 2, store="a")
    seed_store(data_dir, 2, store="b")
    _, out = doctor()
    assert out["stores"] == ["a", "b"]
    _, out = doctor("--store", "b")
    assert {c.get("store") for c in out["checks"]} == {None, "b"}
    root_option = run("--store", "a", "doctor")
    assert {c.get("store") for c in root_option.json["checks"]} == {None, "a"}
    missing = run("doctor", "--store", "nope")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert missing.stderr.strip() == "Error: store 'nope' does not exist"


def test_read_only_store_is_checked_without_writing(data_dir, doctor):
    seed_store(data_dir, 3)
    folder = data_dir / "data" / "default"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        code, out = doctor()
    finally:
        os.chmod(folder, 0o700)
    store = [c for c in out["checks"] if c.get("store") == "default"]
    assert [c for c in store if c["status"] != "pass"] == []
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_text_output_is_a_table_with_remedies(data_dir, run):
    seed_store(data_dir, 2)
    sql(data_dir, "INSERT INTO meta (key, value) VALUES ('embed_swap_cursor', '5')")
    result = run("doctor", "--text")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("memman doctor: WARN (")
    row = next(line for line in lines if "no_stale_swap_meta" in line)
    assert row.startswith("WARN") and "default" in row
    assert any(line.strip().startswith("fix: memman --store default embed swap")
               for line in lines)
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)
