"""remember and recall --basic import nothing heavy (checked in a real process)."""
import os
import subprocess
import sys

import pytest

HEAVY = ("numpy", "httpx", "psycopg", "tqdm", "pgvector", "cachetools")


def imported_modules(args, env):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "memman", *args],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize("args", [
    ["remember", "The build uses make and pytest"],
    ["recall", "--basic", "build"],
    ["status"],
])
def test_hot_path_imports_nothing_heavy(args, data_dir):
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "memman", "remember", "seed"], env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "memman", "scheduler", "drain"], env=env, check=True,
                   capture_output=True)
    modules = imported_modules(args, env)
    assert "memman" in modules
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_remember_does_not_take_file_locks_library(data_dir):
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    assert "portalocker" not in imported_modules(["remember", "hello"], env)
