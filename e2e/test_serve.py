"""``memman scheduler serve`` and ``drain`` as real processes: signals, stop, crashes.

Every wait here is bounded. The LLM-mode tests run an OpenAI-compatible chat model
on a loopback server inside the test process (``tests.fakes``), so the worker
processes talk to it over real HTTP; a loopback endpoint needs no API key.
"""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `pytest e2e` (not `python -m pytest`) leaves it out
    sys.path.insert(0, str(REPO))

from tests.fakes.chat import ChatScript  # noqa: E402
from tests.fakes.loopback import LoopbackServer  # noqa: E402

NOTES = [
    "The billing-api stores invoices in Postgres and archives them to S3 every night.",
    "Alice prefers ruff over flake8 because it is faster and covers isort rules too.",
    "Deploys to the payments gateway must be approved by Bob before 4pm on Fridays.",
    "The search indexer reads product updates from the Kafka topic catalog-events.",
    "Integration tests need a local Redis on port 6380, not the default 6379.",
    "Carol decided to pin numpy below 2.0 until the pandas upgrade lands in Q3.",
    "Grafana dashboards for checkout live in the observability repo under dashboards/web.",
    "The auth-service signs JWTs with RS256 and rotates its keys through Vault monthly.",
    "Never run database migrations from CI; Dave applies them by hand with alembic.",
    "Customer exports over 10 MB are streamed by the export-worker instead of emailed.",
]


# -- helpers ---------------------------------------------------------------------------

def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def wait_exit(proc: subprocess.Popen, timeout: float, what: str) -> tuple[int, str, str]:
    """(returncode, stdout, stderr) of ``proc``; kills it and fails after ``timeout``."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"{what} did not exit within {timeout:g}s\nstdout: {out}\nstderr: {err}")
    return proc.returncode, out, err


@pytest.fixture
def spawn(memman_bin, env):
    """spawn("scheduler", "serve") -> Popen (stdout/stderr piped); killed at teardown."""
    procs: list[subprocess.Popen] = []

    def start(*args):
        proc = subprocess.Popen([memman_bin, *map(str, args)], env=env, text=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


@pytest.fixture
def chat():
    """(ChatScript with plausible default answers, its loopback server)."""
    server = LoopbackServer()
    script = ChatScript().defaults()
    script.install(server)
    server.start()
    yield script, server
    server.stop()


def use_llm(mmj, server) -> None:
    mmj("config", "set", "MEMMAN_LLM_ENDPOINT", server.url + "/v1")
    assert mmj("status")["mode"] == "llm"


def queue_rows(mmj) -> dict:
    return {r["id"]: r for r in mmj("scheduler", "queue", "list", "--limit", "1000")["rows"]}


def stored_contents(mmj, note: str) -> list[str]:
    """Contents of stored memories equal to ``note`` (recall on its words)."""
    hits = mmj("recall", "--basic", note, "--limit", "50")["results"]
    return [h["content"] for h in hits if h["content"] == note]


def assert_each_stored_once(mmj, notes) -> None:
    status = mmj("status")
    assert status["total_insights"] == len(notes), status
    for note in notes:
        assert stored_contents(mmj, note) == [note], note


# -- serve -------------------------------------------------------------------------------

def test_serve_drains_and_exits_cleanly_on_sigterm(mm, mmj, spawn, env):
    """serve as a container's PID 1: drains what arrives, SIGTERM -> exit 0, nothing lost."""
    interval_file = Path(env["MEMMAN_DATA_DIR"]) / "scheduler.serve_interval"
    serve = spawn("scheduler", "serve", "--interval", "1")
    wait_for(interval_file.exists, 15, "serve to write scheduler.serve_interval")
    assert interval_file.read_text().strip() == "1"

    for note in NOTES:
        proc = mm("remember", note)
        assert proc.returncode == 0, proc.stderr

    def all_done():
        status = mmj("status")
        queue = status["queue"]
        return (status["total_insights"] == len(NOTES) and queue["pending"] == 0
                and queue["claimed"] == 0)

    wait_for(all_done, 30, "serve to store all 10 memories", interval=0.5)
    assert serve.poll() is None, "serve exited on its own"

    serve.send_signal(signal.SIGTERM)
    code, out, err = wait_exit(serve, 10, "serve after SIGTERM")
    assert code == 0, err
    assert "Traceback" not in err, err
    passes = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert passes and sum(p["processed"] for p in passes) == len(NOTES)
    assert all(p["failed"] == 0 for p in passes)

    assert not interval_file.exists()
    stats = mmj("scheduler", "queue", "list")["stats"]
    assert stats["pending"] == 0 and stats["claimed"] == 0 and stats["failed"] == 0
    assert_each_stored_once(mmj, NOTES)


