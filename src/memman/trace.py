"""The debug trace: a JSONL record of every LLM and embedding request and response.

Off unless ``MEMMAN_DEBUG`` is truthy or ``scheduler debug on`` wrote
``<data_dir>/debug.state``; then events go to ``<data_dir>/logs/debug.log`` (0600,
rotated at 5 MiB, 3 backups). Credentials never reach the file: authorization
headers are dropped and every string passes through the redactor.
"""
import json
import os
import threading

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
_SECRET_HEADERS = {"authorization", "x-api-key", "api-key", "proxy-authorization"}

_lock = threading.Lock()
_path: str | None = None


def configure(path: str | None) -> None:
    """Turn tracing on (a file path) or off (None)."""
    global _path
    _path = path


def enabled() -> bool:
    return _path is not None


def configure_for(datadir) -> None:
    """Apply MEMMAN_DEBUG (wins when set) or the data dir's debug.state."""
    from memman.config.keys import FALSY, TRUTHY

    env = os.environ.get("MEMMAN_DEBUG", "").strip().lower()
    if env in TRUTHY:
        on = True
    elif env in FALSY:
        on = False
    else:
        on = is_switched_on(datadir)
    configure(str(datadir.logs_dir / "debug.log") if on else None)


def is_switched_on(datadir) -> bool:
    try:
        return (datadir.root / "debug.state").read_text().strip() == "on"
    except FileNotFoundError:
        return False


def clean_headers(headers: dict) -> dict:
    return {k: ("[REDACTED]" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def _scrub(value):
    from memman.intake.redact import redact

    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def event(name: str, **fields) -> None:
    """Record one event; a no-op when tracing is off. Never raises."""
    if _path is None:
        return
    from memman import clock

    record = {"ts": clock.iso(), "event": name, **_scrub(fields)}
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    try:
        with _lock:
            _rotate_if_needed(len(line))
            fd = os.open(_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
    except OSError:
        pass


def _rotate_if_needed(incoming: int) -> None:
    try:
        size = os.path.getsize(_path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(_path), mode=0o700, exist_ok=True)
        return
    if size + incoming <= MAX_BYTES:
        return
    for n in range(BACKUPS - 1, 0, -1):
        src = f"{_path}.{n}"
        if os.path.exists(src):
            os.replace(src, f"{_path}.{n + 1}")
    os.replace(_path, f"{_path}.1")
