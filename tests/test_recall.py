"""Ranked recall: always current, never resurrecting, filters, intents, degraded mode."""
import json
import os

import pytest

from memman.recall.intent import detect
from memman.recall.matrix import FILENAME
from memman.store.sqlite import SQLiteBackend


def store_db(data_dir, store="default"):
    return SQLiteBackend(data_dir / "data" / store / "memman.db")


def ids(out):
    return [r["insight"]["id"] for r in out["results"]]


@pytest.fixture
def seeded(ok):
    texts = [
        "Alice owns the billing service and reviews its migrations",
        "The billing service stores invoices in PostgreSQL",
        "We moved billing to PostgreSQL because MySQL lacked JSONB support",
        "Bob maintains the deploy pipeline on GitHub Actions",
        "The deploy pipeline runs integration tests before every release",
        "Carol prefers tabs over spaces in Go code",
    ]
    for t in texts:
        ok("remember", t)
    out = ok("scheduler", "drain")
    return {f["content"]: f["id"] for row in out["rows"] for f in row["facts"]}


@pytest.mark.parametrize("query,intent", [
    ("why did we move billing to postgres", "WHY"),
    ("when did the release happen", "WHEN"),
    ("who is Alice", "ENTITY"),
    ("billing database", "GENERAL"),
])
def test_intent_detection(query, intent):
    assert detect(query) == intent


def test_recall_finds_and_explains(ok, seeded):
    out = ok("recall", "who owns the billing service")
    top = out["results"][0]
    assert top["insight"]["content"].startswith("Alice owns the billing service")
    assert set(top["signals"]) == {"keyword", "entity", "similarity", "graph"}
    assert out["meta"]["vector_source"] == "matrix"
    assert out["meta"]["anchor_count"] >= 1 and out["meta"]["traversed"] >= 1
    assert "hint" in out["meta"] and out["meta"]["ordering"] == "score"


def test_entity_signal_works_without_expand(ok, seeded):
    out = ok("recall", "what does Carol prefer")
    top = out["results"][0]
    assert "Carol" in top["insight"]["content"]
    assert top["signals"]["entity"] == 1.0


def test_forgotten_memory_never_returned_even_with_a_stale_vector_file(ok, seeded, data_dir):
    target = seeded["Carol prefers tabs over spaces in Go code"]
    before = os.path.getmtime(data_dir / "data" / "default" / FILENAME)
    ok("forget", target)
    assert os.path.getmtime(data_dir / "data" / "default" / FILENAME) == before  # still stale
    for query in ("Carol tabs spaces Go", "tabs", "what does Carol prefer"):
        assert target not in ids(ok("recall", query))
        assert target not in [r["id"] for r in ok("recall", "--basic", query)["results"]]


def test_replaced_memory_shows_newest_content(ok, seeded):
    target = seeded["Carol prefers tabs over spaces in Go code"]
    ok("replace", target, "Carol prefers spaces over tabs in Go code since 2026")
    ok("scheduler", "drain")
    out = ok("recall", "Carol Go code preference")
    hit = [r for r in out["results"] if r["insight"]["id"] == target][0]
    assert hit["insight"]["content"].startswith("Carol prefers spaces over tabs")


def test_missing_vector_file_falls_back_to_the_store(ok, seeded, data_dir):
    (data_dir / "data" / "default" / FILENAME).unlink()
    out = ok("recall", "who owns the billing service")
    assert out["meta"]["vector_source"] == "store"
    assert out["results"][0]["insight"]["content"].startswith("Alice owns")


def test_corrupt_vector_file_falls_back_to_the_store(ok, seeded, data_dir):
    (data_dir / "data" / "default" / FILENAME).write_bytes(b"MMV1garbage")
    out = ok("recall", "who owns the billing service")
    assert out["meta"]["vector_source"] == "store"
    assert out["results"][0]["insight"]["content"].startswith("Alice owns")


