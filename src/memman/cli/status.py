"""``memman status``: the current store's counts, the queue's depth and a health summary.

The summary runs only doctor's cheap checks (no integrity scan, no network), so
status stays fast; ``memman doctor`` runs them all."""
import click

from memman.cli.context import emit, pass_app


def status_report(app) -> dict:
    """The document ``status`` prints (also used by MCP's memory_status)."""
    from memman.queue.db import open_queue
    from memman.store.open import open_store, store_exists

    datadir, settings, store = app.datadir, app.settings, app.store
    out = {
        "store": store,
        "backend": settings.backend_for(store),
        "backends_in_use": sorted({settings.backend_for(s) for s in datadir.sqlite_stores()}
                                  | {settings.backend_for(store)}),
        "total_insights": 0, "deleted_insights": 0, "stale_insights": 0,
        "edge_count": 0, "oplog_count": 0, "by_category": {}, "top_entities": [],
        "storage_path": str(datadir.store_db(store)),
        "exists": False,
    }
    from memman.worker.provenance import active

    current = active(settings)
    out["mode"] = current["mode"]
    out["embedder"] = None
    if store_exists(datadir, settings, store):
        backend = open_store(datadir, settings, store)
        try:
            out.update(backend.counts())
            out["storage_path"] = backend.location
            out["exists"] = True
            out["stale_insights"] = backend.count_stale(current["prompt_version"],
                                                        current["model_id"])
            out["embedder"] = _fingerprint(backend.get_meta("embed_fingerprint"))
            issues = _store_issues(app, store, backend)
        finally:
            backend.close()
    else:
        issues = []
    queue = open_queue(datadir, create=False)
    if queue is None:
        out["queue"] = {"pending": 0, "claimed": 0, "done": 0, "failed": 0, "stale": 0,
                        "oldest_pending_age_seconds": None}
    else:
        try:
            stats = queue.stats()
            out["queue"] = {**stats, "store_pending": queue.stats(store=store)["pending"]}
        finally:
            queue.close()
        issues += _queue_issues(app, stats)
    out["health"] = _health(issues)
    return out


@click.command()
@click.option("--text", "as_text", is_flag=True, help="Human-readable output.")
@pass_app
def status(app, as_text):
    """Show counts for the current store and the queue."""
    out = status_report(app)
    store = out["store"]
    if as_text:
        q = out["queue"]
        emb = out["embedder"]
        click.echo(f"worker     {out['mode']} mode"
                   + (f", embedder {emb['provider']}/{emb['model']} ({emb['dim']}d)"
                      if emb else ""))
        click.echo(f"store      {store} ({out['backend']}) {out['storage_path']}")
        click.echo(f"memories   {out['total_insights']} active, {out['deleted_insights']} deleted")
        click.echo(f"edges      {out['edge_count']}   oplog {out['oplog_count']}")
        click.echo(f"queue      {q['pending']} pending, {q['failed']} failed"
                   + (f", oldest {q['oldest_pending_age_seconds']:.0f}s"
                      if q.get("oldest_pending_age_seconds") is not None else ""))
        health = out["health"]
        click.echo(f"health     {health['status']}" + "".join(
            f"\n           {i['status']}: {i['name']}: {i['detail']}" for i in health["issues"])
            + ("\n           run 'memman doctor' for details and fixes"
               if health["issues"] else ""))
        return
    emit(out)


def _fingerprint(text):
    import json

    try:
        return json.loads(text) if text else None
    except ValueError:
        return {"error": "corrupt embed_fingerprint"}


def _doctor_context(app):
    from memman.doctor import DoctorContext

    return DoctorContext(app.datadir, app.settings, app.data_dir_option)


def _store_issues(app, store, backend) -> list[dict]:
    from memman.doctor import store_checks

    return [c for c in store_checks.health(_doctor_context(app), store, backend)
            if c["status"] != "pass"]


def _queue_issues(app, stats) -> list[dict]:
    from memman.doctor.system_checks import queue_backlog

    found = queue_backlog(_doctor_context(app), stats)
    return [found] if found["status"] != "pass" else []


def _health(issues: list[dict]) -> dict:
    """{"status": ok|warn|fail, "issues": [{name, status, detail}]}."""
    from memman.doctor.report import worst

    status = {"pass": "ok"}.get(worst(issues), worst(issues))
    return {"status": status, "issues": [
        {"name": i["name"], "status": i["status"], "detail": i["detail"]} for i in issues]}
