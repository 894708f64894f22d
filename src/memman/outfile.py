"""Writing an output file the user named (``export -o``, ``graph export -o``) so that
it is either the whole new content or the old file untouched: a temporary file beside
it, fsync, then one rename. Failures are one-line MemmanErrors."""
import os
from contextlib import contextmanager
from pathlib import Path

from memman.errors import MemmanError


@contextmanager
def atomic_text_file(path, mode: int = 0o666):
    """Yield ``(absolute path, text file)``; the file replaces ``path`` when the block
    ends without an error. ``mode`` is the new file's permission before the umask."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise MemmanError(f"cannot write {target}: it is a directory")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    except OSError as exc:
        raise MemmanError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield target, fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        raise MemmanError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