def test_memories_newer_than_the_vector_file_are_found(ok, seeded, data_dir):
    path = data_dir / "data" / "default" / FILENAME
    old = path.read_bytes()
    ok("remember", "Dave runs the observability stack with Grafana and Loki")
    ok("scheduler", "drain")
    path.write_bytes(old)  # the file no longer knows about Dave's memory
    out = ok("recall", "observability Grafana Loki")
    assert out["results"][0]["insight"]["content"].startswith("Dave runs")
    assert out["results"][0]["signals"]["similarity"] > 0.3


def test_category_filter_does_not_starve_the_limit(ok):
    for i in range(15):
        ok("remember", f"General note {i} about the kubernetes cluster", "--no-reconcile")
    for i in range(4):
        ok("remember", f"Decision {i}: the kubernetes cluster uses node pool {i}",
           "--cat", "decision", "--no-reconcile")
    ok("scheduler", "drain")
    out = ok("recall", "kubernetes cluster", "--cat", "decision", "--limit", "4")
    assert len(out["results"]) == 4
    assert all(r["insight"]["category"] == "decision" for r in out["results"])
    only_agent = ok("recall", "kubernetes cluster", "--source", "agent")
    assert only_agent["results"] == []


def test_when_questions_give_a_chronological_reading_order(ok, seeded):
    out = ok("recall", "when did billing move to PostgreSQL", "--intent", "when")
    assert out["meta"]["intent"] == "WHEN" and out["meta"]["intent_source"] == "flag"
    created = {r["insight"]["id"]: r["insight"]["created_at"] for r in out["results"]}
    order = out["meta"]["order"]
    assert sorted(order) == sorted(created)
    assert [created[i] for i in order] == sorted(created.values())
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)  # results themselves stay in score order


def test_access_counted_once_and_only_for_shown_results(ok, seeded, data_dir):
    ok("recall", "billing", "--limit", "2")
    backend = store_db(data_dir)
    counts = {i.id: i.access_count for i in backend.get_insights(list(seeded.values()))}
    backend.close()
    assert sum(counts.values()) == 2 and max(counts.values()) == 1


def test_recall_on_missing_store_is_empty(ok):
    out = ok("--store", "nothing-here", "recall", "anything")
    assert out["results"] == [] and out["meta"]["sparse"] is True


def test_degraded_when_the_remote_embedder_is_down(ok, seeded, data_dir):
    # Re-bind the store to an OpenAI-compatible embedder on a port nobody listens on.
    backend = store_db(data_dir)
    backend.set_meta("embed_fingerprint", json.dumps(
        {"provider": "openai", "model": "m", "dim": 384}, sort_keys=True))
    backend.close()
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", "http://127.0.0.1:9")
    ok("config", "set", "MEMMAN_RECALL_EMBED_TIMEOUT", "0.5")
    out = ok("recall", "who owns the billing service")
    assert "degraded" in out["meta"]
    assert out["results"][0]["insight"]["content"].startswith("Alice owns")


def test_remote_query_embedding_is_one_request_and_cached(ok, seeded, data_dir, loopback):
    from memman.embed.builtin import BuiltinEmbedder

    builtin = BuiltinEmbedder()

    def embeddings(req):
        texts = req.json["input"]
        vecs = builtin.embed(texts)
        return {"data": [{"index": i, "embedding": v.tolist()} for i, v in enumerate(vecs)],
                "model": "m"}

    loopback.route("POST", "/v1/embeddings", embeddings)
    backend = store_db(data_dir)
    backend.set_meta("embed_fingerprint", json.dumps(
        {"provider": "openai", "model": "m", "dim": 384}, sort_keys=True))
    backend.close()
    (data_dir / "data" / "default" / FILENAME).unlink()
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", loopback.url)
    first = ok("recall", "who owns the billing service")
    assert "degraded" not in first["meta"]
    assert len(loopback.requests) == 1
    second = ok("recall", "who owns the billing service")
    assert len(loopback.requests) == 1  # served from the query-vector cache
    assert ids(first) == ids(second)


def test_builtin_recall_makes_no_network_call(ok, seeded, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("recall tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert ok("recall", "who owns the billing service")["results"]
