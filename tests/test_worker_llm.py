"""The drain worker in LLM mode, against a scripted OpenAI-compatible model on loopback.

Per row: extraction into facts -> candidates -> reconciliation (ADD / UPDATE / DELETE /
NONE) -> one store transaction -> edges (causal from the model) -> provenance. Every
test drives the CLI (``remember``, ``replace``, ``scheduler drain``) and inspects the
store through ``SQLiteBackend`` and what the model was asked through ``ChatScript``.
"""
import time

import numpy as np
import pytest

from memman import clock
from memman.embed.builtin import BuiltinEmbedder
from memman.embed.registry import embed_text
from memman.llm.prompts import PROMPT_VERSION
from memman.store.model import Edge
from tests.fakes.chat import task_of
from tests.fakes.worker_helpers import (
    CANONICAL, FAST, METADATA, candidate_index, chat_bodies, decision, drain,
    edges, embedding_blob, extraction, fact, llm_mode, memories, no_backoff, only_row,
    oplog, queue_row, recall_ids, short_llm_timeout, store, traces_of_queue_row,
)

RETRY_NOW = {"Retry-After": "0"}  # retryable errors without the client's 1-2-4 s back-off


@pytest.fixture
def script(ok, loopback):
    return llm_mode(ok, loopback)


def seed(ok, text, *flags) -> str:
    """Store ``text`` through the default script (echo extraction, ADD); its id."""
    ok("remember", text, *flags)
    row = only_row(drain(ok))
    assert row["status"] == "done" and row["facts"][0]["action"] == "added", row
    return row["facts"][0]["id"]


def quiet_enrichment(script, keywords=("kw",)):
    script.when(task="enrichment").reply(
        {"keywords": list(keywords), "summary": "", "semantic_facts": [], "entities": []})


def assert_untouched_by(data_dir, queue_id):
    traces = traces_of_queue_row(data_dir, queue_id)
    assert traces == {"memories": [], "oplog": []}, traces


def builtin_vector(text, keywords):
    return BuiltinEmbedder().embed_one(embed_text(text, keywords))


# -- (1) extraction ------------------------------------------------------------------


def test_extraction_splits_one_note_into_facts_with_the_models_labels(ok, script, data_dir):
    quiet_enrichment(script)
    script.when(task="extraction").reply(extraction(
        fact("Alice owns BillingService.", "context", 4, ["Alice", "BillingService"]),
        fact("BillingService runs on PostgreSQL 15.", "fact", 3, ["BillingService", "PostgreSQL"]),
        fact("Deploys happen on Tuesdays.", "decision", 2, []),
    ))
    note = "alice owns billing (pg 15 underneath) and we deploy on tuesdays"
    ok("remember", note)
    out = drain(ok)
    assert out["mode"] == "llm"
    row = only_row(out)
    assert row["status"] == "done"
    assert [f["action"] for f in row["facts"]] == ["added"] * 3
    stored = [(m.content, m.category, m.importance, m.entities) for m in memories(data_dir)]
    assert stored == [
        ("Alice owns BillingService.", "context", 4, ["Alice", "BillingService"]),
        ("BillingService runs on PostgreSQL 15.", "fact", 3, ["BillingService", "PostgreSQL"]),
        ("Deploys happen on Tuesdays.", "decision", 2, []),
    ]
    assert [m.id for m in memories(data_dir)] == [f["id"] for f in row["facts"]]
    assert all(m.queue_id == row["queue_id"] for m in memories(data_dir))
    (call,) = script.calls_for("extraction")
    assert note in call.user
    assert len(script.calls_for("enrichment")) == 3
    assert script.calls_for("reconciliation") == []  # an empty store has nothing to merge
    assert row["llm_calls"] == 4


