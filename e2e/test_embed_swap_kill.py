"""A kill during ``memman embed swap`` leaves a usable store.

The swap runs as a real process against an OpenAI-compatible embedding endpoint on a
loopback server in this test process. The server answers a few batches, then holds
the next request open; the swap process is SIGKILLed while it waits. Every wait here
is bounded.
"""
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `pytest e2e` (not `python -m pytest`) leaves it out
    sys.path.insert(0, str(REPO))

from tests.fakes.loopback import LoopbackServer  # noqa: E402
from tests.test_embed_swap import NOTES, TARGET_DIM, TARGET_MODEL, TargetModel  # noqa: E402

WAIT_SECONDS = 60


class StallingModel(TargetModel):
    """Answers ``answers`` requests, then holds each further one until ``release``."""

    def __init__(self, server, answers: int):
        super().__init__(server)
        self.answers = answers
        self.stalled = threading.Event()
        self.release = threading.Event()

    def handle(self, req):
        if self.answers <= 0 and not self.release.is_set():
            self.stalled.set()
            self.release.wait(WAIT_SECONDS)
        self.answers -= 1
        return super().handle(req)


@pytest.fixture
def server():
    srv = LoopbackServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def killed_swap(mmj, memman_bin, env, server):
    """A store of NOTES whose swap to the target model was killed mid-backfill."""
    for note in NOTES:
        mmj("remember", note)
    mmj("scheduler", "drain")
    model = StallingModel(server, answers=3)  # the dimension probe and two batches
    mmj("config", "set", "MEMMAN_OPENAI_EMBED_ENDPOINT", model.url)
    proc = subprocess.Popen([memman_bin, "embed", "swap", "--to", TARGET_MODEL, "--provider",
                             "openai", "--batch-size", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert model.stalled.wait(WAIT_SECONDS), "the swap never reached its third batch"
        proc.send_signal(signal.SIGKILL)
        proc.wait(WAIT_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        model.release.set()
    assert proc.returncode == -signal.SIGKILL
    return model


def vectors(env) -> dict:
    from memman.config.datadir import DataDir
    from memman.store.open import open_store

    backend = open_store(DataDir(Path(env["MEMMAN_DATA_DIR"])), None, "default")
    try:
        return dict(backend.active_vectors())
    finally:
        backend.close()


def assert_recall_works(mmj):
    out = mmj("recall", "Which database stores invoices for billing")
    assert out["meta"]["vector_source"] == "matrix" and "degraded" not in out["meta"]
    assert out["results"][0]["insight"]["content"] == NOTES[0]
    assert out["results"][0]["signals"]["similarity"] > 0


def test_killed_swap_keeps_old_vectors_and_resumes(mmj, killed_swap, env):
    status = mmj("embed", "status")
    assert status["stored"]["provider"] == "builtin"
    assert status["swap"]["state"] == "backfilling"
    assert status["swap"]["remaining"] == len(NOTES) - 4  # two batches of two were stored
    assert {len(b) for b in vectors(env).values()} == {4 * 384}
    assert_recall_works(mmj)  # on the old vectors, with the old model
    out = mmj("embed", "swap", "--resume")
    assert out["state"] == "done" and out["reembedded"] == len(NOTES) - 4
    status = mmj("embed", "status")
    assert status["stored"] == {"provider": "openai", "model": TARGET_MODEL, "dim": TARGET_DIM}
    assert "swap" not in status
    assert {len(b) for b in vectors(env).values()} == {4 * TARGET_DIM}
    assert_recall_works(mmj)  # on the new vectors, the query embedded by the new model


def test_killed_swap_aborts_to_the_pre_swap_state(mmj, mm, killed_swap, env):
    before = vectors(env)
    assert mmj("embed", "swap", "--abort")["state"] == "aborted"
    status = mmj("embed", "status")
    assert "swap" not in status and status["stored"]["provider"] == "builtin"
    assert vectors(env) == before
    assert_recall_works(mmj)
    proc = mm("embed", "swap", "--resume")
    assert proc.returncode == 1 and "nothing to resume" in proc.stderr
