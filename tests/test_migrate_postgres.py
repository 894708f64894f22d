"""``memman migrate`` between SQLite and a real Postgres with pgvector, both ways.

The round trip SQLite -> Postgres -> SQLite must give back an identical export; the
backend key flips only after verification; sources are archived (a folder under
archive/, a renamed schema), never dropped; re-runs are harmless; and a migration
killed half way leaves the store working on its source backend.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from memman.config.datadir import DataDir
from memman.config.settings import Settings
from memman.store.open import open_store


@pytest.fixture
def pg_default(ok, pg_dsn):
    ok("config", "set", "MEMMAN_DEFAULT_POSTGRES_DSN", pg_dsn)
    return pg_dsn


@pytest.fixture
def filled(ok, remember_drained):
    ids = [remember_drained(text) for text in (
        "Alice owns the billing service and its on-call rota",
        "The billing service retries webhooks five times with exponential back-off",
        "Bob prefers squash merges for the payments repository",
        "Deploys to production happen on Tuesdays after the change review",
    )]
    ok("graph", "link", ids[0], ids[1], "--type", "causal")
    ok("forget", ids[2])
    return ids


def export_lines(run) -> list[str]:
    out = run("export").stdout.splitlines()
    return sorted(out[1:])  # the first line is the header, with the export time


def schemas(dsn) -> list[str]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        return sorted(r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'store\\_%' "
            "OR nspname LIKE 'archived\\_%' OR nspname LIKE 'migrating\\_%'"))


def test_round_trip_gives_back_an_identical_export(ok, run, filled, pg_default, data_dir):
    before = export_lines(run)
    out = ok("migrate", "--store", "default", "--yes")
    (moved,) = out["migrated"]
    assert moved["from"] == "sqlite" and moved["to"] == "postgres" and moved["verified"]
    assert moved["rows"]["insights"] == 4 and moved["rows"]["edges"] >= 1
    assert "MEMMAN_BACKEND_default=postgres" in (data_dir / "env").read_text()
    assert not (data_dir / "data" / "default").exists()
    assert (data_dir / "archive" / "default").is_dir()  # the SQLite source, archived
    assert export_lines(run) == before

    back = ok("migrate", "--store", "default", "--to", "sqlite", "--yes")["migrated"][0]
    assert back["verified"] and back["archived_source"].startswith("archived_")
    assert "MEMMAN_BACKEND_default=sqlite" in (data_dir / "env").read_text()
    assert export_lines(run) == before
    assert schemas(pg_default) == [back["archived_source"]]  # archived, not dropped
    # the store works as before: recall (through the rebuilt vector file) and writes
    hits = ok("recall", "webhook retries")["results"]
    assert hits[0]["insight"]["id"] == filled[1]
    assert ok("remember", "Carol runs the release train")["action"] == "queued"
    assert ok("scheduler", "drain")["processed"] == 1


def test_recall_and_drain_on_the_migrated_store(ok, filled, pg_default):
    ok("migrate", "--store", "default", "--yes")
    hits = ok("recall", "who owns billing")
    assert hits["results"][0]["insight"]["id"] == filled[0]
    assert hits["meta"]["vector_source"] == "index"
    assert ok("insights", "show", filled[2])["deleted_at"]  # forgotten stays forgotten
    ok("remember", "Dana moved the staging database to the new cluster")
    assert ok("scheduler", "drain")["processed"] == 1
    assert ok("status")["total_insights"] == 4


def test_dry_run_and_missing_yes_change_nothing(ok, run, filled, pg_default, data_dir):
    env_before = (data_dir / "env").read_text()
    out = ok("migrate", "--store", "default", "--dry-run")
    (plan,) = out["plan"]
    assert plan["action"] == "create" and plan["target_state"] == "ABSENT"
    assert plan["source_rows"]["insights"] == 4 and out["migrated"] == []
    result = run("migrate", "--store", "default")
    assert result.exit_code == 1 and "without --yes" in result.stderr
    assert (data_dir / "env").read_text() == env_before
    assert schemas(pg_default) == []


def test_rerun_is_skipped_and_a_populated_target_is_archived(ok, filled, pg_default,
                                                             data_dir):
    ok("migrate", "--store", "default", "--yes")
    again = ok("migrate", "--store", "default", "--yes")
    assert again["skipped"] == ["default"] and again["migrated"] == []
    # The first trip's schema was archived on the way back; make a populated
    # target by hand: a memory written while the key pointed at Postgres.
    ok("migrate", "--store", "default", "--to", "sqlite", "--yes")
    ok("config", "set", "MEMMAN_BACKEND_default", "postgres")
    ok("remember", "A memory written straight into Postgres")
    ok("scheduler", "drain")
    ok("config", "set", "MEMMAN_BACKEND_default", "sqlite")
    plan = ok("migrate", "--store", "default", "--dry-run")["plan"][0]
    assert plan["target_state"] == "POPULATED" and plan["action"] == "replace"
    moved = ok("migrate", "--store", "default", "--yes")["migrated"][0]
    assert moved["replaced_target"].startswith("archived_")
    assert ok("status")["total_insights"] == 3  # the SQLite store's, one is forgotten


def test_all_needs_a_default_dsn_for_postgres(run, ok, filled):
    result = run("migrate", "--all", "--yes")
    assert result.exit_code == 1
    assert "no DSN is set" in result.stderr and len(result.stderr.splitlines()) == 1


def _big_store(data_dir, rows: int) -> None:
    from memman.store.base import COPIED_TABLES

    datadir = DataDir(data_dir)
    backend = open_store(datadir, Settings(datadir.env_file), "default", create=True)
    stamp = "2026-01-01T00:00:00.000000Z"
    batch = []
    for n in range(rows):
        batch.append({c: None for c in COPIED_TABLES["insights"]} | {
            "seq": n + 1, "id": f"id-{n:06d}", "content": f"memory number {n} about item {n}",
            "category": "fact", "importance": 3, "entities": "[]", "source": "user",
            "access_count": 0, "effective_importance": 0.5, "created_at": stamp,
            "updated_at": stamp, "protected": 0})
    with backend.transaction():
        backend.load_rows("insights", batch)
    backend.close()


def test_a_killed_migration_leaves_the_source_in_use(ok, pg_default, data_dir, tmp_path):
    _big_store(data_dir, 30000)
    env = {**os.environ, "MEMMAN_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from memman.cli.main import main; main()",
                             "migrate", "--store", "default", "--yes"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            s.startswith("migrating_") for s in schemas(pg_default)):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert "MEMMAN_BACKEND_default" not in (data_dir / "env").read_text()
    assert ok("status")["total_insights"] == 30000
    assert ok("recall", "item 1234", "--basic")["results"]
    # a new run clears the scratch schema and completes
    moved = ok("migrate", "--store", "default", "--yes")["migrated"][0]
    assert moved["verified"] and moved["rows"]["insights"] == 30000
    assert not [s for s in schemas(pg_default) if s.startswith("migrating_")]
    assert json.loads(json.dumps(ok("status")))["total_insights"] == 30000
