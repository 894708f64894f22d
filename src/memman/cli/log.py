"""``memman log``: the store's operation log."""
import re

import click

from memman.cli.context import emit, pass_app

SINCE_RE = re.compile(r"^(\d+)([dhm])$")


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
    else:
        backend = open_store(app.datadir, app.settings, app.store)
        try:
            summary = backend.oplog_stats(since=cutoff) if stats else None
            entries = [] if stats else backend.list_oplog(since=cutoff, limit=limit)
        finally:
            backend.close()
    if stats:
        if as_text:
            for op, n in summary["operation_counts"].items():
                click.echo(f"{op:<20} {n}")
            click.echo(f"never accessed: {summary['never_accessed']} of "
                       f"{summary['total_active']} active")
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
