"""One drain pass over queue.db, under the exclusive ``drain.lock``."""
import time

from memman import clock
from memman.config.datadir import DataDir
from memman.config.settings import Settings
from memman.errors import MemmanError

SKIPPED_BUSY = "another drain in progress"


class DrainLock:
    """Non-blocking exclusive lock on ``<data_dir>/drain.lock``."""

    def __init__(self, datadir: DataDir):
        self.path = datadir.drain_lock
        self._lock = None

    def acquire(self) -> bool:
        import portalocker

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = portalocker.Lock(str(self.path), mode="a", timeout=0,
                                flags=portalocker.LOCK_EX | portalocker.LOCK_NB,
                                fail_when_locked=True)
        try:
            lock.acquire()
        except (portalocker.exceptions.LockException, portalocker.exceptions.AlreadyLocked):
            return False
        self._lock = lock
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def drain(datadir: DataDir, settings: Settings, *, limit: int = 100, timeout: float = 300,
          stores: list[str] | None = None, should_stop=lambda: False) -> dict:
    from memman.queue.db import open_queue

    lock = DrainLock(datadir)
    datadir.ensure()
    queue = open_queue(datadir)
    try:
        if not lock.acquire():
            return {"processed": 0, "failed": 0, "remaining": queue.pending_by_store(),
                    "rows": [], "skipped": SKIPPED_BUSY}
        try:
            return _drain_locked(datadir, settings, queue, limit, timeout, stores, should_stop)
        finally:
            lock.release()
    finally:
        queue.close()


def _drain_locked(datadir, settings, queue, limit, timeout, stores, should_stop) -> dict:
    from memman.store.open import open_store
    from memman.worker.pipeline import process_row

    deadline = time.monotonic() + timeout
    run_id = queue.start_run()
    backends: dict = {}
    rows_out: list[dict] = []
    done = failed = claimed = 0
    error = None
    try:
        while done + failed < limit and time.monotonic() < deadline and not should_stop():
            row = queue.claim(stores=stores)
            if row is None:
                break
            claimed += 1
            try:
                backend = backends.get(row["store"])
                if backend is None:
                    backend = backends[row["store"]] = open_store(
                        datadir, settings, row["store"], create=True)
                result = process_row(backend, row)
                queue.mark_done(row["id"])
                done += 1
                rows_out.append({**result, "status": "done", "store": row["store"]})
            except Exception as exc:  # a row's failure never stops the drain
                message = f"{type(exc).__name__}: {exc}"
                status = queue.mark_failed(row["id"], message)
                if status == "failed":
                    failed += 1
                rows_out.append({"queue_id": row["id"], "store": row["store"],
                                 "status": status, "error": message})
            queue.heartbeat(run_id, claimed=claimed, done=done, failed=failed)
    except MemmanError as exc:
        error = str(exc)
        raise
    finally:
        for backend in backends.values():
            backend.close()
        queue.finish_run(run_id, claimed=claimed, done=done, failed=failed, error=error)
    return {"processed": done, "failed": failed, "remaining": queue.pending_by_store(),
            "rows": rows_out, "run_id": run_id, "finished_at": clock.iso()}
