"""``memman insights``: single memories and their lifecycle.

``show`` and ``history`` print a memory with its earlier versions, ``restore`` puts
one back; ``candidates`` lists what auto-prune would take first and ``protect``
exempts a memory from it; ``review`` ranks memories by content-quality flags.
``show``, ``history``, ``candidates`` and ``review`` only read the store.
"""
import click

from memman.cli.context import emit, pass_app


@click.group()
def insights():
    """Inspect, protect, review and restore memories."""


def _open(app, insight_id: str | None = None):
    """The current store's backend; a missing store is a missing memory."""
    from memman.errors import NotFoundError
    from memman.store.open import open_store, store_exists

    if not store_exists(app.datadir, app.settings, app.store):
        if insight_id is None:
            return None
        raise NotFoundError(f"insight '{insight_id}' not found")
    return open_store(app.datadir, app.settings, app.store)


def _insight(backend, insight_id: str, *, include_deleted: bool = True):
    from memman.errors import NotFoundError

    insight = backend.get_insight(insight_id, include_deleted=include_deleted)
    if insight is None:
        raise NotFoundError(f"insight '{insight_id}' not found")
    return insight


def _effective_importance(backend, insight) -> float:
    from memman import clock
    from memman.lifecycle.retention import effective_importance_of

    degree = backend.degrees_of([insight.id]).get(insight.id, 0)
    return effective_importance_of(insight, degree, clock.now())


@insights.command("show")
@click.argument("insight_id")
@pass_app
def show(app, insight_id):
    """Show memory ID (also when it was forgotten) with its earlier versions."""
    emit(show_insight(app, insight_id))


def show_insight(app, insight_id: str) -> dict:
    """The document ``insights show`` prints (also used by MCP's memory_show)."""
    from memman.lifecycle.retention import is_immune

    backend = _open(app, insight_id)
    try:
        insight = _insight(backend, insight_id)
        out = insight.to_dict()
        out["effective_importance"] = _effective_importance(backend, insight)
        out["immune"] = is_immune(insight.importance, insight.protected)
        out["history"] = [v.to_dict() for v in backend.versions_of(insight_id)]
    finally:
        backend.close()
    return out


@insights.command("history")
@click.argument("insight_id")
@pass_app
def history(app, insight_id):
    """Print every version of memory ID, oldest first, the current one last."""
    from memman.lifecycle.history import chain

    backend = _open(app, insight_id)
    try:
        out = chain(backend, _insight(backend, insight_id))
    finally:
        backend.close()
    emit(out)


@insights.command("restore")
@click.argument("insight_id")
@click.option("--version", "version", required=True, type=click.IntRange(min=1),
              help="The version to make current (see 'insights history').")
@pass_app
def restore(app, insight_id, version):
    """Make an earlier version of memory ID current again (undeletes it if needed)."""
    from memman.lifecycle.history import restore as restore_version
    from memman.scheduler.state import require_started

    require_started(app.datadir, "restore insights")
    backend = _open(app, insight_id)
    try:
        out = restore_version(backend, insight_id, version)
    finally:
        backend.close()
    emit(out)


@insights.command("candidates")
@click.option("--threshold", default=0.5, show_default=True, type=click.FloatRange(min=0),
              help="List memories whose effective importance is below this.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@pass_app
def candidates(app, threshold, limit):
    """Memories auto-prune would remove first (lowest effective importance). Writes
    nothing."""
    from memman.lifecycle.retention import candidates as find

    cap = int(app.settings.get("MEMMAN_MAX_INSIGHTS") or 1000)
    out = {"total_insights": 0, "threshold": threshold, "candidates_found": 0,
           "candidates": [], "max_insights": cap,
           "actions": ["memman insights protect ID: keep it (immune to auto-prune)",
                       "memman forget ID: remove it now"]}
    backend = _open(app)
    if backend is not None:
        try:
            out["total_insights"] = backend.count_active()
            out["candidates_found"], out["candidates"] = find(backend, threshold, limit)
        finally:
            backend.close()
    emit(out)


@insights.command("protect")
@click.argument("insight_id")
@click.option("--off", is_flag=True, help="Remove the protection instead.")
@pass_app
def protect(app, insight_id, off):
    """Make memory ID immune to auto-prune (or, with --off, no longer)."""
    from memman.errors import NotFoundError
    from memman.lifecycle.retention import is_immune
    from memman.scheduler.state import require_started

    require_started(app.datadir, "protect insights")
    backend = _open(app, insight_id)
    try:
        with backend.transaction():
            insight = _insight(backend, insight_id, include_deleted=False)
            if not backend.set_protected(insight_id, not off):
                raise NotFoundError(f"insight '{insight_id}' not found")
            ei = _effective_importance(backend, insight)
            backend.set_effective_importance([(insight_id, ei)])
            if insight.protected == off:  # the flag changed
                backend.log_op("unprotect" if off else "protect", insight_id,
                               "protection removed by user" if off else "protected by user")
    finally:
        backend.close()
    emit({"status": "unprotected" if off else "retained", "id": insight_id,
          "content": insight.content, "new_access": insight.access_count,
          "effective_importance": ei, "protected": not off,
          "immune": is_immune(insight.importance, not off)})


@insights.command("review")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@pass_app
def review(app, limit):
    """Memories whose text is flagged by the quality rules, worst first."""
    from memman.lifecycle.review import ACTIONS, review as run_review

    backend = _open(app)
    if backend is None:
        emit({"review_results": [], "total_flagged": 0, "actions": ACTIONS})
        return
    try:
        out = run_review(backend, limit)
    finally:
        backend.close()
    emit(out)
