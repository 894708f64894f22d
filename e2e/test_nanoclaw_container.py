"""A NanoClaw v2 agent container, minus Docker: the start wrapper as the container's
main process, HOME laid out like ``/home/node``, and the shared store read-only.

``memman-nanoclaw-start`` runs with an agent stand-in (a shell script) the way NanoClaw
would run it after ``/add-memman``: ``exec memman-nanoclaw-start bun run ...``. Checked:
hooks land in the container user's settings.json next to NanoClaw's own PreCompact
hook (once, however often the container starts); the worker it starts drains what the
agent remembers; SIGTERM reaches the agent and the worker, the wrapper exits with the
agent's status and no queue row is left claimed; the shared store linked as ``global``
is read by recall and never written, also when it sits on a real read-only mount
(a user+mount namespace via ``unshare``; skipped with the reason where that is not
allowed).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = ROOT / "assets" / "nanoclaw" / "add-memman" / "container" / "memman-start.sh"
NANOCLAW_PRECOMPACT = "bun /app/src/compact-instructions.ts"

# NanoClaw v2's settings.json for a new agent group: an env block and its own
# PreCompact hook (src/group-init.ts).
NANOCLAW_SETTINGS = {
    "env": {"CLAUDE_CODE_DISABLE_AUTO_MEMORY": "0",
            "CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD": "1"},
    "hooks": {"PreCompact": [{"hooks": [{"type": "command",
                                         "command": NANOCLAW_PRECOMPACT}]}]},
}

AGENT = """\
trap 'echo term > "$HOME/agent.term"; exit 143' TERM
memman remember "Maria wants the weekly report as a PDF every Monday" >/dev/null
echo started > "$HOME/agent.started"
while :; do sleep 0.2; done
"""


@pytest.fixture
def container(tmp_path, memman_bin):
    """HOME like /home/node with NanoClaw's settings; env as the Dockerfile block sets it."""
    home = tmp_path / "home" / "node"
    claude = home / ".claude"
    claude.mkdir(parents=True)
    (claude / "settings.json").write_text(json.dumps(NANOCLAW_SETTINGS, indent=2) + "\n")
    (home / "agent.sh").write_text(AGENT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env.update(HOME=str(home), MEMMAN_DATA_DIR=str(claude / "memman"),
               MEMMAN_SCHEDULER_KIND="serve", MEMMAN_INTERVAL="1",
               MEMMAN_GLOBAL_MOUNT=str(tmp_path / "workspace" / "extra" / "memman-global"),
               PATH=f"{Path(memman_bin).parent}:/usr/bin:/bin")
    return {"home": home, "claude": claude, "env": env, "tmp": tmp_path}


def start(box) -> subprocess.Popen:
    return subprocess.Popen(["sh", str(WRAPPER), "sh", str(box["home"] / "agent.sh")],
                            env=box["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def memman(box, *args, check=True):
    proc = subprocess.run(["memman", *args], env=box["env"], capture_output=True, text=True,
                          timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)
    return proc


def wait_for(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def recalled(box, query, store=None) -> list[str]:
    args = (["--store", store] if store else []) + ["recall", query, "--basic"]
    return [r["content"] for r in memman(box, *args)["results"]]


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def test_wrapper_registers_hooks_drains_and_stops_cleanly(container):
    box = container
    proc = start(box)
    try:
        assert wait_for(lambda: (box["home"] / "agent.started").exists(), 30), proc.stderr
        assert wait_for(lambda: any("weekly report" in c for c in recalled(box, "weekly report")))
    finally:
        code, err = stop(proc)
    assert code == 143, err          # the agent's own exit status
    assert (box["home"] / "agent.term").read_text() == "term\n"
    assert "Traceback" not in err
    queue = memman(box, "scheduler", "queue", "list")
    assert all(row["status"] == "done" for row in queue["rows"]), queue

    settings = json.loads((box["claude"] / "settings.json").read_text())
    assert settings["env"]["CLAUDE_CODE_DISABLE_AUTO_MEMORY"] == "0"
    precompact = [h["command"] for g in settings["hooks"]["PreCompact"] for h in g["hooks"]]
    assert NANOCLAW_PRECOMPACT in precompact
    ours = [h["command"] for groups in settings["hooks"].values() for g in groups
            for h in g["hooks"] if "hooks/memman/" in h["command"]]
    assert len(ours) == 6 and len(set(ours)) == 6
    assert settings["env"]["MEMMAN_DATA_DIR"] == str(box["claude"] / "memman")
    # hooks only: NanoClaw links container skills into .claude/skills itself
    assert not (box["claude"] / "skills").exists()
    log = (box["claude"] / "memman" / "logs" / "serve.log").read_text()
    assert log.strip(), "the worker wrote nothing to serve.log"

    # a second container start changes nothing in settings.json
    before = (box["claude"] / "settings.json").read_text()
    (box["home"] / "agent.started").unlink()
    proc = start(box)
    try:
        assert wait_for(lambda: (box["home"] / "agent.started").exists(), 30)
    finally:
        stop(proc)
    assert (box["claude"] / "settings.json").read_text() == before


def test_hooks_registered_by_the_wrapper_print_what_claude_code_reads(container):
    box = container
    proc = start(box)
    try:
        assert wait_for(lambda: (box["home"] / "agent.started").exists(), 30)
    finally:
        stop(proc)
    settings = json.loads((box["claude"] / "settings.json").read_text())
    commands = {event: g["hooks"][0]["command"] for event, groups in settings["hooks"].items()
                for g in groups if "hooks/memman/" in g["hooks"][0]["command"]}
    env = {**box["env"], "PATH": "/usr/bin:/bin"}  # hooks find memman through memman.env
    payload = {"hook_event_name": "SessionStart", "session_id": "s-1", "source": "startup",
               "cwd": "/workspace/agent", "transcript_path": "/tmp/t.jsonl"}
    out = subprocess.run(["sh", "-c", commands["SessionStart"]], input=json.dumps(payload),
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("[memman] Memory active")
    stop_payload = {"hook_event_name": "Stop", "session_id": "s-1", "stop_hook_active": False,
                    "cwd": "/workspace/agent", "transcript_path": "/tmp/t.jsonl"}
    out = subprocess.run(["sh", "-c", commands["Stop"]], input=json.dumps(stop_payload),
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and json.loads(out.stdout)["decision"] == "block"


def test_wrapper_without_memman_still_runs_the_agent(container, tmp_path):
    box = container
    box["env"]["PATH"] = "/usr/bin:/bin"
    box["env"].pop("MEMMAN_DATA_DIR")
    (box["home"] / "agent.sh").write_text("exit 7\n")
    proc = subprocess.run(["sh", str(WRAPPER), "sh", str(box["home"] / "agent.sh")],
                          env=box["env"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 7
    assert "memman is not installed in this image" in proc.stderr


def test_wrapper_needs_a_command(container):
    proc = subprocess.run(["sh", str(WRAPPER)], env=container["env"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "usage:" in proc.stderr


# -- the shared store, read-only -------------------------------------------------------


def make_global_store(box) -> Path:
    """A host data dir whose store 'global' holds two memories; returns the store folder."""
    host = {**box["env"], "MEMMAN_DATA_DIR": str(box["tmp"] / "host-memman")}
    for text in ("The office wifi password rotates on the first of each month",
                 "Invoices are numbered per year, starting at 0001"):
        subprocess.run(["memman", "--store", "global", "remember", text], env=host,
                       check=True, capture_output=True)
    subprocess.run(["memman", "scheduler", "drain"], env=host, check=True, capture_output=True)
    return box["tmp"] / "host-memman" / "data" / "global"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_global_store_is_linked_and_recalled(container):
    box = container
    source = make_global_store(box)
    mount = Path(box["env"]["MEMMAN_GLOBAL_MOUNT"])
    mount.parent.mkdir(parents=True)
    shutil.copytree(source, mount)
    proc = start(box)
    try:
        assert wait_for(lambda: (box["home"] / "agent.started").exists(), 30)
    finally:
        stop(proc)
    link = box["claude"] / "memman" / "data" / "global"
    assert link.is_symlink() and Path(os.readlink(link)) == mount
    stores = set(memman(box, "store", "list")["stores"])
    assert "global" in stores
    assert recalled(box, "invoices numbered", store="global")


def _unshare_works() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs none /mnt 2>&1 || "
                            "mount --bind / / 2>&1"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"this machine does not allow user+mount namespaces ({probe.stdout.strip()})"
    return None


@pytest.mark.skipif(sys.platform != "linux", reason="read-only bind mounts need Linux")
def test_read_only_mount_is_read_and_never_written(container):
    reason = _unshare_works()
    if reason:
        pytest.skip(reason)
    box = container
    source = make_global_store(box)
    before = digest(source)
    mount = Path(box["env"]["MEMMAN_GLOBAL_MOUNT"])
    mount.mkdir(parents=True)
    data = box["claude"] / "memman" / "data"
    data.mkdir(parents=True)
    (data / "global").symlink_to(mount)
    script = f"""
set -u
mount --bind -o ro '{source}' '{mount}' || exit 90
touch '{mount}/probe' 2>/dev/null && exit 91
echo '--recall'; memman --store global recall 'invoices numbered' --limit 3
echo "--rc $?"
echo '--basic'; memman --store global recall 'invoices' --basic
echo "--rc $?"
echo '--status'; memman --store global status
echo "--rc $?"
echo '--remember'; memman --store global remember 'containers must not write here'
echo "--rc $?"
id=$(memman --store global recall invoices --basic \
  | sed -n 's/.*"id": "\\([^"]*\\)".*/\\1/p' | head -1)
echo '--forget'; memman --store global forget "$id"
echo "--rc $?"
echo '--default'; memman remember 'the private store still takes writes'
echo "--rc $?"
"""
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], env=box["env"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    sections = dict(part.split("\n", 1) for part in proc.stdout.split("--")[1:]
                    if not part.startswith("rc"))
    codes = [int(line.split()[1]) for line in proc.stdout.splitlines()
             if line.startswith("--rc")]
    assert codes == [0, 0, 0, 1, 1, 0], (proc.stdout, proc.stderr)
    hits = json.loads(sections["recall"])["results"]
    assert any("Invoices" in r["insight"]["content"] for r in hits)
    assert json.loads(sections["basic"])["results"]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2 and all("read-only" in line for line in errors), proc.stderr
    assert "Traceback" not in proc.stderr
    # not one byte of the shared store changed, and no -wal/-shm appeared
    assert digest(source) == before
