"""``memman status``: the current store's counts and the queue's depth."""
import click

from memman.cli.context import emit, pass_app


@click.command()
@click.option("--text", "as_text", is_flag=True, help="Human-readable output.")
@pass_app
def status(app, as_text):
    """Show counts for the current store and the queue."""
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
        finally:
            backend.close()
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
        return
    emit(out)


def _fingerprint(text):
    import json

    try:
        return json.loads(text) if text else None
    except ValueError:
        return {"error": "corrupt embed_fingerprint"}
