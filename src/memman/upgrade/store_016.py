"""Upgrade a memman 0.16 store (``data/<store>/memman.db``) to our schema.

On the first writable open of a 0.16 file: take the store's upgrade lock, copy the
file to ``archive/<store>/<YYYYMMDD>_<NN>/memman.db``, build our schema in a
scratch file beside it, copy every memory, edge, oplog row and meta key across
(ids, timestamps, access counts, edge weights and metadata kept; float64 vectors
become float32; timestamps take our fixed-width form), check the counts, and
rename the scratch file over the original. A failure leaves the original in
place. The store's ``meta`` gets ``upgraded_from_016`` (time, backup, counts).
"""
import json
import os
import sqlite3
from pathlib import Path

from memman import clock, db
from memman.errors import MemmanError
from memman.upgrade import common, is_016

META_KEY = "upgraded_from_016"
SCRATCH_SUFFIX = ".upgrade-016"
TIME_COLUMNS = ("last_accessed_at", "linked_at", "enriched_at", "created_at", "updated_at",
                "deleted_at")
# Our insights columns a 0.16 store also has (seq, queue_id, protected are ours only).
COPIED_COLUMNS = ("id", "content", "category", "importance", "entities", "source",
                  "access_count", "keywords", "summary", "semantic_facts", "last_accessed_at",
                  "embedding", "embedding_pending", "effective_importance", "linked_at",
                  "enriched_at", "created_at", "updated_at", "deleted_at", "prompt_version",
                  "model_id", "embedding_model")
DEFAULTS = {"category": "general", "importance": 3, "source": "user", "access_count": 0,
            "effective_importance": 0.5}
OLD_SNAPSHOT = "recall_snapshot.v1.bin"  # 0.16's recall file; ours has another name