def test_each_fact_is_enriched_and_embedded_with_its_keywords(ok, script, data_dir):
    script.when(task="enrichment", user_contains="Redis").reply({
        "keywords": ["cache", "redis", "ttl"], "summary": "Redis TTL",
        "semantic_facts": ["Cached entries expire."], "entities": ["Redis"]})
    script.when(task="extraction").reply(extraction(
        fact("Session data is cached in Redis with a 15 minute TTL and a maximum of 10k keys.",
             "fact", 3, [])))
    ok("remember", "sessions -> redis, ttl 15m, max 10k keys")
    drain(ok)
    (mem,) = memories(data_dir)
    assert mem.keywords == ["cache", "redis", "ttl"]
    assert mem.summary == "Redis TTL"
    assert mem.semantic_facts == ["Cached entries expire."]
    assert mem.entities == ["Redis"]  # the enrichment's entities are merged in
    assert mem.enriched_at and mem.linked_at
    stored = np.frombuffer(embedding_blob(data_dir, mem.id), dtype="<f4")
    assert stored.shape == (384,)
    assert np.allclose(stored, builtin_vector(mem.content, mem.keywords), atol=1e-6)
    assert not np.allclose(stored, builtin_vector(mem.content, []), atol=1e-3)


def test_explicit_hints_win_over_the_models_labels(ok, script, data_dir):
    quiet_enrichment(script)
    script.when(task="extraction").reply(extraction(
        fact("The importer retries failed rows three times.", "fact", 2, ["importer"]),
        fact("The importer logs to logs/importer.log.", "insight", 3, []),
    ))
    ok("remember", "importer: 3 retries, logs in logs/importer.log",
       "--cat", "decision", "--imp", "5", "--entities", "Importer2")
    row = only_row(drain(ok))
    assert row["status"] == "done" and len(row["facts"]) == 2
    mems = memories(data_dir)
    assert [(m.category, m.importance) for m in mems] == [("decision", 5), ("decision", 5)]
    assert all(m.entities[0] == "Importer2" for m in mems)
    assert "importer" in mems[0].entities


# -- (2) skip -----------------------------------------------------------------------------


def test_a_skipped_note_stores_nothing_and_reports_why(ok, script, data_dir):
    script.when(task="extraction").reply(extraction(skip_reason="test run receipt"))
    ok("remember", "Ran the suite again: 212 passed, 3 skipped in 41s.")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert row["facts"] == [] and row["skip_reason"] == "test run receipt"
    assert queue_row(data_dir, row["queue_id"])["status"] == "done"
    assert memories(data_dir, deleted=True) == []
    assert script.calls_for("enrichment") == [] and script.calls_for("causal") == []


# -- (3) UPDATE ---------------------------------------------------------------------------


def test_update_rewrites_the_target_in_place(ok, script, data_dir):
    target = seed(ok, "The API server listens on port 8080.")
    other = seed(ok, "Sam reviews every database migration.")
    with store(data_dir) as b:
        b.upsert_edge(Edge(other, target, "causal", 0.8, {"created_by": "manual"}))
        b.upsert_edge(Edge(target, other, "semantic", 0.97,
                           {"created_by": "auto", "cosine": "0.9700"}))
    recall_ids(ok, "port")
    recall_ids(ok, "API server port")
    with store(data_dir) as b:
        before = b.get_insight(target)
    assert before.access_count == 2
    merged = "The API server listens on port 8443 and serves /health without auth."
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("UPDATE", candidate_index(call, "port 8080"), merged, "port changed")]})

    ok("remember", "The API server now listens on port 8443; /health needs no auth.")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    (result,) = row["facts"]
    assert result["action"] == "updated" and result["id"] == target

    with store(data_dir) as b:
        after = b.get_insight(target)
        assert b.count_active() == 2
    assert after.content == merged
    assert after.access_count == 2 and after.deleted_at is None
    assert after.created_at == before.created_at
    assert after.queue_id == row["queue_id"]
    assert {m.id for m in memories(data_dir)} == {target, other}

    # The oplog keeps the before and after images.
    updates = [e for e in oplog(data_dir) if e.operation == "reconcile-update"]
    assert [e.insight_id for e in updates] == [target]
    assert updates[0].before["content"] == "The API server listens on port 8080."
    assert updates[0].after["content"] == merged
    listed = ok("log", "list")["entries"]
    assert {"operation": "reconcile-update", "insight_id": target} in [
        {"operation": e["operation"], "insight_id": e["insight_id"]} for e in listed]

    # The manual edge survives; auto edges are rebuilt from the new content.
    found = edges(data_dir)
    manual = [e for e in found if e["metadata"].get("created_by") == "manual"]
    assert [(e["source_id"], e["target_id"], e["weight"]) for e in manual] == [
        (other, target, 0.8)]
    assert not [e for e in found if e["edge_type"] == "semantic"
                and e["metadata"].get("cosine") == "0.9700"]
    assert [e for e in found if e["edge_type"] == "temporal" and target in
            (e["source_id"], e["target_id"])], "auto edges of the target were not rebuilt"

    # The vector follows the new text.
    stored = np.frombuffer(embedding_blob(data_dir, target), dtype="<f4")
    assert np.allclose(stored, builtin_vector(merged, after.keywords), atol=1e-6)


