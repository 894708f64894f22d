"""Tests for the data dir: resolution, layout, permissions, and not creating it on reads."""
import os
import stat
from pathlib import Path

import pytest

from memman.config.datadir import DataDir, resolve_root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


# -- resolution ---------------------------------------------------------------------

def test_resolve_root_option_beats_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMMAN_DATA_DIR", str(tmp_path / "from-env"))
    assert resolve_root(str(tmp_path / "from-option")) == tmp_path / "from-option"


def test_resolve_root_env_beats_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMMAN_DATA_DIR", str(tmp_path / "from-env"))
    assert resolve_root(None) == tmp_path / "from-env"


def test_resolve_root_defaults_to_home_dot_memman(tmp_path, monkeypatch):
    monkeypatch.delenv("MEMMAN_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert resolve_root(None) == tmp_path / "h" / ".memman"


def test_resolve_root_expands_user_and_makes_absolute(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert resolve_root("~/mm") == tmp_path / "h" / "mm"
    monkeypatch.chdir(tmp_path)
    assert resolve_root("rel/dir") == tmp_path / "rel" / "dir"
    assert resolve_root("rel/dir").is_absolute()


def test_cli_data_dir_option_beats_env(ok, data_dir, tmp_path):
    other = tmp_path / "other"
    out = ok("--data-dir", str(other), "remember", "the user prefers dark mode in editors")
    assert out["action"] == "queued"
    assert (other / "queue.db").is_file()
    assert not data_dir.exists()
    assert ok("--data-dir", str(other), "status")["queue"]["pending"] == 1
    assert ok("status")["queue"]["pending"] == 0


def test_cli_env_data_dir_used_without_option(ok, data_dir):
    ok("remember", "the user prefers dark mode in editors")
    assert (data_dir / "queue.db").is_file()


def test_cli_data_dir_option_with_store_paths(ok, data_dir, tmp_path):
    other = tmp_path / "other"
    out = ok("--data-dir", str(other), "store", "create", "work")
    assert out["path"] == str(other / "data" / "work" / "memman.db")
    assert ok("--data-dir", str(other), "store", "list")["stores"] == ["work"]
    assert ok("store", "list")["stores"] == []


# -- layout and ensure() ---------------------------------------------------------------

def test_layout_paths(tmp_path):
    d = DataDir(tmp_path / "mm")
    root = tmp_path / "mm"
    assert d.env_file == root / "env"
    assert d.env_lock == root / "env.lock"
    assert d.active_file == root / "active"
    assert d.queue_db == root / "queue.db"
    assert d.scheduler_state == root / "scheduler.state"
    assert d.store_db("work") == root / "data" / "work" / "memman.db"
    assert d.logs_dir == root / "logs"
    assert d.archive_dir == root / "archive"


def test_ensure_creates_root_data_logs_0700(tmp_path, loose_umask):
    root = tmp_path / "deep" / "mm"
    d = DataDir(root)
    assert not d.exists()
    assert d.ensure() is d
    assert d.exists()
    for path in (root, root / "data", root / "logs"):
        assert path.is_dir()
        assert _mode(path) == 0o700, path


def test_ensure_with_umask_zero_still_0700(tmp_path):
    old = os.umask(0)
    try:
        DataDir(tmp_path / "mm").ensure()
    finally:
        os.umask(old)
    for sub in ("", "data", "logs"):
        assert _mode(tmp_path / "mm" / sub) == 0o700


def test_ensure_is_idempotent_and_keeps_contents(tmp_path):
    d = DataDir(tmp_path / "mm").ensure()
    (d.root / "env").write_text("A=1\n")
    d.ensure()
    assert (d.root / "env").read_text() == "A=1\n"


def test_ensure_store_dir_0700(tmp_path, loose_umask):
    d = DataDir(tmp_path / "mm")
    path = d.ensure_store_dir("work")
    assert path == tmp_path / "mm" / "data" / "work"
    assert _mode(path) == 0o700
    assert _mode(tmp_path / "mm") == 0o700


def test_sqlite_stores_lists_only_dirs_with_a_db(tmp_path):
    d = DataDir(tmp_path / "mm")
    assert d.sqlite_stores() == []
    d.ensure_store_dir("b")
    (d.store_db("b")).write_bytes(b"")
    d.ensure_store_dir("a")
    (d.store_db("a")).write_bytes(b"")
    d.ensure_store_dir("empty")
    assert d.sqlite_stores() == ["a", "b"]


def test_archive_slot_numbers_sequentially(tmp_path):
    d = DataDir(tmp_path / "mm")
    first = d.archive_slot("s")
    second = d.archive_slot("s")
    assert first.is_dir() and second.is_dir()
    assert first.parent == second.parent == tmp_path / "mm" / "archive" / "s"
    assert first.name.endswith("_01") and second.name.endswith("_02")
    assert first.name[:8] == second.name[:8] and first.name[:8].isdigit()
    assert _mode(first) == 0o700


# -- reads do not create the data dir ------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("status",),
    ("status", "--text"),
    ("store", "list"),
    ("store",),
    ("recall", "--basic", "x"),
    ("config", "show"),
    ("config", "get", "MEMMAN_EMBED_PROVIDER"),
])
def test_read_only_commands_do_not_create_data_dir(run, data_dir, args):
    assert not data_dir.exists()
    result = run(*args)
    assert result.exit_code == 0, result
    assert not data_dir.exists()


def test_read_only_commands_do_not_create_parent(run, tmp_path):
    root = tmp_path / "nested" / "mm"
    for args in (("status",), ("store", "list"), ("recall", "--basic", "x")):
        result = run("--data-dir", str(root), *args)
        assert result.exit_code == 0, result
    assert not (tmp_path / "nested").exists()


def test_status_on_missing_data_dir_reports_empty(ok, data_dir):
    out = ok("status")
    assert out["store"] == "default"
    assert out["exists"] is False
    assert out["total_insights"] == 0
    assert out["queue"]["pending"] == 0


def test_recall_on_missing_data_dir_returns_no_results(ok, data_dir):
    assert ok("recall", "--basic", "x")["results"] == []


def test_remember_creates_data_dir_0700(ok, data_dir, loose_umask):
    assert not data_dir.exists()
    ok("remember", "the user prefers tabs over spaces")
    assert data_dir.is_dir()
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "data") == 0o700
    assert _mode(data_dir / "logs") == 0o700
    assert (data_dir / "queue.db").is_file()


def test_remember_into_nested_missing_path(ok, tmp_path, loose_umask):
    root = tmp_path / "a" / "b" / "mm"
    ok("--data-dir", str(root), "remember", "the user prefers tabs over spaces")
    assert _mode(root) == 0o700
    assert (root / "queue.db").is_file()
