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
        from memman import clock

        click.echo("last run: " + (clock.iso(last["started_at"])[:19] + "Z" if last else "never"))
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
    """Allow writes and drains; park week-old untried rows as stale."""
    from memman.queue.db import open_queue
    from memman.scheduler import state

    state.write(app.datadir, "started")
    queue = open_queue(app.datadir)
    try:
        parked = queue.park_stale()
    finally:
        queue.close()
    if as_text:
        click.echo("scheduler started" + (f" ({parked} stale rows parked)" if parked else ""))
    else:
        emit({"state": "started", "marked_stale": parked})


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

    from memman.worker.log import log_pass

    names = [validate_name(s.strip()) for s in stores.split(",")] if stores else None
    result = drain(app.datadir, app.settings, limit=limit, timeout=timeout, stores=names,
                   progress=progress)
    log_pass(app.datadir, result)
    emit(result)


@scheduler.command("serve")
@click.option("--interval", type=click.IntRange(0, 86400),
              help="Seconds between drains (default MEMMAN_INTERVAL, else 60; 0 = continuous).")
@click.option("--once", is_flag=True, help="Drain once and exit.")
@pass_app
def serve_cmd(app, interval, once):
    """Run the worker in the foreground until SIGTERM or 'scheduler stop'."""
    import json

    from memman.scheduler.serve import serve

    if interval is None:
        interval = int(app.settings.get("MEMMAN_INTERVAL") or 60)

    def report(result):
        summary = {k: result.get(k) for k in ("processed", "failed", "remaining", "skipped")}
        click.echo(json.dumps(summary, sort_keys=True))

    serve(app.datadir, interval, once=once, on_pass=report)


@scheduler.group("debug", invoke_without_command=True)
@click.pass_context
def debug(ctx):
    """Trace every LLM and embedding request to logs/debug.log (default: status)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(debug_status)


def _debug_state(app, on: bool | None = None) -> dict:
    from memman import trace

    path = app.datadir.root / "debug.state"
    if on is True:
        from memman.config.envfile import write_atomic

        app.datadir.ensure()
        write_atomic(path, "on\n")
    elif on is False:
        path.unlink(missing_ok=True)
    log = app.datadir.logs_dir / "debug.log"
    return {"debug": trace.is_switched_on(app.datadir), "debug_log": str(log),
            "debug_log_exists": log.exists()}


@debug.command("on")
@pass_app
def debug_on(app):
    """Start tracing (the worker picks it up on its next drain)."""
    emit(_debug_state(app, True))


@debug.command("off")
@pass_app
def debug_off(app):
    """Stop tracing."""
    emit(_debug_state(app, False))


@debug.command("status")
@pass_app
def debug_status(app):
    """Is tracing on, and where does it write?"""
    emit(_debug_state(app))


@scheduler.group("queue", invoke_without_command=True)
@click.pass_context
def queue_group(ctx):
    """Inspect and repair the queue (default: list)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(queue_list)


def _open(app, *, create: bool = True):
    """The queue; for read-only commands on a data dir without one, an empty queue
    in memory (so reading never creates files)."""
    from memman.queue.db import QueueDB, open_queue

    queue = open_queue(app.datadir, create=create)
    return queue if queue is not None else QueueDB(":memory:")


@queue_group.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.option("--status", "status_",
              type=click.Choice(["pending", "claimed", "done", "failed", "stale"]))
@pass_app
def queue_list(app, limit, status_):
    """Queue statistics and the newest rows."""
    from memman.queue.db import row_dict

    q = _open(app, create=False)
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

    q = _open(app, create=False)
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
@click.option("--done", is_flag=True, help="Delete done rows (older than 60 s).")
@click.option("--stale", is_flag=True, help="Delete stale rows.")
@click.option("--failed", is_flag=True, help="Delete failed rows.")
@pass_app
def queue_purge(app, done, stale, failed):
    """Delete done, stale or failed rows."""
    from memman.errors import MemmanError

    chosen = [name for name, on in (("done", done), ("stale", stale), ("failed", failed)) if on]
    if len(chosen) != 1:
        raise MemmanError("give exactly one of --done, --stale or --failed")
    which = chosen[0]
    q = _open(app)
    try:
        emit({"deleted": q.purge(which), "status": which})
    finally:
        q.close()
