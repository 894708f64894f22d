"""``memman store``: list, create, use and remove named stores.

A store lives where the settings route it (``MEMMAN_BACKEND_<store>`` >
``MEMMAN_DEFAULT_BACKEND``): a folder under ``data/`` for SQLite, a schema for Postgres.
``list`` shows SQLite folders, stores whose own key routes them to Postgres and, when
the default backend is Postgres, the memman schemas on the default DSN. ``remove``
archives: the folder moves to ``archive/``, a schema is renamed ``archived_...``.
"""
import shutil

import click

from memman.cli.context import emit, pass_app


@click.group(invoke_without_command=True)
@click.pass_context
def store(ctx):
    """Manage named stores (default: list them)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_stores)


@store.command("list")
@pass_app
def list_stores(app):
    """List stores and show which one is active."""
    from memman.errors import MemmanError

    settings = app.settings
    names = set(app.datadir.sqlite_stores())
    names |= {s for s, keys in settings.per_store().items()
              if settings.backend_for(s) == "postgres"}
    out: dict = {}
    dsn = settings.get("MEMMAN_DEFAULT_POSTGRES_DSN")
    if settings.get("MEMMAN_DEFAULT_BACKEND") == "postgres" and dsn:
        from memman.store.postgres import store_schemas

        try:
            names |= {s for s in store_schemas(dsn) if settings.backend_for(s) == "postgres"}
        except MemmanError as exc:
            out["warnings"] = [str(exc)]
    emit({"stores": sorted(names), "active": app.store, **out})


def _postgres_dsn(app, name):
    """The store's DSN when the settings route it to Postgres, else None."""
    if app.settings.backend_for(name) != "postgres":
        return None
    from memman.store.open import postgres_dsn

    return postgres_dsn(app.settings, name)


@store.command("create")
@click.argument("name")
@pass_app
def create(app, name):
    """Create store NAME."""
    from memman.config.stores import validate_name
    from memman.errors import MemmanError
    from memman.store.open import open_store

    validate_name(name)
    dsn = _postgres_dsn(app, name)
    if dsn is not None:
        from memman.store.postgres import schema_exists

        if schema_exists(dsn, name):
            raise MemmanError(f"store '{name}' already exists")
    existing = app.datadir.sqlite_stores() if dsn is None else []
    for other in existing:
        if other.lower() == name.lower():
            what = "already exists" if other == name else f"clashes with existing store '{other}'"
            raise MemmanError(f"store '{name}' {what}")
    backend = open_store(app.datadir, app.settings, name, create=True)
    path = backend.location
    backend.close()
    emit({"action": "created", "store": name, "path": path})


@store.command("use")
@click.argument("name")
@pass_app
def use(app, name):
    """Make NAME the active store (written to the data dir's active file)."""
    from memman.config.envfile import write_atomic
    from memman.config.stores import validate_name

    validate_name(name)
    app.datadir.ensure()
    write_atomic(app.datadir.active_file, name + "\n")
    emit({"action": "set", "store": name})


@store.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def remove(app, name, yes):
    """Remove store NAME: its database moves to archive/, its queued rows are dropped."""
    import sys

    from memman.config.stores import active_file_store, validate_name
    from memman.errors import MemmanError, NotFoundError
    from memman.queue.db import open_queue

    validate_name(name)
    dsn = _postgres_dsn(app, name)
    if dsn is not None:
        from memman.store.postgres import schema_exists

        if not schema_exists(dsn, name):
            raise NotFoundError(f"store '{name}' does not exist")
    elif name not in app.datadir.sqlite_stores():
        raise NotFoundError(f"store '{name}' does not exist")
    if active_file_store(app.datadir.active_file) == name:
        raise MemmanError(f"store '{name}' is the active store; 'memman store use' another first")
    if not yes:
        if not sys.stdin.isatty():
            raise MemmanError(f"refusing to remove store '{name}' without --yes")
        click.confirm(f"Remove store '{name}'?", abort=True, err=True)
    from memman.worker.drain import DrainLock

    lock = DrainLock(app.datadir)
    if not lock.acquire():
        raise MemmanError("a drain is running; try again when it has finished")
    try:
        if dsn is not None:
            from memman.store.postgres import archive_store

            archived = archive_store(dsn, name)  # the schema is renamed, never dropped
        else:
            slot = app.datadir.archive_slot(name)
            shutil.move(str(app.datadir.store_dir(name)), str(slot / "data"))
            archived = str(slot / "data")
    finally:
        lock.release()
    dropped = 0
    queue = open_queue(app.datadir, create=False)
    if queue is not None:
        try:
            dropped = queue.delete_store_rows(name)
        finally:
            queue.close()
    emit({"action": "removed", "store": name, "archived_to": archived,
          "queue_rows_dropped": dropped})
