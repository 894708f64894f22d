"""Every kind of bad input: one ``Error:`` line on stderr, non-zero exit, nothing written."""
import os
import sqlite3

import pytest

from memman.queue.db import QueueDB

LONG = "x" * 8001
CASES = [
    (["remember", ""], "content is empty"),
    (["remember", "   \n\t "], "content is empty"),
    (["remember", LONG], "content too long (8001 bytes, max 8000)"),
    (["remember", "é" * 4001], "content too long (8002 bytes, max 8000)"),
    (["remember", "x", "--cat", "gossip"],
     "invalid category 'gossip'; valid: preference, decision, fact, insight, context, general"),
    (["remember", "x", "--imp", "0"], "importance must be 1-5, got 0"),
    (["remember", "x", "--imp", "6"], "importance must be 1-5, got 6"),
    (["remember", "x", "--imp", "high"], "importance must be 1-5, got high"),
    (["remember", "x", "--source", "robot"],
     "invalid source 'robot'; valid: user, agent, external"),
    (["remember", "x", "--entities", "[1, 2]"], "invalid --entities"),
    (["remember", "x", "--entities", "[\"a\""], "invalid --entities"),
    (["remember", "x", "--entities", "a,,b"], "invalid --entities: empty entity name"),
    (["remember", "x", "--entities", "e" * 201], "invalid --entities"),
    (["remember", "x", "--entities", ",".join(f"e{i}" for i in range(51))], "invalid --entities"),
    (["remember", "x", "--bogus"], "No such option"),
    (["--store", "bad name", "remember", "x"], "invalid store name 'bad name'"),
    (["--store", "-x", "remember", "x"], "invalid store name"),
    (["--store", "a" * 65, "status"], "invalid store name"),
    (["replace", "nope", "text"], "insight 'nope' not found"),
    (["forget", "nope"], "insight 'nope' not found"),
    (["insights", "show", "nope"], "insight 'nope' not found"),
    (["recall", "x", "--intent", "HOW"], "unknown intent 'HOW'; valid: WHY, WHEN, ENTITY, GENERAL"),
    (["recall", "x", "--cat", "nope"], "invalid category 'nope'"),
    (["recall", "  "], "query is empty"),
    (["recall", "x", "--limit", "0"], "--limit"),
    (["config", "set", "MEMMAN_NOPE", "1"], "unknown config key 'MEMMAN_NOPE'"),
    (["config", "set", "MEMMAN_EMBED_PROVIDER", "magic"],
     "invalid value for MEMMAN_EMBED_PROVIDER"),
    (["config", "set", "MEMMAN_BACKEND", "sqlite"], "did you mean"),
    (["config", "get", "MEMMAN_LLM_API_KEY"], "MEMMAN_LLM_API_KEY is not set"),
    (["store", "create", "no/slash"], "invalid store name"),
    (["store", "use", "a b"], "invalid store name"),
    (["store", "remove", "ghost", "--yes"], "store 'ghost' does not exist"),
    (["scheduler", "queue", "show", "999"], "queue row 999 not found"),
    (["log", "list", "--since", "1w"], "invalid --since"),
    (["nosuchcommand"], "No such command"),
]


def snapshot(data_dir):
    """Every file under the data dir with its content (what 'nothing written' means)."""
    if not data_dir.exists():
        return {}
    out = {}
    for root, _, files in os.walk(data_dir):
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(("-wal", "-shm")) or name in ("drain.lock", "env.lock"):
                continue
            if name.endswith(".db"):
                conn = sqlite3.connect(path)
                out[path] = [tuple(r) for t in ("queue", "insights", "oplog", "edges")
                             for r in _rows(conn, t)]
                conn.close()
            else:
                out[path] = open(path, "rb").read()
    return out


def _rows(conn, table):
    try:
        return conn.execute(f"SELECT * FROM {table}").fetchall()
    except sqlite3.OperationalError:
        return []


@pytest.fixture
def seeded(ok):
    ok("remember", "an existing memory")
    ok("scheduler", "drain")


@pytest.mark.parametrize("args,message", CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_bad_input_is_one_line_and_writes_nothing(run, seeded, data_dir, args, message):
    before = snapshot(data_dir)
    result = run(*args)
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(data_dir) == before


def test_corrupt_queue_db(run, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "queue.db").write_bytes(b"this is not a sqlite database at all" * 100)
    result = run("remember", "hello")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: queue database") and "corrupt" in line
    assert (data_dir / "queue.db").read_bytes().startswith(b"this is not")


def test_locked_queue_db(run, ok, data_dir, monkeypatch):
    ok("remember", "first")
    monkeypatch.setenv("MEMMAN_BUSY_TIMEOUT_MS", "100")
    blocker = sqlite3.connect(data_dir / "queue.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        result = run("remember", "second")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "locked" in line
    q = QueueDB(data_dir / "queue.db")
    assert [r["content"] for r in q.list()] == ["first"]
    q.close()


def test_corrupt_store_db_is_reported_not_raised(run, ok, data_dir):
    ok("remember", "x")
    ok("scheduler", "drain")
    (data_dir / "data" / "default" / "memman.db").write_bytes(b"garbage" * 1000)
    for f in (data_dir / "data" / "default").glob("memman.db-*"):
        f.unlink()
    result = run("recall", "--basic", "x")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: store database") and "corrupt" in line
