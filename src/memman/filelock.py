"""Non-blocking exclusive lock files (portalocker), released by the OS when the
holding process dies: the drain lock, the per-store embed swap lock."""
import os
from pathlib import Path


class ExclusiveFileLock:
    """``acquire()`` returns False at once when another process holds ``path``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = None

    def acquire(self) -> bool:
        import portalocker

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = portalocker.Lock(str(self.path), mode="a", timeout=0,
                                flags=portalocker.LOCK_EX | portalocker.LOCK_NB,
                                fail_when_locked=True)
        try:
            lock.acquire()
        except (portalocker.exceptions.LockException, portalocker.exceptions.AlreadyLocked):
            return False
        os.chmod(self.path, 0o600)
        self._lock = lock
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
