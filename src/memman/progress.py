"""Progress bars for long operator commands, shown only where a person is looking.

A bar is drawn with tqdm on stderr when stderr is a terminal and the process
environment does not set ``MEMMAN_NO_PROGRESS`` to a true value (``1``, ``true``,
``yes``, ``on``). Otherwise every call here is a no-op and tqdm is never imported,
so stdout (one JSON document) and a piped or captured stderr stay exactly as they
were. Hot-path commands (``remember``, ``recall``) must not use this module.

Two ways to use it::

    with progress.bar(total=len(ids), desc="reembed", unit="memory") as bar:
        for chunk in chunks:
            work(chunk)
            bar.update(len(chunk))

    for row in progress.track(rows, desc="migrate", unit="row"):
        work(row)
"""
import os
import sys

NO_PROGRESS_ENV = "MEMMAN_NO_PROGRESS"
_TRUE = ("1", "true", "yes", "on")


def enabled(stream=None) -> bool:
    """True when a bar should be drawn on ``stream`` (default: the current stderr)."""
    if os.environ.get(NO_PROGRESS_ENV, "").strip().lower() in _TRUE:
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class Bar:
    """A progress bar that may be switched off; ``update`` and ``close`` always work."""

    def __init__(self, total=None, *, desc: str, unit: str = "it", unit_scale: bool = False,
                 show: bool | None = None, stream=None):
        stream = sys.stderr if stream is None else stream
        self._tqdm = None
        if show if show is not None else enabled(stream):
            from tqdm import tqdm

            self._tqdm = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale,
                              file=stream, leave=False, dynamic_ncols=True)

    @property
    def shown(self) -> bool:
        return self._tqdm is not None

    def update(self, n: int = 1) -> None:
        if self._tqdm is not None:
            self._tqdm.update(n)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bar(total=None, *, desc: str, unit: str = "it", unit_scale: bool = False,
        show: bool | None = None, stream=None) -> Bar:
    """A bar of ``total`` steps (None: unknown). ``show`` forces it on or off;
    by default it is on exactly when ``enabled(stream)``."""
    return Bar(total, desc=desc, unit=unit, unit_scale=unit_scale, show=show, stream=stream)


def track(iterable, *, desc: str, total=None, unit: str = "it", show: bool | None = None,
          stream=None):
    """Yield the items of ``iterable``, advancing a bar by one per item."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    with bar(total, desc=desc, unit=unit, show=show, stream=stream) as progress:
        for item in iterable:
            yield item
            progress.update(1)
