"""``memman graph``: manual links, walks over the graph, rebuilds and exports."""
import click

from memman.cli.context import emit, pass_app

MAX_DEPTH = 5
RELATED_LIMIT = 200


@click.group()
def graph():
    """Link memories by hand and explore their neighbourhood."""


@graph.command("link")
@click.argument("source_id")
@click.argument("target_id")
@click.option("--type", "edge_type", default="semantic", show_default=True,
              help="temporal, semantic, causal or entity.")
@click.option("--weight", default="0.5", show_default=True, help="Edge weight, 0 to 1.")
@click.option("--meta", help="Metadata as a JSON object (created_by defaults to claude).")
@pass_app
def link(app, source_id, target_id, edge_type, weight, meta):
    """Link SOURCE_ID and TARGET_ID in both directions."""
    from memman import clock
    from memman.errors import NotFoundError
    from memman.intake import edge as check
    from memman.scheduler.state import require_started
    from memman.store.model import Edge
    from memman.store.open import open_store, store_exists

    edge_type = check.edge_type(edge_type)
    weight = check.weight(weight)
    metadata = check.with_author(check.metadata(meta))
    check.endpoints(source_id, target_id)
    require_started(app.datadir, "create edges")
    if not store_exists(app.datadir, app.settings, app.store):
        raise NotFoundError(f"insight '{source_id}' not found")
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        with backend.transaction():
            for insight_id in (source_id, target_id):
                if backend.get_insight(insight_id) is None:
                    raise NotFoundError(f"insight '{insight_id}' not found")
            now = clock.iso()
            stored = []  # weight written per direction (a heavier existing one is kept)
            for a, b in ((source_id, target_id), (target_id, source_id)):
                previous = backend.link_edge(Edge(a, b, edge_type, weight, metadata, now))
                stored.append(max(weight, previous if previous is not None else weight))
            backend.log_op("link", source_id,
                           f"{source_id} <-> {target_id} ({edge_type}, weight {stored[0]:g})")
    finally:
        backend.close()
    out = {"status": "linked", "source_id": source_id, "target_id": target_id,
           "edge_type": edge_type, "weight": stored[0], "metadata": metadata}
    if max(stored) > weight:
        out["warning"] = (f"an existing {edge_type} edge had a higher weight "
                          f"({max(stored):g} > {weight:g}); the higher weight was kept")
    emit(out)


@graph.command("related")
@click.argument("insight_id")
@click.option("--edge", "edge_type", help="Follow only this edge type.")
@click.option("--depth", default=2, show_default=True, type=int, help="Hops, 1 to 5.")
@pass_app
def related(app, insight_id, edge_type, depth):
    """Memories linked to INSIGHT_ID within DEPTH hops, nearest first."""
    from memman.errors import MemmanError, NotFoundError
    from memman.intake import edge as check
    from memman.store.open import open_store, store_exists

    if edge_type is not None:
        check.edge_type(edge_type)
    if not 1 <= depth <= MAX_DEPTH:
        raise MemmanError(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
    if not store_exists(app.datadir, app.settings, app.store):
        raise NotFoundError(f"insight '{insight_id}' not found")
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        if backend.get_insight(insight_id) is None:
            raise NotFoundError(f"insight '{insight_id}' not found")
        found = backend.related(insight_id, edge_type, depth, RELATED_LIMIT)
    finally:
        backend.close()
    emit([{"id": insight.id, "content": insight.content, "category": insight.category,
           "importance": insight.importance, "depth": hops, "via_edge_type": via}
          for insight, hops, via in found])


@graph.command("rebuild")
@click.option("--dry-run", is_flag=True, help="Only count the memories that would be rebuilt.")
@click.option("--stale-only", is_flag=True,
              help="Only memories stamped by other prompts or another model.")
@pass_app
def rebuild(app, dry_run, stale_only):
    """Re-enrich, re-embed and relink the store's memories (progress on stderr)."""
    from memman.errors import NotFoundError
    from memman.scheduler.state import require_started
    from memman.store.open import store_exists
    from memman.worker.rebuild import rebuild as run_rebuild

    if not dry_run:
        require_started(app.datadir, "rebuild")
    if not store_exists(app.datadir, app.settings, app.store):
        raise NotFoundError(f"store '{app.store}' does not exist")
    emit(run_rebuild(app.datadir, app.settings, app.store, stale_only=stale_only,
                     dry_run=dry_run, progress=True))


@graph.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "dot"], case_sensitive=False),
              default="json", show_default=True,
              help="json: one document of nodes and edges; dot: Graphviz.")
@click.option("--output", "-o", metavar="FILE",
              help="Write to FILE (atomically) instead of stdout.")
@click.option("--include-deleted", is_flag=True, help="Also show forgotten memories.")
@click.option("--edge", "edge_types", multiple=True, metavar="TYPE",
              help="Only edges of this type (repeatable; default: all).")
@pass_app
def export(app, fmt, output, include_deleted, edge_types):
    """Write the store's memory graph as JSON or as Graphviz DOT."""
    from memman.errors import NotFoundError
    from memman.graph import export as graph_export
    from memman.intake import edge as check
    from memman.store.open import open_store, store_exists

    edge_types = tuple(dict.fromkeys(check.edge_type(t) for t in edge_types))
    if not store_exists(app.datadir, app.settings, app.store):
        raise NotFoundError(f"store '{app.store}' does not exist")
    backend = open_store(app.datadir, app.settings, app.store)
    try:
        data = graph_export.collect(backend, app.store, include_deleted=include_deleted,
                                    edge_types=edge_types)
    finally:
        backend.close()
    fmt = fmt.lower()
    text = graph_export.to_dot(data) if fmt == "dot" else graph_export.to_json(data)
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    path = graph_export.write_atomic(output, text)
    emit({"action": "exported", "path": path, "format": fmt, "store": app.store,
          "nodes": len(data["nodes"]), "edges": len(data["edges"])})
