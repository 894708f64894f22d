"""A data dir written by memman 0.16 (tests/fixtures_016.py) upgraded on first open:
backed up, every row kept, recall working, pending queue rows drained, env honoured."""
import json
import sqlite3
import struct
import threading

import numpy as np
import pytest

from memman import clock
from memman.config.datadir import DataDir
from memman.upgrade import common, is_016, store_016
from tests import fixtures_016 as f16
from tests.fakes.chat import ChatScript
from tests.fakes.embeddings import openai_embeddings


@pytest.fixture
def legacy(data_dir, loopback):
    return f16.build_016_data_dir(data_dir, embed_endpoint=openai_embeddings(loopback),
                                  llm_endpoint=ChatScript().defaults().install(loopback))


def rows(path, sql):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def kind_of(path):
    conn = sqlite3.connect(path)
    try:
        return "0.16" if is_016(conn, "store") or is_016(conn, "queue") else "ours"
    finally:
        conn.close()


def same_instant(ours, theirs):
    if theirs is None:
        return ours is None
    return abs(clock.parse_iso(ours) - clock.parse_iso(theirs)) < 1e-6


def test_every_row_survives(ok, legacy):
    old = {t: rows(legacy["store_db"], f"SELECT * FROM {t}")
           for t in ("insights", "edges", "oplog", "meta")}
    ok("status")  # the first open upgrades
    new_db = legacy["store_db"]
    assert kind_of(new_db) == "ours"
    new = {r["id"]: r for r in rows(new_db, "SELECT * FROM insights")}
    assert set(new) == {r["id"] for r in old["insights"]}
    for before in old["insights"]:
        after = new[before["id"]]
        for key in ("content", "category", "importance", "source", "access_count", "summary",
                    "prompt_version", "model_id", "embedding_model", "effective_importance"):
            assert after[key] == before[key], key
        for key in ("entities", "keywords", "semantic_facts"):
            assert json.loads(after[key]) == json.loads(before[key]), key
        for key in store_016.TIME_COLUMNS:
            assert same_instant(after[key], before[key]), key
        old_vec = struct.unpack(f"<{f16.DIM}d", before["embedding"])
        assert len(after["embedding"]) == 4 * f16.DIM  # float32 now
        assert np.allclose(np.frombuffer(after["embedding"], "<f4"), old_vec, atol=1e-6)
    edges = {(e["source_id"], e["target_id"], e["edge_type"]): e
             for e in rows(new_db, "SELECT * FROM edges")}
    assert set(edges) == {(e["source_id"], e["target_id"], e["edge_type"])
                          for e in old["edges"]}
    for before in old["edges"]:
        after = edges[(before["source_id"], before["target_id"], before["edge_type"])]
        assert after["weight"] == before["weight"]
        assert json.loads(after["metadata"]) == json.loads(before["metadata"])
    oplog = {r["id"]: r for r in rows(new_db, "SELECT * FROM oplog")}
    assert set(oplog) == {1, 2, 3, 7}
    for before in old["oplog"]:
        after = oplog[before["id"]]
        assert (after["operation"], after["insight_id"], after["detail"], after["before"],
                after["after"]) == (before["operation"], before["insight_id"],
                                    before["detail"], before["before"], before["after"])
    meta = {r["key"]: r["value"] for r in rows(new_db, "SELECT * FROM meta")}
    for entry in old["meta"]:
        assert meta[entry["key"]] == entry["value"]
    record = json.loads(meta[store_016.META_KEY])
    assert record["counts"]["insights"] == 4 and kind_of(record["backup"]) == "0.16"


def test_the_backup_is_the_untouched_016_file(ok, legacy):
    before = rows(legacy["store_db"], "SELECT id, embedding FROM insights ORDER BY id")
    ok("status")
    (slot,) = (DataDir(legacy["root"]).archive_dir / f16.STORE).iterdir()
    assert rows(slot / "memman.db", "SELECT id, embedding FROM insights ORDER BY id") == before
    (qslot,) = (DataDir(legacy["root"]).archive_dir / "_queue").iterdir()
    assert kind_of(qslot / "queue.db") == "0.16"
    assert len(rows(qslot / "queue.db", "SELECT * FROM queue")) == len(legacy["queue_rows"])


def test_recall_works_on_the_upgraded_store(ok, legacy):
    out = ok("recall", "where are invoices kept with backups")
    ids = [r["insight"]["id"] for r in out["results"]]
    assert ids[0] == f16.M1 and f16.M4 not in ids
    assert out["results"][0]["signals"]["similarity"] > 0  # the converted vector is used
    basic = ok("recall", "--basic", "Kafka")
    assert [r["id"] for r in basic["results"]] == [f16.M2]


