"""QueueDB: every read and write of queue.db."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from memman import clock, db
from memman.errors import MemmanError
from memman.queue.schema import migrations

STALE_CLAIM_SECONDS = 600
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 600
STALE_AGE_SECONDS = 7 * 86400
DONE_RETENTION_SECONDS = 60
WORKER_RUNS_KEEP_SECONDS = 7 * 86400
USAGE_KEEP_DAYS = 400
MAX_ERROR_CHARS = 1000
PREVIEW_CHARS = 80


def backoff_seconds(attempts: int) -> float:
    """60 * 2^(n-1) seconds after the n-th failed attempt, capped at 600."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)


def row_dict(row: sqlite3.Row, *, full: bool = False) -> dict:
    out = {
        "id": row["id"],
        "store": row["store"],
        "priority": row["priority"],
        "queued_at": row["queued_at"],
        "claimed_at": row["claimed_at"],
        "attempts": row["attempts"],
        "status": row["status"],
        "processed_at": row["processed_at"],
        "content_preview": row["content"][:PREVIEW_CHARS],
        "last_error": row["last_error"],
    }
    if full:
        out["content"] = row["content"]
        out["available_at"] = row["available_at"]
        out["worker_pid"] = row["worker_pid"]
        out["redactions"] = json.loads(row["redactions"]) if row["redactions"] else []
        out["hints"] = hints_of(row)
    return out


def hints_of(row) -> dict:
    """The caller's hints stored on a queue row (None where not given)."""
    return {
        "category": row["hint_cat"],
        "importance": row["hint_imp"],
        "source": row["hint_source"],
        "entities": json.loads(row["hint_entities"]) if row["hint_entities"] else None,
        "replaced_id": row["hint_replaced_id"],
        "no_reconcile": bool(row["hint_no_reconcile"]),
        # import hints (queue migration m003; absent from rows of older queues)
        "created_at": _optional(row, "hint_created_at"),
        "id": _optional(row, "hint_id"),
    }


def _optional(row, key):
    """A column added by a later migration (absent from rows read without it)."""
    return row[key] if key in row.keys() else None


