"""Tests for store names (memman.config.stores) and the ``memman store`` commands."""
import re
import sqlite3

import pytest

from memman import clock
from memman.config.datadir import DataDir
from memman.config.stores import pg_schema_name, resolve, validate_name
from memman.errors import MemmanError

PG_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


# -- validate_name -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["default", "my-store", "2025", "a", "A", "my_store",
                                  "x" * 64, "a" + "-_" * 31 + "z"])
def test_validate_name_accepts(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "_x", "a b", "a/b", "é", "x" * 65, "..", ".",
                                  "a.b", "a\\b", " a", "a ", "a\tb", "ab\x00"])
def test_validate_name_rejects(name):
    with pytest.raises(MemmanError) as info:
        validate_name(name)
    assert "invalid store name" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", [None, 5, b"abc"])
def test_validate_name_rejects_non_strings(value):
    with pytest.raises(MemmanError):
        validate_name(value)


def test_validate_name_rejects_trailing_newline():
    with pytest.raises(MemmanError):
        validate_name("abc\n")


# -- resolution order -----------------------------------------------------------------

@pytest.fixture
def active_file(tmp_path):
    return tmp_path / "active"


def test_resolve_defaults_to_default(active_file):
    assert resolve(None, active_file) == ("default", "default")


def test_resolve_active_file_beats_default(active_file):
    active_file.write_text("work\n")
    assert resolve(None, active_file) == ("work", "active file")


def test_resolve_env_beats_active_file(active_file, monkeypatch):
    active_file.write_text("work\n")
    monkeypatch.setenv("MEMMAN_STORE", "envstore")
    assert resolve(None, active_file) == ("envstore", "MEMMAN_STORE")


def test_resolve_option_beats_env_and_active_file(active_file, monkeypatch):
    active_file.write_text("work\n")
    monkeypatch.setenv("MEMMAN_STORE", "envstore")
    assert resolve("cli", active_file) == ("cli", "--store")


def test_resolve_blank_active_file_means_default(active_file):
    active_file.write_text("  \n")
    assert resolve(None, active_file) == ("default", "default")


def test_resolve_invalid_active_file_is_one_line_error(active_file):
    active_file.write_text("bad name/with slash\n")
    with pytest.raises(MemmanError) as info:
        resolve(None, active_file)
    message = str(info.value)
    assert "\n" not in message
    assert "active file" in message
    assert "memman store use" in message


def test_resolve_invalid_active_file_ignored_when_overridden(active_file, monkeypatch):
    active_file.write_text("bad name\n")
    assert resolve("ok", active_file) == ("ok", "--store")
    monkeypatch.setenv("MEMMAN_STORE", "fromenv")
    assert resolve(None, active_file) == ("fromenv", "MEMMAN_STORE")


def test_resolve_invalid_option_or_env_rejected(active_file, monkeypatch):
    with pytest.raises(MemmanError, match="invalid store name"):
        resolve("a b", active_file)
    monkeypatch.setenv("MEMMAN_STORE", "-bad")
    with pytest.raises(MemmanError, match="invalid store name"):
        resolve(None, active_file)


def test_cli_resolution_order(run, ok, data_dir, monkeypatch):
    assert ok("store", "list")["active"] == "default"
    ok("store", "use", "fromfile")
    assert (data_dir / "active").read_text().strip() == "fromfile"
    assert ok("store", "list")["active"] == "fromfile"
    monkeypatch.setenv("MEMMAN_STORE", "fromenv")
    assert ok("store", "list")["active"] == "fromenv"
    assert ok("--store", "fromopt", "store", "list")["active"] == "fromopt"


def test_cli_invalid_active_file_is_one_line_error(run, data_dir):
    data_dir.mkdir()
    (data_dir / "active").write_text("no good\n")
    result = run("status")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr


# -- pg_schema_name ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["default", "work", "my_store", "a", "abc123", "x" * 57])
def test_pg_schema_plain_names(name):
    assert pg_schema_name(name) == f"store_{name}"


@pytest.mark.parametrize("name", ["default", "my-store", "my_store", "2025", "MyStore", "A", "a",
                                  "x" * 57, "x" * 58, "x" * 64, "Z" * 64, "9" + "-" * 63,
                                  "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z-0-1-2-3"])