def test_pending_rows_of_the_016_queue_drain(ok, legacy):
    drained = ok("scheduler", "drain")
    assert [r["queue_id"] for r in drained["rows"]] == [1]
    (row,) = drained["rows"]
    assert row["status"] == "done" and row["facts"]
    stored = ok("insights", "show", row["facts"][0]["id"])
    assert stored["content"] == f16.PENDING_TEXT and stored["importance"] == 4
    assert {"Grafana", "payments"} <= set(stored["entities"])
    statuses = {r["id"]: r["status"] for r in ok("scheduler", "queue")["rows"]}
    # row 2 was done two hours ago: the drain's maintenance purges such rows
    assert statuses == {1: "done", 3: "pending", 4: "failed"}
    waiting = ok("scheduler", "queue", "show", "3")
    assert waiting["available_at"] > clock.now()  # 0.16's back-off still applies
    failed = ok("scheduler", "queue", "show", "4")
    assert failed["hints"]["source"] is None  # 0.16 accepted any source; ours would not


def test_env_and_active_file_of_016_are_honoured(ok, legacy):
    assert ok("config", "get", "MEMMAN_OPENAI_EMBED_ENDPOINT") is not None
    shown = ok("config", "show")
    text = json.dumps(shown)
    assert legacy["env"]["MEMMAN_OPENAI_EMBED_ENDPOINT"] in text
    assert "sk-test-016-key" not in text  # still redacted
    status = ok("status")
    assert status["store"] == f16.STORE and status["backend"] == "sqlite"
    assert status["embedder"] == f16.FINGERPRINT
    assert status["total_insights"] == 3 and status["deleted_insights"] == 1
    assert status["edge_count"] == len(f16.EDGES)


def test_doctor_reports_the_upgrade(ok, legacy):
    from memman.doctor import DoctorContext
    from memman.upgrade.report import CHECK_NAME, doctor_checks

    ok("status")
    found = doctor_checks(DoctorContext(DataDir(legacy["root"]), None, None))
    by_store = {c.get("store"): c for c in found}
    assert set(by_store) == {None, f16.STORE} and len(found) == 2  # queue.db and the store
    assert all(c["status"] == "pass" and "memman 0.16" in c["detail"] for c in found)
    assert "4 insights, 5 edges, 4 oplog" in by_store[f16.STORE]["detail"]
    assert {c["name"] for c in found} == {CHECK_NAME}


def test_upgrade_runs_once(ok, legacy):
    ok("status")
    ok("status")
    ok("recall", "--basic", "billing")
    records = common.read_records(DataDir(legacy["root"]))
    assert sorted(r["kind"] for r in records) == ["queue", "store"]
    assert len(list((DataDir(legacy["root"]).archive_dir / f16.STORE).iterdir())) == 1


def test_concurrent_opens_upgrade_once(legacy):
    datadir = DataDir(legacy["root"])
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        store_016.upgrade_if_needed(datadir, f16.STORE))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


def test_a_failed_upgrade_leaves_the_016_file_in_place(run, ok, legacy, monkeypatch):
    def broken(conn):
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(store_016, "_copy_oplog", broken)
        result = run("status")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert kind_of(legacy["store_db"]) == "0.16"
    assert not list(legacy["store_db"].parent.glob("*" + store_016.SCRATCH_SUFFIX + "*"))
    assert ok("status")["total_insights"] == 3  # the next open upgrades it


def test_vector_and_json_conversions():
    vec = [0.5, -1.25, 3.0]
    f64 = struct.pack("<3d", *vec)
    assert struct.unpack("<3f", common.float64_to_float32(f64, 3)) == tuple(vec)
    f32 = struct.pack("<4f", 1, 2, 3, 4)  # already float32 at the fingerprint's dim
    assert common.float64_to_float32(f32, 4) == f32
    assert common.float64_to_float32(b"\x00" * 7, None) == b"\x00" * 7  # kept as it was
    assert common.json_list(None, empty_default=True) == "[]"
    assert common.json_list("not json", empty_default=True) == '["not json"]'
    assert json.loads(common.json_list('["a", 1]', empty_default=False)) == ["a", "1"]
    assert common.iso("2025-09-01T10:00:00Z") == "2025-09-01T10:00:00.000000Z"
    assert common.iso("yesterday") == "yesterday"


def test_memman_doctor_lists_the_upgrade(run, legacy):
    from memman.upgrade.report import CHECK_NAME

    run("status")
    result = run("doctor")  # exit status reflects other checks (env file mode...)
    checks = [c for c in json.loads(result.stdout)["checks"] if c["name"] == CHECK_NAME]
    assert {c.get("store") for c in checks} == {None, f16.STORE}


def test_mcp_recall_on_the_upgraded_store(legacy):
    from memman.cli.context import App
    from memman.mcp.server import Server

    answer = Server(lambda: App()).handle({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "memory_recall", "arguments": {"query": "Kafka event bus replay"}}})
    result = answer["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["results"][0]["insight"]["id"] == f16.M2