def test_update_candidates_reach_the_model_with_their_dates(ok, script, data_dir):
    seed(ok, "The API server listens on port 8080.")
    ok("remember", "The API server listens on port 8443.")
    drain(ok)
    (call,) = script.calls_for("reconciliation")
    assert "F0: The API server listens on port 8443." in call.user
    line = [ln for ln in call.user.splitlines() if "port 8080" in ln][0]
    assert line.startswith("[0] (" + clock.iso()[:4])


# -- (4) DELETE ---------------------------------------------------------------------------


def test_delete_soft_deletes_the_contradicted_memory_and_stores_the_fact(ok, script, data_dir):
    old = seed(ok, "Background jobs run on Celery.")
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("DELETE", candidate_index(call, "Celery"), reason="Celery replaced by RQ")]})
    ok("remember", "Background jobs run on RQ, not Celery.")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    (result,) = row["facts"]
    assert result["action"] == "added" and result["deleted_id"] == old
    new = result["id"]
    assert new != old

    shown = ok("insights", "show", old)
    assert shown["deleted_at"]
    assert ok("insights", "show", new).get("deleted_at") is None
    hits = recall_ids(ok, "Celery")
    assert old not in hits and new in hits
    assert [m.id for m in memories(data_dir)] == [new]
    deletes = [e for e in oplog(data_dir) if e.operation == "reconcile-delete"]
    assert [e.insight_id for e in deletes] == [old]
    assert deletes[0].before["content"] == "Background jobs run on Celery."
    assert "Celery replaced by RQ" in deletes[0].detail
    assert not [e for e in edges(data_dir) if old in (e["source_id"], e["target_id"])]


# -- (5) NONE -----------------------------------------------------------------------------


def test_none_stores_nothing_and_reports_the_reason(ok, script, data_dir):
    existing = seed(ok, "The frontend uses pnpm, never npm.")
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("NONE", candidate_index(call, "pnpm"), reason="already captured")]})
    ok("remember", "Use pnpm for the frontend.")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert row["facts"] == [{"action": "skipped", "content": "Use pnpm for the frontend.",
                             "reason": "already captured", "target_id": existing}]
    assert [m.id for m in memories(data_dir, deleted=True)] == [existing]
    assert_untouched_by(data_dir, row["queue_id"])


# -- (6) replace rows -----------------------------------------------------------------------


