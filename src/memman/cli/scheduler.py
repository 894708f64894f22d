"""``memman scheduler``: the worker's state, one-shot drains and queue inspection."""
import click

from memman.cli.context import emit, pass_app


@click.group()
def scheduler():
    """Control and inspect the background worker."""


@scheduler.command("status")
@click.option("--text", "as_text", is_flag=True, help="Human-readable output.")
@pass_app
def status(app, as_text):
    """Show the scheduler state and the last worker run."""
    from memman.queue.db import open_queue
    from memman.scheduler import state

    queue = open_queue(app.datadir, create=False)
    last = None
    if queue is not None:
        try:
            last = queue.last_run()
        finally:
            queue.close()
    out = {"state": state.read(app.datadir), "state_file": str(app.datadir.scheduler_state),
           "last_run": last}
    if as_text:
        click.echo(f"state: {out['state']}")
        click.echo(f"last run: {last['started_at'] if last else 'never'}")
        return
    emit(out)


def _flip(app, new_state, as_text):
    from memman.scheduler import state

    state.write(app.datadir, new_state)
    if as_text:
        click.echo(f"scheduler {new_state}")
    else:
        emit({"state": new_state})


@scheduler.command("start")
@click.option("--text", "as_text", is_flag=True)
@pass_app
def start(app, as_text):
    """Allow writes and drains."""
    _flip(app, "started", as_text)


@scheduler.command("stop")
@click.option("--text", "as_text", is_flag=True)
@pass_app
def stop(app, as_text):
    """Refuse writes and stop draining (queued rows are kept)."""
    _flip(app, "stopped", as_text)


@scheduler.command("drain")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000))
@click.option("--timeout", default=300, show_default=True, type=click.FloatRange(1, 86400))
@click.option("--stores", help="Comma-separated stores to drain (default: all).")
@click.option("--progress", is_flag=True, help="Progress bar on stderr.")
@pass_app
def drain_cmd(app, limit, timeout, stores, progress):
    """Process queued rows now (what the timer runs)."""
    from memman.config.stores import validate_name
    from memman.worker.drain import drain

    names = [validate_name(s.strip()) for s in stores.split(",")] if stores else None
    emit(drain(app.datadir, app.settings, limit=limit, timeout=timeout, stores=names))


@scheduler.group("queue", invoke_without_command=True)
@click.pass_context
def queue_group(ctx):
    """Inspect and repair the queue (default: list)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(queue_list)


def _open(app):
    from memman.queue.db import open_queue

    return open_queue(app.datadir)


@queue_group.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.option("--status", "status_",
              type=click.Choice(["pending", "claimed", "done", "failed", "stale"]))
@pass_app
def queue_list(app, limit, status_):
    """Queue statistics and the newest rows."""
    from memman.queue.db import row_dict

    q = _open(app)
    try:
        rows = q.list(status=status_, limit=limit)
        emit({"stats": q.stats(), "rows": [row_dict(r) for r in rows]})
    finally:
        q.close()


@queue_group.command("failed")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.pass_context
def queue_failed(ctx, limit):
    """Rows that failed for good."""
    ctx.invoke(queue_list, limit=limit, status_="failed")


@queue_group.command("show")
@click.argument("row_id", type=int)
@pass_app
def queue_show(app, row_id):
    """One queue row in full."""
    from memman.errors import NotFoundError
    from memman.queue.db import row_dict

    q = _open(app)
    try:
        row = q.get(row_id)
    finally:
        q.close()
    if row is None:
        raise NotFoundError(f"queue row {row_id} not found")
    emit(row_dict(row, full=True))


@queue_group.command("retry")
@click.argument("row_id", type=int, required=False)
@click.option("--all-failed", is_flag=True, help="Requeue every failed row.")
@click.option("--all-stale", is_flag=True, help="Requeue every stale row.")
@pass_app
def queue_retry(app, row_id, all_failed, all_stale):
    """Put a failed or stale row back to pending with its attempts reset."""
    from memman.errors import MemmanError, NotFoundError

    if (row_id is not None) + all_failed + all_stale != 1:
        raise MemmanError("give exactly one of ROW_ID, --all-failed or --all-stale")
    q = _open(app)
    try:
        if row_id is not None:
            if q.get(row_id) is None:
                raise NotFoundError(f"queue row {row_id} not found")
            if not q.retry(row_id):
                raise MemmanError(f"queue row {row_id} is not failed or stale")
            emit({"action": "requeued", "ids": [row_id], "count": 1})
        else:
            n = q.retry_all("failed" if all_failed else "stale")
            emit({"action": "requeued", "count": n})
    finally:
        q.close()


@queue_group.command("purge")
@click.option("--done", "which", flag_value="done", help="Delete done rows (older than 60 s).")
@click.option("--stale", "which", flag_value="stale", help="Delete stale rows.")
@click.option("--failed", "which", flag_value="failed", help="Delete failed rows.")
@pass_app
def queue_purge(app, which):
    """Delete done, stale or failed rows."""
    from memman.errors import MemmanError

    if which is None:
        raise MemmanError("give one of --done, --stale or --failed")
    q = _open(app)
    try:
        emit({"deleted": q.purge(which), "status": which})
    finally:
        q.close()
