"""``memman embed``: show a store's embedder, swap it online, or re-embed offline.

``status`` and ``swap`` act on the current store (``--store`` or the active one);
``reembed`` on the current store, or on every store of the data dir with ``--all``.
Neither needs the scheduler stopped: a swap runs beside the worker, a reembed holds
the drain lock. The work itself is in memman.embed.swap and memman.embed.reembed.
"""
import click

from memman.cli.context import emit, pass_app

BATCH_OPTION = click.option("--batch-size", default=200, show_default=True,
                            type=click.IntRange(1, 10_000),
                            help="Memories per embedding request batch.")


@click.group()
def embed():
    """Show, swap or rebuild a store's embeddings."""


def _existing_store(app) -> None:
    from memman.errors import NotFoundError
    from memman.store.open import store_exists

    if not store_exists(app.datadir, app.settings, app.store):
        raise NotFoundError(f"store '{app.store}' does not exist")


@embed.command("status")
@pass_app
def status(app):
    """The store's embedder fingerprint and any swap in progress."""
    from memman.embed import swap
    from memman.store.open import open_store

    _existing_store(app)
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        emit({"store": app.store, **swap.status(backend, app.settings)})
    finally:
        backend.close()


@embed.command("swap")
@click.option("--to", "model", metavar="MODEL", help="The model to move the store to.")
@click.option("--provider", help="Its provider (default: MEMMAN_EMBED_PROVIDER).")
@click.option("--resume", is_flag=True, help="Finish an interrupted swap.")
@click.option("--abort", is_flag=True, help="Cancel a swap; the store keeps its embedder.")
@BATCH_OPTION
@pass_app
def swap_command(app, model, provider, resume, abort, batch_size):
    """Move the store to another embedder while it stays in use."""
    from memman.embed import swap
    from memman.embed.registry import PROVIDERS
    from memman.errors import MemmanError
    from memman.store.open import open_store, refuse_readonly

    if resume and abort:
        raise click.UsageError("--resume and --abort exclude each other")
    if (resume or abort) and (model or provider):
        raise click.UsageError("--to/--provider start a new swap; leave them out with "
                               f"--{'resume' if resume else 'abort'}")
    if not (resume or abort or model):
        raise click.UsageError("--to MODEL is required (or --resume / --abort)")
    provider = provider or app.settings.get("MEMMAN_EMBED_PROVIDER") or "builtin"
    if provider not in PROVIDERS:
        raise click.UsageError(f"unknown provider '{provider}'; valid: {', '.join(PROVIDERS)}")
    _existing_store(app)
    refuse_readonly(app.datadir, app.settings, app.store)
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        if abort:  # no lock: it also stops a swap running elsewhere at its next batch
            if not swap.abort(backend):
                raise MemmanError(f"no embedder swap is in progress on store '{app.store}'")
            emit({"store": app.store, "state": "aborted"})
            return
        lock = swap.SwapLock(app.datadir, app.store)
        if not lock.acquire():
            raise MemmanError(f"an embed swap or reembed is already running on store "
                              f"'{app.store}'")
        try:
            if resume:
                out = swap.resume(backend, app.settings, batch=batch_size)
            else:
                out = swap.start(backend, app.settings, model=model, provider=provider,
                                 batch=batch_size)
        finally:
            lock.release()
        emit({"store": app.store, **out})
    finally:
        backend.close()


@embed.command("reembed")
@click.option("--dry-run", is_flag=True, help="Count what would be re-embedded; write nothing.")
@click.option("--all", "all_stores", is_flag=True, help="Every store of the data dir.")
@BATCH_OPTION
@pass_app
def reembed_command(app, dry_run, all_stores, batch_size):
    """Re-embed every memory with the embedder the env file configures."""
    from memman.embed.reembed import reembed

    if all_stores:
        stores = app.datadir.sqlite_stores()
    else:
        _existing_store(app)
        stores = [app.store]
    emit(reembed(app.datadir, app.settings, stores, dry_run=dry_run, batch=batch_size))
