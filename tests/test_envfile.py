"""Tests for memman.config.envfile: parsing, in-place updates, atomic 0600 writes, locking."""
import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from memman.config import envfile
from memman.config.envfile import parse, read, update, write_atomic
from memman.errors import MemmanError


@pytest.fixture
def env(tmp_path) -> tuple[Path, Path]:
    folder = tmp_path / "dd"
    folder.mkdir()
    return folder / "env", folder / "env.lock"


# -- parse -------------------------------------------------------------------

def test_parse_skips_blank_lines_comments_and_lines_without_equals():
    text = "\n   \n# A=1\n  # B=2\nJUSTTEXT\nC=3\n"
    assert parse(text) == {"C": "3"}


def test_parse_splits_on_first_equals_only():
    assert parse("URL=http://h/?a=1&b=2\n") == {"URL": "http://h/?a=1&b=2"}
    assert parse("K==v=\n") == {"K": "=v="}


def test_parse_strips_surrounding_whitespace():
    assert parse("  K  =  v  \n") == {"K": "v"}


@pytest.mark.parametrize("line, expected", [
    ('K="double quoted"', "double quoted"),
    ("K='single quoted'", "single quoted"),
    ('K=""x""', '"x"'),          # only one pair is stripped
    ("K='\"x\"'", '"x"'),
    ('K="mismatched\'', '"mismatched\''),  # no matching pair: kept as written
    ('K="unterminated', '"unterminated'),
    ('K=x"', 'x"'),
    ('K="  padded  "', "  padded  "),
])
def test_parse_strips_one_matching_quote_pair(line, expected):
    assert parse(line + "\n") == {"K": expected}


def test_parse_does_not_expand_variables(monkeypatch):
    monkeypatch.setenv("HOME", "/should/not/appear")
    values = parse("A=$HOME/x\nB=${HOME}\nC=\"$HOME\"\nD=~/y\n")
    assert values == {"A": "$HOME/x", "B": "${HOME}", "C": "$HOME", "D": "~/y"}


def test_parse_empty_value_means_unset():
    assert parse("A=\nB=''\nC=\"\"\nD=1\n") == {"D": "1"}


def test_parse_empty_value_later_unsets_earlier_value():
    assert parse("A=1\nA=\n") == {}
    assert parse("A=1\nA=2\n") == {"A": "2"}


def test_parse_export_prefix():
    assert parse("export KEY=V\nexport  OTHER='x y'\n") == {"KEY": "V", "OTHER": "x y"}


def test_read_missing_file_is_empty(tmp_path):
    assert read(tmp_path / "nope") == {}


# -- update ------------------------------------------------------------------

def test_update_creates_file(env):
    path, lock = env
    assert update(path, lock, {"A": "1"}) == {"A": "1"}
    assert path.read_text() == "A=1\n"
    assert read(path) == {"A": "1"}


def test_update_keeps_comments_other_lines_and_order(env):
    path, lock = env
    original = textwrap.dedent("""\
        # memman settings
        FIRST=1

        # the key below is edited
        TARGET=old
        not a key line
        export LAST='x y'
        """)
    path.write_text(original)
    update(path, lock, {"TARGET": "new"})
    assert path.read_text() == original.replace("TARGET=old", "TARGET=new")


def test_update_replaces_key_in_place(env):
    path, lock = env
    path.write_text("A=1\nB=2\nC=3\n")
    update(path, lock, {"B": "two"})
    assert path.read_text().splitlines() == ["A=1", "B=two", "C=3"]


def test_update_replaces_exported_key_in_place(env):
    path, lock = env
    path.write_text("A=1\nexport B=2\nC=3\n")
    update(path, lock, {"B": "two"})
    lines = path.read_text().splitlines()
    assert lines[0] == "A=1" and lines[2] == "C=3"
    assert parse(lines[1]) == {"B": "two"}
    assert read(path) == {"A": "1", "B": "two", "C": "3"}


def test_update_drops_later_duplicates_of_the_key(env):
    path, lock = env
    path.write_text("B=first\nA=1\nB=second\nC=3\nB=third\n")
    result = update(path, lock, {"B": "new"})
    assert path.read_text().splitlines() == ["B=new", "A=1", "C=3"]
    assert result == {"A": "1", "B": "new", "C": "3"}


def test_update_appends_new_keys_at_the_end(env):
    path, lock = env
    path.write_text("# header\nA=1\n")
    update(path, lock, {"B": "2", "C": "3"})
    assert path.read_text().splitlines() == ["# header", "A=1", "B=2", "C=3"]


def test_update_appends_when_file_lacks_trailing_newline(env):
    path, lock = env
    path.write_text("A=1")
    update(path, lock, {"B": "2"})
    assert path.read_text() == "A=1\nB=2\n"


def test_update_none_removes_key_and_its_duplicates(env):
    path, lock = env
    path.write_text("# c\nA=1\nB=2\nA=3\n")
    result = update(path, lock, {"A": None})
    assert path.read_text() == "# c\nB=2\n"
    assert result == {"B": "2"}


