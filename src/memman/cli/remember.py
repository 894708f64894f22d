"""``memman remember``: validate, redact and queue one memory (the agent's hot path).

Imports nothing heavy: the text is checked, secrets are redacted, and one row is
appended to queue.db; the worker does the rest on its next drain.
"""
import sys

import click

from memman.cli.context import emit, pass_app


def read_text(parts: tuple[str, ...]) -> str:
    if parts == ("-",):
        return sys.stdin.read()
    return " ".join(parts)


def prepare_content(raw: str) -> tuple[str, list[str], list[str]]:
    """(redacted content, redacted kinds, quality warnings); raises on bad text."""
    from memman.errors import MemmanError
    from memman.intake import validate
    from memman.intake.quality import quality_warnings
    from memman.intake.redact import redact

    content = validate.content(raw)
    redacted, kinds = redact(content)
    if not _has_words_outside_markers(redacted):
        raise MemmanError("content is empty once private and secret parts are redacted; "
                          "nothing queued")
    return redacted, kinds, quality_warnings(redacted)


def validated_hints(category, importance, source, entities) -> dict:
    from memman.intake import validate

    return dict(category=validate.category(category),
                importance=validate.importance(importance),
                source=validate.source(source),
                entities=validate.entities(entities))


def _has_words_outside_markers(text: str) -> bool:
    import re

    return bool(re.search(r"\w", re.sub(r"\[REDACTED:[a-z_]+\]", "", text)))


def _refuse_readonly_store(datadir, store: str) -> None:
    """A store mounted read-only here (NanoClaw's shared global store, say) would only
    fail in the worker later; refuse the write now. Only the folder is checked, so the
    hot path opens no database."""
    from memman.db import writable_dir
    from memman.errors import MemmanError

    folder = datadir.store_dir(store)
    if folder.is_dir() and not writable_dir(folder):
        raise MemmanError(f"store '{store}' is read-only here ({folder} is not writable); "
                          "remember into a writable store instead")


@click.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--cat", "category", help="preference, decision, fact, insight, context or general.")
@click.option("--imp", "importance", help="Importance 1-5 (default: the worker decides, 3).")
@click.option("--source", help="user (default), agent or external.")
@click.option("--entities", help="Entities: comma-separated or a JSON array of strings.")
@click.option("--no-reconcile", is_flag=True,
              help="Store the text as one memory, without extraction or reconciliation.")
@pass_app
def remember(app, text, category, importance, source, entities, no_reconcile):
    """Queue TEXT to be remembered (use '-' to read it from stdin)."""
    emit(queue_memory(app, read_text(text), category=category, importance=importance,
                      source=source, entities=entities, no_reconcile=no_reconcile))


def queue_memory(app, raw: str, *, category=None, importance=None, source=None,
                 entities=None, no_reconcile=False) -> dict:
    """Check, redact and queue ``raw``; the document ``remember`` prints (also used by
    the MCP server's memory_remember)."""
    from memman.queue.db import open_queue
    from memman.scheduler.state import require_started

    content, kinds, warnings = prepare_content(raw)
    hints = validated_hints(category, importance, source, entities)
    store = app.store
    require_started(app.datadir, "write")
    _refuse_readonly_store(app.datadir, store)
    queue = open_queue(app.datadir)
    try:
        queue_id = queue.enqueue(store, content, no_reconcile=no_reconcile,
                                 redactions=kinds, **hints)
    finally:
        queue.close()
    return {"action": "queued", "queue_id": queue_id, "store": store,
            "quality_warnings": warnings, "redacted": kinds}
