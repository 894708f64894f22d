"""What both 0.16 upgrades share: the backup copy, timestamps, vectors, the record."""
import json
import os
import sqlite3
import sys
from array import array
from contextlib import contextmanager
from pathlib import Path

from memman import clock

RECORD_NAME = "upgrades.jsonl"


@contextmanager
def exclusive(lock_path: Path):
    """Hold an exclusive flock on ``lock_path`` (waits for another upgrader)."""
    import fcntl

    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def backup(conn: sqlite3.Connection, slot: Path, name: str) -> Path:
    """A consistent copy of the database behind ``conn`` (its WAL included) at
    ``slot/name``, owner-only."""
    target = slot / name
    copy = sqlite3.connect(str(target))
    try:
        conn.backup(copy)
    finally:
        copy.close()
    os.chmod(target, 0o600)
    return target


def iso(value):
    """A 0.16 timestamp (RFC 3339, any precision) in our fixed-width form, so text
    comparisons keep working; what does not parse is kept as it was."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return clock.iso(clock.parse_iso(value))
    except (ValueError, OverflowError, OSError):
        return value


def float64_to_float32(blob, dim: int | None):
    """A 0.16 vector (little-endian float64) as our little-endian float32. A blob of
    exactly ``4 * dim`` bytes is float32 already; one that is not whole float64 values
    is kept as it was (recall skips what it cannot read)."""
    if blob is None:
        return None
    blob = bytes(blob)
    if (dim and len(blob) == 4 * dim) or len(blob) % 8:
        return blob
    values = array("d")
    values.frombytes(blob)
    big = sys.byteorder == "big"
    if big:
        values.byteswap()
    out = array("f", values)
    if big:
        out.byteswap()
    return out.tobytes()


def json_list(value, *, empty_default: bool):
    """A JSON list column as our schema needs it: valid JSON holding a list. Anything
    else is kept as a one-item list of its text, so no content is dropped."""
    if value is None or value == "":
        return "[]" if empty_default else None
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, list):
        return json.dumps([x if isinstance(x, str) else json.dumps(x) for x in parsed],
                          ensure_ascii=False)
    return json.dumps([str(value)], ensure_ascii=False)


def record(datadir, entry: dict) -> None:
    """Append one upgrade to ``archive/upgrades.jsonl`` (read by the doctor)."""
    path = datadir.archive_dir / RECORD_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")


def read_records(datadir) -> list[dict]:
    path = datadir.archive_dir / RECORD_NAME
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out
