"""The drain pass: applying rows, failures, idempotency, the exclusive lock."""
import json

from memman.config.datadir import DataDir
from memman.queue.db import QueueDB
from memman.store.sqlite import SQLiteBackend
from memman.worker.drain import DrainLock


def test_drain_processes_in_order_and_reports_one_document(ok):
    for i in range(3):
        ok("remember", f"fact number {i}")
    out = ok("scheduler", "drain")
    assert out["processed"] == 3 and out["failed"] == 0 and out["remaining"] == {}
    assert [r["queue_id"] for r in out["rows"]] == [1, 2, 3]
    assert ok("scheduler", "drain")["processed"] == 0


def test_limit_leaves_the_rest(ok):
    for i in range(5):
        ok("remember", f"fact {i}")
    out = ok("scheduler", "drain", "--limit", "2")
    assert out["processed"] == 2 and out["remaining"] == {"default": 3}


def test_stores_filter(ok):
    ok("--store", "a", "remember", "in a")
    ok("--store", "b", "remember", "in b")
    out = ok("scheduler", "drain", "--stores", "b")
    assert out["processed"] == 1 and out["remaining"] == {"a": 1}


def test_second_drain_skips_while_locked(ok, data_dir):
    ok("remember", "x")
    lock = DrainLock(DataDir(data_dir))
    assert lock.acquire()
    try:
        out = ok("scheduler", "drain")
        assert out["skipped"] == "another drain in progress"
        assert out["processed"] == 0 and out["remaining"] == {"default": 1}
    finally:
        lock.release()
    assert ok("scheduler", "drain")["processed"] == 1


def test_row_applied_but_not_marked_done_is_not_applied_twice(ok, data_dir):
    ok("remember", "exactly once please")
    ok("scheduler", "drain")
    # Simulate a crash between the store commit and mark_done.
    q = QueueDB(data_dir / "queue.db")
    q.conn.execute("UPDATE queue SET status = 'pending', attempts = 0")
    q.close()
    out = ok("scheduler", "drain")
    assert out["rows"][0]["facts"][0]["action"] == "already_applied"
    b = SQLiteBackend(data_dir / "data" / "default" / "memman.db")
    assert b.counts()["total_insights"] == 1
    b.close()


def test_a_failing_row_does_not_stop_the_drain(ok, data_dir):
    ok("--store", "broken", "remember", "will fail")
    ok("remember", "will succeed")
    store_dir = data_dir / "data" / "broken"
    store_dir.mkdir(parents=True)
    (store_dir / "memman.db").write_bytes(b"not a database" * 100)
    out = ok("scheduler", "drain")
    assert out["processed"] == 1
    failed = [r for r in out["rows"] if r["store"] == "broken"][0]
    assert failed["status"] == "pending" and "corrupt" in failed["error"]
    row = ok("scheduler", "queue", "show", failed["queue_id"])
    assert row["attempts"] == 1 and "corrupt" in row["last_error"]


def test_worker_runs_recorded(ok):
    ok("remember", "x")
    ok("scheduler", "drain")
    last = ok("scheduler", "status")["last_run"]
    assert last["rows_done"] == 1 and last["finished_at"] is not None


def test_queue_commands(ok, run):
    ok("remember", "a")
    listing = ok("scheduler", "queue", "list")
    assert listing["stats"]["pending"] == 1
    assert listing["rows"][0]["content_preview"] == "a"
    shown = ok("scheduler", "queue", "show", "1")
    assert shown["content"] == "a" and shown["hints"]["category"] is None
    bad = run("scheduler", "queue", "retry", "1")
    assert bad.exit_code == 1 and "not failed or stale" in bad.stderr
    assert ok("scheduler", "queue", "purge", "--stale")["deleted"] == 0
    assert json.dumps(ok("scheduler", "queue", "failed"))
