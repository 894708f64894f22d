"""``memman forget ID``: soft-delete a memory now (not through the queue).

Its last state is kept as a history version, so ``insights restore`` can undo it."""
import click

from memman.cli.context import emit, pass_app


@click.command()
@click.argument("insight_id")
@pass_app
def forget(app, insight_id):
    """Forget memory ID at once: it is hidden from every recall and its edges go."""
    emit(forget_insight(app, insight_id))


def forget_insight(app, insight_id: str) -> dict:
    """Soft-delete ``insight_id``; the document ``forget`` prints (also used by MCP)."""
    from memman.errors import NotFoundError
    from memman.scheduler.state import require_started
    from memman.store.open import open_store

    require_started(app.datadir, "write")
    try:
        backend = open_store(app.datadir, app.settings, app.store)
    except NotFoundError:
        raise NotFoundError(f"insight '{insight_id}' not found") from None
    try:
        with backend.transaction():
            insight = backend.get_insight(insight_id)
            if insight is None:
                raise NotFoundError(f"insight '{insight_id}' not found")
            backend.save_version(insight_id, "forget", reason="forgotten by user")
            if not backend.soft_delete_insight(insight_id):
                raise NotFoundError(f"insight '{insight_id}' not found")
            backend.log_op("forget", insight_id, "forgotten by user", before=insight.snapshot())
    finally:
        backend.close()
    return {"id": insight_id, "status": "deleted",
            "message": f"insight {insight_id} forgotten; it will not be recalled again"}
