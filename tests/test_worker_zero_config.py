"""The drain worker with no configuration at all: rule-based gate, entities, keywords,
builtin embeddings, heuristic reconciliation, the four edge types, fingerprint
binding, and the maintenance that follows every pass.

Everything goes through the CLI (``remember``, ``scheduler drain``...) and the
store is inspected with ``SQLiteBackend``.
"""
import json

import numpy as np

from memman import clock
from memman.embed.registry import dump_fingerprint
from memman.store.model import Edge
from tests.fakes.worker_helpers import (
    BUILTIN_FINGERPRINT, backdate, drain, edges, embedding_blob, memories,
    only_row, oplog, queue_row, store,
)


def remember_one(ok, text, *flags) -> dict:
    """Queue ``text``, drain, return the row's single fact result (asserting it is done)."""
    ok("remember", text, *flags)
    row = only_row(drain(ok))
    assert row["status"] == "done", row
    assert len(row["facts"]) == 1, row
    return row["facts"][0]


def cosine(data_dir, a: str, b: str) -> float:
    va = np.frombuffer(embedding_blob(data_dir, a), dtype="<f4")
    vb = np.frombuffer(embedding_blob(data_dir, b), dtype="<f4")
    return float(va @ vb)


def between(found, a, b):
    return [e for e in found if {e["source_id"], e["target_id"]} == {a, b}]


# -- the gate and what a stored memory carries --------------------------------------


def test_drain_runs_in_heuristic_mode_without_configuration(ok):
    ok("remember", "The staging database lives on db-stage-01.")
    out = drain(ok)
    assert out["mode"] == "heuristic" and out["llm_calls"] == 0
    assert ok("status")["mode"] == "heuristic"


def test_gate_rejects_chit_chat_with_a_reason(ok, data_dir):
    ok("remember", "thanks!")
    row = only_row(drain(ok))
    assert row["status"] == "done"
    assert row["facts"] == []
    assert row["skip_reason"] == "thanks"
    assert memories(data_dir) == []
    assert queue_row(data_dir, row["queue_id"])["status"] == "done"


def test_durable_note_is_stored_with_entities_keywords_embedding_and_fingerprint(ok, data_dir):
    text = "Alice maintains BillingService; its entry point is src/app/main.py."
    result = remember_one(ok, text)
    assert result["action"] == "added"
    (mem,) = memories(data_dir)
    assert mem.id == result["id"] and mem.content == text
    lowered = {e.lower() for e in mem.entities}
    assert {"alice", "billingservice", "src/app/main.py"} <= lowered, mem.entities
    assert mem.keywords, "zero-config enrichment must store keywords"
    assert "billingservice" in [k.lower() for k in mem.keywords]
    assert (mem.category, mem.importance, mem.source) == ("general", 3, "user")
    assert mem.prompt_version == "rules-v1" and mem.model_id == "heuristic"
    assert mem.embedding_model == "hash-ngram-v1"
    blob = embedding_blob(data_dir, mem.id)
    assert blob is not None and len(blob) == 384 * 4
    vector = np.frombuffer(blob, dtype="<f4")
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3
    with store(data_dir) as b:
        assert json.loads(b.get_meta("embed_fingerprint")) == BUILTIN_FINGERPRINT
    assert ok("status")["embedder"] == BUILTIN_FINGERPRINT


def test_hints_are_kept_as_given(ok, data_dir):
    remember_one(ok, "Prefer squash merges on the api repository.", "--cat", "preference",
                 "--imp", "5", "--source", "agent", "--entities", "api-repo")
    (mem,) = memories(data_dir)
    assert (mem.category, mem.importance, mem.source) == ("preference", 5, "agent")
    assert mem.entities[0] == "api-repo"


# -- heuristic reconciliation ----------------------------------------------------------


def test_near_duplicate_is_skipped(ok, data_dir):
    first = remember_one(ok, "Alice owns the billing service")
    again = remember_one(ok, "Alice owns the billing service.")
    assert again["action"] == "skipped"
    assert again["target_id"] == first["id"] and again["reason"]
    assert [m.id for m in memories(data_dir)] == [first["id"]]


