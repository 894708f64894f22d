"""The scheduler state file (``<data_dir>/scheduler.state``) and the write gate.

A data dir whose state file does not exist counts as started, so a fresh install
can write; ``memman scheduler stop`` writes ``stopped`` and every write command
then refuses with the reference's message.
"""
from memman.config.datadir import DataDir
from memman.errors import MemmanError

STARTED = "started"
STOPPED = "stopped"


def read(datadir: DataDir) -> str:
    try:
        text = datadir.scheduler_state.read_text(encoding="utf-8").strip().lower()
    except (FileNotFoundError, NotADirectoryError):
        return STARTED
    return STOPPED if text == STOPPED else STARTED


def write(datadir: DataDir, state: str) -> None:
    from memman.config.envfile import write_atomic

    datadir.ensure()
    write_atomic(datadir.scheduler_state, state + "\n")


def require_started(datadir: DataDir, action: str) -> None:
    if read(datadir) == STOPPED:
        raise MemmanError(
            f"Scheduler is stopped; cannot {action}. Run 'memman scheduler start' to enable."
        )


def require_stopped(datadir: DataDir, action: str) -> None:
    if read(datadir) == STARTED:
        raise MemmanError(
            f"Scheduler is started; cannot {action}. Run 'memman scheduler stop' first."
        )
