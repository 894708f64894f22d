"""``memman log list --stats``: recalls, never-recalled memories, pruning and costs.

Every test drives the CLI; time moves with ``clock.shift`` so ``--since`` windows and
the 7-day never-recalled threshold are exercised without waiting.
"""
from collections import Counter

from memman import clock
from tests.fakes.worker_helpers import CANONICAL, METADATA, drain, llm_mode, memories

DAY = 86400
OLD_KEYS = {"operation_counts", "never_accessed", "total_active"}
NEW_KEYS = {"recalled", "never_recalled", "pruned", "costs"}


def remember_all(ok, *texts) -> list[str]:
    """Store ``texts`` in one drain; their ids in order."""
    for text in texts:
        ok("remember", text)
    out = drain(ok)
    return [row["facts"][0]["id"] for row in out["rows"]]


def recalled_ids(ok, query, *flags) -> list[str]:
    out = ok("recall", query, *flags)
    return [r["insight"]["id"] for r in out["results"]]


def stats(ok, *flags) -> dict:
    return ok("log", "list", "--stats", *flags)


def test_an_empty_data_dir_has_every_key_with_nothing_in_it(ok):
    out = stats(ok)
    assert set(out) == OLD_KEYS | NEW_KEYS
    assert (out["operation_counts"], out["never_accessed"], out["total_active"]) == ({}, 0, 0)
    assert out["recalled"] == {"recalls": 0, "memories": 0, "top": []}
    assert out["never_recalled"] == {"count": 0, "older_than_days": 7, "examples": []}
    assert out["pruned"] == {"count": 0, "by_operation": {}, "examples": []}
    assert out["costs"]["per_day"] == [] and out["costs"]["since_day"] is None
    assert out["costs"]["total"]["llm"]["calls"] == 0


def test_the_existing_keys_keep_their_meaning(ok):
    a, b = remember_all(ok, "Alice owns the billing service", "Redis caches sessions")
    recalled_ids(ok, "billing", "--limit", "1")
    out = stats(ok)
    assert out["operation_counts"] == {"remember": 2, "recall-detail": 1}
    assert (out["never_accessed"], out["total_active"]) == (1, 2)


def test_recalled_ranks_memories_by_how_often_recalls_returned_them(ok):
    ids = remember_all(ok, "Alice owns the billing service", "Redis caches user sessions",
                       "Kafka carries the order events")
    returned = Counter()
    for query in ("billing service owner", "who owns billing", "Redis sessions"):
        returned.update(recalled_ids(ok, query, "--limit", "1"))
    ok("recall", "--basic", "Kafka")  # logs no ids: a recall, but nobody's hit
    out = stats(ok)["recalled"]
    assert returned == {ids[0]: 2, ids[1]: 1}
    assert out["recalls"] == 4 and out["memories"] == 2
    assert [(t["id"], t["times"]) for t in out["top"]] == [(ids[0], 2), (ids[1], 1)]
    assert out["top"][0]["content"] == "Alice owns the billing service"
    assert out["top"][0]["forgotten"] is False


def test_a_recalled_memory_forgotten_since_is_still_listed_as_forgotten(ok):
    (a,) = remember_all(ok, "Alice owns the billing service")
    recalled_ids(ok, "billing")
    ok("forget", a)
    (top,) = stats(ok)["recalled"]["top"]
    assert (top["id"], top["times"], top["forgotten"]) == (a, 1, True)


def test_since_counts_only_the_recalls_in_the_window(ok):
    a, b = remember_all(ok, "Alice owns the billing service", "Redis caches user sessions")
    assert recalled_ids(ok, "billing owner", "--limit", "1") == [a]
    clock.shift(2 * DAY)
    assert recalled_ids(ok, "Redis sessions", "--limit", "1") == [b]
    recent = stats(ok, "--since", "1d")["recalled"]
    assert recent["recalls"] == 1 and [t["id"] for t in recent["top"]] == [b]
    assert stats(ok)["recalled"]["recalls"] == 2


def test_never_recalled_counts_week_old_memories_no_recall_returned(ok):
    a, b = remember_all(ok, "Alice owns the billing service", "Redis caches user sessions")
    assert recalled_ids(ok, "billing owner", "--limit", "1") == [a]
    clock.shift(8 * DAY)
    (c,) = remember_all(ok, "Kafka carries the order events")  # too young to count
    out = stats(ok)["never_recalled"]
    assert out["count"] == 1
    assert [(e["id"], e["content"]) for e in out["examples"]] == [
        (b, "Redis caches user sessions")]
    recalled_ids(ok, "Redis sessions", "--limit", "1")
    assert stats(ok)["never_recalled"]["count"] == 0


