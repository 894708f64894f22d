"""queue.db: enqueue, claim order, back-off, failure, crash recovery, hygiene."""
import pytest

from memman import clock
from memman.queue.db import MAX_ATTEMPTS, QueueDB, backoff_seconds


@pytest.fixture
def q(tmp_path):
    queue = QueueDB(tmp_path / "queue.db")
    yield queue
    queue.close()


def test_backoff_schedule():
    assert [backoff_seconds(n) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


def test_claim_in_order_and_priority(q):
    a = q.enqueue("default", "first")
    b = q.enqueue("default", "second")
    c = q.enqueue("default", "urgent", priority=5)
    assert [q.claim()["id"] for _ in range(3)] == [c, a, b]
    assert q.claim() is None


def test_claim_filters_stores(q):
    q.enqueue("a", "x")
    b = q.enqueue("b", "y")
    assert q.claim(stores=["b"])["id"] == b
    assert q.claim(stores=["b"]) is None


def test_claimed_row_is_not_claimed_twice_until_stale(q):
    rid = q.enqueue("default", "x")
    row = q.claim()
    assert row["status"] == "claimed" and row["attempts"] == 1
    assert q.claim() is None
    clock.shift(601)  # the worker that claimed it died
    again = q.claim()
    assert again["id"] == rid and again["attempts"] == 2


def test_failure_backs_off_then_fails_for_good(q):
    rid = q.enqueue("default", "x")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        row = q.claim()
        assert row is not None and row["attempts"] == attempt
        status = q.mark_failed(rid, f"boom {attempt}")
        if attempt < MAX_ATTEMPTS:
            assert status == "pending"
            assert q.claim() is None  # backing off
            clock.shift(backoff_seconds(attempt) + 1)
    assert status == "failed"
    row = q.get(rid)
    assert row["status"] == "failed" and row["last_error"] == f"boom {MAX_ATTEMPTS}"
    clock.shift(10_000)
    assert q.claim() is None


def test_error_is_truncated(q):
    rid = q.enqueue("default", "x")
    q.claim()
    q.mark_failed(rid, "e" * 5000)
    assert len(q.get(rid)["last_error"]) == 1000


def test_retry_resets_attempts(q):
    rid = q.enqueue("default", "x")
    for _ in range(MAX_ATTEMPTS):
        q.claim()
        q.mark_failed(rid, "boom")
        clock.shift(700)
    assert q.retry(rid)
    row = q.get(rid)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert q.claim()["id"] == rid
    assert not q.retry(rid)  # claimed rows are not retried


def test_stats_and_oldest_age(q):
    q.enqueue("default", "x")
    clock.shift(30)
    q.enqueue("other", "y")
    stats = q.stats()
    assert stats["pending"] == 2 and stats["failed"] == 0
    assert 29 <= stats["oldest_pending_age_seconds"] <= 31
    assert q.stats(store="other")["pending"] == 1
    assert q.pending_by_store() == {"default": 1, "other": 1}


def test_purge_done_keeps_recent_rows(q):
    rid = q.enqueue("default", "x")
    q.claim()
    q.mark_done(rid)
    assert q.purge("done") == 0
    clock.shift(61)
    assert q.purge("done") == 1


def test_park_stale_only_untried_week_old_rows(q):
    old = q.enqueue("default", "old")
    clock.shift(8 * 86400)
    q.enqueue("default", "new")
    assert q.park_stale() == 1
    assert q.get(old)["status"] == "stale"
    assert q.stats()["stale"] == 1
    assert q.retry_all("stale") == 1


def test_hints_are_stored_only_when_given(q):
    rid = q.enqueue("default", "x")
    row = q.get(rid)
    assert row["hint_cat"] is None and row["hint_imp"] is None and row["hint_entities"] is None
    rid = q.enqueue("default", "y", category="general", importance=3, entities=["A"])
    row = q.get(rid)
    assert row["hint_cat"] == "general" and row["hint_imp"] == 3 and row["hint_entities"] == '["A"]'


def test_worker_runs(q):
    run = q.start_run()
    q.heartbeat(run, claimed=2, done=1, failed=0)
    q.finish_run(run, claimed=2, done=2, failed=0)
    last = q.last_run()
    assert last["rows_done"] == 2 and last["finished_at"] is not None
    clock.shift(8 * 86400)
    assert q.prune_runs() == 1


def test_recover_orphans_returns_claimed_rows_and_keeps_the_attempt(q):
    rid = q.enqueue("default", "x")
    q.claim()
    assert q.recover_orphans() == 1
    row = q.get(rid)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] == "worker died while processing"
    assert q.claim()["attempts"] == 2


def test_release_gives_back_the_attempt(q):
    rid = q.enqueue("default", "x")
    q.claim()
    q.release(rid)
    row = q.get(rid)
    assert row["status"] == "pending" and row["attempts"] == 0
