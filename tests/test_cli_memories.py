"""remember / replace / forget / insights show / recall --basic / status / log, end to end
through the CLI (CliRunner) with drains in between."""
import sqlite3

from memman.queue.db import QueueDB


def queue_rows(data_dir):
    path = data_dir / "queue.db"
    if not path.exists():
        return []
    q = QueueDB(path)
    try:
        return q.list(limit=1000)
    finally:
        q.close()


def test_remember_queues_and_returns_at_once(ok, data_dir):
    out = ok("remember", "We deploy on Fridays only after 2pm", "--cat", "decision", "--imp", "4")
    assert out["action"] == "queued" and out["store"] == "default"
    assert out["quality_warnings"] == [] and out["redacted"] == []
    (row,) = queue_rows(data_dir)
    assert row["id"] == out["queue_id"] and row["status"] == "pending"
    assert row["hint_cat"] == "decision" and row["hint_imp"] == 4
    # not recallable before a drain
    assert ok("recall", "--basic", "fridays")["results"] == []


def test_remember_then_drain_then_recall(ok, remember_drained):
    mid = remember_drained("Alice owns the billing service", "--entities", "Alice,billing")
    (hit,) = ok("recall", "--basic", "who owns billing")["results"]
    assert hit["id"] == mid and hit["entities"] == ["Alice", "billing"]
    assert hit["source"] == "user" and hit["category"] == "general" and hit["importance"] == 3
    assert ok("insights", "show", mid)["access_count"] == 1


def test_remember_reads_stdin(ok, remember_drained, run):
    out = ok("remember", "-", input="Text from 'stdin' with \"quotes\"\n")
    assert out["action"] == "queued"
    ok("scheduler", "drain")
    assert ok("recall", "--basic", "stdin")["results"][0]["content"] == \
        "Text from 'stdin' with \"quotes\""


def test_source_stays_what_caller_gave_and_queue_id_is_recorded(ok):
    queued = ok("remember", "agents may write too", "--source", "agent")
    ok("scheduler", "drain")
    hit = ok("recall", "--basic", "agents", "--source", "agent")["results"][0]
    assert hit["source"] == "agent" and hit["queue_id"] == queued["queue_id"]


def test_secrets_never_reach_queue_or_store(ok, data_dir):
    key = "sk-proj-" + "Ab3d" * 10
    out = ok("remember", f"the OpenAI key is {key} and <private>my diary</private> ok")
    assert out["redacted"] == ["openai_key", "private"]
    ok("scheduler", "drain")
    for path in (data_dir / "queue.db", data_dir / "data" / "default" / "memman.db"):
        blob = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert key.encode() not in blob and b"my diary" not in blob


def test_remember_of_only_secrets_is_refused(run, data_dir):
    result = run("remember", "<private>nothing else</private>")
    assert result.exit_code == 1 and "redacted" in result.stderr
    assert queue_rows(data_dir) == []


def test_replace_rewrites_in_place(ok, remember_drained):
    mid = remember_drained("The API listens on port 8080", "--cat", "fact", "--imp", "4")
    out = ok("replace", mid, "The API listens on port 9090")
    assert out["replaced_id"] == mid and out["action"] == "queued"
    ok("scheduler", "drain")
    shown = ok("insights", "show", mid)
    assert shown["content"] == "The API listens on port 9090"
    assert shown["category"] == "fact" and shown["importance"] == 4  # inherited
    assert ok("recall", "--basic", "8080")["results"] == []
    assert [r["id"] for r in ok("recall", "--basic", "9090")["results"]] == [mid]
    ops = [e["operation"] for e in ok("log", "list")["entries"]]
    assert "replace" in ops


def test_replace_of_unknown_id_fails_and_queues_nothing(run, ok, data_dir, remember_drained):
    remember_drained("something")
    before = len(queue_rows(data_dir))
    result = run("replace", "no-such-id", "new text")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: insight 'no-such-id' not found"
    assert len(queue_rows(data_dir)) == before


def test_forget_is_immediate_and_final(ok, run, remember_drained):
    mid = remember_drained("Temporary fact about kafka")
    other = remember_drained("Kafka topics are named after teams")
    out = ok("forget", mid)
    assert out == {"id": mid, "status": "deleted", "message": out["message"]}
    ids = [r["id"] for r in ok("recall", "--basic", "kafka")["results"]]
    assert ids == [other]
    assert ok("insights", "show", mid)["deleted_at"]
    again = run("forget", mid)
    assert again.exit_code == 1 and "not found" in again.stderr
    assert ok("status")["deleted_insights"] == 1


def test_status_reports_queue_depth(ok):
    ok("remember", "one")
    ok("remember", "two")
    status = ok("status")
    assert status["queue"]["pending"] == 2 and status["queue"]["failed"] == 0
    assert status["queue"]["oldest_pending_age_seconds"] is not None
    assert status["total_insights"] == 0
    ok("scheduler", "drain")
    status = ok("status")
    assert status["queue"]["pending"] == 0 and status["total_insights"] == 2
    assert status["storage_path"].endswith("data/default/memman.db")


def test_log_list_since_and_stats(ok, run, remember_drained):
    remember_drained("alpha")
    entries = ok("log", "list", "--since", "1h")["entries"]
    assert entries[0]["operation"] == "remember"
    stats = ok("log", "list", "--stats")
    assert stats["operation_counts"] == {"remember": 1} and stats["total_active"] == 1
    text = run("log", "list", "--text")
    assert text.exit_code == 0 and "remember" in text.stdout
    bad = run("log", "list", "--since", "yesterday")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: invalid --since")


def test_named_stores_are_separate(ok, remember_drained):
    ok("--store", "work", "remember", "work secret sauce")
    ok("scheduler", "drain")
    assert ok("recall", "--basic", "sauce")["results"] == []
    assert len(ok("--store", "work", "recall", "--basic", "sauce")["results"]) == 1
    ok("store", "use", "work")
    assert len(ok("recall", "--basic", "sauce")["results"]) == 1


def test_write_gate(ok, run, data_dir, remember_drained):
    mid = remember_drained("keep me")
    ok("scheduler", "stop")
    for args in (["remember", "x"], ["forget", mid], ["replace", mid, "y"]):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.strip() == ("Error: Scheduler is stopped; cannot write. "
                                         "Run 'memman scheduler start' to enable.")
    assert ok("recall", "--basic", "keep")["results"]  # reads still work
    ok("scheduler", "start")
    ok("remember", "x")


def test_fresh_data_dir_counts_as_started(ok, data_dir):
    assert not data_dir.exists()
    ok("remember", "first ever memory")
    assert ok("scheduler", "status")["state"] == "started"


def test_recall_ignores_rows_of_forgotten_memory_even_with_access_bookkeeping(ok, data_dir,
                                                                           remember_drained):
    mid = remember_drained("ephemeral zebra")
    ok("forget", mid)
    conn = sqlite3.connect(data_dir / "data" / "default" / "memman.db")
    assert conn.execute("SELECT count(*) FROM insights_fts").fetchone()[0] == 0
    assert ok("recall", "zebra")["results"] == []