def test_pruned_shows_auto_pruned_and_forgotten_memories_in_the_window(ok, data_dir):
    ok("config", "set", "MEMMAN_MAX_INSIGHTS", "2")
    old = remember_all(ok, "The staging database is refreshed every Monday night",
                       "Frontend builds use Vite with the legacy plugin",
                       "The office printer on floor three needs a PIN")
    clock.shift(2 * 3600)  # past the prune grace period
    remember_all(ok, "Deploys to production need two approvals")
    active = {m.id for m in memories(data_dir)}
    auto_pruned = set(old) - active
    assert len(auto_pruned) == 2  # four memories, a cap of two
    (survivor,) = set(old) & active
    ok("forget", survivor)
    out = stats(ok)["pruned"]
    assert out["count"] == 3 and out["by_operation"] == {"auto_prune": 2, "forget": 1}
    assert {(e["id"], e["operation"]) for e in out["examples"]} == (
        {(i, "auto_prune") for i in auto_pruned} | {(survivor, "forget")})
    contents = {m.id: m.content for m in memories(data_dir, deleted=True)}
    assert all(e["content"] == contents[e["id"]] for e in out["examples"])
    clock.shift(2 * DAY)
    assert stats(ok, "--since", "1d")["pruned"] == {"count": 0, "by_operation": {},
                                                    "examples": []}


def test_forget_is_counted_with_the_memorys_last_content(ok):
    a, b = remember_all(ok, "Alice owns the billing service", "Redis caches user sessions")
    ok("forget", b)
    out = stats(ok)["pruned"]
    assert out["count"] == 1 and out["by_operation"] == {"forget": 1}
    (example,) = out["examples"]
    assert (example["id"], example["operation"], example["content"]) == (
        b, "forget", "Redis caches user sessions")


def test_costs_show_calls_and_tokens_per_day_model_and_purpose(ok, loopback):
    script = llm_mode(ok, loopback)
    script.when(task="extraction").reply(
        {"facts": [{"text": "Alice owns billing", "category": "fact", "importance": 3,
                    "entities": ["Alice"]}], "skip_reason": None},
        usage={"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120})
    script.when(task="enrichment").reply(
        {"keywords": ["billing"], "summary": "", "semantic_facts": [], "entities": []},
        usage={"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60})
    ok("remember", "Alice owns the billing service")
    drain(ok)
    first_day = clock.iso()[:10]
    costs = stats(ok)["costs"]
    assert costs["per_day"] == [{"day": first_day, "kind": "llm", "calls": 2, "errors": 0,
                                 "prompt_tokens": 150, "completion_tokens": 30,
                                 "total_tokens": 180}]
    by_model = {r["model"]: (r["calls"], r["total_tokens"]) for r in costs["per_model"]}
    assert by_model == {CANONICAL: (1, 120), METADATA: (1, 60)}
    by_purpose = {r["purpose"]: r["total_tokens"] for r in costs["per_purpose"]}
    assert by_purpose == {"extraction": 120, "enrichment": 60}
    assert costs["total"]["llm"]["total_tokens"] == 180
    assert costs["total"]["embed"]["calls"] == 0  # the builtin embedder is free

    clock.shift(3 * DAY)
    ok("remember", "Bob owns the search service")
    drain(ok)
    recent = stats(ok, "--since", "1d")["costs"]
    assert recent["since_day"] == clock.iso(clock.now() - DAY)[:10]  # whole days
    assert {r["day"] for r in recent["per_day"]} == {clock.iso()[:10]}
    assert {r["day"] for r in stats(ok)["costs"]["per_day"]} == {first_day, clock.iso()[:10]}


def test_costs_cover_the_data_dir_whatever_the_store(ok, loopback):
    llm_mode(ok, loopback)
    ok("remember", "Alice owns the billing service")
    drain(ok)
    other = ok("--store", "elsewhere", "log", "list", "--stats")
    assert other["total_active"] == 0
    assert other["costs"]["total"]["llm"]["calls"] >= 1


def test_text_output_adds_the_new_sections(ok, run, loopback):
    script = llm_mode(ok, loopback)
    script.when(task="extraction").reply(
        {"facts": [{"text": "Alice owns billing", "category": "fact", "importance": 3,
                    "entities": ["Alice"]}], "skip_reason": None},
        usage={"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120})
    ok("remember", "Alice owns the billing service")
    (row,) = drain(ok)["rows"]
    memory_id = row["facts"][0]["id"]
    recalled_ids(ok, "billing")
    text = run("log", "list", "--stats", "--text")
    assert text.exit_code == 0, text
    lines = text.stdout.splitlines()
    assert "never accessed: 0 of 1 active" in lines  # the old lines stay
    assert "recalls: 1 (1 memories returned)" in lines
    assert f"     1x  {memory_id[:8]}  Alice owns billing" in lines
    assert "never recalled (older than 7 days): 0" in lines
    assert "pruned: 0" in lines
    assert any(line.startswith(f"  llm    127.0.0.1  {CANONICAL}: 1 calls, 120 tokens")
               for line in lines), lines


def test_a_damaged_queue_db_still_gives_the_stores_stats(ok, data_dir):
    remember_all(ok, "Alice owns the billing service")
    (data_dir / "queue.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (data_dir / f"queue.db{suffix}").unlink(missing_ok=True)
    out = stats(ok)
    assert out["total_active"] == 1 and out["operation_counts"] == {"remember": 1}
    assert "corrupt" in out["costs"]["error"] and out["costs"]["per_day"] == []