def test_pg_schema_is_valid_unquoted_identifier(name):
    schema = pg_schema_name(name)
    assert PG_IDENT.match(schema), schema
    assert len(schema.encode("utf-8")) <= 63
    assert schema.startswith("store_")
    assert pg_schema_name(name) == schema  # deterministic


@pytest.mark.parametrize("a, b", [
    ("A", "a"),
    ("my-store", "my_store"),
    ("MyStore", "mystore"),
    ("2025", "2025-"),
    ("x" * 63 + "a", "x" * 63 + "b"),
    ("x" * 58, "x" * 59),
    ("a-b", "a_b"),
])
def test_pg_schema_distinct_for_distinct_names(a, b):
    assert pg_schema_name(a) != pg_schema_name(b)


def test_pg_schema_distinct_over_many_names():
    names = ["default", "a", "A", "my-store", "my_store", "My-Store", "MY_STORE", "2025", "2025_",
             "x" * 64, "X" * 64, "x" * 63 + "-", "x" * 63 + "_"]
    names += [f"s{i}" for i in range(200)] + [f"S-{i}" for i in range(200)]
    schemas = [pg_schema_name(n) for n in names]
    assert len(set(schemas)) == len(names)


def test_pg_schema_plain_name_cannot_collide_with_hashed_name():
    hashed = pg_schema_name("my-store")          # store__my_store_<digest>
    assert hashed.startswith("store__")
    impostor = hashed[len("store_"):]            # the only plain name that could map there
    with pytest.raises(MemmanError):
        validate_name(impostor)                  # ...is not a valid store name
    lookalike = hashed[len("store__"):]          # my_store_<digest>: valid, maps elsewhere
    assert pg_schema_name(lookalike) == "store_" + lookalike != hashed


def test_pg_schema_rejects_invalid_name():
    with pytest.raises(MemmanError):
        pg_schema_name("a b")


# -- store CLI ----------------------------------------------------------------------------

def _datadir(data_dir) -> DataDir:
    return DataDir(data_dir)


def test_store_create_list_use_remove_round_trip(ok, data_dir):
    assert ok("store", "list") == {"stores": [], "active": "default"}
    created = ok("store", "create", "work")
    assert created["action"] == "created" and created["store"] == "work"
    assert (data_dir / "data" / "work" / "memman.db").is_file()
    ok("store", "create", "my-store")
    assert ok("store", "list") == {"stores": ["my-store", "work"], "active": "default"}
    assert ok("store") == {"stores": ["my-store", "work"], "active": "default"}

    assert ok("store", "use", "work") == {"action": "set", "store": "work"}
    assert ok("store", "list")["active"] == "work"

    removed = ok("store", "remove", "my-store", "--yes")
    assert removed["action"] == "removed" and removed["store"] == "my-store"
    assert not (data_dir / "data" / "my-store").exists()
    assert ok("store", "list") == {"stores": ["work"], "active": "work"}


def test_store_remove_archives_db(ok, data_dir):
    ok("store", "create", "old")
    db = data_dir / "data" / "old" / "memman.db"
    marker = db.read_bytes()
    out = ok("store", "remove", "old", "--yes")
    day = clock.iso()[:10].replace("-", "")
    slot = data_dir / "archive" / "old" / f"{day}_01"
    assert out["archived_to"] == str(slot / "data")
    assert (slot / "data" / "memman.db").is_file()
    assert (slot / "data" / "memman.db").read_bytes()[:16] == marker[:16]
    assert re.fullmatch(r"\d{8}_\d{2}", slot.name)


def test_store_remove_twice_gets_next_archive_slot(ok, data_dir):
    ok("store", "create", "tmp")
    first = ok("store", "remove", "tmp", "--yes")["archived_to"]
    ok("store", "create", "tmp")
    second = ok("store", "remove", "tmp", "--yes")["archived_to"]
    assert first != second
    day = clock.iso()[:10].replace("-", "")
    assert first.endswith(f"/archive/tmp/{day}_01/data")
    assert second.endswith(f"/archive/tmp/{day}_02/data")
    assert (data_dir / "archive" / "tmp" / f"{day}_01" / "data" / "memman.db").is_file()
    assert (data_dir / "archive" / "tmp" / f"{day}_02" / "data" / "memman.db").is_file()


