"""The worker's own log: one JSON line per drain pass in ``logs/worker.log`` and one
per failed row in ``logs/worker.err`` (each rotated at 5 MiB, 3 backups).

``enrich.log`` / ``enrich.err`` are the timer-started drain's stdout and stderr, which
systemd appends to (``StandardOutput=append:``) and launchd too; nothing would ever cut
them, so each pass rotates them the same way. The running pass keeps writing to the
renamed file; the next one starts a new file.
"""
import json
import os

from memman import clock

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3


SERVICE_LOGS = ("enrich.log", "enrich.err")


def _rotate(path, incoming: int = 0) -> None:
    try:
        if path.stat().st_size + incoming > MAX_BYTES:
            for n in range(BACKUPS - 1, 0, -1):
                older = path.with_name(f"{path.name}.{n}")
                if older.exists():
                    os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
            os.replace(path, path.with_name(f"{path.name}.1"))
    except FileNotFoundError:
        pass


def _append(path, line: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _rotate(path, len(line))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line)


def log_pass(datadir, result: dict) -> None:
    """Record a drain pass (called by every drain entry point)."""
    summary = {k: result.get(k) for k in ("processed", "failed", "remaining", "skipped",
                                          "mode", "llm_calls", "run_id")}
    summary["ts"] = clock.iso()
    try:
        for name in SERVICE_LOGS:
            _rotate(datadir.logs_dir / name)
        _append(datadir.logs_dir / "worker.log", json.dumps(summary, sort_keys=True) + "\n")
        for row in result.get("rows", []):
            if row.get("error"):
                line = {"ts": summary["ts"], "queue_id": row["queue_id"],
                        "store": row["store"], "status": row["status"], "error": row["error"]}
                _append(datadir.logs_dir / "worker.err", json.dumps(line, sort_keys=True) + "\n")
    except OSError:
        pass


def tail(path, lines: int) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            block = min(size, 256 * 1024)
            fh.seek(size - block)
            data = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return data.splitlines()[-lines:] if lines else []
