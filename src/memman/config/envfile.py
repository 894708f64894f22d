"""The ``env`` file: ``KEY=VALUE`` lines, the runtime source of truth.

Parsing follows the reference: blank lines, ``#`` comments and lines without ``=``
are skipped; the line splits on the first ``=``; one matching pair of quotes is
stripped; nothing is expanded; an empty value means unset. Writes hold
``env.lock``, keep every other line (comments included) as it was, and replace the
file atomically with mode 0600.
"""
import os
from pathlib import Path


def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, value = _split(line)
        if key is None:
            continue
        if value == "":
            values.pop(key, None)
        else:
            values[key] = value
    return values


def _split(line: str) -> tuple[str | None, str]:
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or "=" not in stripped:
        return None, ""
    key, value = stripped.split("=", 1)
    key = key.strip()
    if key.startswith("export "):
        key = key[len("export "):].strip()
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key, value


def read(path: Path) -> dict[str, str]:
    try:
        return parse(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _quote(value: str) -> str:
    if value == "" or any(c.isspace() for c in value) or "#" in value or value[0] in "'\"":
        if '"' not in value:
            return f'"{value}"'
        return f"'{value}'"
    return value


def update(path: Path, lock_path: Path, changes: dict[str, str | None]) -> dict[str, str]:
    """Set (value) or remove (None) keys under the lock; returns the new mapping."""
    import portalocker

    for key, value in changes.items():
        if any(c in f"{key}{value or ''}" for c in "\n\r\x00"):
            raise ValueError(f"line breaks and NUL are not allowed in the env file ({key})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not Path(lock_path).exists():
        Path(lock_path).touch(mode=0o600)
    with portalocker.Lock(str(lock_path), mode="a", timeout=10,
                          flags=portalocker.LOCK_EX | portalocker.LOCK_NB):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        pending = dict(changes)
        out: list[str] = []
        for line in lines:
            key, _ = _split(line)
            if key is not None and key in changes:
                if key in pending and pending[key] is not None:
                    out.append(f"{key}={_quote(pending[key])}")
                pending.pop(key, None)  # later duplicates of the key are dropped
                continue
            out.append(line)
        for key, value in pending.items():
            if value is not None:
                out.append(f"{key}={_quote(value)}")
        text = "\n".join(out) + ("\n" if out else "")
        write_atomic(path, text)
        return parse(text)


def write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """tmp file at ``mode`` in the same folder, fsync, rename over ``path``."""
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
