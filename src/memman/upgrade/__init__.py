"""Upgrading data written by memman 0.16, in place, on first open.

A 0.16 database has the 0.16 tables but none of our ``_migrations`` bookkeeping.
``store_016.upgrade_if_needed`` (called by ``store.open.open_store``) and
``queue_016.upgrade_if_needed`` (called by ``queue.db.QueueDB``) detect that, copy the
file to ``archive/`` first, then convert it. Every upgrade is recorded in
``archive/upgrades.jsonl``; ``report.doctor_checks`` turns that record into doctor
checks. The env file and the ``active`` file of 0.16 need no conversion.
"""
import sqlite3

# Tables a 0.16 database has, per kind; ours always has _migrations as well.
MARKERS = {"store": "insights", "queue": "queue"}


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def is_016(conn: sqlite3.Connection, kind: str) -> bool:
    """Does ``conn`` hold a 0.16 database of ``kind`` (``store`` or ``queue``)?"""
    names = table_names(conn)
    return MARKERS[kind] in names and "_migrations" not in names
