"""Where each backend keeps a store, for ``migrate``: state, scratch copy, promotion
of a verified copy, and archiving of the source.

SQLite: the store is ``data/<store>/memman.db``; the scratch copy is built in
``migrate-tmp/<store>/`` beside ``data/`` (never inside it, so no listing sees it) and
moved into place in one rename. Postgres: the store is the schema
``pg_schema_name(store)``; the scratch copy is a schema of its own, renamed into place
in one transaction. What a promotion replaces, and the source after a migration, go to
the archive (a folder under ``archive/`` or a renamed schema), never away.
"""
import shutil
from pathlib import Path

from memman.config.datadir import DataDir
from memman.errors import MemmanError

ABSENT, EMPTY, POPULATED = "ABSENT", "EMPTY", "POPULATED"


def state_of(backend) -> str:
    counts = backend.counts()
    has_rows = any(counts.get(k) for k in ("total_insights", "deleted_insights",
                                           "edge_count", "oplog_count"))
    return POPULATED if has_rows else EMPTY


class SQLiteTarget:
    kind = "sqlite"

    def __init__(self, datadir: DataDir, store: str):
        self.datadir, self.store = datadir, store
        self.scratch_dir = datadir.root / "migrate-tmp" / store

    def describe(self) -> str:
        return str(self.datadir.store_db(self.store))

    def state(self) -> str:
        from memman.store.sqlite import SQLiteBackend

        path = self.datadir.store_db(self.store)
        if not path.is_file():
            return ABSENT
        backend = SQLiteBackend(path, readonly=True)
        try:
            return state_of(backend)
        finally:
            backend.close()

    def scratch(self):
        from memman.store.sqlite import SQLiteBackend

        self.discard()
        self.datadir.ensure()
        self.scratch_dir.mkdir(parents=True, mode=0o700)
        return SQLiteBackend(self.scratch_dir / "memman.db")

    def finish(self, scratch) -> None:
        """Nothing to do: SQLite rebuilt its indexes as the rows went in."""

    def promote(self, scratch) -> str | None:
        """Move the verified scratch copy into place; returns where a store that was
        already there went (archive), or None."""
        scratch.close()
        folder = self.datadir.store_dir(self.store)
        replaced = None
        if folder.exists():
            slot = self.datadir.archive_slot(self.store)
            shutil.move(str(folder), str(slot / "data"))
            replaced = str(slot / "data")
        self.datadir.stores_dir.mkdir(parents=True, exist_ok=True)
        self.scratch_dir.rename(folder)
        _remove_if_empty(self.scratch_dir.parent)
        return replaced

    def discard(self) -> None:
        if self.scratch_dir.exists():
            shutil.rmtree(self.scratch_dir)
        _remove_if_empty(self.scratch_dir.parent)

    def archive_source(self) -> str:
        folder = self.datadir.store_dir(self.store)
        slot = self.datadir.archive_slot(self.store)
        shutil.move(str(folder), str(slot / "data"))
        return str(slot / "data")


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def target_for(kind: str, datadir: DataDir, settings, store: str):
    if kind == "sqlite":
        return SQLiteTarget(datadir, store)
    if kind == "postgres":
        from memman.migrate.pg_target import PostgresTarget

        return PostgresTarget(settings, store)
    raise MemmanError(f"unknown backend '{kind}'; valid: sqlite, postgres")
