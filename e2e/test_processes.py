"""What only real processes show: exit codes, no tracebacks, locks, concurrency."""
import json
import subprocess
import sys
import time

import pytest


@pytest.mark.parametrize("args,code", [
    (["remember", ""], 1),
    (["remember", "x", "--imp", "9"], 1),
    (["remember", "x", "--nope"], 2),
    (["forget", "missing"], 1),
    (["--store", "no good", "status"], 1),
    (["config", "set", "MEMMAN_WHAT", "1"], 1),
])
def test_exit_codes_and_single_error_line(mm, args, code):
    proc = mm(*args)
    assert proc.returncode == code
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr


def test_version_and_help(mm):
    assert mm("--version").stdout.startswith("memman ")
    helptext = mm("--help").stdout
    for command in ("remember", "recall", "forget", "replace", "status", "store", "config"):
        assert command in helptext


def test_concurrent_remembers_while_draining(mm, mmj, memman_bin, env):
    """20 remember processes race a drain: every memory lands exactly once."""
    procs = [subprocess.Popen([memman_bin, "remember", f"concurrent memory number {i}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(20)]
    drains = []
    while any(p.poll() is None for p in procs):
        drains.append(subprocess.run([memman_bin, "scheduler", "drain"], env=env,
                                     capture_output=True, text=True))
        time.sleep(0.05)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err
    final = mmj("scheduler", "drain")
    for d in drains:
        assert d.returncode == 0, d.stderr
    assert final["remaining"] == {}
    status = mmj("status")
    assert status["total_insights"] == 20
    contents = set()
    for i in range(20):
        hits = mmj("recall", "--basic", "concurrent", "memory", "number", str(i),
                   "--limit", "50")["results"]
        contents |= {h["content"] for h in hits}
    assert contents == {f"concurrent memory number {i}" for i in range(20)}


def test_two_drains_at_once_one_skips(mm, mmj, memman_bin, env):
    mmj("remember", "x")
    # Hold the lock from another real process, as a running drain would.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time, portalocker; "
         "l = portalocker.Lock(sys.argv[1], mode='a', flags=portalocker.LOCK_EX); l.acquire(); "
         "print('locked', flush=True); time.sleep(30)",
         env["MEMMAN_DATA_DIR"] + "/drain.lock"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = mm("scheduler", "drain")
        assert proc.returncode == 0
        out = json.loads(proc.stdout)
        assert out["skipped"] == "another drain in progress"
    finally:
        holder.kill()
        holder.wait()
    assert mmj("scheduler", "drain")["processed"] == 1
