"""Two hosts, one Postgres store (whole processes).

Two data dirs stand in for two machines: each has its own queue.db and env file, and
both route the store ``team`` to the same Postgres schema. Each queues its own memories
and both drain at the same time, in loops of small passes. Checked: every memory
arrives exactly once (nothing lost, nothing doubled), every queue row ends done, each
host's recall sees the other host's memories, and the store's drain lock kept the two
workers from writing the store at the same time (each pass's store part is serialised;
a pass that finds the store busy skips it and the next pass takes the rows).
"""
import json
import subprocess
import time


from tests.pg_plugin import pg_dsn, pg_server  # noqa: F401  (fixtures)

PER_HOST = 12
WORDS = ["amber", "basalt", "cobalt", "dahlia", "ember", "fjord", "garnet", "harbor",
         "indigo", "juniper", "kelp", "lagoon", "marble", "nectar"]


def host_env(tmp_path, name, memman_bin, dsn) -> dict:
    root = tmp_path / name
    root.mkdir()
    (root / "env").write_text(f"MEMMAN_DEFAULT_BACKEND=postgres\n"
                              f"MEMMAN_DEFAULT_POSTGRES_DSN={dsn}\n")
    (root / "env").chmod(0o600)
    return {"MEMMAN_DATA_DIR": str(root), "MEMMAN_STORE": "team", "HOME": str(tmp_path),
            "PATH": "/usr/bin:/bin", "MEMMAN_NO_PROGRESS": "1"}


def run(memman_bin, env, *args):
    proc = subprocess.run([memman_bin, *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def texts(host: str) -> list[str]:
    return [f"Host {host} note {i}: the {WORDS[i]} pipeline of team {host} runs on "
            f"{WORDS[(i + 3) % len(WORDS)]} nodes" for i in range(PER_HOST)]


DRAIN_LOOP = """
import json, subprocess, sys, time
memman, deadline = sys.argv[1], time.monotonic() + 240
passes = []
while time.monotonic() < deadline:
    out = json.loads(subprocess.run([memman, "scheduler", "drain", "--limit", "3"],
                                    capture_output=True, text=True, check=True).stdout)
    passes.append(out["processed"])
    queue = json.loads(subprocess.run([memman, "status"], capture_output=True, text=True,
                                      check=True).stdout)["queue"]
    if queue["pending"] == queue["claimed"] == 0:
        break
print(json.dumps(passes))
"""


def test_two_hosts_drain_into_one_store(tmp_path, memman_bin, pg_dsn):  # noqa: F811
    import sys

    hosts = {name: host_env(tmp_path, name, memman_bin, pg_dsn) for name in ("a", "b")}
    for name, env in hosts.items():
        for text in texts(name):
            run(memman_bin, env, "remember", text, "--no-reconcile")
    workers = {name: subprocess.Popen([sys.executable, "-c", DRAIN_LOOP, memman_bin],
                                      env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
               for name, env in hosts.items()}
    started = time.monotonic()
    for name, proc in workers.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert sum(json.loads(out)) == PER_HOST, (name, out)
    assert time.monotonic() - started < 300

    for env in hosts.values():
        queue = run(memman_bin, env, "status")["queue"]
        assert queue["pending"] == queue["claimed"] == queue["failed"] == queue["stale"] == 0

    exported = subprocess.run([memman_bin, "export"], env=hosts["a"], capture_output=True,
                              text=True, check=True).stdout
    rows = [json.loads(line) for line in exported.splitlines()]
    contents = [r["content"] for r in rows if "content" in r and not r.get("deleted_at")]
    expected = texts("a") + texts("b")
    assert sorted(contents) == sorted(expected)  # each exactly once
    status = run(memman_bin, hosts["b"], "status")
    assert status["total_insights"] == 2 * PER_HOST

    for reader, other in (("a", "b"), ("b", "a")):
        hits = run(memman_bin, hosts[reader], "recall", f"team {other} {WORDS[5]} pipeline")
        assert any(h["insight"]["content"] == texts(other)[5] for h in hits["results"]), \
            (reader, [h["insight"]["content"] for h in hits["results"]])