def test_replace_row_replaces_its_target_even_with_reconciliation_on(ok, script, data_dir):
    target = seed(ok, "The API server listens on port 8080.")
    assert target in recall_ids(ok, "port")
    text = "The API server listens on port 9443 behind Envoy."
    # Whatever the model would say about the new text, the target is replaced.
    script.when(task="extraction", user_contains="9443").reply(extraction(
        fact("The API server listens on port 9443.", "fact", 3, []),
        fact("Envoy fronts the API server.", "fact", 3, ["Envoy"])))
    # (the default script answers ADD to every reconciliation)
    queued = ok("replace", target, text, "--reconcile")
    assert queued["replaced_id"] == target
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert [(f["action"], f["id"]) for f in row["facts"]] == [("replaced", target)]
    (mem,) = memories(data_dir, deleted=True)
    assert mem.id == target and mem.content == text and mem.access_count == 1
    replaced = [e for e in oplog(data_dir) if e.operation == "replace"]
    assert [e.insight_id for e in replaced] == [target]
    assert replaced[0].before["content"] == "The API server listens on port 8080."
    assert replaced[0].after["content"] == text


def test_replace_of_a_forgotten_target_stores_the_text_new(ok, script, data_dir):
    target = seed(ok, "The API server listens on port 8080.")
    ok("replace", target, "The API server listens on port 9443.")
    ok("forget", target)
    row = only_row(drain(ok))
    assert row["status"] == "done"
    (result,) = row["facts"]
    assert result["action"] == "added" and result["id"] != target
    assert [m.content for m in memories(data_dir)] == ["The API server listens on port 9443."]


# -- (7) per-role models ------------------------------------------------------------------


def test_each_role_uses_its_own_model(ok, script, data_dir, loopback):
    seed(ok, "MySQL lacks JSONB support.")
    ok("remember", "The billing service moved from MySQL to PostgreSQL for JSONB support.")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    tasks = {c.task for c in script.calls}
    assert tasks == {"extraction", "reconciliation", "enrichment", "causal"}
    for call in script.calls:
        expected = CANONICAL if call.task in ("extraction", "reconciliation") else METADATA
        assert call.model == expected, (call.task, call.model)
    # The same, read from the raw request bodies the server received.
    by_task = {}
    for body in chat_bodies(loopback):
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        by_task.setdefault(task_of(system), set()).add(body["model"])
    assert by_task == {"extraction": {CANONICAL}, "reconciliation": {CANONICAL},
                       "enrichment": {METADATA}, "causal": {METADATA}}
    assert FAST not in {b["model"] for b in chat_bodies(loopback)}


# -- (8) failures -------------------------------------------------------------------------


def test_rate_limit_then_success_is_retried_inside_the_drain(ok, script, data_dir):
    script.when(task="extraction").reply(status=429, error="slow down", headers=RETRY_NOW) \
        .reply(extraction(fact("The CI cache key includes the lockfile hash.")))
    ok("remember", "ci cache key = lockfile hash")
    started = time.monotonic()
    row = only_row(drain(ok))
    assert time.monotonic() - started < 5
    assert row["status"] == "done"
    assert len(script.calls_for("extraction")) == 2
    assert [m.content for m in memories(data_dir)] == [
        "The CI cache key includes the lockfile hash."]


def test_persistent_server_error_backs_off_then_fails_for_good(ok, script, data_dir):
    script.when(task="extraction").reply(status=500, error="upstream exploded",
                                         headers=RETRY_NOW)
    ok("remember", "The CI cache key includes the lockfile hash.")
    for attempt in range(1, 5):
        out = drain(ok)
        row = only_row(out)
        assert row["status"] == "pending", row
        assert "500" in row["error"] and out["failed"] == 0
        queued = queue_row(data_dir, row["queue_id"])
        assert queued["status"] == "pending" and queued["attempts"] == attempt
        assert "HTTP 500" in queued["last_error"] and "upstream exploded" in queued["last_error"]
        assert queued["available_at"] > clock.now() + 30  # back-off, not an immediate retry
        if attempt == 1:
            assert drain(ok)["rows"] == []  # not due yet
        clock.shift(601)
    out = drain(ok)
    row = only_row(out)
    assert row["status"] == "failed" and out["failed"] == 1
    queued = queue_row(data_dir, row["queue_id"])
    assert queued["status"] == "failed" and queued["attempts"] == 5
    assert "HTTP 500" in queued["last_error"]
    assert len(script.calls_for("extraction")) == 5 * 4  # 1 try + 3 client retries per drain
    clock.shift(3600)
    assert drain(ok)["rows"] == []  # failed rows stay failed
    assert_untouched_by(data_dir, row["queue_id"])
    assert memories(data_dir, deleted=True) == []
    assert "HTTP 500" in ok("scheduler", "queue", "show", row["queue_id"])["last_error"]


