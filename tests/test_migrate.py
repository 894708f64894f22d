"""``memman migrate`` on SQLite alone: the copy and its proof, and the command's rules.

Copies between two SQLite databases exercise what every migration relies on: every
copied table arrives whole (deleted memories, vectors, edges, oplog, history, meta),
the target rebuilds its own keyword and entity indexes, and checksums agree exactly
when the data does. The Postgres directions are in tests/test_migrate_postgres.py.
"""
import sqlite3

import pytest

from memman.config.datadir import DataDir
from memman.config.settings import Settings
from memman.migrate.copy import checksums, copy_rows, differences
from memman.store.base import COPIED_TABLES
from memman.store.open import open_store
from memman.store.sqlite import SQLiteBackend


@pytest.fixture
def populated(ok, remember_drained, data_dir):
    ids = [remember_drained(text) for text in (
        "Alice owns the billing service and its on-call rota",
        "The billing service retries webhooks five times with exponential back-off",
        "Bob prefers squash merges for the payments repository",
    )]
    ok("graph", "link", ids[0], ids[1], "--type", "causal")
    ok("forget", ids[2])
    return ids


def source_backend(data_dir):
    datadir = DataDir(data_dir)
    return open_store(datadir, Settings(datadir.env_file), "default")


def test_copy_keeps_every_table_and_the_checksums_agree(populated, data_dir, tmp_path):
    source = source_backend(data_dir)
    target = SQLiteBackend(tmp_path / "copy.db")
    try:
        copied = copy_rows(source, target)
        assert set(copied) == set(COPIED_TABLES)
        before, after = checksums(source), checksums(target)
        assert before == after and differences(before, after) == []
        assert copied["insights"] == before["insights"]["rows"] == 3
        assert before["edges"]["rows"] >= 1 and before["oplog"]["rows"] >= 1
        # the forgotten memory came along, still forgotten
        forgotten = target.get_insight(populated[2], include_deleted=True)
        assert forgotten is not None and forgotten.deleted_at is not None
        # the target rebuilt its keyword index from the rows it was given
        hits = target.search_basic(["webhooks"], category=None, source=None, limit=5)
        assert [h.id for h in hits] == [populated[1]]
        assert target.entity_count("alice") >= 1
        # vectors arrived byte for byte
        assert source.active_vectors_for(populated[:2]) == \
            target.active_vectors_for(populated[:2])
        assert len(target.active_vectors_for(populated[:2])) == 2
    finally:
        source.close()
        target.close()


def test_checksums_see_a_changed_value(populated, data_dir, tmp_path):
    source = source_backend(data_dir)
    target = SQLiteBackend(tmp_path / "copy.db")
    try:
        copy_rows(source, target)
        with target.transaction():
            target.update_insight(populated[0], {"importance": 5})
        diff = differences(checksums(source), checksums(target))
        assert diff == ["insights: same row count (3), different content"]
    finally:
        source.close()
        target.close()


def test_a_copy_that_fails_half_way_leaves_the_target_empty(populated, data_dir, tmp_path):
    source = source_backend(data_dir)
    target = SQLiteBackend(tmp_path / "copy.db")
    # an oplog row with the id the source's first one has: the copy fails at the
    # oplog, after memories and edges went in
    first = next(source.dump_rows("oplog"))
    target.load_rows("oplog", [first])
    try:
        with pytest.raises(sqlite3.IntegrityError):
            copy_rows(source, target)
        assert target.count_active() == 0 and target.count_edges() == 0
    finally:
        source.close()
        target.close()


def test_migrate_needs_exactly_one_of_store_and_all(run):
    for args in ([], ["--store", "default", "--all"]):
        result = run("migrate", *args)
        assert result.exit_code == 2
        assert "give exactly one of --store NAME and --all" in result.stderr


def test_migrate_to_the_current_backend_is_skipped(ok, remember_drained):
    remember_drained("Carol runs the release train on Thursdays")
    out = ok("migrate", "--store", "default", "--to", "sqlite")
    assert out["skipped"] == ["default"] and out["migrated"] == []
    assert out["plan"][0]["reason"] == "store 'default' is already on the sqlite backend"


def test_migrate_refuses_a_missing_store_and_bad_names(run):
    result = run("migrate", "--store", "nosuch", "--yes")
    assert result.exit_code == 1 and "store 'nosuch' does not exist" in result.stderr
    result = run("migrate", "--store", "bad name", "--yes")
    assert result.exit_code != 0 and result.stderr.startswith("Error:")
