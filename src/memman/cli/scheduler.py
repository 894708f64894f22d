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
    """Show the scheduler state, the installed timer and the last worker run."""
    from memman.queue.db import open_queue
    from memman.scheduler import state, units

    queue = open_queue(app.datadir, create=False)
    last = None
    if queue is not None:
        try:
            last = queue.last_run()
        finally:
            queue.close()
    out = {"state": state.read(app.datadir), "state_file": str(app.datadir.scheduler_state),
           "last_run": last}
    out.update(units.status(app.datadir))
    if as_text:
        click.echo(f"state: {out['state']}")
        from memman import clock

        click.echo("last run: " + (clock.iso(last["started_at"])[:19] + "Z" if last else "never"))
        if out["kind"] is None:
            click.echo(f"kind: none ({out['kind_error']})")
        else:
            where = "installed" if out["installed"] else "not installed"
            click.echo(f"kind: {out['kind']} ({where})")
        for path in out["unit_paths"]:
            click.echo(f"unit: {path}")
        if out.get("interval_seconds") is not None:
            click.echo(f"interval: {out['interval_seconds']} s")
        if out.get("active") is not None:
            click.echo(f"active: {'yes' if out['active'] else 'no'}")
        if out.get("next_run"):
            click.echo(f"next run: {out['next_run']}")
        for key in ("warning", "systemctl_error"):
            if out.get(key):
                click.echo(f"{key.replace('_', ' ')}: {out[key]}")
        for name, path in out["log_paths"].items():
            stamp = out["log_mtimes"][name]
            click.echo(f"log {name}: {path}" + (f" (modified {stamp})" if stamp else " (none yet)"))
        return
    emit(out)


def _report_unit(result, out: dict) -> None:
    """Fold what start/stop did to the timer into ``out``; warnings also go to stderr."""
    if not result:
        return
    out["unit"] = {k: result[k] for k in ("kind", "action", "ok") if k in result}
    if result.get("warnings"):
        out["warnings"] = result["warnings"]
        for warning in result["warnings"]:
            click.echo(f"Warning: {warning}", err=True)


def _unit_text(out: dict) -> str:
    unit = out.get("unit")
    if not unit or not unit.get("ok"):
        return ""
    return f" ({unit['kind']} timer {unit['action']})"


def _flip(app, new_state, as_text):
    from memman.scheduler import state, units

    state.write(app.datadir, new_state)
    out = {"state": new_state}
    _report_unit(units.apply_state(app.datadir, new_state), out)
    if as_text:
        click.echo(f"scheduler {new_state}" + _unit_text(out))
    else:
        emit(out)


@scheduler.command("start")
@click.option("--text", "as_text", is_flag=True)
@pass_app
def start(app, as_text):
    """Allow writes and drains (and enable the installed timer); park week-old
    untried rows as stale."""
    from memman.queue.db import open_queue
    from memman.scheduler import state, units

    state.write(app.datadir, "started")
    queue = open_queue(app.datadir)
    try:
        parked = queue.park_stale()
    finally:
        queue.close()
    out = {"state": "started", "marked_stale": parked}
    _report_unit(units.apply_state(app.datadir, "started"), out)
    if as_text:
        click.echo("scheduler started" + (f" ({parked} stale rows parked)" if parked else "")
                   + _unit_text(out))
    else:
        emit(out)


@scheduler.command("stop")
@click.option("--text", "as_text", is_flag=True)
@pass_app
def stop(app, as_text):
    """Refuse writes and stop draining (queued rows are kept; the installed timer is
    disabled)."""
    _flip(app, "stopped", as_text)


@scheduler.command("install")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(0, 86400),
              help="Seconds between drains (at least 60 for systemd and launchd).")
@pass_app
def install_cmd(app, interval):
    """Install and enable the OS timer that drains the queue (systemd user units,
    a launchd agent, or, in serve mode, record the interval). Ends 'started'."""
    from memman.scheduler import units

    out = units.install(app.datadir, interval)
    for hint in out.get("hints", []):
        click.echo(f"Hint: {hint}", err=True)
    emit(out)


@scheduler.command("uninstall")
@pass_app
def uninstall_cmd(app):
    """Disable and remove the timer units. Keeps scheduler.state, the env file and
    every memory."""
    from memman.scheduler import units

    out = units.uninstall(app.datadir)
    for warning in out.get("warnings", []):
        click.echo(f"Warning: {warning}", err=True)
    emit(out)


@scheduler.command("trigger")
@pass_app
def trigger_cmd(app):
    """Start a drain now through the service manager (not in serve mode)."""
    from memman.scheduler import units

    emit(units.trigger(app.datadir))


@scheduler.command("interval")
@click.option("--seconds", type=click.IntRange(0, 86400),
              help="New interval (at least 60 for systemd and launchd; serve: 0 = continuous).")
@pass_app
def interval_cmd(app, seconds):
    """Show the drain interval, or rewrite the timer with a new one (a stopped
    scheduler stays stopped)."""
    from memman.scheduler import units

    if seconds is None:
        emit(units.get_interval(app.datadir))
        return
    out = units.set_interval(app.datadir, seconds)
    for hint in out.get("hints", []):
        click.echo(f"Hint: {hint}", err=True)
    emit(out)


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
