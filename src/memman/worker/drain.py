"""One drain pass over queue.db, under the exclusive ``drain.lock``.

Rows are claimed in queue order into a small window; their store-independent work
(extraction, enrichment, embedding: ``prepare``) runs ahead in threads while the
head of the window is planned and applied in order (``process``, ``apply``). A
stop request or the deadline ends claiming; rows claimed but not started are
handed back. Maintenance runs at the end of every pass, however long it took.
"""
import os
import time
from collections import deque

from memman import clock, trace
from memman.config.datadir import DataDir
from memman.config.settings import Settings

SKIPPED_BUSY = "another drain in progress"
SKIPPED_STOPPED = "scheduler is stopped"
WINDOW_WITH_LLM = 6  # rows prepared ahead when each preparation waits on the network
WINDOW_LOCAL = 2
THREADS = 8


def sequential_mode() -> bool:
    """MEMMAN_DRAIN_SEQUENTIAL=1 (process environment): one row at a time, one thread,
    for debugging and as the baseline the throughput benchmark compares against."""
    return os.environ.get("MEMMAN_DRAIN_SEQUENTIAL", "").lower() in ("1", "true", "yes", "on")


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
        os.chmod(self.path, 0o600)
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
          stores: list[str] | None = None, should_stop=lambda: False,
          progress: bool = False) -> dict:
    from memman.queue.db import open_queue
    from memman.scheduler import state

    datadir.ensure()
    queue = open_queue(datadir)
    try:
        if state.read(datadir) == state.STOPPED:
            return {"processed": 0, "failed": 0, "remaining": queue.pending_by_store(),
                    "rows": [], "skipped": SKIPPED_STOPPED}
        lock = DrainLock(datadir)
        if not lock.acquire():
            return {"processed": 0, "failed": 0, "remaining": queue.pending_by_store(),
                    "rows": [], "skipped": SKIPPED_BUSY}
        try:
            trace.configure_for(datadir)
            run = DrainRun(datadir, settings, queue, limit=limit, timeout=timeout,
                           stores=stores, should_stop=should_stop, progress=progress)
            return run.execute()
        finally:
            lock.release()
    finally:
        queue.close()