def test_timeout_is_retried_later_without_duplicates(ok, script, data_dir, monkeypatch):
    no_backoff(monkeypatch)
    short_llm_timeout(monkeypatch, 0.2)
    answer = extraction(fact("The CI cache key includes the lockfile hash."))
    rule = script.when(task="extraction")
    for _ in range(4):  # one drain: the first try and three retries, all too slow
        rule.reply(answer, delay=1.0)
    rule.reply(answer)
    ok("remember", "ci cache key = lockfile hash")
    row = only_row(drain(ok))
    assert row["status"] == "pending" and "timed out" in row["error"]
    assert_untouched_by(data_dir, row["queue_id"])
    time.sleep(1.0)  # let the late answers arrive; they must not be used
    clock.shift(61)
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert [m.content for m in memories(data_dir)] == [
        "The CI cache key includes the lockfile hash."]


def test_dropped_connection_is_retried_inside_the_drain(ok, script, data_dir, monkeypatch):
    no_backoff(monkeypatch)
    script.when(task="extraction").reply(drop=True) \
        .reply(extraction(fact("The CI cache key includes the lockfile hash.")))
    ok("remember", "ci cache key = lockfile hash")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert len(script.calls_for("extraction")) == 2
    assert len(memories(data_dir)) == 1


def test_connection_always_dropped_leaves_the_row_pending(ok, script, data_dir, monkeypatch):
    no_backoff(monkeypatch)
    script.when(task="extraction").reply(drop=True)
    ok("remember", "ci cache key = lockfile hash")
    row = only_row(drain(ok))
    assert row["status"] == "pending" and "cannot reach" in row["error"]
    assert "cannot reach" in queue_row(data_dir, row["queue_id"])["last_error"]
    assert_untouched_by(data_dir, row["queue_id"])


@pytest.mark.parametrize("answer,finish,message", [
    ("Sorry, I can't produce JSON today.", "stop", "not JSON"),
    ('{"facts": [{"text": "The build uses Bazel', "length", "truncated"),
], ids=["malformed", "truncated"])
def test_unusable_answer_retries_the_row_and_writes_nothing(ok, script, data_dir, answer,
                                                            finish, message):
    script.when(task="extraction").reply(answer, finish_reason=finish) \
        .reply(extraction(fact("The build uses Bazel 7.")))
    ok("remember", "the build uses bazel 7")
    row = only_row(drain(ok))
    assert row["status"] == "pending" and message in row["error"], row
    assert message in queue_row(data_dir, row["queue_id"])["last_error"]
    assert_untouched_by(data_dir, row["queue_id"])
    assert memories(data_dir, deleted=True) == []
    clock.shift(61)
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert [m.content for m in memories(data_dir)] == ["The build uses Bazel 7."]


def test_enrichment_failure_of_one_fact_writes_no_fact(ok, script, data_dir):
    script.when(task="extraction").reply(extraction(
        fact("The importer retries failed rows three times."),
        fact("The importer logs to logs/importer.log.")))
    script.when(task="enrichment", user_contains="logs/importer.log").reply(
        status=503, headers=RETRY_NOW)
    ok("remember", "importer: 3 retries, logs in logs/importer.log")
    row = only_row(drain(ok))
    assert row["status"] == "pending" and "503" in row["error"]
    assert_untouched_by(data_dir, row["queue_id"])
    assert memories(data_dir, deleted=True) == []


