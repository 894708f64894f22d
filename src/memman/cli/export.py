"""``memman export``: the store as JSON Lines, streamed (never all in memory).

Line 1 is a header; then one ``memory`` line per memory in insertion order,
forgotten ones included (with ``deleted_at``); then one ``edge`` line per edge, each
marked ``manual`` (written by ``graph link``/an import: the edges a round trip
restores; the others are recomputed by the worker). Vectors are not exported.

Round trip (export -> ``import`` into another store -> drain -> export), guaranteed
identical:
- memories: ``id`` (when the target store has no memory with that id; always for a
  new store), ``content``, ``category``, ``importance``, ``source``, ``created_at``,
  and ``entities`` (the exported list, in order; the worker's entity rules may only
  append names they find and the list lacks, which never happens for a store they
  built). Forgotten memories are not imported.
- manual edges: ``source_id``, ``target_id``, ``edge_type``, ``weight``, ``metadata``,
  ``created_at``.
Recomputed or reset, so not guaranteed: ``updated_at`` (= created_at), ``access_count``,
``last_accessed_at``, ``effective_importance``, ``keywords``, ``summary``,
``semantic_facts``, ``linked_at``, ``enriched_at``, ``prompt_version``, ``model_id``,
``embedding_model``, ``queue_id``, vectors (the target store's embedder), and every
automatic edge.
"""
import json
import sys

import click

from memman.cli.context import emit, pass_app

FORMAT = "memman-export"
VERSION = 1


def header(backend, store: str) -> dict:
    from memman import __version__, clock

    raw = backend.get_meta("embed_fingerprint")
    try:
        fingerprint = json.loads(raw) if raw else None
    except ValueError:
        fingerprint = None
    return {"type": "header", "format": FORMAT, "version": VERSION, "store": store,
            "exported_at": clock.iso(), "embed_fingerprint": fingerprint,
            "schema": backend.applied_migrations(), "memman_version": __version__}


def memory_line(insight) -> dict:
    from memman.store.model import Insight

    out = {"type": "memory"}
    for name in Insight.COLUMNS:
        value = getattr(insight, name)
        out[name] = list(value) if isinstance(value, (list, tuple)) else value
    return out


def edge_line(edge) -> dict:
    from memman.intake.edge import is_manual

    return {"type": "edge", **edge.to_dict(), "manual": is_manual(edge.metadata)}


def write_export(backend, store: str, write) -> tuple[int, int]:
    """Call ``write(line)`` for every line; returns (memories, edges)."""
    memories = edges = 0
    with backend.read_snapshot():
        write(_dumps(header(backend, store)))
        for insight in backend.iter_insights(include_deleted=True):
            write(_dumps(memory_line(insight)))
            memories += 1
        for edge in backend.iter_edges():
            write(_dumps(edge_line(edge)))
            edges += 1
    return memories, edges


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


@click.command()
@click.option("--output", "-o", metavar="FILE",
              help="Write to FILE (atomically) instead of stdout.")
@pass_app
def export(app, output):
    """Export the store (global --store) as JSON Lines."""
    from memman.errors import NotFoundError
    from memman.store.open import open_store, store_exists

    store = app.store
    if not store_exists(app.datadir, app.settings, store):
        raise NotFoundError(f"store '{store}' does not exist")
    backend = open_store(app.datadir, app.settings, store)
    try:
        if output is None or output == "-":
            _to_stdout(backend, store)
            return
        path, memories, edges = _to_file(backend, store, output)
    finally:
        backend.close()
    emit({"action": "exported", "path": str(path), "store": store,
          "memories": memories, "edges": edges})


def _to_stdout(backend, store: str) -> None:
    stream = getattr(sys.stdout, "buffer", None)
    if stream is not None:
        write_export(backend, store, lambda line: stream.write(line.encode("utf-8")))
    else:
        write_export(backend, store, sys.stdout.write)
    (stream or sys.stdout).flush()


def _to_file(backend, store: str, output: str):
    from memman.outfile import atomic_text_file

    with atomic_text_file(output, 0o600) as (path, fh):  # memories may be private
        memories, edges = write_export(backend, store, fh.write)
    return path, memories, edges
