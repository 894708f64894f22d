"""``memman migrate``: move stores between the SQLite and Postgres backends.

Prints the plan (and stops there with ``--dry-run``), asks before going on unless
``--yes``, then migrates each store in turn (memman.migrate.run). Output is one JSON
document; a failed store stops the run with a one-line error and leaves that store on
its source backend.
"""
import sys

import click

from memman.cli.context import emit, pass_app


@click.command()
@click.option("--store", "store_name", metavar="NAME", help="The store to migrate.")
@click.option("--all", "all_stores", is_flag=True, help="Every store in the data dir.")
@click.option("--to", "to", type=click.Choice(["postgres", "sqlite"]), default="postgres",
              show_default=True, help="The backend to move to.")
@click.option("--dry-run", is_flag=True, help="Show the plan and row counts; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def migrate(app, store_name, all_stores, to, dry_run, yes):
    """Copy stores to another backend, verify, switch, archive the source."""
    from memman.config.stores import validate_name
    from memman.errors import MemmanError
    from memman.migrate import run

    if bool(store_name) == bool(all_stores):
        raise click.UsageError("give exactly one of --store NAME and --all")
    if store_name:
        stores = [validate_name(store_name)]
    else:
        stores = run.all_stores(app.datadir, app.settings)
    plans = [run.plan(app.datadir, app.settings, s, to) for s in stores]
    todo = [p for p in plans if p["action"] != "skip"]
    if dry_run or not todo:
        emit({"plan": plans, "dry_run": dry_run, "migrated": [],
              "skipped": [p["store"] for p in plans if p["action"] == "skip"]})
        return
    if not yes:
        if not sys.stdin.isatty():
            raise MemmanError("refusing to migrate without --yes (stdin is not a terminal)")
        for entry in todo:
            click.echo(f"{entry['store']}: {entry['from']} -> {entry['to']} {entry['target']} "
                       f"[{entry['target_state']}: will {entry['action']}]", err=True)
        click.confirm("Proceed?", default=False, abort=True, err=True)
    from memman import progress

    def bar(total, desc):
        return progress.Bar(total, desc=desc, unit="row")

    migrated = []
    for entry in todo:
        migrated.append(run.migrate(app.datadir, app.settings, entry["store"], to,
                                    bar_factory=bar))
    emit({"plan": plans, "dry_run": False, "migrated": migrated,
          "skipped": [p["store"] for p in plans if p["action"] == "skip"]})
