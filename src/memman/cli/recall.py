"""``memman recall``: find memories for a query.

The default path is the ranked, graph-aware engine (memman.recall.engine);
``--basic`` is plain keyword matching (every query word must match). Either path
counts an access only for the first few results it shows, once each
(memman.lifecycle.retention.accessed_ids), and writes nothing to a read-only store.
"""
import click

from memman.cli.context import emit, pass_app


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--cat", "category", help="Only memories of this category.")
@click.option("--source", help="Only memories from this source.")
@click.option("--basic", is_flag=True, help="Keyword matching only.")
@click.option("--intent", help="WHY, WHEN, ENTITY or GENERAL (default: detected).")
@click.option("--expand", is_flag=True, help="Expand the query with the fast LLM.")
@pass_app
def recall(app, query, limit, category, source, basic, intent, expand):
    """Recall memories matching QUERY."""
    from memman.errors import MemmanError
    from memman.intake import validate
    from memman.textutil import query_terms

    text = " ".join(query)
    if not text.strip():
        raise MemmanError("query is empty")
    validate.category(category)
    validate.source(source)
    if intent is not None and intent.upper() not in ("WHY", "WHEN", "ENTITY", "GENERAL"):
        raise MemmanError(f"unknown intent '{intent}'; valid: WHY, WHEN, ENTITY, GENERAL")
    if basic:
        terms = query_terms(text)
        results = basic_recall(app, text, terms, category=category, source=source, limit=limit)
        emit({"results": [r.to_dict() for r in results], "meta": {"basic": True}})
        return
    emit(smart_recall(app, text, limit=limit, category=category, source=source,
                      intent=intent.upper() if intent else None, expand=expand))


def smart_recall(app, text, *, limit, category, source, intent, expand) -> dict:
    import json

    from memman.store.open import open_store, store_exists

    if not store_exists(app.datadir, app.settings, app.store):
        return {"results": [], "meta": {"intent": intent or "GENERAL", "anchor_count": 0,
                                        "traversed": 0, "sparse": True, "store_exists": False}}
    from memman.recall import rerank
    from memman.recall.engine import run

    backend = open_store(app.datadir, app.settings, app.store)
    try:
        use_rerank = rerank.enabled(app.settings, app.store)
        out = run(backend, app.datadir.store_dir(app.store), app.settings,
                  app.datadir.root / "cache", text,
                  limit=max(limit, rerank.SHORTLIST) if use_rerank else limit,
                  category=category, source=source, intent=intent, expand=expand)
        if use_rerank:
            results = rerank.apply(app.settings, app.store, text, out["results"], out["meta"])
            out["results"] = results[:limit]
            kept = {r["insight"]["id"] for r in out["results"]}
            out["meta"]["order"] = [i for i in out["meta"].get("order", []) if i in kept]
        if not backend.readonly:
            from memman.intake.redact import redact
            from memman.lifecycle.retention import accessed_ids

            hits = [{"id": r["insight"]["id"][:8], "via": r["via"], "score": r["score"]}
                    for r in out["results"]]
            detail = json.dumps({"intent": out["meta"]["intent"], "q": redact(text)[0][:80],
                                 "hits": hits}, sort_keys=True)
            backend.note_recall(accessed_ids([r["insight"]["id"] for r in out["results"]]),
                                "recall-detail", detail)
        return out
    finally:
        backend.close()


def basic_recall(app, text, terms, *, category, source, limit):
    from memman.store.open import open_store, store_exists

    if not store_exists(app.datadir, app.settings, app.store):
        return []
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        results = backend.search_basic(terms, category=category, source=source, limit=limit)
        if not backend.readonly:
            from memman.intake.redact import redact
            from memman.lifecycle.retention import accessed_ids

            backend.note_recall(accessed_ids([r.id for r in results]), "recall:basic",
                                f"q={redact(text)[0][:80]} hits={len(results)}")
        return results
    finally:
        backend.close()
