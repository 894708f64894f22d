"""What memory costs: counting the LLM and embedding calls memman pays for.

The chat client and the remote embedders call :func:`record` once per call that
reached a provider (``calls`` with the token counts the answer carried) or that
failed for good (``errors``). Records add up in memory, per UTC day and per
(kind, purpose, provider, model); nothing touches the disk while calls are made.

A drain collects its own records (:func:`collecting`, threads included) and writes
them to queue.db in one transaction when the pass ends (:func:`flush`). Calls made
outside a drain (``recall --expand``, remote query embeddings, ``graph rebuild``)
belong to the data dir of the command that made them and are written when the
process exits, best-effort: a failed write never fails the command. The builtin
embedder makes no paid call and records nothing, so zero-config recall pays nothing.
"""
import threading
import time
from contextlib import contextmanager

from memman import clock

KINDS = ("llm", "embed")  # always present in summaries; a caller may record others
COUNTERS = ("calls", "errors", "prompt_tokens", "completion_tokens", "total_tokens")
AMBIENT_FLUSH_BUSY_MS = 1000  # at exit, wait this long at most for a busy queue.db


class Meter:
    """Thread-safe running totals keyed by (day, kind, purpose, provider, model)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._totals: dict[tuple, dict[str, int]] = {}

    def add(self, kind: str, purpose: str, provider: str, model: str, *, calls: int = 0,
            errors: int = 0, prompt_tokens: int = 0, completion_tokens: int = 0,
            total_tokens: int = 0) -> None:
        day = time.strftime("%Y-%m-%d", time.gmtime(clock.now()))
        key = (day, kind, purpose or "", provider or "", model or "")
        with self._lock:
            counts = self._totals.setdefault(key, dict.fromkeys(COUNTERS, 0))
            counts["calls"] += calls
            counts["errors"] += errors
            counts["prompt_tokens"] += prompt_tokens
            counts["completion_tokens"] += completion_tokens
            counts["total_tokens"] += total_tokens

    def take(self) -> list[dict]:
        """Every total as a row dict, emptying the meter."""
        with self._lock:
            totals, self._totals = self._totals, {}
        return [{"day": k[0], "kind": k[1], "purpose": k[2], "provider": k[3], "model": k[4],
                 **counts} for k, counts in sorted(totals.items())]

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._totals)


_active: list[Meter] = []  # the drain's meter while a pass runs (a stack)
_ambient: dict[str, Meter] = {}  # data dir root -> records made outside a drain
_ambient_lock = threading.Lock()
_exit_hook = False


def record(kind: str, purpose: str, provider: str, model: str, *, prompt_tokens=0,
           completion_tokens=0, total_tokens=None, error: bool = False,
           root=None) -> None:
    """Count one call (``error``: one call that failed for good). ``total_tokens``
    defaults to prompt + completion. ``root`` is the data dir the call belongs to when
    the caller knows it; otherwise the running command's. Never raises."""
    try:
        meter = _active[-1] if _active else _ambient_meter(root)
        if meter is None:
            return
        prompt, completion = token_count(prompt_tokens), token_count(completion_tokens)
        total = prompt + completion if total_tokens is None else token_count(total_tokens)
        if error:
            meter.add(kind, purpose, provider, model, errors=1)
        else:
            meter.add(kind, purpose, provider, model, calls=1, prompt_tokens=prompt,
                      completion_tokens=completion, total_tokens=total)
    except Exception:  # noqa: BLE001 - accounting must never break a call
        pass


@contextmanager
def collecting(meter: Meter | None = None):
    """Route every record of this process to ``meter`` (a new one by default)."""
    meter = meter if meter is not None else Meter()
    _active.append(meter)
    try:
        yield meter
    finally:
        _active.remove(meter)


def flush(queue, meter: Meter) -> int:
    """Add ``meter``'s totals to queue.db's usage table; the number of rows written.
    Best-effort: on failure the totals are dropped and 0 is returned."""
    rows = meter.take()
    if not rows:
        return 0
    try:
        queue.add_usage(rows)
    except Exception as exc:  # noqa: BLE001 - never fail the pass over bookkeeping
        from memman import trace

        trace.event("usage_flush_failed", error=f"{type(exc).__name__}: {exc}")
        return 0
    return len(rows)


def flush_pending() -> None:
    """Write the records made outside a drain to each data dir's queue.db (run at
    process exit). A data dir without a queue.db gets nothing written."""
    from memman.config.datadir import DataDir
    from memman.queue.db import open_queue

    with _ambient_lock:
        pending = list(_ambient.items())
        _ambient.clear()
    for root, meter in pending:
        try:
            queue = open_queue(DataDir(root), create=False)
            if queue is None:
                continue
            try:
                queue.conn.execute(f"PRAGMA busy_timeout={AMBIENT_FLUSH_BUSY_MS}")
                flush(queue, meter)
            finally:
                queue.close()
        except Exception:  # noqa: BLE001 - a read-only or vanished data dir
            pass


def _ambient_meter(root) -> Meter | None:
    global _exit_hook
    root = str(root) if root is not None else _command_root()
    if root is None:
        return None  # not inside a command (library use): nobody to charge
    with _ambient_lock:
        if not _exit_hook:
            import atexit

            atexit.register(flush_pending)
            _exit_hook = True
        return _ambient.setdefault(root, Meter())


def _command_root() -> str | None:
    """The data dir of the CLI command running in this thread, if any."""
    import sys

    click = sys.modules.get("click")
    if click is None:
        return None
    ctx = click.get_current_context(silent=True)
    app = getattr(ctx.find_root(), "obj", None) if ctx is not None else None
    datadir = getattr(app, "datadir", None)
    return str(datadir.root) if datadir is not None else None


def token_count(value) -> int:
    """A token count from a provider's reply: a non-negative int, 0 for junk."""
    if isinstance(value, bool):
        return 0
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def summarise(rows) -> dict:
    """``log list --stats`` costs from usage rows: totals per kind, per UTC day and
    kind, per model and per purpose (each with every counter), oldest day first."""
    groups = {"per_day": ("day", "kind"), "per_model": ("kind", "provider", "model"),
              "per_purpose": ("kind", "purpose")}
    sums: dict[str, dict[tuple, dict]] = {name: {} for name in (*groups, "total")}
    for row in rows:
        for name, fields in (*groups.items(), ("total", ("kind",))):
            key = tuple(row[f] for f in fields)
            counts = sums[name].setdefault(key, dict.fromkeys(COUNTERS, 0))
            for counter in COUNTERS:
                counts[counter] += row[counter] or 0
    out: dict = {name: [dict(zip(fields, key, strict=True), **sums[name][key])
                        for key in sorted(sums[name])] for name, fields in groups.items()}
    kinds = dict.fromkeys([*KINDS, *(key[0] for key in sums["total"])])
    out["total"] = {kind: sums["total"].get((kind,), dict.fromkeys(COUNTERS, 0))
                    for kind in kinds}
    return out