def test_reconciliation_failure_after_extraction_writes_nothing(ok, script, data_dir):
    existing = seed(ok, "The API server listens on port 8080.")
    script.when(task="reconciliation").reply(status=502, error="bad gateway",
                                             headers=RETRY_NOW)
    ok("remember", "The API server listens on port 8443.")
    row = only_row(drain(ok))
    assert row["status"] == "pending" and "502" in row["error"]
    assert len(script.calls_for("extraction")) == 2  # the seed's and this row's
    assert_untouched_by(data_dir, row["queue_id"])
    (mem,) = memories(data_dir, deleted=True)
    assert mem.id == existing and mem.content == "The API server listens on port 8080."


def test_causal_failure_after_reconciliation_writes_nothing(ok, script, data_dir):
    target = seed(ok, "The API server listens on port 8080.")
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("UPDATE", candidate_index(call, "8080"),
                 "The API server listens on port 8443.", "port changed")]})
    script.when(task="causal").reply(status=500, error="causal boom", headers=RETRY_NOW)
    ok("remember", "The API server listens on port 8443.")
    row = only_row(drain(ok))
    assert row["status"] == "pending" and "causal boom" in row["error"], row
    assert len(script.calls_for("reconciliation")) == 1  # it answered; nothing was applied
    assert script.calls_for("causal")
    assert_untouched_by(data_dir, row["queue_id"])
    (mem,) = memories(data_dir, deleted=True)
    assert mem.id == target and mem.content == "The API server listens on port 8080."
    assert not [e for e in oplog(data_dir) if e.operation == "reconcile-update"]


def test_a_failing_row_does_not_block_the_next_one(ok, script, data_dir):
    script.when(task="extraction", user_contains="first").reply(status=500, headers=RETRY_NOW)
    ok("remember", "first: the importer retries failed rows three times")
    ok("remember", "second: the build uses bazel 7")
    out = drain(ok)
    statuses = {r["queue_id"]: r["status"] for r in out["rows"]}
    assert statuses == {1: "pending", 2: "done"}
    assert [m.queue_id for m in memories(data_dir)] == [2]


# -- (9) causal links -----------------------------------------------------------------


def test_causal_links_from_the_model_become_edges(ok, script, data_dir):
    mysql = seed(ok, "MySQL lacks JSONB support.")
    jsonb = seed(ok, "PostgreSQL stores billing events in JSONB columns.")
    reports = seed(ok, "Billing reports are generated from PostgreSQL views.")
    new_text = "The billing service moved from MySQL to PostgreSQL to get JSONB support."

    def links(call):
        return {"links": [
            {"cause": candidate_index(call, "MySQL lacks"), "effect": "new",
             "sub_type": "causes", "confidence": 0.9, "rationale": "no JSONB in MySQL"},
            {"cause": "new", "effect": candidate_index(call, "JSONB columns"),
             "sub_type": "enables", "confidence": 0.8, "rationale": "postgres has JSONB"},
            {"cause": candidate_index(call, "Billing reports"), "effect": "new",
             "sub_type": "causes", "confidence": 0.7, "rationale": "weak"},
        ]}

    script.when(task="causal", user_contains="NEW: " + new_text).reply(links)
    ok("remember", new_text)
    row = only_row(drain(ok))
    assert row["status"] == "done"
    (result,) = row["facts"]
    new = result["id"]
    (call,) = [c for c in script.calls_for("causal") if new_text in c.user]
    for needle in ("MySQL lacks", "JSONB columns", "Billing reports"):
        candidate_index(call, needle)  # all three were in the pool the model saw
    causal = {(e["source_id"], e["target_id"]): e for e in edges(data_dir, edge_type="causal")}
    assert set(causal) == {(mysql, new), (new, jsonb)}
    first = causal[(mysql, new)]
    assert first["weight"] == 0.9
    assert first["metadata"]["created_by"] == "llm"
    assert first["metadata"]["confidence"] == 0.9
    assert first["metadata"]["sub_type"] == "causes"
    assert first["metadata"]["rationale"] == "no JSONB in MySQL"
    second = causal[(new, jsonb)]
    assert second["weight"] == 0.8 and second["metadata"]["sub_type"] == "enables"
    assert not [k for k in causal if reports in k]
    assert result["edges_created"]["causal"] == 2


