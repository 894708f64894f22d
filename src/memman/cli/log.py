"""``memman log``: the store's operation log, and what memory costs (``--stats``).

``--stats`` adds to the per-operation counts: which memories recalls returned most
(from the ``recall-detail`` entries), how many memories no recall ever returned, what
was pruned or forgotten, and the LLM and embedding calls and tokens per UTC day that
the data dir's worker and commands paid for (queue.db's usage table, memman.usage).
"""
import json
import re
from collections import Counter

import click

from memman.cli.context import emit, pass_app

SINCE_RE = re.compile(r"^(\d+)([dhm])$")
RECALL_OPS = ("recall-detail", "recall:basic")
PRUNE_OPS = ("auto_prune", "forget")
NEVER_RECALLED_DAYS = 7
TOP_RECALLED = 10
EXAMPLES = 5
PREVIEW_CHARS = 80
OPLOG_SCAN = 100000  # every recall in the window (the worker keeps at most 5000 entries)


def since_iso(value: str | None) -> str | None:
    from memman import clock
    from memman.errors import MemmanError

    if value is None:
        return None
    match = SINCE_RE.match(value.strip())
    if not match:
        raise MemmanError(
            f"invalid --since '{value}'; use a number and d, h or m, e.g. 7d, 12h, 30m")
    seconds = int(match.group(1)) * {"d": 86400, "h": 3600, "m": 60}[match.group(2)]
    return clock.iso(clock.now() - seconds)


@click.group()
def log():
    """Operation log."""


@log.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--since", help="Only entries newer than this (e.g. 7d, 12h, 30m).")
@click.option("--stats", is_flag=True, help="Counts per operation instead of entries.")
@click.option("--text", "as_text", is_flag=True, help="Human-readable output.")
@pass_app
def list_entries(app, limit, since, stats, as_text):
    """List recent operations on the current store."""
    from memman.store.open import open_store, store_exists

    cutoff = since_iso(since)
    if not store_exists(app.datadir, app.settings, app.store):
        entries, summary = [], {"operation_counts": {}, "never_accessed": 0, "total_active": 0}
        if stats:
            summary.update(memory_stats(None, summary, cutoff))
    else:
        backend = open_store(app.datadir, app.settings, app.store)
        try:
            summary = backend.oplog_stats(since=cutoff) if stats else None
            if stats:
                summary.update(memory_stats(backend, summary, cutoff))
            entries = [] if stats else backend.list_oplog(since=cutoff, limit=limit)
        finally:
            backend.close()
    if stats:
        summary["costs"] = costs(app.datadir, cutoff)
        if as_text:
            for op, n in summary["operation_counts"].items():
                click.echo(f"{op:<20} {n}")
            click.echo(f"never accessed: {summary['never_accessed']} of "
                       f"{summary['total_active']} active")
            echo_stats_text(summary)
            return
        emit(summary)
        return
    if as_text:
        for e in entries:
            click.echo(f"{e.created_at[:19]}  {e.operation:<18} {(e.insight_id or '-')[:8]}  "
                       f"{e.detail or ''}")
        return
    emit({"entries": [e.to_dict() for e in entries], "meta": {"count": len(entries)}})


@log.command("worker")
@click.option("--errors", is_flag=True, help="Show failed rows (logs/worker.err).")
@click.option("--lines", default=50, show_default=True, type=click.IntRange(0, 100000))
@pass_app
def worker(app, errors, lines):
    """Tail the worker's log (one JSON line per drain pass)."""
    from memman.worker.log import tail

    path = app.datadir.logs_dir / ("worker.err" if errors else "worker.log")
    for line in tail(path, lines):
        click.echo(line)


# -- --stats: recalls, pruning and costs ----------------------------------------------


def _preview(text: str | None) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[:PREVIEW_CHARS - 3] + "..."


