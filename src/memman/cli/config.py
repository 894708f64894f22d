"""``memman config``: show, get, set and unset env-file keys (secrets redacted)."""
import click

from memman.cli.context import emit, pass_app


@click.group()
def config():
    """Read and change the env file."""


@config.command("show")
@pass_app
def show(app):
    """Show every setting, the per-store keys and the scheduler state."""
    from memman.config.keys import KEYS, mask
    from memman.scheduler import state

    settings, datadir = app.settings, app.datadir
    emit({
        "data_dir": str(datadir.root),
        "env_file": str(datadir.env_file),
        "env": {k: mask(k, v) for k, v in sorted(settings.values.items())},
        "effective": {k: mask(k, settings.get(k)) for k in sorted(KEYS)},
        "per_store": {s: {k: mask(k, v) for k, v in keys.items()}
                      for s, keys in sorted(settings.per_store().items())},
        "files": {"scheduler.state": {"path": str(datadir.scheduler_state),
                                      "value": state.read(datadir)}},
        "active_store": app.store,
        "scheduler": {"state": state.read(datadir)},
    })


@config.command("get")
@click.argument("key")
@pass_app
def get(app, key):
    """Print KEY's value (secrets redacted); exit 1 when it is unset."""
    from memman.config.keys import lookup, mask
    from memman.errors import MemmanError

    from memman.config.keys import split_family

    lookup(key)
    value = app.settings.values.get(key)
    source = "env file"
    if value is None:
        family = split_family(key)
        value = (app.settings.for_store(family[0].name, family[1]) if family
                 else app.settings.get(key))
        source = "default"
    if value is None:
        raise MemmanError(f"{key} is not set")
    emit({"key": key, "value": mask(key, value), "source": source})


@config.command("set")
@click.argument("key")
@click.argument("value")
@pass_app
def set_(app, key, value):
    """Set KEY to VALUE in the env file (validated)."""
    from memman.config import envfile
    from memman.config.keys import mask, validate

    normalised = validate(key, value)
    app.datadir.ensure()
    envfile.update(app.datadir.env_file, app.datadir.env_lock, {key: normalised})
    emit({"action": "set", "key": key, "value": mask(key, normalised)})


@config.command("unset")
@click.argument("key")
@pass_app
def unset(app, key):
    """Remove KEY from the env file (it falls back to its default)."""
    from memman.config import envfile
    from memman.config.keys import lookup

    lookup(key)
    removed = key in app.settings.values
    if removed:
        envfile.update(app.datadir.env_file, app.datadir.env_lock, {key: None})
    emit({"action": "unset", "key": key, "removed": removed})


@config.command("set-pg-dsn")
@click.option("--default", "as_default", is_flag=True,
              help="Write MEMMAN_DEFAULT_POSTGRES_DSN (every Postgres store without its own).")
@click.option("--store", "store", metavar="S", help="Write MEMMAN_POSTGRES_DSN_<S>.")
@click.option("--use", is_flag=True,
              help="Also route the store(s) to Postgres (MEMMAN_BACKEND_<S> or "
                   "MEMMAN_DEFAULT_BACKEND = postgres).")
@pass_app
def set_pg_dsn(app, as_default, store, use):
    """Build a Postgres DSN from prompts (host, port, database, user, hidden password,
    optional sslmode) and write it; a blank password leaves it to ~/.pgpass. The
    server is not contacted."""
    from memman.config import envfile
    from memman.config.keys import mask, validate
    from memman.config.stores import validate_name

    if as_default == bool(store):
        raise click.UsageError("give exactly one of --default or --store S")
    if store:
        validate_name(store)
    ask = _pg_prompt
    host = ask("Host", "localhost")
    port = click.prompt("Port", default=5432, type=click.IntRange(1, 65535), err=True)
    database = ask("Database", "memman")
    user = ask("User", None)
    password = click.prompt("Password (blank: use ~/.pgpass)", default="", hide_input=True,
                            show_default=False, err=True)
    sslmode = click.prompt("sslmode (blank: libpq default)", default="", show_default=False,
                           type=click.Choice(["", *SSLMODES]), show_choices=False, err=True)
    dsn = build_dsn(host, port, database, user, password, sslmode)
    key = "MEMMAN_DEFAULT_POSTGRES_DSN" if as_default else f"MEMMAN_POSTGRES_DSN_{store}"
    changes = {key: validate(key, dsn)}
    if use:
        changes["MEMMAN_DEFAULT_BACKEND" if as_default else f"MEMMAN_BACKEND_{store}"] = \
            "postgres"
    app.datadir.ensure()
    envfile.update(app.datadir.env_file, app.datadir.env_lock, changes)
    emit({"action": "set", "key": key, "value": mask(key, dsn),
          "changes": {k: mask(k, v) for k, v in sorted(changes.items())}})


SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _pg_prompt(label: str, default: str | None) -> str:
    return click.prompt(label, default=default, err=True).strip()


def build_dsn(host, port, database, user, password, sslmode) -> str:
    """A ``postgresql://`` URL with every part percent-encoded (an IPv6 host in
    brackets); the password is left out when blank."""
    from urllib.parse import quote

    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    where = f"[{host}]" if ":" in host and not host.startswith("[") else quote(host, safe="[]")
    dsn = f"postgresql://{auth}@{where}:{int(port)}/{quote(database, safe='')}"
    return dsn + (f"?sslmode={sslmode}" if sslmode else "")