def test_update_remove_missing_key_is_noop(env):
    path, lock = env
    path.write_text("# c\nB=2\n")
    assert update(path, lock, {"A": None}) == {"B": "2"}
    assert path.read_text() == "# c\nB=2\n"


def test_update_does_not_touch_commented_out_key(env):
    path, lock = env
    path.write_text("# A=old\n")
    update(path, lock, {"A": "new"})
    assert path.read_text() == "# A=old\nA=new\n"


def test_update_mixed_set_and_remove(env):
    path, lock = env
    path.write_text("A=1\nB=2\nC=3\n")
    result = update(path, lock, {"A": None, "C": "33", "D": "4"})
    assert path.read_text().splitlines() == ["B=2", "C=33", "D=4"]
    assert result == {"B": "2", "C": "33", "D": "4"}


@pytest.mark.parametrize("value", [
    "has spaces",
    "  leading and trailing  ",
    "tab\there",
    "hash # inside",
    "#starts-with-hash",
    '"quoted"',
    "'single'",
    '"',
    "'",
    "it's a \"mix\" of both",
    '"starts with quote only',
    "ends with quote only'",
    "$HOME/${X}",
    "a=b=c",
    "ünïcödé value",
])
def test_update_quotes_values_so_they_round_trip(env, value):
    path, lock = env
    path.write_text("# keep\nOTHER=1\n")
    result = update(path, lock, {"K": value})
    assert result["K"] == value
    assert read(path) == {"OTHER": "1", "K": value}


def test_value_with_spaces_is_written_quoted(env):
    path, lock = env
    update(path, lock, {"K": "a b"})
    line = path.read_text().strip()
    assert line in ('K="a b"', "K='a b'")


def test_update_returns_parsed_mapping(env):
    path, lock = env
    path.write_text("A=1\n")
    assert update(path, lock, {"B": "x y"}) == read(path) == {"A": "1", "B": "x y"}


def test_update_value_with_newline_cannot_inject_a_key(env):
    path, lock = env
    try:
        update(path, lock, {"A": "x\nINJECTED=evil"})
    except (ValueError, MemmanError):
        assert "INJECTED" not in read(path)
        return
    values = read(path)
    assert "INJECTED" not in values
    assert values.get("A") == "x\nINJECTED=evil"


# -- mode and atomicity --------------------------------------------------------

def test_update_writes_mode_0600(env):
    path, lock = env
    old = os.umask(0)
    try:
        update(path, lock, {"A": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_update_tightens_existing_loose_file_to_0600(env):
    path, lock = env
    path.write_text("A=1\n")
    os.chmod(path, 0o644)
    update(path, lock, {"B": "2"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_atomic_mode_parameter(tmp_path):
    target = tmp_path / "f"
    write_atomic(target, "x\n", mode=0o640)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "x\n"


def test_update_leaves_no_temp_files(env):
    path, lock = env
    for i in range(5):
        update(path, lock, {f"K{i}": str(i)})
    update(path, lock, {"K0": None})
    assert sorted(p.name for p in path.parent.iterdir()) == ["env", "env.lock"]


def test_write_atomic_replaces_by_rename(tmp_path):
    """The old inode is replaced, never truncated and rewritten in place."""
    target = tmp_path / "f"
    target.write_text("old\n")
    old_inode = target.stat().st_ino
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_ino != old_inode


def test_failed_write_keeps_old_file_and_cleans_temp(env, monkeypatch):
    path, lock = env
    path.write_text("A=1\n")

    def boom(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(envfile.os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        update(path, lock, {"A": "2"})
    monkeypatch.undo()
    assert path.read_text() == "A=1\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["env", "env.lock"]


# -- concurrency ---------------------------------------------------------------

def test_concurrent_threads_lose_no_update(env):
    path, lock = env
    path.write_text("# shared\n")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            for round_ in range(5):
                update(path, lock, {f"KEY_{i}": f"value {i} {round_}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    values = read(path)
    assert values == {f"KEY_{i}": f"value {i} 4" for i in range(8)}
    assert path.read_text().startswith("# shared\n")
    assert sorted(p.name for p in path.parent.iterdir()) == ["env", "env.lock"]


def test_concurrent_processes_lose_no_update(env):
    path, lock = env
    code = textwrap.dedent("""\
        import sys, time
        from memman.config.envfile import update
        path, lock, i, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
        while time.time() < start:
            time.sleep(0.001)
        for r in range(5):
            update(path, lock, {"KEY_" + i: "v" + i + "_" + str(r)})
        """)
    import time

    start = time.time() + 1.0
    procs = [
        subprocess.Popen([sys.executable, "-W", "ignore", "-c", code, str(path), str(lock),
                          str(i), str(start)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(8)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert read(path) == {f"KEY_{i}": f"v{i}_4" for i in range(8)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["env", "env.lock"]
