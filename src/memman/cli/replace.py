"""``memman replace ID TEXT``: queue new content for an existing memory."""
import click

from memman.cli.context import emit, pass_app
from memman.cli.remember import prepare_content, read_text, validated_hints


@click.command()
@click.argument("insight_id")
@click.argument("text", nargs=-1, required=True)
@click.option("--cat", "category", help="New category (default: keep the original's).")
@click.option("--imp", "importance", help="New importance 1-5 (default: keep the original's).")
@click.option("--source", help="New source (default: keep the original's).")
@click.option("--entities", help="New entities (default: keep the original's).")
@click.option("--reconcile/--no-reconcile", default=False,
              help="Also reconcile the new text against similar memories (default: no).")
@pass_app
def replace(app, insight_id, text, category, importance, source, entities, reconcile):
    """Replace memory ID with TEXT (applied by the worker on its next drain)."""
    from memman.errors import NotFoundError
    from memman.queue.db import open_queue
    from memman.scheduler.state import require_started
    from memman.store.open import open_store

    content, kinds, warnings = prepare_content(read_text(text))
    hints = validated_hints(category, importance, source, entities)
    store = app.store
    require_started(app.datadir, "write")
    try:
        backend = open_store(app.datadir, app.settings, store)
    except NotFoundError:
        raise NotFoundError(f"insight '{insight_id}' not found") from None
    try:
        if backend.get_insight(insight_id) is None:
            raise NotFoundError(f"insight '{insight_id}' not found")
    finally:
        backend.close()
    queue = open_queue(app.datadir)
    try:
        queue_id = queue.enqueue(store, content, replaced_id=insight_id,
                                 no_reconcile=not reconcile, redactions=kinds, **hints)
    finally:
        queue.close()
    emit({"action": "queued", "queue_id": queue_id, "store": store, "replaced_id": insight_id,
          "quality_warnings": warnings, "redacted": kinds})
