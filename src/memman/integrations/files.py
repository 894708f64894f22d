"""File operations every host installer shares: atomic writes, backups, tolerant
JSON/JSON5 reading that never destroys a file it cannot parse."""
import json
import os
import re
import shutil
from pathlib import Path

from memman import clock
from memman.errors import MemmanError


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write via a temp file in the same folder and rename; keeps the old mode unless
    ``mode`` is given."""
    from memman.config.envfile import write_atomic as _write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    _write(path, text, mode=mode)


def backup(path: Path) -> Path | None:
    """Copy ``path`` to ``<path>.memman-backup-<timestamp>`` before memman edits it."""
    path = Path(path)
    if not path.exists():
        return None
    stamp = clock.iso()[:19].replace(":", "").replace("-", "")
    target = path.with_name(f"{path.name}.memman-backup-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.memman-backup-{stamp}-{n}")
        n += 1
    shutil.copy2(path, target)
    return target


_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _strip_json5(text: str) -> str:
    """Comments and trailing commas out, strings untouched (a JSON5 subset)."""
    def keep_strings(match):
        s = match.group(0)
        return s if s[0] in "\"'" else ""

    return _TRAILING_COMMA.sub(r"\1", _COMMENT.sub(keep_strings, text))


def read_json(path: Path, *, json5: bool = False) -> dict:
    """The object in ``path`` ({} when missing or empty). A file that does not parse
    raises a one-line error and is left exactly as it was."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    if not text.strip():
        return {}
    try:
        data = json.loads(_strip_json5(text) if json5 else text)
    except json.JSONDecodeError as exc:
        raise MemmanError(f"cannot parse {path} ({exc.msg} at line {exc.lineno}); fix or move "
                          "it aside and run the install again (memman left it untouched)") from None
    if not isinstance(data, dict):
        raise MemmanError(f"{path} does not hold a JSON object; memman left it untouched")
    return data


def write_json(path: Path, data: dict, *, mode: int | None = None) -> bool:
    """Write ``data`` (indent 2) if it differs from what is there; backs up the old
    file first. Returns True when the file changed."""
    path = Path(path)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    backup(path)
    write_atomic(path, text, mode)
    return True


def remove_empty_dirs(path: Path, stop: Path) -> None:
    """Remove ``path`` and its parents while they are empty, up to (not including) ``stop``."""
    path, stop = Path(path), Path(stop)
    while path != stop and stop in path.parents:
        try:
            path.rmdir()
        except OSError:
            return
        path = path.parent


def put_file(dest: Path, text: str, mode: int) -> bool:
    """Write ``text`` to ``dest`` with ``mode`` unless it is already exactly that; a
    link there (memman 0.16 linked into site-packages) is replaced by a file, its
    target left alone. True when something was written."""
    dest = Path(dest)
    if not dest.is_symlink() and dest.is_file() and dest.stat().st_mode & 0o777 == mode \
            and same_file_content(dest, text):
        return False
    if dest.is_symlink():
        dest.unlink()
    write_atomic(dest, text, mode)
    return True


def same_file_content(path: Path, text: str) -> bool:
    try:
        return Path(path).read_text(encoding="utf-8") == text
    except FileNotFoundError:
        return False


def make_executable(path: Path) -> None:
    mode = os.stat(path).st_mode
    os.chmod(path, mode | 0o111)
