"""``memman embed reembed``: the offline rewrite of every vector with the env's embedder."""
import json

import pytest

from memman.config.datadir import DataDir
from memman.store.open import open_store
from tests.test_embed_swap import NOTES, TARGET_DIM, TARGET_MODEL, TargetModel


@pytest.fixture
def memories(ok):
    for note in NOTES:
        ok("remember", note)
    ok("scheduler", "drain")


def state_of(data_dir, store="default") -> dict:
    backend = open_store(DataDir(data_dir), None, store)
    try:
        return {"vectors": dict(backend.active_vectors()),
                "meta": {k: backend.get_meta(k) for k in backend.meta_keys("")},
                "oplog": [(e.operation, e.detail) for e in backend.list_oplog(since=None,
                                                                            limit=1000)]}
    finally:
        backend.close()


def use_target_model(ok, loopback) -> TargetModel:
    model = TargetModel(loopback)
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", model.url)
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "openai")
    ok("config", "set", "MEMMAN_OPENAI_EMBED_MODEL", TARGET_MODEL)
    return model


def test_dry_run_writes_nothing(ok, memories, data_dir, loopback):
    model = use_target_model(ok, loopback)
    before = state_of(data_dir)
    out = ok("embed", "reembed", "--dry-run")
    assert out["dry_run"] is True
    assert out["stores"] == [{"store": "default", "scanned": len(NOTES),
                              "would_reembed": len(NOTES)}]
    assert out["total_scanned"] == out["total_would_reembed"] == len(NOTES)
    assert out["fingerprint"]["provider"] == "openai"
    assert state_of(data_dir) == before
    assert model.texts == []  # not even a dimension probe


def test_reembed_after_changing_the_provider_rewrites_vectors_and_fingerprint(
        ok, memories, data_dir, loopback):
    from memman.recall.matrix import Matrix

    model = use_target_model(ok, loopback)
    assert ok("embed", "status")["stored"]["provider"] == "builtin"  # env only seeds
    out = ok("embed", "reembed")
    want = {"provider": "openai", "model": TARGET_MODEL, "dim": TARGET_DIM}
    assert out["fingerprint"] == want
    assert out["total_scanned"] == out["total_reembedded"] == len(NOTES)
    (row,) = out["stores"]
    assert row["store"] == "default" and row["previous"]["provider"] == "builtin"
    after = state_of(data_dir)
    assert {len(b) for b in after["vectors"].values()} == {4 * TARGET_DIM}
    assert json.loads(after["meta"]["embed_fingerprint"]) == want
    assert not [k for k in after["meta"] if k.startswith("embed_swap_")]
    assert after["oplog"][0][0] == "embed_reembed"
    assert Matrix.open(DataDir(data_dir).store_dir("default"), want) is not None
    # A full rewrite: running it again re-embeds everything once more.
    asked = len(model.texts)
    assert ok("embed", "reembed")["total_reembedded"] == len(NOTES)
    assert len(model.texts) == asked + 1 + len(NOTES)  # probe + every memory


def test_all_covers_every_store(ok, memories, loopback):
    ok("store", "create", "work")
    ok("--store", "work", "remember", "The work store has one memory about Kafka")
    ok("scheduler", "drain")
    use_target_model(ok, loopback)
    out = ok("embed", "reembed", "--all")
    assert {r["store"]: r["reembedded"] for r in out["stores"]} == {"default": len(NOTES),
                                                                   "work": 1}
    for store in ("default", "work"):
        assert ok("--store", store, "embed", "status")["stored"]["dim"] == TARGET_DIM


def test_reembed_repairs_a_corrupt_fingerprint(ok, memories, data_dir):
    backend = open_store(DataDir(data_dir), None, "default")
    backend.set_meta("embed_fingerprint", "{not json")
    backend.close()
    assert "hint" in ok("embed", "status")
    out = ok("embed", "reembed")
    assert out["stores"][0]["previous"] is None
    assert ok("embed", "status")["stored"]["provider"] == "builtin"
    assert ok("recall", "billing invoices")["results"]


def test_reembed_waits_for_no_drain(ok, run, memories, data_dir):
    from memman.worker.drain import DrainLock

    lock = DrainLock(DataDir(data_dir))
    assert lock.acquire()
    try:
        out = run("embed", "reembed")
        assert out.exit_code == 1 and "drain" in out.stderr
    finally:
        lock.release()
    assert ok("embed", "status").get("swap") is None


def test_reembed_refuses_a_store_mid_swap_to_another_model(ok, run, memories, data_dir):
    backend = open_store(DataDir(data_dir), None, "default")
    backend.swap_begin({"provider": "openai", "model": "elsewhere", "dim": 8})
    backend.close()
    out = run("embed", "reembed")
    assert out.exit_code == 1 and "--resume" in out.stderr and "--abort" in out.stderr
    assert ok("embed", "status")["swap"]["target_model"] == "elsewhere"
