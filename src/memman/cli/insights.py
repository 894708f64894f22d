"""``memman insights``: look at single memories (show; more with the lifecycle issue)."""
import click

from memman.cli.context import emit, pass_app


@click.group()
def insights():
    """Inspect memories."""


@insights.command("show")
@click.argument("insight_id")
@pass_app
def show(app, insight_id):
    """Show memory ID (also when it was forgotten)."""
    from memman.errors import NotFoundError
    from memman.store.open import open_store, store_exists

    if not store_exists(app.datadir, app.settings, app.store):
        raise NotFoundError(f"insight '{insight_id}' not found")
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        insight = backend.get_insight(insight_id, include_deleted=True)
    finally:
        backend.close()
    if insight is None:
        raise NotFoundError(f"insight '{insight_id}' not found")
    emit(insight.to_dict())
