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
