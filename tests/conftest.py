"""Shared fixtures: an isolated data dir per test and a CLI runner that parses JSON."""
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from memman import clock
from memman.cli.main import cli

pytest_plugins = ["tests.pg_plugin"]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own MEMMAN_DATA_DIR and HOME; no ambient MEMMAN_* leaks in."""
    for key in list(os.environ):
        if key.startswith("MEMMAN_"):
            monkeypatch.delenv(key, raising=False)
    root = tmp_path / "memman"
    monkeypatch.setenv("MEMMAN_DATA_DIR", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # Never reach a developer's real user manager or launchd from a test.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("MEMMAN_SYSTEMCTL", "/bin/true")
    monkeypatch.setenv("MEMMAN_LAUNCHCTL", "/bin/true")
    clock.reset()
    yield root
    clock.reset()


class Result:
    def __init__(self, raw):
        self.raw = raw
        self.exit_code = raw.exit_code
        self.stdout = raw.stdout
        self.stderr = raw.stderr

    @property
    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return f"<Result exit={self.exit_code} stdout={self.stdout!r} stderr={self.stderr!r}>"


@pytest.fixture
def run():
    """run("remember", "text", ...) -> Result; asserts nothing by itself."""
    runner = CliRunner()

    def invoke(*args, input=None):
        return Result(runner.invoke(cli, [str(a) for a in args], input=input,
                                    catch_exceptions=False))

    return invoke


@pytest.fixture
def ok(run):
    """Like run, but asserts exit 0 and returns the parsed JSON."""

    def invoke(*args, input=None):
        result = run(*args, input=input)
        assert result.exit_code == 0, result
        return result.json

    return invoke


@pytest.fixture
def remember_drained(ok):
    """Queue a memory, drain, and return the stored memory's id."""

    def do(text, *flags):
        ok("remember", text, *flags)
        out = ok("scheduler", "drain")
        row = out["rows"][-1]
        assert row["status"] == "done" and row["facts"], row
        return row["facts"][0]["id"]

    return do


@pytest.fixture
def loopback():
    """A started LoopbackServer (see tests/fakes/loopback.py), stopped afterwards."""
    from tests.fakes.loopback import LoopbackServer

    server = LoopbackServer().start()
    yield server
    server.stop()