class DrainRun:
    def __init__(self, datadir, settings, queue, *, limit, timeout, stores, should_stop,
                 progress):
        self.datadir, self.settings, self.queue = datadir, settings, queue
        self.limit, self.stores, self.should_stop = limit, stores, should_stop
        self.deadline = time.monotonic() + timeout
        self.progress = progress
        self.contexts: dict = {}
        self.touched: set[str] = set()
        self.rows: list[dict] = []
        self.claimed = self.done = self.failed = 0
        self.llm_calls = 0

    # -- the pass ---------------------------------------------------------------
    def execute(self) -> dict:
        from concurrent.futures import ThreadPoolExecutor

        from memman.llm.cache import ResponseCache
        from memman.llm.client import from_settings

        cache_dir = self.datadir.root / "cache"
        cache_dir.mkdir(mode=0o700, exist_ok=True)
        self.llm = from_settings(self.settings, cache=ResponseCache(cache_dir / "llm.db"))
        sequential = sequential_mode()
        self.window_size = 1 if sequential else (
            WINDOW_WITH_LLM if self.llm is not None else WINDOW_LOCAL)
        recovered = self.queue.recover_orphans()
        run_id = self.queue.start_run()
        trace.event("drain_start", run_id=run_id, mode="llm" if self.llm else "heuristic")
        window: deque = deque()
        bar = self._progress_bar()
        error = None
        executor = ThreadPoolExecutor(max_workers=1 if sequential else THREADS,
                                      thread_name_prefix="memman-drain")
        try:
            self._fill(window, executor)
            while window:
                row, ctx, future = window.popleft()
                self._finish_row(row, ctx, future, executor)
                self.queue.heartbeat(run_id, claimed=self.claimed, done=self.done,
                                     failed=self.failed)
                if bar is not None:
                    bar.update(1)
                if self.should_stop():
                    break  # the rest of the window is handed back below
                self._fill(window, executor)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            for row, _, future in window:  # stopping: hand back what was not started
                future.cancel()
                self.queue.release(row["id"])
            executor.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()
            maintenance = self._maintain()
            for ctx in self.contexts.values():
                ctx.close()
            if self.llm is not None:
                self.llm.close()
            self.queue.finish_run(run_id, claimed=self.claimed, done=self.done,
                                  failed=self.failed, error=error)
            trace.event("drain_end", run_id=run_id, done=self.done, failed=self.failed)
        return {"processed": self.done, "failed": self.failed,
                "remaining": self.queue.pending_by_store(), "rows": self.rows,
                "run_id": run_id, "mode": "llm" if self.llm else "heuristic",
                "llm_calls": self.llm_calls, "maintenance": maintenance,
                "recovered": recovered,
                "finished_at": clock.iso()}

    def _may_claim(self) -> bool:
        from memman.scheduler import state

        return (self.claimed < self.limit and time.monotonic() < self.deadline
                and not self.should_stop() and state.read(self.datadir) != state.STOPPED)

    def _fill(self, window, executor) -> None:
        from memman.worker.prepare import prepare

        while len(window) < self.window_size and self._may_claim():
            row = self.queue.claim(stores=self.stores)
            if row is None:
                return
            self.claimed += 1
            trace.event("queue_claim", queue_id=row["id"], store=row["store"],
                        attempts=row["attempts"])
            try:
                ctx = self._context(row["store"])
            except Exception as exc:
                self._fail(row, exc)
                continue
            window.append((row, ctx, executor.submit(prepare, row, ctx.embedder, self.llm)))

    def _context(self, store: str):
        from memman.worker.context import StoreContext

        ctx = self.contexts.get(store)
        if ctx is None:
            ctx = self.contexts[store] = StoreContext(self.datadir, self.settings, store,
                                                      self.llm)
        return ctx

    def _finish_row(self, row, ctx, future, executor) -> None:
        from memman.worker.apply import apply_plan
        from memman.worker.process import plan_row

        try:
            prepared = future.result()
            calls = prepared.llm_calls
            if prepared.skip_reason:
                ctx.backend.log_op("skip", None,
                                   f"queue row {row['id']}: {prepared.skip_reason}"[:500])
                facts, outcome = [], {"skip_reason": prepared.skip_reason}
            else:
                plan = plan_row(ctx, prepared, executor)
                calls += plan.llm_calls
                facts, outcome = apply_plan(ctx, plan), {}
            self.queue.mark_done(row["id"])
        except Exception as exc:
            ctx._index = None  # may hold vectors of a rolled-back transaction
            self._fail(row, exc)
            return
        self.done += 1
        self.llm_calls += calls
        self.touched.add(row["store"])
        self.rows.append({"queue_id": row["id"], "store": row["store"], "status": "done",
                          "facts": facts, "llm_calls": calls, **outcome})
        trace.event("queue_done", queue_id=row["id"], facts=len(facts))

    def _fail(self, row, exc) -> None:
        message = f"{type(exc).__name__}: {exc}"
        status = self.queue.mark_failed(row["id"], message)
        if status == "failed":
            self.failed += 1
        self.rows.append({"queue_id": row["id"], "store": row["store"], "status": status,
                          "error": message})
        trace.event("queue_failed", queue_id=row["id"], status=status, error=message)

    def _maintain(self) -> dict:
        from memman.worker.maintenance import maintain_queue, maintain_store

        cap = int(self.settings.get("MEMMAN_MAX_INSIGHTS") or 1000)
        out: dict = {"queue": {}, "stores": {}}
        try:
            out["queue"] = maintain_queue(self.queue)
        except Exception as exc:
            out["queue"] = {"error": f"{type(exc).__name__}: {exc}"}
        try:  # manual edges of an import, once their memories are stored (before pruning)
            if self.queue.count_pending_edges():
                from memman.worker.pending_edges import apply_all

                out["pending_edges"] = apply_all(self)
        except Exception as exc:
            out["pending_edges"] = {"error": f"{type(exc).__name__}: {exc}"}
        for store in sorted(self.touched):
            try:
                out["stores"][store] = maintain_store(self.contexts[store], cap)
            except Exception as exc:  # upkeep failing must not lose the pass's work
                out["stores"][store] = {"error": f"{type(exc).__name__}: {exc}"}
        return out

    def _progress_bar(self):
        if not self.progress:
            return None
        from tqdm import tqdm

        total = min(self.limit, sum(self.queue.pending_by_store().values()))
        return tqdm(total=total, unit="row", desc="drain", file=__import__("sys").stderr)
