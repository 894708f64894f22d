"""Planning and running the migration of one store (``memman migrate``)."""
from memman.config import envfile
from memman.errors import MemmanError
from memman.migrate.copy import checksums, copy_rows, differences
from memman.migrate.targets import ABSENT, EMPTY, target_for

BACKENDS = ("sqlite", "postgres")


def all_stores(datadir, settings) -> list[str]:
    names = set(datadir.sqlite_stores())
    names |= {s for s in settings.per_store() if settings.backend_for(s) == "postgres"}
    return sorted(names)


def plan(datadir, settings, store: str, to: str) -> dict:
    """What migrating ``store`` to ``to`` would do; opens nothing for writing."""
    from memman.store.open import open_store, store_exists

    current = settings.backend_for(store)
    entry = {"store": store, "from": current, "to": to}
    if current == to:
        return {**entry, "action": "skip",
                "reason": f"store '{store}' is already on the {to} backend"}
    if not store_exists(datadir, settings, store):
        raise MemmanError(f"store '{store}' does not exist")
    source = open_store(datadir, settings, store)
    try:
        rows = {table: info["rows"] for table, info in checksums(source).items()}
    finally:
        source.close()
    target = target_for(to, datadir, settings, store)
    state = target.state()
    action = "create" if state in (ABSENT, EMPTY) else "replace"
    return {**entry, "action": action, "target": target.describe(), "target_state": state,
            "source_rows": rows}


def migrate(datadir, settings, store: str, to: str, *, bar_factory=None) -> dict:
    """Copy, verify, put in place, switch the backend key, archive the source."""
    from memman.store.open import open_store
    from memman.worker.drain import DrainLock

    lock = DrainLock(datadir)
    if not lock.acquire():
        raise MemmanError("a drain is running on this data dir; try again when it has finished")
    try:
        source = open_store(datadir, settings, store)
        target = target_for(to, datadir, settings, store)
        try:
            before = checksums(source)
            total = sum(t["rows"] for t in before.values())
            scratch = target.scratch()
            try:
                bar = bar_factory(total, f"migrate {store}") if bar_factory else None
                try:
                    copied = copy_rows(source, scratch, bar=bar)
                finally:
                    if bar is not None:
                        bar.close()
                target.finish(scratch)
                after = checksums(scratch)
                diff = differences(before, after)
                if diff:
                    raise MemmanError(f"verification failed for store '{store}' ("
                                      + "; ".join(diff) + "); nothing was switched")
                replaced = target.promote(scratch)
            except BaseException:
                scratch.close()
                target.discard()
                raise
        finally:
            source.close()
        source_target = target_for(settings.backend_for(store), datadir, settings, store)
        _switch(datadir, settings, store, to)
        routed = open_store(datadir, settings, store)
        try:
            diff = differences(before, checksums(routed))
            if not diff:
                from memman.worker.maintenance import write_store_vectors

                write_store_vectors(routed)  # SQLite's recall vector file; no-op on Postgres
        finally:
            routed.close()
        if diff:  # cannot happen unless something wrote meanwhile: switch back
            _switch(datadir, settings, store, source_target.kind)
            raise MemmanError(f"store '{store}' read back differently after the switch ("
                              + "; ".join(diff) + "); switched back to the source")
        archived = source_target.archive_source()
    finally:
        lock.release()
    return {"store": store, "from": source_target.kind, "to": to, "rows": copied,
            "verified": True, "replaced_target": replaced, "archived_source": archived}


def _switch(datadir, settings, store: str, backend: str) -> None:
    envfile.update(datadir.env_file, datadir.env_lock, {f"MEMMAN_BACKEND_{store}": backend})
    settings.values = envfile.read(settings.env_file)
