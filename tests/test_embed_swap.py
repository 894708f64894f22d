"""``memman embed status`` and ``embed swap``: an online move to another embedder.

The target model is an OpenAI-compatible endpoint on a loopback server (real wire
format) that answers 16-dimension vectors, so a 384-dimension builtin vector and a
target vector can never be confused. The server can be told to refuse (HTTP 401,
which fails at once), to stand in for a provider outage in the middle of a swap.
"""
import json

import numpy as np
import pytest

from memman.config.datadir import DataDir
from memman.embed.registry import embed_text
from memman.store.open import open_store
from tests.fakes.loopback import Reply

TARGET_DIM = 16
TARGET_MODEL = "fold-16"
NOTES = [
    "The billing service stores invoices in PostgreSQL",
    "Deploys run on Fridays through GitHub Actions",
    "Redis caches the session tokens for the web app",
    "Alice owns the payments gateway and its alerts",
    "The search indexer reads the Kafka topic catalog-events",
    "Grafana dashboards for checkout live in the observability repo",
]


class TargetModel:
    """POST /v1/embeddings answering folded builtin vectors; ``refuse`` makes it 401,
    and so does every request after ``budget`` more answers (None: no limit)."""

    def __init__(self, server):
        self.refuse = False
        self.budget = None
        self.texts: list[str] = []
        server.route("POST", "/v1/embeddings", self.handle)
        self.url = server.url

    @staticmethod
    def vectors(texts):
        from memman.embed.builtin import BuiltinEmbedder

        full = BuiltinEmbedder().embed(list(texts))
        return full.reshape(len(texts), TARGET_DIM, -1).sum(axis=2)

    def handle(self, req):
        if self.refuse or self.budget == 0:
            return Reply(401, {"error": {"message": "key revoked"}})
        if self.budget is not None:
            self.budget -= 1
        texts = req.json["input"]
        self.texts += texts
        return {"object": "list", "model": req.json["model"],
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()}
                         for i, v in enumerate(self.vectors(texts))],
                "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}}


@pytest.fixture
def target(loopback, ok):
    model = TargetModel(loopback)
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", model.url)
    return model


@pytest.fixture
def store(data_dir):
    """Open the default store (a fresh connection per call)."""
    def do():
        return open_store(DataDir(data_dir), None, "default")
    return do


@pytest.fixture
def memories(ok):
    for note in NOTES:
        ok("remember", note)
    ok("scheduler", "drain")
    return NOTES


def swap(run, *extra):
    return run("embed", "swap", "--to", TARGET_MODEL, "--provider", "openai",
               "--batch-size", "2", *extra)


def interrupted_swap(run, target, allowed_batches: int = 1):
    """Start a swap that dies after the probe and ``allowed_batches`` batches."""
    target.budget = 1 + allowed_batches
    try:
        result = swap(run)
    finally:
        target.budget = None
    assert result.exit_code == 1, result
    assert "key revoked" in result.stderr or "401" in result.stderr, result
    return result


def sizes(backend) -> set[int]:
    return {len(blob) for _, blob in backend.active_vectors()}


def test_status_shape(ok, memories, target, run):
    out = ok("embed", "status")
    assert set(out) == {"store", "stored", "credentials_available", "configured"}
    assert out["stored"] == {"provider": "builtin", "model": "hash-ngram-v1", "dim": 384}
    assert out["credentials_available"] is True
    interrupted_swap(run, target)
    out = ok("embed", "status")
    assert set(out["swap"]) == {"state", "cursor", "target_provider", "target_model",
                                "target_dim", "total", "remaining"}
    assert out["swap"]["state"] == "backfilling"
    assert (out["swap"]["target_provider"], out["swap"]["target_model"],
            out["swap"]["target_dim"]) == ("openai", TARGET_MODEL, TARGET_DIM)
    assert out["swap"]["total"] == len(NOTES) and out["swap"]["remaining"] == len(NOTES) - 2
    assert out["swap"]["cursor"] > 0


def test_status_of_a_store_without_vectors(ok):
    ok("store", "create", "empty")
    out = ok("--store", "empty", "embed", "status")
    assert out["stored"] is None and "hint" in out and "swap" not in out