def test_a_changed_number_is_new_information(ok, data_dir):
    remember_one(ok, "The API server listens on port 8080.")
    second = remember_one(ok, "The API server listens on port 9090.")
    assert second["action"] == "added"
    assert len(memories(data_dir)) == 2


def test_a_changed_number_is_stored_even_when_the_texts_are_very_similar(ok, data_dir):
    base = ("The payments gateway in the staging cluster listens on port {} behind the "
            "nginx ingress controller.")
    first = remember_one(ok, base.format(8080))
    second = remember_one(ok, base.format(9090))
    assert second["action"] == "added"
    # The vectors alone would call it a duplicate: the number is what saves it.
    assert cosine(data_dir, first["id"], second["id"]) >= 0.85


def test_no_reconcile_stores_the_text_as_is(ok, data_dir):
    first = remember_one(ok, "Alice owns the billing service")
    again = remember_one(ok, "Alice owns the billing service", "--no-reconcile")
    assert again["action"] == "added" and again["id"] != first["id"]
    assert [m.content for m in memories(data_dir)] == ["Alice owns the billing service"] * 2


def test_no_reconcile_skips_the_gate_too(ok, data_dir):
    result = remember_one(ok, "thanks!", "--no-reconcile")
    assert result["action"] == "added"
    assert [m.content for m in memories(data_dir)] == ["thanks!"]


# -- edges -----------------------------------------------------------------------------


def test_temporal_backbone_links_consecutive_memories_of_a_source(ok, data_dir):
    a = remember_one(ok, "The orders service is written in Go.")["id"]
    b = remember_one(ok, "Release notes live in docs/CHANGELOG.md.")["id"]
    c = remember_one(ok, "The design review happens every Thursday.")["id"]
    d = remember_one(ok, "The mobile app targets Android 14.", "--source", "agent")["id"]
    backbone = [e for e in edges(data_dir, edge_type="temporal")
                if e["metadata"].get("sub_type") == "backbone"]
    pairs = {(e["source_id"], e["target_id"]): e["metadata"]["direction"] for e in backbone}
    assert pairs[(a, b)] == "precedes" and pairs[(b, a)] == "succeeds"
    assert pairs[(b, c)] == "precedes" and pairs[(c, b)] == "succeeds"
    assert all(e["weight"] == 1.0 for e in backbone)
    # Another source starts its own backbone; a and c are not consecutive.
    assert not any(d in pair for pair in pairs)
    assert (a, c) not in pairs and (c, a) not in pairs


def test_temporal_proximity_links_memories_close_in_time(ok, data_dir):
    a = remember_one(ok, "The orders service is written in Go.")["id"]
    b = remember_one(ok, "The mobile app targets Android 14.", "--source", "agent")["id"]
    found = between(edges(data_dir, edge_type="temporal"), a, b)
    assert len(found) == 2  # both directions
    assert all(e["metadata"]["sub_type"] == "proximity" for e in found)


def test_entity_edges_link_memories_sharing_an_entity(ok, data_dir):
    a = remember_one(ok, "Alice reviews every database migration.")["id"]
    b = remember_one(ok, "Deploys to production happen on Tuesdays.")["id"]
    c = remember_one(ok, "Alice prefers squash merges on the api repository.")["id"]
    found = edges(data_dir, edge_type="entity")
    linked = between(found, a, c)
    assert len(linked) == 2
    assert {e["metadata"]["entity"].lower() for e in linked} == {"alice"}
    assert between(found, a, b) == [] and between(found, b, c) == []


def test_semantic_edges_link_paraphrases(ok, data_dir):
    from memman.graph.thresholds import resolve

    threshold, _ = resolve("builtin", "hash-ngram-v1", surface="code")
    a = remember_one(
        ok, "Nightly backups of the orders database go to the acme-backups S3 bucket.")["id"]
    other = remember_one(ok, "Sam prefers tabs over spaces in Makefiles.")["id"]
    b = remember_one(
        ok, "The orders database is backed up nightly to the acme-backups S3 bucket by cron.")
    assert b["action"] == "added"
    b = b["id"]
    sim = cosine(data_dir, a, b)
    assert sim >= threshold, f"pick paraphrases above the builtin threshold ({sim:.3f})"
    found = edges(data_dir, edge_type="semantic")
    linked = between(found, a, b)
    assert len(linked) == 2
    assert all(e["metadata"]["created_by"] == "auto" for e in linked)
    assert all(abs(e["weight"] - sim) < 1e-3 for e in linked)
    assert between(found, a, other) == [] and between(found, b, other) == []


