"""The data directory and everything in it.

Resolution: ``--data-dir`` > ``$MEMMAN_DATA_DIR`` > ``~/.memman``. Layout::

    env  env.lock  active  queue.db  drain.lock  scheduler.state
    data/<store>/memman.db   logs/   archive/<store>/<YYYYMMDD>_<NN>/

Nothing is created by reading; ``ensure()`` creates the directory (0700) on the
first write.
"""
import os
from pathlib import Path


def resolve_root(option: str | None) -> Path:
    raw = option or os.environ.get("MEMMAN_DATA_DIR") or "~/.memman"
    return Path(raw).expanduser().absolute()


class DataDir:
    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def env_file(self) -> Path:
        return self.root / "env"

    @property
    def env_lock(self) -> Path:
        return self.root / "env.lock"

    @property
    def active_file(self) -> Path:
        return self.root / "active"

    @property
    def queue_db(self) -> Path:
        return self.root / "queue.db"

    @property
    def drain_lock(self) -> Path:
        return self.root / "drain.lock"

    @property
    def scheduler_state(self) -> Path:
        return self.root / "scheduler.state"

    @property
    def stores_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    def store_dir(self, store: str) -> Path:
        return self.stores_dir / store

    def store_db(self, store: str) -> Path:
        return self.store_dir(store) / "memman.db"

    def exists(self) -> bool:
        return self.root.is_dir()

    def ensure(self) -> "DataDir":
        """Create the directory tree with owner-only permissions."""
        for path in (self.root, self.stores_dir, self.logs_dir):
            if not path.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                os.chmod(path, 0o700)
        return self

    def ensure_store_dir(self, store: str) -> Path:
        self.ensure()
        path = self.store_dir(store)
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)
        return path

    def sqlite_stores(self) -> list[str]:
        """Stores that have a SQLite database in ``data/``."""
        if not self.stores_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.stores_dir.glob("*/memman.db"))

    def archive_slot(self, store: str) -> Path:
        """A fresh ``archive/<store>/<YYYYMMDD>_<NN>`` folder (created)."""
        from memman import clock

        day = clock.iso()[:10].replace("-", "")
        base = self.archive_dir / store
        base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.archive_dir, 0o700)
        os.chmod(base, 0o700)
        n = 1
        while (base / f"{day}_{n:02d}").exists():
            n += 1
        slot = base / f"{day}_{n:02d}"
        slot.mkdir(mode=0o700)
        return slot
