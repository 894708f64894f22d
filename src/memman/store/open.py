"""Opening a store: choose its backend from the settings and open it."""
from memman.config.datadir import DataDir
from memman.config.settings import Settings
from memman.errors import MemmanError, NotFoundError
from memman.store.base import Backend


def store_exists(datadir: DataDir, settings: Settings | None, store: str) -> bool:
    if settings is not None and settings.backend_for(store) == "postgres":
        return True  # existence is the schema's; checked on open
    return datadir.store_db(store).is_file()


def open_store(datadir: DataDir, settings: Settings | None, store: str, *,
               create: bool = False, readonly: bool = False) -> Backend:
    """Open ``store``; ``create`` makes it (and the data dir) if missing."""
    backend = settings.backend_for(store) if settings is not None else "sqlite"
    if backend != "sqlite":
        raise MemmanError(
            f"store '{store}' uses the {backend} backend, which this memman build does not "
            "support yet"
        )
    from memman.store.sqlite import SQLiteBackend

    path = datadir.store_db(store)
    if not path.is_file():
        if not create:
            raise NotFoundError(f"store '{store}' does not exist")
        datadir.ensure_store_dir(store)
    return SQLiteBackend(path, readonly=readonly or is_readonly(datadir, settings, store))


def is_readonly(datadir: DataDir, settings: Settings | None, store: str) -> bool:
    """A SQLite store whose folder this process cannot write (a read-only mount of
    another machine's or user's store, say) is opened read-only: recall reads it and
    writes nothing, and every write is refused with a one-line error."""
    if settings is not None and settings.backend_for(store) != "sqlite":
        return False
    from memman.db import writable_dir

    folder = datadir.store_dir(store)
    return folder.is_dir() and not writable_dir(folder)


def refuse_readonly(datadir: DataDir, settings: Settings | None, store: str) -> None:
    if is_readonly(datadir, settings, store):
        raise MemmanError(f"store '{store}' is read-only here ({datadir.store_dir(store)} "
                          "is not writable); write to it where it is writable")
