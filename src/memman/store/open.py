"""Opening a store: choose its backend from the settings and open it."""
from memman.config.datadir import DataDir
from memman.config.settings import Settings
from memman.errors import MemmanError, NotFoundError
from memman.store.base import Backend


def store_exists(datadir: DataDir, settings: Settings | None, store: str) -> bool:
    if settings is not None and settings.backend_for(store) == "postgres":
        from memman.store.postgres import schema_exists

        # The connection is parked and reused by the open that usually follows.
        return schema_exists(postgres_dsn(settings, store), store)
    return datadir.store_db(store).is_file()


def postgres_dsn(settings: Settings, store: str) -> str:
    """``MEMMAN_POSTGRES_DSN_<store>`` > ``MEMMAN_DEFAULT_POSTGRES_DSN`` (env file only;
    a DSN may leave the password to ``~/.pgpass``)."""
    dsn = settings.for_store("MEMMAN_POSTGRES_DSN", store)
    if not dsn:
        raise MemmanError(
            f"store '{store}' uses the postgres backend but no DSN is set; run 'memman config "
            f"set-pg-dsn --store {store}' (or --default)")
    return dsn


def open_store(datadir: DataDir, settings: Settings | None, store: str, *,
               create: bool = False, readonly: bool = False) -> Backend:
    """Open ``store``; ``create`` makes it (and the data dir) if missing."""
    backend = settings.backend_for(store) if settings is not None else "sqlite"
    if backend == "postgres":
        from memman.store.postgres import PostgresBackend

        return PostgresBackend(postgres_dsn(settings, store), store, create=create,
                               readonly=readonly)
    if backend != "sqlite":
        raise MemmanError(f"store '{store}' uses an unknown backend {backend!r}")
    from memman.store.sqlite import SQLiteBackend

    path = datadir.store_db(store)
    if not path.is_file():
        if not create:
            raise NotFoundError(f"store '{store}' does not exist")
        datadir.ensure_store_dir(store)
    readonly = readonly or is_readonly(datadir, settings, store)
    if not readonly and path.is_file():
        from memman.upgrade.store_016 import upgrade_if_needed

        upgrade_if_needed(datadir, store)  # a memman 0.16 file becomes ours, backed up first
    return SQLiteBackend(path, readonly=readonly)


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