def test_heuristic_causal_edge_from_cue_phrases(ok, data_dir):
    cause = remember_one(ok, "MySQL lacks JSONB support.")["id"]
    effect = remember_one(
        ok, "We moved billing to PostgreSQL because MySQL lacked JSONB support.")["id"]
    assert effect != cause
    found = edges(data_dir, edge_type="causal")
    assert len(found) == 1, found
    (edge,) = found
    assert (edge["source_id"], edge["target_id"]) == (cause, effect)
    assert edge["metadata"]["created_by"] == "heuristic"
    assert edge["metadata"]["cue"] == "because"
    assert 0 < edge["weight"] < 1


def test_status_counts_edges(ok, data_dir):
    remember_one(ok, "Alice reviews every database migration.")
    remember_one(ok, "Alice prefers squash merges on the api repository.")
    total = len(edges(data_dir))
    assert total > 0
    status = ok("status")
    assert status["edge_count"] == total and status["total_insights"] == 2


def test_drain_reports_the_edges_it_created(ok, data_dir):
    remember_one(ok, "Alice reviews every database migration.")
    second = remember_one(ok, "Alice prefers squash merges on the api repository.")
    counts = second["edges_created"]
    assert counts["entity"] == 2 and counts["temporal"] >= 2
    with store(data_dir) as b:
        mine = [e for e in b.edges_of(second["id"])]
    assert sum(counts.values()) == len(mine)


# -- the embedder is bound by the store's fingerprint --------------------------------


def test_env_provider_change_does_not_rebind_an_existing_store(ok, data_dir):
    remember_one(ok, "The orders service is written in Go.")
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "voyage")  # and no Voyage key
    result = remember_one(ok, "The mobile app targets Android 14.")
    assert result["action"] == "added"
    assert len(embedding_blob(data_dir, result["id"])) == 384 * 4
    with store(data_dir) as b:
        assert json.loads(b.get_meta("embed_fingerprint")) == BUILTIN_FINGERPRINT
    assert all(m.embedding_model == "hash-ngram-v1" for m in memories(data_dir))


def test_fingerprint_dimension_mismatch_fails_rows_instead_of_mixing_vectors(ok, data_dir):
    first = remember_one(ok, "The orders service is written in Go.")
    with store(data_dir) as b:
        b.set_meta("embed_fingerprint", dump_fingerprint(
            {"provider": "builtin", "model": "hash-ngram-v1", "dim": 512}))
    ok("remember", "The mobile app targets Android 14.")
    row = only_row(drain(ok))
    try:
        assert row["status"] == "pending", row
        assert "dim" in row["error"].lower(), row
        assert [m.id for m in memories(data_dir)] == [first["id"]]
    finally:
        sizes = {len(embedding_blob(data_dir, m.id)) for m in memories(data_dir)}
        assert sizes == {384 * 4}, f"vectors of several sizes in one store: {sizes}"


# -- maintenance -----------------------------------------------------------------------


