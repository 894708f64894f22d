"""``memman scheduler serve``: the long-running worker loop (a container's PID 1).

Drains every ``interval`` seconds. SIGTERM or SIGINT lets the current row finish,
hands back rows claimed but not started, runs maintenance and exits 0. The loop
also ends when the scheduler state becomes ``stopped`` (checked every second).
"""
import signal
import threading

from memman.config.datadir import DataDir

IDLE_SLEEP_SECONDS = 0.1  # interval 0: how long to wait when the queue is empty


def drain_timeout(interval: int) -> float:
    return 300.0 if interval == 0 else float(max(10, interval - 10))


def serve(datadir: DataDir, interval: int, *, once: bool = False, on_pass=None) -> int:
    from memman.config.settings import Settings
    from memman.queue.db import open_queue
    from memman.scheduler import state
    from memman.worker.drain import drain
    from memman.worker.log import log_pass

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    datadir.ensure()
    interval_file = datadir.root / "scheduler.serve_interval"
    interval_file.write_text(f"{interval}\n")
    queue = open_queue(datadir)
    try:
        queue.park_stale()
    finally:
        queue.close()
    try:
        while not stop.is_set() and state.read(datadir) != state.STOPPED:
            settings = Settings(datadir.env_file)  # the env file may have changed
            result = drain(datadir, settings, limit=100_000, timeout=drain_timeout(interval),
                           should_stop=stop.is_set)
            log_pass(datadir, result)
            if on_pass is not None:
                on_pass(result)
            if once or stop.is_set():
                break
            busy = result.get("processed", 0) + result.get("failed", 0) > 0
            if interval == 0:
                if not busy:
                    stop.wait(IDLE_SLEEP_SECONDS)
                continue
            for _ in range(interval):  # wake each second to notice 'scheduler stop'
                if stop.wait(1.0) or state.read(datadir) == state.STOPPED:
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        interval_file.unlink(missing_ok=True)
    return 0
