"""Upgrade a memman 0.16 ``queue.db`` in place, so its pending rows still drain.

0.16 kept no ``claimed`` status and no ``available_at``: a pending row with a
``claimed_at`` was locked until ``claimed_at + 600`` s (its back-off). The upgrade
copies the file to ``archive/_queue/<YYYYMMDD>_<NN>/queue.db``, then in one
transaction renames the 0.16 tables aside, creates ours, copies every row (ids,
times, attempts, status and errors kept; hints 0.16 never validated are kept only
when valid) and drops the old tables.
"""
import sqlite3

from memman import clock, db
from memman.upgrade import common, is_016, table_names

ARCHIVE_NAME = "_queue"  # not a valid store name, so no store's archive clashes
STALE_CLAIM_SECONDS = 600
QUEUE_COLUMNS = ("id", "store", "content", "hint_cat", "hint_imp", "hint_source",
                 "hint_entities", "hint_replaced_id", "hint_no_reconcile", "priority",
                 "queued_at", "available_at", "claimed_at", "processed_at", "worker_pid",
                 "attempts", "status", "last_error")
RUN_COLUMNS = ("id", "started_at", "finished_at", "worker_pid", "rows_claimed", "rows_done",
               "rows_failed", "duration_ms", "error")


def upgrade_if_needed(conn: sqlite3.Connection, path, migrations) -> dict | None:
    """Called before our migrations run on a queue that has none recorded."""
    if not is_016(conn, "queue"):
        return None
    from pathlib import Path

    from memman.config.datadir import DataDir

    datadir = DataDir(Path(path).parent)
    with common.exclusive(datadir.root / ".queue-upgrade.lock"):
        if not is_016(conn, "queue"):  # another process upgraded it meanwhile
            return None
        # the copy first (SQLite cannot copy from inside a write transaction)
        backup = common.backup(conn, datadir.archive_slot(ARCHIVE_NAME), "queue.db")
        with db.transaction(conn):
            counts = _convert(conn, migrations)
    entry = {"kind": "queue", "upgraded_at": clock.iso(), "backup": str(backup),
             "counts": counts}
    common.record(datadir, entry)
    return entry


def _convert(conn, migrations) -> dict:
    names = table_names(conn)
    old_seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'queue'").fetchone() \
        if "sqlite_sequence" in names else None
    renamed = {t: f"{t}_016" for t in ("queue", "worker_runs") if t in names}
    for table, aside in renamed.items():
        # 0.16 index names (idx_queue_store...) would clash with ours
        for (index,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL", (table,)).fetchall():
            conn.execute(f'DROP INDEX "{index}"')
        conn.execute(f"ALTER TABLE {table} RENAME TO {aside}")
    migrations.apply(conn)  # joins this transaction
    rows = conn.execute("SELECT * FROM queue_016 ORDER BY id").fetchall()
    keys = rows[0].keys() if rows else ()
    conn.executemany(
        f"INSERT INTO queue ({', '.join(QUEUE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(QUEUE_COLUMNS))})",
        [_queue_row(r, keys) for r in rows])
    runs = 0
    if "worker_runs" in renamed:
        present = {r[1] for r in conn.execute("PRAGMA table_info(worker_runs_016)")}
        columns = [c for c in RUN_COLUMNS if c in present]
        runs = conn.execute(
            f"INSERT INTO worker_runs ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM worker_runs_016").rowcount
    for aside in renamed.values():
        conn.execute(f"DROP TABLE {aside}")
    if old_seq is not None:  # ids of purged rows are not handed out again
        conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'queue'",
                     (old_seq[0],))
    by_status: dict[str, int] = {}
    for (status,) in conn.execute("SELECT status FROM queue"):
        by_status[status] = by_status.get(status, 0) + 1
    return {"queue_rows": len(rows), "by_status": by_status, "worker_runs": runs}


def _queue_row(row, keys) -> list:
    get = (lambda k: row[k] if k in keys else None)  # noqa: E731
    status = get("status") if get("status") in ("pending", "done", "failed", "stale") \
        else "pending"
    queued_at = get("queued_at") or clock.now()
    claimed_at = get("claimed_at")
    available_at = queued_at
    if status == "pending" and claimed_at is not None:
        available_at = claimed_at + STALE_CLAIM_SECONDS  # 0.16's lock / back-off
    values = {
        "id": get("id"), "store": get("store") or "default", "content": get("content") or "",
        "hint_replaced_id": get("hint_replaced_id"),
        "hint_no_reconcile": int(bool(get("hint_no_reconcile"))),
        "priority": get("priority") or 0, "queued_at": queued_at,
        "available_at": available_at, "claimed_at": claimed_at,
        "processed_at": get("processed_at"), "worker_pid": get("worker_pid"),
        "attempts": get("attempts") or 0, "status": status, "last_error": get("last_error"),
        **_hints(get),
    }
    return [values[c] for c in QUEUE_COLUMNS]


def _hints(get) -> dict:
    """0.16 stored hints unchecked; keep each one only if we would accept it."""
    import json

    from memman.errors import MemmanError
    from memman.intake import validate

    out = {}
    checks = (("hint_cat", validate.category), ("hint_imp", validate.importance),
              ("hint_source", validate.source))
    for column, check in checks:
        try:
            out[column] = check(get(column))
        except MemmanError:
            out[column] = None
    raw = get("hint_entities")
    try:
        entities = validate.entities(str(raw)) if raw is not None else None
    except MemmanError:
        entities = None
    out["hint_entities"] = json.dumps(entities, ensure_ascii=False) \
        if entities is not None else None
    return out
