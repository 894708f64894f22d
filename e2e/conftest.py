"""Whole-process fixtures: the installed ``memman`` script and an isolated environment."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def memman_bin() -> str:
    beside = Path(sys.executable).with_name("memman")
    found = str(beside) if beside.exists() else shutil.which("memman")
    assert found, "the memman console script is not installed in this environment"
    return found


@pytest.fixture
def env(tmp_path) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    clean["MEMMAN_DATA_DIR"] = str(tmp_path / "memman")
    clean["HOME"] = str(tmp_path / "home")
    return clean


@pytest.fixture
def mm(memman_bin, env):
    """mm("remember", "x") -> CompletedProcess (text mode, never raises on exit code)."""

    def run(*args, input=None, timeout=60):
        return subprocess.run([memman_bin, *map(str, args)], capture_output=True, text=True,
                              env=env, input=input, timeout=timeout)

    return run


@pytest.fixture
def mmj(mm):
    """Like mm, but asserts exit 0 and parses stdout as JSON."""

    def run(*args, **kw):
        proc = mm(*args, **kw)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    return run