def test_interrupted_swap_keeps_old_vectors_then_resume_cuts_over(ok, run, memories, target,
                                                                 store, data_dir):
    before = store()
    old = dict(before.active_vectors())
    before.close()
    interrupted_swap(run, target)
    backend = store()
    try:
        # Before the cutover: fingerprint, live vectors and recall file are the old ones.
        assert ok("embed", "status")["stored"]["provider"] == "builtin"
        assert dict(backend.active_vectors()) == old
        assert backend.count_missing_pending() == len(NOTES) - 2
    finally:
        backend.close()
    out = ok("embed", "swap", "--resume", "--batch-size", "2")
    assert out["state"] == "done"
    assert out["fingerprint"] == {"provider": "openai", "model": TARGET_MODEL, "dim": TARGET_DIM}
    assert out["previous"]["provider"] == "builtin" and out["switched"] == len(NOTES)
    backend = store()
    try:
        assert sizes(backend) == {4 * TARGET_DIM}
        assert backend.meta_keys("embed_swap_") == []
        insights = backend.newest(100, set())
        assert {i.embedding_model for i in insights} == {TARGET_MODEL}
        # Each vector is the target model's vector of content + keywords, as the worker
        # embeds it (not of the raw content).
        assert all(i.keywords for i in insights)
        texts = {i.id: embed_text(i.content, i.keywords) for i in insights}
        assert set(texts.values()) <= set(target.texts)
        for insight_id, blob in backend.active_vectors():
            want = TargetModel.vectors([texts[insight_id]])[0]
            want = want / np.linalg.norm(want)
            assert np.allclose(np.frombuffer(blob, dtype="<f4"), want, atol=1e-5)
        ops = [e.operation for e in backend.list_oplog(since=None, limit=5)]
        assert "embed_swap" in ops
    finally:
        backend.close()
    assert ok("embed", "status")["stored"]["dim"] == TARGET_DIM


def test_cutover_rewrites_the_recall_file_for_the_new_model(ok, memories, target, data_dir):
    from memman.recall.matrix import Matrix

    store_dir = DataDir(data_dir).store_dir("default")
    old = ok("embed", "status")["stored"]
    assert Matrix.open(store_dir, old) is not None
    ok("embed", "swap", "--to", TARGET_MODEL, "--provider", "openai")
    new = ok("embed", "status")["stored"]
    matrix = Matrix.open(store_dir, new)
    assert matrix is not None and matrix.vectors.shape == (len(NOTES), TARGET_DIM)
    assert Matrix.open(store_dir, old) is None
    asked = len(target.texts)
    out = ok("recall", "Which database stores invoices for billing")
    assert out["meta"]["vector_source"] == "matrix" and "degraded" not in out["meta"]
    assert len(target.texts) == asked + 1  # the query, embedded by the new model
    assert out["results"][0]["insight"]["content"] == NOTES[0]


def test_recall_during_a_swap_uses_only_the_live_vectors(ok, run, memories, target):
    interrupted_swap(run, target)
    asked = len(target.texts)
    out = ok("recall", "Which database stores invoices for billing")
    assert len(target.texts) == asked  # the query went to the live (builtin) model only
    assert out["meta"]["vector_source"] == "matrix" and "degraded" not in out["meta"]
    assert out["results"][0]["insight"]["content"] == NOTES[0]
    assert out["results"][0]["signals"]["similarity"] > 0


def test_abort_restores_the_pre_swap_state(ok, run, memories, target, store):
    backend = store()
    old, fingerprint = dict(backend.active_vectors()), backend.get_meta("embed_fingerprint")
    backend.close()
    interrupted_swap(run, target, allowed_batches=2)
    assert ok("embed", "swap", "--abort") == {"store": "default", "state": "aborted"}
    backend = store()
    try:
        assert backend.swap_state() is None and backend.meta_keys("embed_swap_") == []
        assert backend.get_meta("embed_fingerprint") == fingerprint
        assert dict(backend.active_vectors()) == old
        assert backend.count_missing_pending() == len(NOTES)  # no pending vector left
    finally:
        backend.close()
    assert "swap" not in ok("embed", "status")
    again = run("embed", "swap", "--abort")
    assert again.exit_code == 1 and "no embedder swap is in progress" in again.stderr


def test_drains_during_a_swap_leave_no_memory_without_a_target_vector(
        ok, run, memories, target, store, remember_drained):
    interrupted_swap(run, target)
    backend = store()
    missing = backend.count_missing_pending()
    backend.close()
    # The worker embeds a new memory with the live model and, beside it, the target.
    new_id = remember_drained("Carol pinned numpy below 2.0 until the pandas upgrade")
    backend = store()
    try:
        assert backend.count_missing_pending() == missing
        assert {len(b) for i, b in backend.active_vectors() if i == new_id} == {4 * 384}
    finally:
        backend.close()
    # With the target unreachable the row still lands (the swap embeds it later), and a
    # memory already backfilled whose text changes loses its now stale pending vector.
    target.refuse = True
    late_id = remember_drained("Dave rotates the TLS certificates every ninety days")
    ok("replace", new_id, "Carol pinned numpy below 2.1 after the pandas upgrade")
    ok("scheduler", "drain")
    backend = store()
    try:
        assert backend.count_missing_pending() == missing + 2
        assert backend.get_meta("embed_fingerprint").count("builtin") == 1
    finally:
        backend.close()
    target.refuse = False
    ok("embed", "swap", "--resume")
    backend = store()
    try:
        assert backend.count_active() == len(NOTES) + 2
        assert sizes(backend) == {4 * TARGET_DIM}
        replaced = backend.get_insight(new_id)
        assert "2.1" in replaced.content
        assert embed_text(replaced.content, replaced.keywords) in target.texts
        assert backend.get_insight(late_id) is not None
    finally:
        backend.close()


