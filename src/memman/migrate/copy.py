"""Copying a store's rows between backends, and the checksums that prove a copy.

A checksum is taken over a canonical form of each row, so the same data gives the
same digest on either backend: JSON columns re-serialised with sorted keys (Postgres
hands JSONB back with its own spacing and key order), floats rounded to 9 places,
vectors as the hash of their float32 bytes.
"""
import hashlib
import json

from memman.store.base import COPIED_TABLES, Backend

JSON_COLUMNS = {
    "insights": {"entities", "keywords", "semantic_facts"},
    "edges": {"metadata"},
    "oplog": {"before", "after"},
    "insight_history": {"entities", "keywords", "semantic_facts", "edges"},
}
BATCH = 500


def _canonical(table: str, row: dict) -> str:
    out = {}
    for column in COPIED_TABLES[table]:
        value = row.get(column)
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
        elif isinstance(value, float):
            value = round(value, 9)
        elif isinstance(value, str) and column in JSON_COLUMNS.get(table, ()):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[column] = value
    return json.dumps(out, sort_keys=True, ensure_ascii=False, default=str)


def checksums(backend: Backend) -> dict[str, dict]:
    """``{table: {"rows": n, "sha256": digest}}`` for every copied table."""
    result = {}
    with backend.read_snapshot():
        for table in COPIED_TABLES:
            digest = hashlib.sha256()
            rows = 0
            for row in backend.dump_rows(table, batch=BATCH):
                digest.update(_canonical(table, row).encode())
                digest.update(b"\n")
                rows += 1
            result[table] = {"rows": rows, "sha256": digest.hexdigest()}
    return result


def copy_rows(source: Backend, target: Backend, *, bar=None) -> dict[str, int]:
    """Every copied table from ``source`` into the (empty) ``target``; rows per table.
    One transaction on the target, so a copy that stops half way leaves it empty."""
    copied = {}
    with source.read_snapshot(), target.transaction():
        for table in COPIED_TABLES:
            batch, count = [], 0
            for row in source.dump_rows(table, batch=BATCH):
                batch.append(row)
                if len(batch) >= BATCH:
                    target.load_rows(table, batch)
                    count += len(batch)
                    if bar is not None:
                        bar.update(len(batch))
                    batch = []
            target.load_rows(table, batch)
            count += len(batch)
            if bar is not None:
                bar.update(len(batch))
            copied[table] = count
    return copied


def differences(a: dict, b: dict) -> list[str]:
    """Tables whose row count or checksum differ, as readable phrases."""
    out = []
    for table in COPIED_TABLES:
        left, right = a.get(table), b.get(table)
        if left == right:
            continue
        if left is None or right is None or left["rows"] != right["rows"]:
            out.append(f"{table}: {left and left['rows']} rows vs {right and right['rows']}")
        else:
            out.append(f"{table}: same row count ({left['rows']}), different content")
    return out
