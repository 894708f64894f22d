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

from memman import clock, trace, usage
from memman.config.datadir import DataDir
from memman.filelock import ExclusiveFileLock
from memman.config.settings import Settings

SKIPPED_BUSY = "another drain in progress"
SKIPPED_STOPPED = "scheduler is stopped"
WINDOW_WITH_LLM = 6  # rows prepared ahead when each preparation waits on the network
WINDOW_LOCAL = 2
THREADS = 8


STORE_LOCK_WAIT = 2.0     # seconds to wait for another host's drain of the same store
HEARTBEAT_EVERY = 30.0    # seconds between a store's heartbeats during a pass


class StoreBusy(Exception):
    """Another worker (on another host) is draining this store right now."""


def sequential_mode() -> bool:
    """MEMMAN_DRAIN_SEQUENTIAL=1 (process environment): one row at a time, one thread,
    for debugging and as the baseline the throughput benchmark compares against."""
    return os.environ.get("MEMMAN_DRAIN_SEQUENTIAL", "").lower() in ("1", "true", "yes", "on")


class DrainLock(ExclusiveFileLock):
    """Non-blocking exclusive lock on ``<data_dir>/drain.lock``."""

    def __init__(self, datadir: DataDir):
        super().__init__(datadir.drain_lock)


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
            with usage.collecting() as meter:  # every paid call of the pass, threads too
                try:
                    return run.execute()
                finally:
                    usage.flush(queue, meter)
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
        self.locks: dict = {}     # store -> ExitStack holding its drain lock
        self.beats: dict = {}     # store -> monotonic time of its last heartbeat
        self.busy: set[str] = set()
        self.run_id = None
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
        run_id = self.run_id = self.queue.start_run()
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
            for store, ctx in self.contexts.items():
                self.locks.pop(store).close()
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
            stores = self.stores
            if self.busy:  # another host holds these stores' drain lock
                stores = [s for s in (stores or self.queue.pending_by_store())
                          if s not in self.busy]
                if not stores:
                    return
            row = self.queue.claim(stores=stores)
            if row is None:
                return
            self.claimed += 1
            trace.event("queue_claim", queue_id=row["id"], store=row["store"],
                        attempts=row["attempts"])
            try:
                ctx = self._context(row["store"])
            except StoreBusy:
                self.queue.release(row["id"])
                self.claimed -= 1
                self.busy.add(row["store"])
                continue
            except Exception as exc:
                self._fail(row, exc)
                continue
            window.append((row, ctx, executor.submit(prepare, row, ctx.embedder, self.llm)))

    def _context(self, store: str):
        """The store's context, holding the store's own drain lock: workers on other
        hosts that share the store (Postgres) wait their turn; a store that stays busy
        raises StoreBusy and is skipped for this pass."""
        import contextlib

        from memman.worker.context import StoreContext

        ctx = self.contexts.get(store)
        if ctx is not None:
            self._heartbeat(store, ctx)
            return ctx
        ctx = StoreContext(self.datadir, self.settings, store, self.llm)
        ctx.queue_origin = self.queue.origin
        stack = contextlib.ExitStack()
        try:
            if not stack.enter_context(ctx.backend.drain_lock(timeout=STORE_LOCK_WAIT)):
                raise StoreBusy(store)
        except BaseException:
            stack.close()
            ctx.close()
            raise
        self.locks[store] = stack
        self.contexts[store] = ctx
        self._heartbeat(store, ctx, force=True)
        return ctx

    def _heartbeat(self, store: str, ctx, *, force: bool = False) -> None:
        import os
        import socket

        now = time.monotonic()
        if not force and now - self.beats.get(store, 0.0) < HEARTBEAT_EVERY:
            return
        self.beats[store] = now
        try:
            ctx.backend.record_heartbeat(socket.gethostname(), os.getpid(), str(self.run_id))
        except Exception:  # bookkeeping must not fail a row
            pass

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