def test_auto_prune_keeps_the_cap_and_spares_immune_and_new_memories(ok, data_dir):
    ok("config", "set", "MEMMAN_MAX_INSIGHTS", "5")
    topics = ["Go", "Rust", "Python", "Kotlin", "Swift", "Elixir", "Haskell", "Scala",
              "Erlang", "Zig"]
    ids = {}
    for n, lang in enumerate(topics):
        imp = "4" if n in (0, 1) else ("5" if n == 2 else "2")
        ok("remember", f"Service number {n} is written in {lang}.", "--imp", imp,
           "--no-reconcile")
    out = drain(ok)
    assert out["processed"] == 10
    assert out["maintenance"]["stores"]["default"]["pruned"] == 0  # all within the grace
    for mem in memories(data_dir):
        ids[mem.content] = mem.id
    immune = {m.id for m in memories(data_dir) if m.importance >= 4}
    assert len(immune) == 3
    backdate(data_dir, ids.values(), 2 * 3600)

    fresh = remember_one(ok, "Service number 10 is written in OCaml.", "--imp", "2",
                         "--no-reconcile")
    active = memories(data_dir)
    assert len(active) == 5
    active_ids = {m.id for m in active}
    assert immune <= active_ids
    assert fresh["id"] in active_ids
    pruned = [e for e in oplog(data_dir) if e.operation == "auto_prune"]
    assert len(pruned) == 6
    assert {e.insight_id for e in pruned} == set(ids.values()) - active_ids
    assert all(e.before is not None for e in pruned)
    deleted = [m for m in memories(data_dir, deleted=True) if m.deleted_at]
    assert {m.id for m in deleted} == {e.insight_id for e in pruned}


def test_auto_prune_never_touches_memories_inside_the_grace_period(ok, data_dir):
    ok("config", "set", "MEMMAN_MAX_INSIGHTS", "2")
    for n in range(4):
        ok("remember", f"Service number {n} is written in Go {n}.", "--no-reconcile")
    out = drain(ok)
    assert out["maintenance"]["stores"]["default"]["pruned"] == 0
    assert len(memories(data_dir)) == 4
    assert not [e for e in oplog(data_dir) if e.operation == "auto_prune"]


def test_done_queue_rows_are_purged_after_a_minute(ok, data_dir):
    remember_one(ok, "The orders service is written in Go.")
    assert queue_row(data_dir, 1)["status"] == "done"
    out = drain(ok)  # too young to purge
    assert out["maintenance"]["queue"]["done_purged"] == 0
    assert queue_row(data_dir, 1) is not None
    clock.shift(61)
    out = drain(ok)
    assert out["maintenance"]["queue"]["done_purged"] == 1
    assert queue_row(data_dir, 1) is None


def test_maintenance_runs_when_the_drain_hits_its_limit(ok, data_dir):
    ok("config", "set", "MEMMAN_MAX_INSIGHTS", "2")
    for n in range(3):
        ok("remember", f"Service number {n} is written in Go {n}.", "--no-reconcile")
    drain(ok)
    backdate(data_dir, [m.id for m in memories(data_dir)], 2 * 3600)
    clock.shift(61)
    ok("remember", "The mobile app targets Android 14.", "--no-reconcile")
    ok("remember", "The design review happens every Thursday.", "--no-reconcile")
    out = drain(ok, "--limit", "1")
    assert out["processed"] == 1 and out["remaining"] == {"default": 1}
    assert out["maintenance"]["queue"]["done_purged"] == 3
    assert out["maintenance"]["stores"]["default"]["pruned"] == 2
    assert len(memories(data_dir)) == 2


def test_manual_edges_survive_pruning_of_others(ok, data_dir):
    """Pruning soft-deletes a memory and drops its edges, and nothing else."""
    ok("config", "set", "MEMMAN_MAX_INSIGHTS", "2")
    ok("remember", "Service alpha is written in Go.", "--imp", "4", "--no-reconcile")
    ok("remember", "Service beta is written in Rust.", "--imp", "4", "--no-reconcile")
    ok("remember", "Service gamma is written in Zig.", "--imp", "2", "--no-reconcile")
    drain(ok)
    alpha, beta, gamma = (m.id for m in memories(data_dir))
    with store(data_dir) as b:
        b.upsert_edge(Edge(alpha, beta, "causal", 0.9, {"created_by": "manual"}))
    backdate(data_dir, [alpha, beta, gamma], 2 * 3600)
    ok("remember", "Service delta is written in Go.", "--imp", "5", "--no-reconcile")
    drain(ok)
    active = {m.id for m in memories(data_dir)}
    assert gamma not in active and {alpha, beta} <= active
    manual = [e for e in edges(data_dir) if e["metadata"].get("created_by") == "manual"]
    assert [(e["source_id"], e["target_id"]) for e in manual] == [(alpha, beta)]
    assert not [e for e in edges(data_dir) if gamma in (e["source_id"], e["target_id"])]
