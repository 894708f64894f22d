"""Usage accounting: what each paid call records, and where the records end up.

Clients run against loopback fakes of the real wire formats (tests/fakes/chat.py,
tests/fakes/embeddings.py); the drain and the CLI are driven as a user would, and
queue.db's usage table is read back through QueueDB.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memman import clock, usage
from memman.embed.builtin import BuiltinEmbedder
from memman.embed.ollama import OllamaEmbedder
from memman.embed.openai_compat import OpenAICompatEmbedder
from memman.embed.voyage import VoyageEmbedder
from memman.llm.client import LLMClient
from memman.llm.tasks import enrich, expand_query, extract_facts
from memman.queue.db import QueueDB
from tests.fakes.chat import ChatScript
from tests.fakes.embeddings import (
    ollama_embeddings, openai_embeddings, tokens_of, voyage_embeddings,
)
from tests.fakes.worker_helpers import drain, llm_mode

MODELS = {"fast": "m-fast", "slow_canonical": "m-canon", "slow_metadata": "m-meta"}
TEXTS = ["alpha beta gamma", "delta epsilon"]


def no_sleep(seconds):
    pass


def usage_rows(data_dir) -> list[dict]:
    queue = QueueDB(Path(data_dir) / "queue.db")
    try:
        return queue.usage_rows()
    finally:
        queue.close()


def only(rows, **match) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def counts(row) -> tuple:
    return (row["calls"], row["errors"], row["prompt_tokens"], row["completion_tokens"],
            row["total_tokens"])


# -- what the chat client records ------------------------------------------------------


@pytest.fixture
def chat(loopback):
    script = ChatScript()
    endpoint = script.install(loopback)
    client = LLMClient(endpoint, None, MODELS, sleep=no_sleep)
    yield script, client
    client.close()


def test_each_chat_call_is_recorded_under_its_task_with_the_wire_tokens(chat):
    script, client = chat
    script.when(task="extraction").reply(
        {"facts": [{"text": "Alice owns billing", "category": "fact", "importance": 3,
                    "entities": ["Alice"]}], "skip_reason": None},
        usage={"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150})
    script.when(task="expansion").reply(
        {"expanded_query": "q", "keywords": [], "entities": [], "intent": "GENERAL"},
        usage={"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48})
    with usage.collecting() as meter:
        extract_facts(client, "Alice owns billing")
        extract_facts(client, "Bob owns search")
        expand_query(client, "who owns billing")
    rows = meter.take()
    today = clock.iso()[:10]
    extraction = only(rows, purpose="extraction")
    assert extraction == {"day": today, "kind": "llm", "purpose": "extraction",
                               "provider": "127.0.0.1", "model": "m-canon", "calls": 2,
                               "errors": 0, "prompt_tokens": 240, "completion_tokens": 60,
                               "total_tokens": 300}
    assert counts(only(rows, purpose="expansion", model="m-fast")) == (1, 0, 40, 8, 48)
    assert len(rows) == 2


def test_an_answer_without_usage_counts_the_call_and_no_tokens(chat):
    script, client = chat
    script.when(task="enrichment").reply(
        {"keywords": ["k"], "summary": "", "semantic_facts": [], "entities": []}, usage={})
    with usage.collecting() as meter:
        enrich(client, "some memory")
    assert counts(only(meter.take(), purpose="enrichment")) == (1, 0, 0, 0, 0)


def test_a_failed_chat_call_counts_one_error_and_a_cache_hit_nothing(chat, tmp_path):
    from memman.llm.cache import ResponseCache
    from memman.llm.client import LLMError

    script, client = chat
    script.when(task="extraction").reply(status=401, error="bad key")
    with usage.collecting() as meter:
        with pytest.raises(LLMError):
            extract_facts(client, "anything")
    assert counts(only(meter.take(), purpose="extraction")) == (0, 1, 0, 0, 0)

    script.when(task="enrichment").reply(
        {"keywords": ["k"], "summary": "", "semantic_facts": [], "entities": []},
        usage={"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30})
    cached = LLMClient(client.endpoint, None, MODELS, sleep=no_sleep,
                       cache=ResponseCache(tmp_path / "llm.db"))
    with usage.collecting() as meter:
        enrich(cached, "same memory")
        enrich(cached, "same memory")  # answered from the cache: nothing paid
    cached.close()
    assert counts(only(meter.take(), purpose="enrichment")) == (1, 0, 10, 20, 30)


def test_a_system_prompt_without_a_task_is_recorded_under_its_role(chat):
    script, client = chat
    script.when().reply({"a": 1}, usage={"prompt_tokens": 3, "completion_tokens": 2})
    with usage.collecting() as meter:
        client.complete_json("slow_metadata", "free-form system prompt", "u", max_tokens=5)
    row = only(meter.take(), purpose="slow_metadata")
    assert counts(row) == (1, 0, 3, 2, 5)  # total = prompt + completion when not sent


# -- what the embedders record ---------------------------------------------------------


def test_openai_compatible_embeddings_record_prompt_and_total_tokens(loopback):
    url = openai_embeddings(loopback)
    embedder = OpenAICompatEmbedder(url, "sk-x", "text-embedding-3-small", sleep=no_sleep,
                                    batch_size=1)
    with usage.collecting() as meter:
        embedder.embed(TEXTS)
    row = only(meter.take(), kind="embed")
    expected = sum(tokens_of(t) for t in TEXTS)
    assert (row["purpose"], row["provider"], row["model"]) == (
        "embed", "openai", "text-embedding-3-small")
    assert counts(row) == (2, 0, expected, 0, expected)  # two batches: two calls


def test_voyage_embeddings_record_total_tokens(loopback):
    endpoint = voyage_embeddings(loopback)
    embedder = VoyageEmbedder("pa-x", "voyage-3-lite", endpoint, dim=384, sleep=no_sleep)
    with usage.collecting() as meter:
        embedder.embed(TEXTS)
    row = only(meter.take(), provider="voyage")
    assert counts(row) == (1, 0, 0, 0, sum(tokens_of(t) for t in TEXTS))


def test_ollama_records_eval_tokens_and_legacy_calls_without_counting_the_probe(loopback):
    host = ollama_embeddings(loopback)
    with usage.collecting() as meter:
        OllamaEmbedder(host, "nomic-embed-text", sleep=no_sleep).embed(TEXTS)
    expected = sum(tokens_of(t) for t in TEXTS)
    assert counts(only(meter.take(), provider="ollama")) == (1, 0, expected, 0, expected)


def test_legacy_ollama_counts_one_call_per_text_and_no_error_for_the_probe(loopback):
    host = ollama_embeddings(loopback, legacy=True)
    with usage.collecting() as meter:
        OllamaEmbedder(host, "nomic-embed-text", sleep=no_sleep).embed(TEXTS)
    assert counts(only(meter.take(), provider="ollama")) == (2, 0, 0, 0, 0)


def test_a_failed_embedding_call_counts_one_error_not_one_per_attempt(loopback):
    from memman.embed.base import EmbedError

    loopback.route("POST", "/v1/embeddings", lambda req: _status(503))
    embedder = OpenAICompatEmbedder(loopback.url, None, "m", sleep=no_sleep, retries=2)
    with usage.collecting() as meter:
        with pytest.raises(EmbedError):
            embedder.embed(["x"])
    assert counts(only(meter.take(), provider="openai")) == (0, 1, 0, 0, 0)
    assert len(loopback.requests) == 3


def _status(code):
    from tests.fakes.loopback import Reply

    return Reply(code, {"error": {"message": "overloaded"}})


def test_the_builtin_embedder_records_nothing():
    with usage.collecting() as meter:
        BuiltinEmbedder().embed(TEXTS)
    assert meter.take() == []


# -- the drain writes its records once per pass -----------------------------------------


def test_a_drain_writes_its_calls_per_day_and_later_passes_add_to_them(ok, loopback,
                                                                       data_dir):
    script = llm_mode(ok, loopback)
    openai_embeddings(loopback)
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "openai")
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", loopback.url)
    ok("config", "set", "MEMMAN_OPENAI_EMBED_MODEL", "emb-model")
    ok("remember", "Alice owns the billing service")
    drain(ok)
    rows = usage_rows(data_dir)
    chat_calls = {task: len(script.calls_for(task)) for task in ("extraction", "enrichment")}
    assert only(rows, purpose="extraction")["calls"] == chat_calls["extraction"] == 1
    assert only(rows, purpose="enrichment")["calls"] == chat_calls["enrichment"]
    embed = only(rows, kind="embed")
    assert (embed["provider"], embed["model"], embed["calls"]) == ("openai", "emb-model", 1)
    assert embed["total_tokens"] > 0
    first_day = rows[0]["day"]

    ok("remember", "Bob owns the search service")
    drain(ok)
    assert only(usage_rows(data_dir), purpose="extraction")["calls"] == 2

    clock.shift(86400)
    ok("remember", "Carol owns the payments service")
    drain(ok)
    days = {r["day"]: r["calls"] for r in usage_rows(data_dir) if r["purpose"] == "extraction"}
    assert len(days) == 2 and days[first_day] == 2 and sum(days.values()) == 3


def test_a_zero_config_drain_records_nothing(ok, data_dir):
    ok("remember", "Alice owns the billing service")
    drain(ok)
    assert usage_rows(data_dir) == []


# -- calls made outside a drain ---------------------------------------------------------


def test_recall_expand_is_recorded_when_the_process_exits(ok, loopback, data_dir):
    script = llm_mode(ok, loopback)
    ok("remember", "Alice owns the billing service")
    drain(ok)
    before = {r["purpose"]: r["calls"] for r in usage_rows(data_dir)}
    assert "expansion" not in before
    done = subprocess.run([sys.executable, "-m", "memman", "recall", "--expand", "billing"],
                          env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(script.calls_for("expansion")) == 1
    row = only(usage_rows(data_dir), purpose="expansion")
    assert (row["kind"], row["model"], row["calls"]) == ("llm", "test/fast-model", 1)


def test_a_remote_query_embedding_in_recall_is_charged_to_the_data_dir(ok, loopback,
                                                                       data_dir):
    openai_embeddings(loopback)
    ok("config", "set", "MEMMAN_EMBED_PROVIDER", "openai")
    ok("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", loopback.url)
    ok("config", "set", "MEMMAN_OPENAI_EMBED_MODEL", "emb-model")
    ok("remember", "Alice owns the billing service")
    drain(ok)
    stored = only(usage_rows(data_dir), kind="embed")
    ok("recall", "who owns the billing service")
    usage.flush_pending()  # what the process does at exit
    embed = only(usage_rows(data_dir), kind="embed")
    assert embed["calls"] == stored["calls"] + 1
    assert embed["total_tokens"] == (stored["total_tokens"]
                                     + tokens_of("who owns the billing service"))


def test_graph_rebuild_charges_its_enrichment_calls_made_in_threads(ok, loopback, data_dir):
    script = llm_mode(ok, loopback)
    ok("remember", "Alice owns the billing service")
    ok("remember", "Bob owns the search service")
    drain(ok)
    drained = only(usage_rows(data_dir), purpose="enrichment")["calls"]
    asked_before = len(script.calls_for("enrichment"))
    ok("graph", "rebuild")
    usage.flush_pending()
    rebuilt = len(script.calls_for("enrichment")) - asked_before
    assert rebuilt == 2
    assert only(usage_rows(data_dir), purpose="enrichment")["calls"] == drained + rebuilt


def test_zero_config_recall_records_nothing(ok, data_dir):
    ok("remember", "Alice owns the billing service")
    drain(ok)
    ok("recall", "billing")
    usage.flush_pending()
    assert usage_rows(data_dir) == []


# -- queue.db ---------------------------------------------------------------------------


def test_usage_rows_add_up_and_days_older_than_the_retention_go(data_dir):
    from memman.queue.db import USAGE_KEEP_DAYS

    data_dir.mkdir(parents=True)
    queue = QueueDB(data_dir / "queue.db")
    row = {"day": clock.iso()[:10], "kind": "llm", "purpose": "extraction",
           "provider": "h", "model": "m", "calls": 1, "errors": 0, "prompt_tokens": 5,
           "completion_tokens": 2, "total_tokens": 7}
    queue.add_usage([row])
    queue.add_usage([row])
    old = dict(row, day=clock.iso(clock.now() - (USAGE_KEEP_DAYS + 2) * 86400)[:10])
    queue.add_usage([old])
    assert counts(only(queue.usage_rows(), day=row["day"])) == (2, 0, 10, 4, 14)
    assert [r["day"] for r in queue.usage_rows()] == [row["day"]]  # the old day went
    queue.close()


def test_a_read_only_queue_from_before_the_usage_table_reads_as_no_usage(data_dir):
    import sqlite3

    from memman.queue.schema import migrations

    data_dir.mkdir(parents=True)
    path = data_dir / "queue.db"
    conn = sqlite3.connect(path, isolation_level=None)
    older = [fn for fn in migrations.steps if fn.__name__ != "m005_usage"]
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for fn in older:
        fn(conn)
        conn.execute("INSERT INTO _migrations VALUES (?, ?)", (fn.__name__, clock.iso()))
    conn.close()
    readonly = QueueDB(path, readonly=True)
    assert readonly.usage_rows() == []
    readonly.close()
    upgraded = QueueDB(path)  # a read-write open applies m005
    upgraded.add_usage([{"day": "2026-01-01", "kind": "embed", "purpose": "embed",
                         "provider": "voyage", "model": "v", "calls": 1, "errors": 0,
                         "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 3}])
    assert counts(upgraded.usage_rows()[0]) == (1, 0, 0, 0, 3)
    upgraded.close()
