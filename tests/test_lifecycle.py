"""Retention: effective importance over simulated time, immunity, auto-prune, the
read-only ``insights candidates`` and ``review``, ``protect``, access counting in recall,
and effective importance as a small recall signal.

Time moves with ``clock.shift`` (the injectable clock every stamp and EI uses).
"""
import hashlib

import pytest

from memman import clock
from memman.lifecycle.retention import ACCESS_COUNTED_TOP, effective_importance
from memman.recall.engine import IMPORTANCE_BONUS
from tests.fakes.worker_helpers import drain, memories, oplog, store, store_path

DAY = 86400


def remember(ok, text, *flags) -> str:
    ok("remember", text, "--no-reconcile", *flags)
    row = drain(ok)["rows"][-1]
    assert row["status"] == "done", row
    return row["facts"][0]["id"]


def ei_of(ok, insight_id) -> float:
    return ok("insights", "show", insight_id)["effective_importance"]


def access_counts(data_dir) -> dict[str, int]:
    return {m.id: m.access_count for m in memories(data_dir)}


def checksum(data_dir) -> str:
    """Every row of every table (a logical dump), so any write shows."""
    with store(data_dir) as b:
        dump = "\n".join(b.conn.iterdump())
    return hashlib.sha256(dump.encode()).hexdigest()


def test_formula_factors():
    now = clock.now()
    fresh = clock.iso(now)
    assert effective_importance(3, 0, fresh, 0, now) == 0.5
    assert effective_importance(5, 0, fresh, 0, now) == 1.0
    assert effective_importance(1, 0, fresh, 0, now) == 0.15
    assert effective_importance(3, 0, clock.iso(now - 30 * DAY), 0, now) == pytest.approx(0.25)
    assert effective_importance(3, 3, fresh, 0, now) == pytest.approx(0.5 * 1.386294, 1e-5)
    assert effective_importance(3, 0, fresh, 9, now) == pytest.approx(0.75)  # edges cap at 5


def test_effective_importance_decays_with_a_30_day_half_life_and_access_renews_it(ok):
    mem = remember(ok, "The nightly backup job writes to the archive bucket.")
    assert ei_of(ok, mem) == pytest.approx(0.5)
    clock.shift(30 * DAY)
    assert ei_of(ok, mem) == pytest.approx(0.25, rel=1e-4)
    clock.shift(30 * DAY)
    assert ei_of(ok, mem) == pytest.approx(0.125, rel=1e-4)
    ok("recall", "nightly backup job")  # shown first: one access, idle time restarts
    assert ei_of(ok, mem) == pytest.approx(0.5, rel=1e-4)  # ln(2) < 1, so no access boost
    clock.shift(30 * DAY)
    assert ei_of(ok, mem) == pytest.approx(0.25, rel=1e-4)


def test_immunity_is_importance_4_or_protection_not_access(ok, data_dir):
    low = remember(ok, "The office printer is on the third floor.", "--imp", "2")
    high = remember(ok, "Production database credentials live in Vault.", "--imp", "4")
    kept = remember(ok, "The team lunch is on Fridays.", "--imp", "2")
    for _ in range(5):
        ok("recall", "office printer floor")
    assert access_counts(data_dir)[low] == 5
    accesses = access_counts(data_dir)[kept]
    out = ok("insights", "protect", kept)
    assert (out["status"], out["immune"], out["protected"]) == ("retained", True, True)
    assert out["new_access"] == accesses == access_counts(data_dir)[kept]  # not an access
    clock.shift(120 * DAY)

    found = ok("insights", "candidates")
    assert [c["id"] for c in found["candidates"]] == [low]
    assert found["candidates"][0]["immune"] is False
    assert found["candidates"][0]["access_count"] == 5
    assert ok("insights", "show", high)["immune"] is True
    assert ok("insights", "show", low)["immune"] is False
    assert [e.operation for e in oplog(data_dir)].count("protect") == 1

    out = ok("insights", "protect", kept, "--off")
    assert (out["status"], out["immune"]) == ("unprotected", False)
    assert {c["id"] for c in ok("insights", "candidates")["candidates"]} == {low, kept}


def test_candidates_threshold_limit_order_and_fields(ok):
    older = remember(ok, "The coffee machine is descaled monthly.", "--imp", "2")
    clock.shift(10 * DAY)
    newer = remember(ok, "The staging VPN uses WireGuard.", "--imp", "2")
    clock.shift(1 * DAY)
    out = ok("insights", "candidates", "--threshold", "0.9")
    assert out["total_insights"] == 2 and out["candidates_found"] == 2
    assert out["threshold"] == 0.9 and out["max_insights"] == 1000
    assert [c["id"] for c in out["candidates"]] == [older, newer]  # lowest EI first
    first = out["candidates"][0]
    assert set(first) == {"id", "content", "category", "importance", "access_count",
                          "effective_importance", "days_since_access", "edge_count", "immune"}
    assert first["days_since_access"] == pytest.approx(11, abs=0.1)
    assert first["effective_importance"] < out["candidates"][1]["effective_importance"]
    limited = ok("insights", "candidates", "--threshold", "0.9", "--limit", "1")
    assert limited["candidates_found"] == 2 and len(limited["candidates"]) == 1
    assert ok("insights", "candidates", "--threshold", "0.01")["candidates"] == []