def test_no_causal_edge_to_a_memory_deleted_by_the_same_row(ok, script, data_dir):
    old = seed(ok, "Background jobs run on Celery workers.")
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("DELETE", candidate_index(call, "Celery"), reason="replaced")]})
    script.when(task="causal", user_contains="RQ").reply(lambda call: {"links": [
        {"cause": candidate_index(call, "Celery"), "effect": "new", "sub_type": "causes",
         "confidence": 0.9, "rationale": "Celery problems led to RQ"}]})
    ok("remember", "Background jobs run on RQ workers instead of Celery workers.")
    row = only_row(drain(ok))
    assert row["status"] == "done" and row["facts"][0]["deleted_id"] == old
    dangling = [e for e in edges(data_dir) if old in (e["source_id"], e["target_id"])]
    assert dangling == []


# -- (10) provenance ------------------------------------------------------------------


def test_stored_rows_carry_the_prompt_version_and_canonical_model(ok, script, data_dir):
    seed(ok, "The orders service is written in Go.")
    (mem,) = memories(data_dir)
    assert mem.prompt_version == PROMPT_VERSION
    assert mem.model_id == CANONICAL
    assert mem.embedding_model == "hash-ngram-v1"
    assert ok("status")["stale_insights"] == 0


def test_an_llm_update_restamps_a_heuristic_memory(ok, loopback, data_dir):
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", "none")
    target = seed(ok, "The API server listens on port 8080.")
    with store(data_dir) as b:
        assert (b.get_insight(target).prompt_version, b.get_insight(target).model_id) == (
            "rules-v1", "heuristic")
    script = llm_mode(ok, loopback)
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("UPDATE", candidate_index(call, "8080"),
                 "The API server listens on port 8443.", "port changed")]})
    ok("remember", "The API server listens on port 8443.")
    row = only_row(drain(ok))
    assert row["facts"][0]["action"] == "updated"
    with store(data_dir) as b:
        mem = b.get_insight(target)
    assert (mem.prompt_version, mem.model_id) == (PROMPT_VERSION, CANONICAL)


# -- (11) the response cache ----------------------------------------------------------


def test_a_retried_row_does_not_repeat_cached_requests(ok, script, data_dir):
    seed(ok, "The API server listens on port 8080.")
    rule = script.when(task="reconciliation")
    for _ in range(4):  # the whole first drain fails at reconciliation
        rule.reply(status=503, error="overloaded", headers=RETRY_NOW)
    rule.reply(lambda call: {"decisions": [decision("ADD")]})
    text = "The admin API listens on port 9090."
    ok("remember", text)
    row = only_row(drain(ok))
    assert row["status"] == "pending"
    note_calls = [c for c in script.calls_for("extraction") if text in c.user]
    assert len(note_calls) == 1
    clock.shift(61)
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert len([c for c in script.calls_for("extraction") if text in c.user]) == 1
    assert len([c for c in script.calls_for("enrichment") if text in c.user]) == 1
    assert len(script.calls_for("reconciliation")) == 5
    assert text in [m.content for m in memories(data_dir)]


def test_an_identical_note_reuses_the_cached_extraction(ok, script, data_dir):
    text = "The CI cache key includes the lockfile hash."
    first = seed(ok, text)
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("NONE", candidate_index(call, "lockfile"), reason="same")]})
    ok("remember", text)
    row = only_row(drain(ok))
    assert row["facts"][0]["action"] == "skipped" and row["facts"][0]["target_id"] == first
    assert len(script.calls_for("extraction")) == 1
    assert [m.id for m in memories(data_dir)] == [first]


# -- the graph across a multi-fact row --------------------------------------------------