def test_sigterm_mid_row_finishes_current_row_and_hands_back_the_rest(mm, mmj, spawn, chat):
    """SIGTERM while the first row waits on the model: that row is finished, the rows
    prepared ahead of it are handed back untried, serve exits 0; a later drain stores
    the rest, each note exactly once."""
    script, server = chat
    script.when(task="extraction").reply(
        lambda call: {"facts": [{"text": _note_of(call.user), "category": "fact",
                                 "importance": 3, "entities": []}], "skip_reason": None},
        delay=1.5)
    use_llm(mmj, server)
    notes = NOTES[:3]
    for note in notes:
        assert mm("remember", note).returncode == 0

    serve = spawn("scheduler", "serve", "--interval", "60")
    wait_for(lambda: script.calls_for("extraction"), 20, "the first extraction request")
    serve.send_signal(signal.SIGTERM)
    code, out, err = wait_exit(serve, 15, "serve after SIGTERM mid-row")
    assert code == 0, err
    assert "Traceback" not in err, err
    passes = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(passes) == 1, out

    rows = queue_rows(mmj)
    by_status = {s: [r for r in rows.values() if r["status"] == s]
                 for s in ("pending", "claimed", "done", "failed")}
    assert [r["id"] for r in by_status["done"]] == [1], rows  # the row in progress finished
    assert by_status["claimed"] == [] and by_status["failed"] == []
    handed_back = sorted(by_status["pending"], key=lambda r: r["id"])
    assert [r["id"] for r in handed_back] == [2, 3]
    assert all(r["attempts"] == 0 for r in handed_back), handed_back
    assert passes[0]["processed"] == 1
    assert mmj("status")["total_insights"] == 1

    out = mmj("scheduler", "drain", timeout=60)
    assert out["processed"] == 2 and out["failed"] == 0 and out["remaining"] == {}
    assert_each_stored_once(mmj, notes)


def test_scheduler_stop_ends_serve(mm, mmj, spawn, env):
    interval_file = Path(env["MEMMAN_DATA_DIR"]) / "scheduler.serve_interval"
    serve = spawn("scheduler", "serve", "--interval", "2")
    wait_for(interval_file.exists, 15, "serve to start")
    wait_for(lambda: (Path(env["MEMMAN_DATA_DIR"]) / "queue.db").exists(), 15,
             "serve's first pass")
    assert mmj("scheduler", "stop")["state"] == "stopped"
    code, out, err = wait_exit(serve, 5, "serve after 'scheduler stop'")
    assert code == 0, err
    assert "Traceback" not in err, err
    assert not interval_file.exists()


# -- a worker that dies ----------------------------------------------------------------------

def test_drain_killed_mid_row_is_recovered_by_the_next_drain(mm, mmj, spawn, chat):
    script, server = chat
    slow = script.when(task="extraction").reply(
        lambda call: {"facts": [{"text": _note_of(call.user), "category": "fact",
                                 "importance": 3, "entities": []}], "skip_reason": None},
        delay=3.0)
    use_llm(mmj, server)
    note = NOTES[0]
    queued = mmj("remember", note)["queue_id"]

    drain = spawn("scheduler", "drain")
    wait_for(lambda: script.calls_for("extraction"), 20, "the first extraction request")
    drain.send_signal(signal.SIGKILL)
    code, _, _ = wait_exit(drain, 5, "drain after SIGKILL")
    assert code == -signal.SIGKILL

    row = queue_rows(mmj)[queued]
    assert row["status"] == "claimed" and row["attempts"] == 1, row
    assert mmj("status")["total_insights"] == 0

    slow.steps.clear()  # the model is fast again: the defaults answer at once
    out = mmj("scheduler", "drain", timeout=60)
    assert out["recovered"] == 1, out
    assert out["processed"] == 1 and out["failed"] == 0 and out["remaining"] == {}, out
    assert [r["queue_id"] for r in out["rows"]] == [queued]
    row = queue_rows(mmj)[queued]
    assert row["status"] == "done" and row["attempts"] == 2, row  # the crash counted once
    assert_each_stored_once(mmj, [note])
    assert len(script.calls_for("extraction")) == 2


def _note_of(user: str) -> str:
    start, end = user.find("<note>"), user.find("</note>")
    return user[start + len("<note>"):end].strip() if start >= 0 and end > start else user