def memory_stats(backend, summary: dict, cutoff: str | None) -> dict:
    """``recalled``, ``never_recalled`` and ``pruned`` (``backend`` None: no store)."""
    from memman import clock

    counts = summary["operation_counts"]
    recalls = sum(counts.get(op, 0) for op in RECALL_OPS)
    pruned = {op: counts[op] for op in PRUNE_OPS if counts.get(op)}
    out = {"recalled": {"recalls": recalls, "memories": 0, "top": []},
           "never_recalled": {"count": 0, "older_than_days": NEVER_RECALLED_DAYS,
                              "examples": []},
           "pruned": {"count": sum(pruned.values()), "by_operation": pruned, "examples": []}}
    if backend is None:
        return out
    times = _recall_hits(backend, cutoff)
    out["recalled"]["memories"] = len(times)
    top = times.most_common(TOP_RECALLED)
    found = backend.insights_by_id_prefix([prefix for prefix, _ in top])
    for prefix, n in top:
        memory = found.get(prefix)
        out["recalled"]["top"].append({
            "id": memory.id if memory else prefix, "times": n,
            "content": _preview(memory.content) if memory else None,
            "forgotten": bool(memory and memory.deleted_at)})
    older = clock.iso(clock.now() - NEVER_RECALLED_DAYS * 86400)
    count, examples = backend.never_recalled(created_before=older, limit=EXAMPLES)
    out["never_recalled"]["count"] = count
    out["never_recalled"]["examples"] = [
        {"id": m.id, "created_at": m.created_at, "content": _preview(m.content)}
        for m in examples]
    out["pruned"]["examples"] = [
        {"id": e.insight_id, "operation": e.operation, "at": e.created_at,
         "content": _preview((e.before or {}).get("content"))}
        for e in backend.list_oplog_ops(list(PRUNE_OPS), since=cutoff, limit=EXAMPLES)]
    return out


def _recall_hits(backend, cutoff: str | None) -> Counter:
    """Memory id (or the id prefix the entry keeps) -> how many ranked recalls in the
    window returned it. ``recall --basic`` logs no ids, so it is not counted here."""
    times: Counter = Counter()
    for entry in backend.list_oplog_ops(["recall-detail"], since=cutoff, limit=OPLOG_SCAN):
        try:
            hits = json.loads(entry.detail or "{}").get("hits") or []
        except (ValueError, AttributeError):
            continue
        ids = {h.get("id") for h in hits if isinstance(h, dict) and h.get("id")}
        times.update(ids)
    return times


def costs(datadir, cutoff: str | None) -> dict:
    """LLM and embedding calls and tokens of the whole data dir, by UTC day: every day
    the window touches (``--since 12h`` includes all of the day it starts in)."""
    from memman.queue.db import open_queue
    from memman.usage import summarise

    from memman.errors import MemmanError

    since_day = cutoff[:10] if cutoff else None
    try:
        queue = open_queue(datadir, create=False, readonly=True)
        rows = [] if queue is None else _usage_rows(queue, since_day)
    except MemmanError as exc:  # a damaged queue.db must not hide the store's stats
        return {"since_day": since_day, **summarise([]), "error": str(exc)}
    return {"since_day": since_day, **summarise(rows)}


def _usage_rows(queue, since_day: str | None) -> list[dict]:
    try:
        return queue.usage_rows(since_day=since_day)
    finally:
        queue.close()


def _tokens(c: dict) -> str:
    return (f"{c['calls']} calls, {c['total_tokens']} tokens "
            f"({c['prompt_tokens']} in, {c['completion_tokens']} out), {c['errors']} errors")


def echo_stats_text(summary: dict) -> None:
    recalled, never, pruned = (summary["recalled"], summary["never_recalled"],
                               summary["pruned"])
    click.echo(f"recalls: {recalled['recalls']} ({recalled['memories']} memories returned)")
    for item in recalled["top"]:
        click.echo(f"  {item['times']:>4}x  {item['id'][:8]}  {item['content'] or ''}")
    click.echo(f"never recalled (older than {never['older_than_days']} days): "
               f"{never['count']}")
    for item in never["examples"]:
        click.echo(f"  {item['created_at'][:10]}  {item['id'][:8]}  {item['content'] or ''}")
    parts = ", ".join(f"{op} {n}" for op, n in pruned["by_operation"].items())
    click.echo(f"pruned: {pruned['count']}" + (f" ({parts})" if parts else ""))
    for item in pruned["examples"]:
        click.echo(f"  {item['at'][:10]}  {item['operation']:<10}  {(item['id'] or '-')[:8]}  "
                   f"{item['content'] or ''}")
    cost = summary["costs"]
    click.echo("costs per UTC day" + (f" since {cost['since_day']}" if cost["since_day"] else "")
               + ":" + ("" if cost["per_day"] else " none recorded"))
    for row in cost["per_day"]:
        click.echo(f"  {row['day']}  {row['kind']:<5}  {_tokens(row)}")
    for row in cost["per_model"]:
        click.echo(f"  {row['kind']:<5}  {row['provider']}  {row['model']}: {_tokens(row)}")