def needs_upgrade(path: Path) -> bool:
    """A cheap look at the file: 0.16 tables and no ``_migrations``."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        return is_016(conn, "store")
    except sqlite3.Error:
        return False  # unreadable: the normal open reports it
    finally:
        conn.close()


def upgrade_if_needed(datadir, store: str) -> dict | None:
    """Upgrade ``store`` if it is a 0.16 file; returns the record, or None."""
    path = datadir.store_db(store)
    if not needs_upgrade(path):
        return None
    with common.exclusive(datadir.store_dir(store) / ".upgrade.lock"):
        if not needs_upgrade(path):  # another process upgraded it meanwhile
            return None
        return _upgrade(datadir, store, path)


def _upgrade(datadir, store: str, path: Path) -> dict:
    scratch = path.with_name(path.name + SCRATCH_SUFFIX)
    old = sqlite3.connect(str(path), isolation_level=None)
    try:
        slot = datadir.archive_slot(store)
        backup = common.backup(old, slot, "memman.db")
        expected = _counts(old, source=True)
        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise db.describe_error("store database", path, exc) from None
    finally:
        old.close()
    _remove(scratch)
    try:
        counts = _build(scratch, path, backup, expected)
    except BaseException:
        _remove(scratch)
        raise
    for suffix in ("-wal", "-shm"):  # the old file's side files, empty after the checkpoint
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(scratch, path)
    snapshot = path.parent / OLD_SNAPSHOT
    if snapshot.exists():
        os.replace(snapshot, slot / OLD_SNAPSHOT)
    entry = {"kind": "store", "store": store, "upgraded_at": clock.iso(),
             "backup": str(backup), "counts": counts}
    common.record(datadir, entry)
    return entry


def _counts(conn, *, source: bool, schema: str = "main") -> dict:
    present = {r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}
    out = {}
    for table in ("insights", "edges", "oplog", "meta"):
        out[table] = (conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
                      if table in present else 0)
    if source and "edges" in present:  # edges whose ends both exist are the ones kept
        out["edges"] = conn.execute(
            f"SELECT count(*) FROM {schema}.edges e WHERE "
            f"e.source_id IN (SELECT id FROM {schema}.insights) AND "
            f"e.target_id IN (SELECT id FROM {schema}.insights)").fetchone()[0]
    return out


def _build(scratch: Path, path: Path, backup: Path, expected: dict) -> dict:
    from memman.store.sqlite_schema import migrations

    conn = db.connect(str(scratch))
    try:
        migrations.apply(conn)
        conn.execute("ATTACH DATABASE ? AS old", (str(path),))
        with db.transaction(conn):
            old_tables = {r[0] for r in conn.execute(
                "SELECT name FROM old.sqlite_master WHERE type = 'table'")}
            meta = dict(conn.execute("SELECT key, value FROM old.meta").fetchall()) \
                if "meta" in old_tables else {}
            _copy_insights(conn, meta)
            if "edges" in old_tables:
                _copy_edges(conn)
            if "oplog" in old_tables:
                _copy_oplog(conn)
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            counts = _counts(conn, source=False)
            mismatch = {k: (expected[k], counts[k]) for k in expected if expected[k] != counts[k]}
            if mismatch:
                raise MemmanError(f"upgrading {path} from memman 0.16 lost rows {mismatch}; "
                                  "the store was left as it was")
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (META_KEY, json.dumps(
                {"upgraded_at": clock.iso(), "backup": str(backup), "counts": counts},
                sort_keys=True)))
        conn.execute("DETACH DATABASE old")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise db.describe_error("store database", path, exc) from None
    finally:
        conn.close()
    return counts


def _dims(meta: dict) -> tuple[int | None, int | None]:
    """(dim of the live vectors, dim of a half-done swap's pending vectors)."""
    try:
        live = json.loads(meta.get("embed_fingerprint") or "null")
        live_dim = int(live["dim"]) if isinstance(live, dict) and live.get("dim") else None
    except (ValueError, TypeError, KeyError):
        live_dim = None
    try:
        pending_dim = int(meta.get("embed_swap_target_dim") or 0) or None
    except ValueError:
        pending_dim = None
    return live_dim, pending_dim


def _copy_insights(conn, meta: dict) -> None:
    live_dim, pending_dim = _dims(meta)
    present = {r[1] for r in conn.execute("PRAGMA old.table_info(insights)")}
    columns = [c for c in COPIED_COLUMNS if c in present]
    order = "created_at, rowid" if "created_at" in present else "rowid"
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM old.insights ORDER BY {order}")
    sql = (f"INSERT INTO insights ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    batch = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        for name, default in DEFAULTS.items():
            if name in item and item[name] is None:
                item[name] = default
        for name in TIME_COLUMNS:
            if name in item:
                item[name] = common.iso(item[name])
        if "updated_at" in item and item["updated_at"] is None:
            item["updated_at"] = item.get("created_at")
        if "entities" in item:
            item["entities"] = common.json_list(item["entities"], empty_default=True)
        for name in ("keywords", "semantic_facts"):
            if name in item:
                item[name] = common.json_list(item[name], empty_default=False)
        if "embedding" in item:
            item["embedding"] = common.float64_to_float32(item["embedding"], live_dim)
        if "embedding_pending" in item:
            item["embedding_pending"] = common.float64_to_float32(item["embedding_pending"],
                                                                  pending_dim)
        batch.append([item[c] for c in columns])
        if len(batch) >= 500:
            conn.executemany(sql, batch)
            batch = []
    if batch:
        conn.executemany(sql, batch)


def _copy_edges(conn) -> None:
    rows = conn.execute(
        "SELECT e.source_id, e.target_id, e.edge_type, coalesce(e.weight, 1.0), "
        "coalesce(e.metadata, '{}'), e.created_at FROM old.edges e "
        "WHERE e.source_id IN (SELECT id FROM main.insights) "
        "AND e.target_id IN (SELECT id FROM main.insights)").fetchall()
    conn.executemany(
        "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(*r[:5], common.iso(r[5]) or clock.iso()) for r in rows])


def _copy_oplog(conn) -> None:
    present = {r[1] for r in conn.execute("PRAGMA old.table_info(oplog)")}
    columns = [c for c in ("id", "operation", "insight_id", "detail", "created_at", "before",
                           "after") if c in present]
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM old.oplog ORDER BY id").fetchall()
    at = columns.index("created_at") if "created_at" in columns else None
    fixed = []
    for row in rows:
        row = list(row)
        if at is not None:
            row[at] = common.iso(row[at]) or clock.iso()
        fixed.append(row)
    conn.executemany(f"INSERT INTO oplog ({', '.join(columns)}) "
                     f"VALUES ({', '.join('?' * len(columns))})", fixed)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