def _queue_stores(data_dir) -> list[str]:
    conn = sqlite3.connect(str(data_dir / "queue.db"))
    try:
        return sorted(r[0] for r in conn.execute("SELECT store FROM queue"))
    finally:
        conn.close()


def test_store_remove_drops_only_that_stores_queue_rows(ok, data_dir):
    ok("store", "create", "gone")
    ok("store", "create", "kept")
    ok("--store", "gone", "remember", "the user prefers tabs over spaces")
    ok("--store", "gone", "remember", "deploys go out on tuesdays")
    ok("--store", "kept", "remember", "alice owns the billing service")
    ok("remember", "the default store keeps this memory")
    assert _queue_stores(data_dir) == ["default", "gone", "gone", "kept"]
    out = ok("store", "remove", "gone", "--yes")
    assert out["queue_rows_dropped"] == 2
    assert _queue_stores(data_dir) == ["default", "kept"]


def test_store_remove_without_queue_db(ok, data_dir):
    ok("store", "create", "lonely")
    assert not (data_dir / "queue.db").exists()
    out = ok("store", "remove", "lonely", "--yes")
    assert out["queue_rows_dropped"] == 0
    assert not (data_dir / "queue.db").exists()


def test_store_remove_refuses_active_file_store(run, ok, data_dir):
    ok("store", "create", "main")
    ok("store", "use", "main")
    result = run("store", "remove", "main", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "active" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (data_dir / "data" / "main" / "memman.db").is_file()
    assert not (data_dir / "archive").exists()


def test_store_remove_refuses_active_file_store_even_with_env_override(run, ok, data_dir,
                                                                       monkeypatch):
    ok("store", "create", "main")
    ok("store", "use", "main")
    monkeypatch.setenv("MEMMAN_STORE", "default")
    result = run("store", "remove", "main", "--yes")
    assert result.exit_code == 1
    assert (data_dir / "data" / "main" / "memman.db").is_file()


def test_store_remove_requires_yes_without_tty(run, ok, data_dir):
    ok("store", "create", "keepme")
    result = run("store", "remove", "keepme", input="y\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "--yes" in result.stderr
    assert (data_dir / "data" / "keepme" / "memman.db").is_file()
    assert not (data_dir / "archive").exists()


def test_store_remove_unknown_store_errors(run, ok, data_dir):
    result = run("store", "remove", "ghost", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "ghost" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (data_dir / "archive").exists()


def test_store_remove_invalid_name_errors(run, data_dir):
    result = run("store", "remove", "../data", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "invalid store name" in result.stderr
    assert not data_dir.exists()


def test_store_create_twice_errors(run, ok, data_dir):
    ok("store", "create", "dup")
    db = data_dir / "data" / "dup" / "memman.db"
    before = db.stat().st_mtime_ns
    result = run("store", "create", "dup")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "already exists" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert db.stat().st_mtime_ns == before


def test_store_create_case_clash_errors(run, ok, data_dir):
    ok("store", "create", "foo")
    result = run("store", "create", "Foo")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "foo" in result.stderr and "Foo" in result.stderr
    assert not (data_dir / "data" / "Foo").exists()
    assert ok("store", "list")["stores"] == ["foo"]


@pytest.mark.parametrize("name", ["a b", "-x", "_x", "a/b", "é", "x" * 65, ".."])
def test_store_create_invalid_name_errors_cleanly(run, data_dir, name):
    result = run("store", "create", "--", name)  # "--": "-x" is a name, not an option
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "invalid store name" in lines[0]
    assert not data_dir.exists()


@pytest.mark.parametrize("name", ["a b", "-x", "a/b", ".."])
def test_store_use_invalid_name_errors_cleanly(run, data_dir, name):
    result = run("store", "use", "--", name)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert not data_dir.exists()


def test_global_store_option_invalid_name_errors(run, data_dir):
    result = run("--store", "a/b", "status")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert not data_dir.exists()


def test_store_list_does_not_create_data_dir(ok, data_dir):
    assert ok("store", "list") == {"stores": [], "active": "default"}
    assert not data_dir.exists()
