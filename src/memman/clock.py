"""Wall-clock access, in one place so tests can move time.

Stores keep RFC 3339 UTC strings (``2026-11-21T09:09:22.123456Z``: fixed width, so
they sort as text); the queue keeps epoch seconds.
"""
import time

_offset_seconds = 0.0


def now() -> float:
    """Epoch seconds, shifted by any offset a test installed."""
    return time.time() + _offset_seconds


def shift(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0


def iso(epoch: float | None = None) -> str:
    """RFC 3339 UTC with microseconds and a ``Z``."""
    from datetime import datetime, timezone

    t = now() if epoch is None else epoch
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> float:
    """Epoch seconds of an RFC 3339 string (``Z`` or an offset; date-only allowed)."""
    from datetime import datetime, timezone

    s = text.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
