"""``memman doctor``: health checks; exit 1 when any check fails."""
import click

from memman.cli.context import emit, pass_app


@click.command()
@click.option("--text", "as_text", is_flag=True, help="A readable table instead of JSON.")
@click.option("--store", "store_option", metavar="NAME",
              help="Check only this store (default: every store of the data dir).")
@click.option("--probe", is_flag=True,
              help="Also call the configured LLM and embedder once each (network).")
@pass_app
def doctor(app, as_text, store_option, probe):
    """Check the stores, the queue, the scheduler, the env file and the hooks."""
    from memman.config import stores
    from memman.doctor import DoctorContext, run
    from memman.doctor.report import FAIL, render_text
    from memman.errors import NotFoundError

    ctx = DoctorContext(app.datadir, app.settings, app.data_dir_option)
    store = store_option or app.store_option  # not the active store: default is all
    if store:
        store = stores.validate_name(store)
        if not app.datadir.store_db(store).is_file():
            raise NotFoundError(f"store '{store}' does not exist")
    result = run(ctx, store=store, probe=probe)
    if as_text:
        click.echo(render_text(result))
    else:
        emit(result)
    if result["overall"] == FAIL:
        raise click.exceptions.Exit(1)
