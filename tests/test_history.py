"""History instead of loss: every change that rewrites or removes a memory keeps the
previous version, ``insights show``/``history`` list the chain, and ``insights restore``
puts a version back (fields, keyword index, vector, edges) and can itself be undone.

Reconciliation decisions come from the scripted model on loopback (tests/fakes).
"""
import pytest

from memman.store.model import Edge
from tests.fakes.worker_helpers import (
    candidate_index, decision, drain, edges, embedding_blob, llm_mode, memories, oplog,
    only_row, recall_ids, store,
)

OLD = "The API server listens on port 8080."
MERGED = "The API server listens on port 8443 behind the Envoy proxy."


@pytest.fixture
def script(ok, loopback):
    return llm_mode(ok, loopback)


def seed(ok, text, *flags) -> str:
    ok("remember", text, *flags)
    row = only_row(drain(ok))
    assert row["facts"][0]["action"] == "added", row
    return row["facts"][0]["id"]


def merge_into_target(ok, script) -> dict:
    """Queue a note the model merges into the OLD memory; the drained row."""
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("UPDATE", candidate_index(call, "port 8080"), MERGED, "port changed")]})
    ok("remember", "The API server now listens on port 8443 behind Envoy.")
    row = only_row(drain(ok))
    assert row["facts"][0]["action"] == "updated", row
    return row


def keyword_hits(data_dir, word) -> list[str]:
    with store(data_dir) as b:
        return [i.id for i in b.search_basic([word], category=None, source=None, limit=10)]


def test_update_keeps_the_previous_version_with_when_why_and_which_row(ok, script, data_dir):
    target = seed(ok, OLD)
    old_vector = embedding_blob(data_dir, target)
    row = merge_into_target(ok, script)

    shown = ok("insights", "show", target)
    assert shown["content"] == MERGED
    (version,) = shown["history"]
    assert version["version"] == 1 and version["content"] == OLD
    assert version["change"] == "reconcile-update" and version["reason"] == "port changed"
    assert version["changed_by_queue_id"] == row["queue_id"]
    assert version["queue_id"] == 1  # the row that wrote the old text
    assert version["changed_at"] >= version["written_at"]

    chain = ok("insights", "history", target)
    assert chain["current_version"] == 2
    assert [(v["version"], v["content"]) for v in chain["versions"]] == [(1, OLD), (2, MERGED)]
    assert chain["versions"][-1]["current"] is True
    assert embedding_blob(data_dir, target) != old_vector


def test_restore_puts_back_text_index_vector_and_can_be_undone(ok, script, data_dir):
    target = seed(ok, OLD)
    other = seed(ok, "Deploys of the API go through Argo CD.")
    old_vector = embedding_blob(data_dir, target)
    merge_into_target(ok, script)
    merged_vector = embedding_blob(data_dir, target)
    assert keyword_hits(data_dir, "envoy") == [target]

    out = ok("insights", "restore", target, "--version", "1")
    assert out["status"] == "restored" and out["restored_version"] == 1
    assert out["current_version"] == 3 and out["undeleted"] is False
    assert out["insight"]["content"] == OLD and out["embedding"] == "restored"
    assert keyword_hits(data_dir, "envoy") == []
    assert keyword_hits(data_dir, "8080") == [target]
    assert embedding_blob(data_dir, target) == old_vector
    assert target in recall_ids(ok, "port", "8080")
    assert [m.id for m in memories(data_dir)] == [target, other]

    chain = ok("insights", "history", target)["versions"]
    assert [(v["version"], v["content"], v.get("change")) for v in chain] == [
        (1, OLD, "reconcile-update"), (2, MERGED, "restore"), (3, OLD, None)]
    assert [e.operation for e in oplog(data_dir)].count("restore") == 1

    undo = ok("insights", "restore", target, "--version", "2")
    assert undo["insight"]["content"] == MERGED and undo["current_version"] == 4
    assert embedding_blob(data_dir, target) == merged_vector
    assert keyword_hits(data_dir, "envoy") == [target]