def test_candidates_review_show_and_history_write_nothing(ok, data_dir):
    mem = remember(ok, "Verified that all 12 tests pass on line 40.", "--imp", "2")
    remember(ok, "The release train leaves every second Tuesday.", "--imp", "2")
    clock.shift(90 * DAY)
    before = checksum(data_dir)
    assert ok("insights", "candidates")["candidates_found"] == 2
    assert ok("insights", "review")["total_flagged"] == 1
    ok("insights", "show", mem)
    ok("insights", "history", mem)
    assert checksum(data_dir) == before


def test_auto_prune_spares_immune_protected_and_just_written_memories(ok, data_dir):
    ok("config", "set", "MEMMAN_MAX_INSIGHTS", "3")
    high = remember(ok, "Service alpha is written in Go.", "--imp", "4")
    guarded = remember(ok, "Service beta is written in Rust.", "--imp", "2")
    ok("insights", "protect", guarded)
    recalled = remember(ok, "Service gamma is written in Zig.", "--imp", "2")
    plain = remember(ok, "Service delta is written in Java.", "--imp", "2")
    for _ in range(4):
        ok("recall", "gamma Zig")
    assert access_counts(data_dir)[recalled] == 4
    clock.shift(40 * DAY)

    fresh = [remember(ok, f"Service {name} is written in Kotlin.", "--imp", "1")
             for name in ("epsilon", "zeta")]
    active = {m.id for m in memories(data_dir)}
    # Over the cap, but the two new ones are inside their first hour, and alpha and
    # beta are immune: only gamma and delta could go, and both did.
    assert active == {high, guarded, *fresh}
    pruned = [e for e in oplog(data_dir) if e.operation == "auto_prune"]
    assert {e.insight_id for e in pruned} == {recalled, plain}
    # A pruned memory keeps its last state, so it can be restored.
    (version,) = ok("insights", "show", plain)["history"]
    assert version["change"] == "auto_prune" and version["reason"].startswith("effective")
    ok("insights", "restore", plain, "--version", "1")
    assert plain in {m.id for m in memories(data_dir)}


@pytest.mark.parametrize("basic", [False, True])
def test_a_recall_counts_only_its_first_shown_results_once(ok, data_dir, basic):
    ids = [remember(ok, f"The deploy checklist step {n} mentions the rollback runbook.")
           for n in range(ACCESS_COUNTED_TOP + 3)]
    flags = ["--basic"] if basic else []
    out = ok("recall", "deploy checklist rollback runbook", "--limit", "50", *flags)
    shown = [r["id"] if basic else r["insight"]["id"] for r in out["results"]]
    assert sorted(shown) == sorted(ids)  # every memory shown ...
    counts = access_counts(data_dir)
    counted = [i for i in shown if counts[i]]
    assert counted == shown[:ACCESS_COUNTED_TOP]  # ... only the first few counted
    assert all(counts[i] == 1 for i in counted)
    ok("recall", "deploy checklist rollback runbook", "--limit", "50", *flags)
    assert sum(access_counts(data_dir).values()) == 2 * ACCESS_COUNTED_TOP


def test_review_flags_and_ranks_worst_first(ok):
    clean = remember(ok, "Keep functions under 50 lines.")
    mild = remember(ok, "We currently pin numpy below 2.")
    ref = remember(ok, "The retry loop lives in server.py:120.")
    worst = remember(ok, "Verified that the migration applied; the API is now running.")
    out = ok("insights", "review")
    results = out["review_results"]
    assert [r["id"] for r in results] == [worst, ref, mild]
    assert clean not in {r["id"] for r in results} and out["total_flagged"] == 3
    assert results[0]["quality_warnings"] == ["verification_receipt", "state_observation"]
    assert results[1]["quality_warnings"] == ["symbol_line_reference"]
    assert results[2]["quality_warnings"] == ["currently"]
    assert [r["severity"] for r in results] == [6, 2, 1]
    assert out["actions"]
    assert [r["id"] for r in ok("insights", "review", "--limit", "1")["review_results"]] == [
        worst]


def test_recall_uses_effective_importance_only_as_a_tie_breaker(ok):
    text = "The payments service retries webhooks three times."
    stale = remember(ok, text)
    clock.shift(90 * DAY)
    recent = remember(ok, text)
    out = ok("recall", "payments webhooks retries")
    scores = {r["insight"]["id"]: r["score"] for r in out["results"]}
    assert [r["insight"]["id"] for r in out["results"]][:2] == [recent, stale]
    # Same text, same signals: the whole gap is the EI bonus, which stays small.
    assert 0 < scores[recent] - scores[stale] <= IMPORTANCE_BONUS


def test_protect_and_restore_need_a_started_scheduler_and_an_active_memory(ok, run, data_dir):
    mem = remember(ok, "The CDN caches images for a day.")
    ok("forget", mem)
    result = run("insights", "protect", mem)
    assert result.stderr.strip() == f"Error: insight '{mem}' not found"
    ok("scheduler", "stop")
    result = run("insights", "protect", mem)
    assert "Scheduler is stopped; cannot protect insights." in result.stderr
    result = run("insights", "restore", mem, "--version", "1")
    assert "Scheduler is stopped; cannot restore insights." in result.stderr
    assert store_path(data_dir).is_file()