class QueueDB:
    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = Path(path)
        try:
            self.conn = db.connect(str(self.path), readonly=readonly)
            if not readonly:
                if not migrations.applied(self.conn):  # new, or written by memman 0.16
                    from memman.upgrade import queue_016

                    queue_016.upgrade_if_needed(self.conn, self.path, migrations)
                migrations.apply(self.conn)
        except sqlite3.Error as exc:
            raise db.describe_error("queue database", self.path, exc) from None

    def close(self) -> None:
        self.conn.close()

    def _write(self, sql: str, args=(), *, fetch: bool = False):
        """Run one write in its own transaction; returns the cursor, or with
        ``fetch`` the first row it returned (read before the commit)."""
        try:
            with db.transaction(self.conn):
                cur = self.conn.execute(sql, args)
                return cur.fetchone() if fetch else cur
        except sqlite3.Error as exc:
            raise db.describe_error("queue database", self.path, exc) from None

    # -- producers -----------------------------------------------------------
    def enqueue(self, store: str, content: str, *, category=None, importance=None, source=None,
                entities=None, replaced_id=None, no_reconcile=False, priority=0,
                redactions=None, created_at=None, insight_id=None) -> int:
        """``created_at`` and ``insight_id`` (import only): the new memory's creation time,
        and the id it should get if no memory of the store has that id yet."""
        now = clock.now()
        cur = self._write(
            "INSERT INTO queue (store, content, hint_cat, hint_imp, hint_source, hint_entities, "
            "hint_replaced_id, hint_no_reconcile, priority, queued_at, available_at, redactions, "
            "hint_created_at, hint_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (store, content, category, importance, source,
             json.dumps(entities, ensure_ascii=False) if entities is not None else None,
             replaced_id, int(bool(no_reconcile)), priority, now, now,
             json.dumps(redactions) if redactions else None, created_at, insight_id),
        )
        return cur.lastrowid

    def batch(self):
        """Group several producer writes into one transaction (a context manager)."""
        return db.transaction(self.conn)

    # -- pending edges (import) ------------------------------------------------
    def add_pending_edge(self, store: str, source_id: str, target_id: str, *,
                         source_queue_id: int | None, target_queue_id: int | None,
                         edge_type: str, weight: float, metadata: dict,
                         created_at: str | None) -> int:
        return self._write(
            "INSERT INTO pending_edges (store, source_id, target_id, source_queue_id, "
            "target_queue_id, edge_type, weight, metadata, created_at, queued_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (store, source_id, target_id, source_queue_id, target_queue_id, edge_type, weight,
             json.dumps(metadata, sort_keys=True, ensure_ascii=False), created_at, clock.now()),
        ).lastrowid

    def pending_edge_stores(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT store FROM pending_edges ORDER BY store")]

    def pending_edges(self, store: str, limit: int) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT * FROM pending_edges WHERE store = ? ORDER BY id LIMIT ?",
            (store, limit)).fetchall()

    def count_pending_edges(self, store: str | None = None) -> int:
        if store is None:
            return self.conn.execute("SELECT count(*) FROM pending_edges").fetchone()[0]
        return self.conn.execute(
            "SELECT count(*) FROM pending_edges WHERE store = ?", (store,)).fetchone()[0]

    def delete_pending_edges(self, ids: list[int]) -> int:
        deleted = 0
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            deleted += self._write(
                f"DELETE FROM pending_edges WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk).rowcount
        return deleted

    # -- the worker ----------------------------------------------------------
    def claim(self, *, stores: list[str] | None = None) -> sqlite3.Row | None:
        """Claim the next runnable row: pending and due, or claimed by a worker
        that has been silent for STALE_CLAIM_SECONDS (it crashed)."""
        now = clock.now()
        where = (
            "((status = 'pending' AND available_at <= :now) OR "
            "(status = 'claimed' AND claimed_at <= :stale))"
        )
        args: dict = {"now": now, "stale": now - STALE_CLAIM_SECONDS, "pid": os.getpid()}
        if stores:
            names = {f"s{i}": s for i, s in enumerate(stores)}
            where += f" AND store IN ({', '.join(':' + k for k in names)})"
            args.update(names)
        return self._write(
            "UPDATE queue SET status = 'claimed', claimed_at = :now, worker_pid = :pid, "
            "attempts = attempts + 1 WHERE id = (SELECT id FROM queue WHERE "
            f"{where} ORDER BY priority DESC, id LIMIT 1) RETURNING *",
            args,
            fetch=True,
        )

    def mark_done(self, row_id: int) -> None:
        self._write(
            "UPDATE queue SET status = 'done', processed_at = ?, last_error = NULL WHERE id = ?",
            (clock.now(), row_id),
        )

    def mark_failed(self, row_id: int, error: str) -> str:
        """Back to pending with back-off, or failed for good; returns the new status."""
        row = self.conn.execute("SELECT attempts FROM queue WHERE id = ?", (row_id,)).fetchone()
        attempts = row["attempts"] if row else MAX_ATTEMPTS
        now = clock.now()
        error = error[:MAX_ERROR_CHARS]
        if attempts >= MAX_ATTEMPTS:
            self._write(
                "UPDATE queue SET status = 'failed', processed_at = ?, last_error = ? WHERE id = ?",
                (now, error, row_id),
            )
            return "failed"
        self._write(
            "UPDATE queue SET status = 'pending', available_at = ?, last_error = ? WHERE id = ?",
            (now + backoff_seconds(attempts), error, row_id),
        )
        return "pending"

    def recover_orphans(self) -> int:
        """Rows left ``claimed`` by a worker that died. Call only while holding the
        drain lock: drains are exclusive per data dir, so no live worker owns them.
        Their attempt stays counted, so a row that crashes the worker fails in the end."""
        return self._write(
            "UPDATE queue SET status = 'pending', claimed_at = NULL, worker_pid = NULL, "
            "available_at = ?, last_error = coalesce(last_error, 'worker died while processing') "
            "WHERE status = 'claimed'", (clock.now(),)).rowcount

    def release(self, row_id: int) -> None:
        """Give back a claimed row that was never worked on (a stopping worker)."""
        self._write(
            "UPDATE queue SET status = 'pending', claimed_at = NULL, worker_pid = NULL, "
            "attempts = max(attempts - 1, 0) WHERE id = ? AND status = 'claimed'", (row_id,))

    # -- operators -----------------------------------------------------------
    def get(self, row_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM queue WHERE id = ?", (row_id,)).fetchone()

    def list(self, *, status: str | None = None, store: str | None = None,
             limit: int = 50) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM queue WHERE 1 = 1", []
        if status:
            sql += " AND status = ?"
            args.append(status)
        if store:
            sql += " AND store = ?"
            args.append(store)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return self.conn.execute(sql, args).fetchall()

    def stats(self, *, store: str | None = None) -> dict:
        sql = "SELECT status, count(*), min(queued_at) FROM queue"
        args = []
        if store:
            sql += " WHERE store = ?"
            args.append(store)
        sql += " GROUP BY status"
        out = {s: 0 for s in ("pending", "claimed", "done", "failed", "stale")}
        oldest = None
        for status, count, first in self.conn.execute(sql, args):
            out[status] = count
            if status in ("pending", "claimed"):
                oldest = first if oldest is None else min(oldest, first)
        out["oldest_pending_age_seconds"] = (
            round(clock.now() - oldest, 1) if oldest is not None else None
        )
        return out

    def pending_by_store(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT store, count(*) FROM queue WHERE status IN ('pending', 'claimed') "
            "GROUP BY store ORDER BY store"
        )
        return {r[0]: r[1] for r in rows}

    def retry(self, row_id: int) -> bool:
        cur = self._write(
            "UPDATE queue SET status = 'pending', attempts = 0, available_at = ?, "
            "claimed_at = NULL, processed_at = NULL, last_error = NULL "
            "WHERE id = ? AND status IN ('failed', 'stale')",
            (clock.now(), row_id),
        )
        return cur.rowcount > 0

    def retry_all(self, status: str) -> int:
        cur = self._write(
            "UPDATE queue SET status = 'pending', attempts = 0, available_at = ?, "
            "claimed_at = NULL, processed_at = NULL, last_error = NULL WHERE status = ?",
            (clock.now(), status),
        )
        return cur.rowcount

    def purge(self, status: str) -> int:
        sql, args = "DELETE FROM queue WHERE status = ?", [status]
        if status == "done":
            sql += " AND processed_at <= ?"
            args.append(clock.now() - DONE_RETENTION_SECONDS)
        return self._write(sql, args).rowcount

    def park_stale(self) -> int:
        """Pending rows never tried and older than a week become ``stale``."""
        return self._write(
            "UPDATE queue SET status = 'stale' WHERE status = 'pending' AND attempts = 0 "
            "AND queued_at <= ?",
            (clock.now() - STALE_AGE_SECONDS,),
        ).rowcount

    def delete_store_rows(self, store: str) -> int:
        with self.batch():
            self._write("DELETE FROM pending_edges WHERE store = ?", (store,))
            return self._write("DELETE FROM queue WHERE store = ?", (store,)).rowcount

    # -- worker runs -----------------------------------------------------------
    @property
    def origin(self) -> str:
        """This queue's uuid (memories keep it beside their ``queue_id``)."""
        if getattr(self, "_origin", None) is None:
            row = self.conn.execute(
                "SELECT value FROM queue_meta WHERE key = 'origin'").fetchone()
            self._origin = row[0]
        return self._origin

    def start_run(self) -> int:
        import socket

        now = clock.now()
        return self._write(
            "INSERT INTO worker_runs (started_at, heartbeat_at, worker_pid, hostname) "
            "VALUES (?, ?, ?, ?)",
            (now, now, os.getpid(), socket.gethostname()),
        ).lastrowid

    def heartbeat(self, run_id: int, *, claimed: int, done: int, failed: int) -> None:
        self._write(
            "UPDATE worker_runs SET heartbeat_at = ?, rows_claimed = ?, rows_done = ?, "
            "rows_failed = ? WHERE id = ?",
            (clock.now(), claimed, done, failed, run_id),
        )

    def finish_run(self, run_id: int, *, claimed: int, done: int, failed: int,
                   error: str | None = None) -> None:
        now = clock.now()
        self._write(
            "UPDATE worker_runs SET finished_at = ?, heartbeat_at = ?, rows_claimed = ?, "
            "rows_done = ?, rows_failed = ?, error = ?, "
            "duration_ms = CAST((? - started_at) * 1000 AS INTEGER) WHERE id = ?",
            (now, now, claimed, done, failed, error, now, run_id),
        )

    def last_run(self) -> dict | None:
        row = self.conn.execute("SELECT * FROM worker_runs ORDER BY id DESC LIMIT 1").fetchone()
        return dict(row) if row else None

    def prune_runs(self) -> int:
        return self._write(
            "DELETE FROM worker_runs WHERE started_at <= ?",
            (clock.now() - WORKER_RUNS_KEEP_SECONDS,),
        ).rowcount

    # -- usage -------------------------------------------------------------------
    def add_usage(self, rows: list[dict]) -> None:
        """Add per-day call and token totals (memman.usage rows) in one transaction,
        and drop days older than USAGE_KEEP_DAYS."""
        now = clock.now()
        try:
            with db.transaction(self.conn):
                self.conn.executemany(
                    "INSERT INTO usage (day, kind, purpose, provider, model, calls, errors, "
                    "prompt_tokens, completion_tokens, total_tokens, updated_at) "
                    "VALUES (:day, :kind, :purpose, :provider, :model, :calls, :errors, "
                    ":prompt_tokens, :completion_tokens, :total_tokens, :now) "
                    "ON CONFLICT (day, kind, purpose, provider, model) DO UPDATE SET "
                    "calls = calls + excluded.calls, errors = errors + excluded.errors, "
                    "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                    "completion_tokens = completion_tokens + excluded.completion_tokens, "
                    "total_tokens = total_tokens + excluded.total_tokens, "
                    "updated_at = excluded.updated_at",
                    [{**row, "now": now} for row in rows])
                self.conn.execute("DELETE FROM usage WHERE day < ?",
                                  (clock.iso(now - USAGE_KEEP_DAYS * 86400)[:10],))
        except sqlite3.Error as exc:
            raise db.describe_error("queue database", self.path, exc) from None

    def usage_rows(self, *, since_day: str | None = None) -> list[dict]:
        """Usage rows of ``since_day`` (YYYY-MM-DD, UTC) and later, oldest first; []
        for a queue opened read-only before it had the usage table."""
        sql, args = "SELECT * FROM usage", []
        if since_day:
            sql += " WHERE day >= ?"
            args.append(since_day)
        try:
            rows = self.conn.execute(sql + " ORDER BY day, kind, purpose, provider, model",
                                     args).fetchall()
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return []
            raise db.describe_error("queue database", self.path, exc) from None
        return [dict(r) for r in rows]

    # -- doctor ------------------------------------------------------------------
    def schema_problems(self) -> list[str]:
        """Missing tables and migrations not applied yet; [] when the schema is current."""
        tables = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        problems = [f"table {t} missing" for t in ("queue", "worker_runs")
                    if t not in tables]
        problems += [f"migration {name} not applied" for name in migrations.pending(self.conn)]
        return problems


def open_queue(datadir, *, create: bool = True, readonly: bool = False) -> QueueDB | None:
    """The data dir's queue; None when it does not exist and ``create`` is False."""
    path = datadir.queue_db
    if not path.is_file():
        if not create:
            return None
        datadir.ensure()
    if path.is_dir():
        raise MemmanError(f"queue database {path} is a directory; move it aside")
    return QueueDB(path, readonly=readonly)