def test_a_reconcile_delete_can_be_undone_with_its_edges(ok, script, data_dir):
    old = seed(ok, "Background jobs run on Celery.")
    keep = seed(ok, "Celery workers are monitored with Flower.")
    with store(data_dir) as b:
        b.upsert_edge(Edge(keep, old, "causal", 0.9, {"created_by": "manual"}))
    before = {(e["source_id"], e["target_id"], e["edge_type"]) for e in edges(data_dir)
              if old in (e["source_id"], e["target_id"])}
    assert (keep, old, "causal") in before
    script.when(task="reconciliation").reply(lambda call: {"decisions": [
        decision("DELETE", candidate_index(call, "Background jobs"), reason="now RQ")]})
    ok("remember", "Background jobs run on RQ.")
    row = only_row(drain(ok))
    assert row["facts"][0]["deleted_id"] == old
    assert old not in recall_ids(ok, "Celery")

    (version,) = ok("insights", "show", old)["history"]
    assert (version["change"], version["reason"]) == ("reconcile-delete", "now RQ")
    assert version["changed_by_queue_id"] == row["queue_id"] and version["deleted"] is False

    out = ok("insights", "restore", old, "--version", "1")
    assert out["undeleted"] is True and "deleted_at" not in out["insight"]
    assert old in recall_ids(ok, "Celery")
    after = {(e["source_id"], e["target_id"], e["edge_type"]) for e in edges(data_dir)
             if old in (e["source_id"], e["target_id"])}
    assert after == before  # both ends of every kept edge are active


def test_edges_to_memories_gone_since_are_not_restored(ok, data_dir):
    a = seed(ok, "The billing service is written in Go.", "--no-reconcile")
    b = seed(ok, "The billing service stores invoices in PostgreSQL.", "--no-reconcile")
    assert [e for e in edges(data_dir) if {e["source_id"], e["target_id"]} == {a, b}]
    ok("forget", a)
    ok("forget", b)
    ok("insights", "restore", a, "--version", "1")
    assert not [e for e in edges(data_dir) if b in (e["source_id"], e["target_id"])]


def test_forget_and_replace_keep_history(ok, data_dir):
    mem = seed(ok, "The user prefers tabs in Go code.", "--no-reconcile")
    ok("replace", mem, "The user prefers gofmt defaults in Go code.")
    replaced = only_row(drain(ok))
    ok("forget", mem)
    chain = ok("insights", "history", mem)["versions"]
    assert [(v["content"], v.get("change"), v["deleted"]) for v in chain] == [
        ("The user prefers tabs in Go code.", "replace", False),
        ("The user prefers gofmt defaults in Go code.", "forget", False),
        ("The user prefers gofmt defaults in Go code.", None, True)]
    assert chain[0]["changed_by_queue_id"] == replaced["queue_id"]
    assert chain[1]["reason"] == "forgotten by user"

    ok("insights", "restore", mem, "--version", "1")
    assert ok("insights", "show", mem)["content"] == "The user prefers tabs in Go code."
    assert mem in recall_ids(ok, "tabs")


def test_restore_refuses_unknown_and_current_versions(ok, run, data_dir):
    mem = seed(ok, "The staging cluster runs in eu-west-1.", "--no-reconcile")
    result = run("insights", "restore", mem, "--version", "1")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: version 1 is the current version of insight "
                                      f"'{mem}'; nothing to restore")
    ok("forget", mem)
    result = run("insights", "restore", mem, "--version", "7")
    assert result.exit_code == 1
    assert f"insight '{mem}' has no version 7; it has versions 1-2" in result.stderr
    result = run("insights", "restore", "nope", "--version", "1")
    assert result.stderr.strip() == "Error: insight 'nope' not found"
    result = run("insights", "history", "nope")
    assert result.exit_code == 1 and "not found" in result.stderr