def test_worker_context_follows_a_cutover(ok, memories, target, data_dir):
    from memman.config.settings import Settings
    from memman.embed.base import EmbedError
    from memman.worker.context import StoreContext

    datadir = DataDir(data_dir)
    ctx = StoreContext(datadir, Settings(datadir.env_file), "default", None)
    try:
        assert ctx.embedder.provider == "builtin"
        ctx.check_fingerprint()  # unchanged: nothing to refuse
        ok("embed", "swap", "--to", TARGET_MODEL, "--provider", "openai")
        with pytest.raises(EmbedError, match="switched embedder"):
            ctx.check_fingerprint()
        assert ctx.follow_swap() is True
        assert ctx.embedder.fingerprint == {"provider": "openai", "model": TARGET_MODEL,
                                            "dim": TARGET_DIM}
        ctx.check_fingerprint()
        assert len(ctx.index) == len(NOTES)  # rebuilt from the new vectors
    finally:
        ctx.close()


def test_swap_refusals(ok, run, memories, target):
    assert run("embed", "swap").exit_code == 2
    assert run("embed", "swap", "--resume", "--abort").exit_code == 2
    assert run("embed", "swap", "--resume", "--to", "x").exit_code == 2
    assert run("embed", "swap", "--to", "x", "--provider", "nope").exit_code == 2
    nothing = run("embed", "swap", "--resume")
    assert nothing.exit_code == 1 and "nothing to resume" in nothing.stderr
    interrupted_swap(run, target)
    busy = swap(run)
    assert busy.exit_code == 1 and "already in progress" in busy.stderr
    missing = run("--store", "nope", "embed", "swap", "--to", TARGET_MODEL)
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_swap_to_the_current_embedder_changes_nothing(ok, memories, store):
    out = ok("embed", "swap", "--to", "hash-ngram-v1", "--provider", "builtin")
    assert out["state"] == "done" and out["switched"] == 0 and "note" in out
    backend = store()
    try:
        assert backend.swap_state() is None
    finally:
        backend.close()


# -- the backend verbs (the contract a Postgres backend implements too) -------------

def test_pending_vectors_are_voided_by_a_text_change_and_guarded_by_target(memories, store):
    target = {"provider": "openai", "model": TARGET_MODEL, "dim": TARGET_DIM}
    other = {**target, "model": "other"}
    blob = np.ones(TARGET_DIM, dtype="<f4").tobytes()
    backend = store()
    try:
        assert backend.write_pending([("x", blob, None)], target) == 0  # no swap yet
        backend.swap_begin(target)
        with pytest.raises(Exception, match="already in progress"):
            backend.swap_begin(target)
        rows = backend.pending_batch(0, 3)
        assert [r[0] for r in rows] == sorted(r[0] for r in rows) and len(rows) == 3
        assert backend.write_pending([(r[1], blob, r[4]) for r in rows], other) == 0
        first = rows[0]
        backend.update_insight(first[1], {"content": first[2] + " (edited)"})
        # The edited row's token no longer matches: its stale vector is not stored.
        assert backend.write_pending([(r[1], blob, r[4]) for r in rows], target,
                                     cursor=rows[-1][0]) == 2
        assert backend.swap_state()["cursor"] == rows[-1][0]
        assert backend.pending_batch(0, 10)[0][1] == first[1]
        backend.write_pending([(first[1], blob, None)], target)
        backend.update_insight(rows[1][1], {"keywords": ["changed"]})
        assert backend.pending_batch(0, 1)[0][1] == rows[1][1]  # voided by the trigger
        with pytest.raises(Exception, match="still lack"):
            backend.swap_cutover(target)
        assert backend.get_meta("embed_fingerprint") is not None
        assert json.loads(backend.get_meta("embed_fingerprint"))["provider"] == "builtin"
        assert backend.swap_abort() is True and backend.swap_abort() is False
    finally:
        backend.close()