def test_a_multi_fact_row_continues_the_sources_backbone_in_order(ok, script, data_dir):
    previous = seed(ok, "The orders service is written in Go.")
    script.when(task="extraction", user_contains="three things").reply(extraction(
        fact("Release notes live in docs/CHANGELOG.md."),
        fact("The design review happens every Thursday."),
        fact("The mobile app targets Android 14.")))
    ok("remember", "three things: changelog, design review, android")
    row = only_row(drain(ok))
    f1, f2, f3 = (f["id"] for f in row["facts"])
    backbone = {(e["source_id"], e["target_id"]): e["metadata"].get("direction")
                for e in edges(data_dir, edge_type="temporal")
                if e["metadata"].get("sub_type") == "backbone"}
    for earlier, later in ((previous, f1), (f1, f2), (f2, f3)):
        assert backbone.get((earlier, later)) == "precedes", (earlier, later, backbone)
        assert backbone.get((later, earlier)) == "succeeds", (earlier, later, backbone)


def test_facts_of_one_row_link_by_shared_entities(ok, script, data_dir):
    script.when(task="extraction").reply(extraction(
        fact("Alice owns BillingService.", "context", 4, ["Alice", "BillingService"]),
        fact("BillingService runs on PostgreSQL 15.", "fact", 3, ["BillingService"])))
    ok("remember", "alice owns billing, which runs on pg 15")
    row = only_row(drain(ok))
    a, b = (f["id"] for f in row["facts"])
    linked = [e for e in edges(data_dir, edge_type="entity")
              if {e["source_id"], e["target_id"]} == {a, b}]
    assert len(linked) == 2
    assert {e["metadata"]["entity"] for e in linked} == {"BillingService"}


# -- rows that bypass extraction, and the prefetching window --------------------------


def test_no_reconcile_row_skips_extraction_but_is_still_enriched_by_the_model(
        ok, script, data_dir):
    script.when(task="enrichment").reply({
        "keywords": ["deploy", "schedule"], "summary": "Tuesday deploys",
        "semantic_facts": [], "entities": []})
    text = "Deploys to production happen every Tuesday after the standup."
    ok("remember", text, "--no-reconcile")
    row = only_row(drain(ok))
    assert row["status"] == "done" and row["facts"][0]["action"] == "added"
    assert script.calls_for("extraction") == [] and script.calls_for("reconciliation") == []
    (mem,) = memories(data_dir)
    assert mem.content == text
    assert len(script.calls_for("enrichment")) == 1
    assert mem.keywords == ["deploy", "schedule"] and mem.summary == "Tuesday deploys"


def test_no_reconcile_row_is_stored_verbatim_without_asking_the_model(ok, script, data_dir):
    existing = seed(ok, "The API server listens on port 8080.")
    ok("remember", "The API server listens on port 8080.", "--no-reconcile")
    row = only_row(drain(ok))
    assert row["facts"][0]["action"] == "added" and row["facts"][0]["id"] != existing
    assert len(script.calls_for("extraction")) == 1  # the seed's only
    assert script.calls_for("reconciliation") == []
    assert [m.content for m in memories(data_dir)] == ["The API server listens on port 8080."] * 2


def test_rows_prepared_ahead_are_reconciled_against_rows_applied_before_them(
        ok, script, data_dir):
    """Extraction runs ahead in threads, but candidates are read in queue order: the
    second of two identical notes drained together sees the first one's memory."""
    text = "The CI cache key includes the lockfile hash."
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("NONE", candidate_index(call, "lockfile"), reason="same")]})
    ok("remember", text)
    ok("remember", text)
    out = drain(ok)
    assert [r["status"] for r in out["rows"]] == ["done", "done"]
    first, second = out["rows"]
    assert first["facts"][0]["action"] == "added"
    assert second["facts"][0] == {"action": "skipped", "content": text, "reason": "same",
                                  "target_id": first["facts"][0]["id"]}
    assert len(memories(data_dir)) == 1
