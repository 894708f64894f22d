"""Helpers for the worker's behavioural tests (test_worker_llm, test_worker_zero_config).

- ``store(data_dir)``: a context manager around the store's ``SQLiteBackend``
  (the file the worker writes: ``<data_dir>/data/<store>/memman.db``);
- ``queue_row(data_dir, id)``: a queue row as a dict (status, attempts, last_error...);
- ``llm_mode(ok, loopback)``: a ``ChatScript`` with plausible defaults installed and
  the env file pointed at it (loopback endpoint, distinct per-role models);
- ``no_backoff(monkeypatch)``: the LLM client's retry back-off set to zero seconds, so
  retried 5xx / dropped connections do not really sleep;
- ``short_llm_timeout(monkeypatch, seconds)``: the drain's LLM client built with a
  short request timeout (memman has no setting for it; see the test that uses it);
- small readers: ``memories``, ``edges``, ``oplog``, ``rows_from_queue``.
"""
import contextlib
import json
from pathlib import Path

from memman.queue.db import QueueDB
from memman.store.sqlite import SQLiteBackend
from tests.fakes.chat import ChatScript

MODELS = {
    "MEMMAN_LLM_MODEL_FAST": "test/fast-model",
    "MEMMAN_LLM_MODEL_SLOW_CANONICAL": "test/canonical-model",
    "MEMMAN_LLM_MODEL_SLOW_METADATA": "test/metadata-model",
}
FAST, CANONICAL, METADATA = MODELS.values()
BUILTIN_FINGERPRINT = {"provider": "builtin", "model": "hash-ngram-v1", "dim": 384}


def store_path(data_dir: Path, store: str = "default") -> Path:
    return Path(data_dir) / "data" / store / "memman.db"


@contextlib.contextmanager
def store(data_dir: Path, name: str = "default"):
    backend = SQLiteBackend(store_path(data_dir, name))
    try:
        yield backend
    finally:
        backend.close()


def queue_row(data_dir: Path, row_id: int) -> dict | None:
    q = QueueDB(Path(data_dir) / "queue.db")
    try:
        row = q.get(row_id)
        return dict(row) if row is not None else None
    finally:
        q.close()


def memories(data_dir: Path, name: str = "default", *, deleted: bool = False) -> list:
    """Every memory of the store (active only unless ``deleted``), oldest first."""
    if not store_path(data_dir, name).is_file():
        return []
    with store(data_dir, name) as b:
        where = "" if deleted else " WHERE deleted_at IS NULL"
        rows = b.conn.execute(f"SELECT id FROM insights{where} ORDER BY seq").fetchall()
        ids = [r[0] for r in rows]
        out = []
        for i in ids:
            out.append(b.get_insight(i, include_deleted=True))
        return out


def by_content(data_dir: Path, text: str, name: str = "default"):
    found = [m for m in memories(data_dir, name, deleted=True) if m.content == text]
    assert len(found) == 1, (text, [m.content for m in memories(data_dir, name, deleted=True)])
    return found[0]


def edges(data_dir: Path, name: str = "default", *, edge_type: str | None = None) -> list[dict]:
    if not store_path(data_dir, name).is_file():
        return []
    with store(data_dir, name) as b:
        sql, args = "SELECT * FROM edges", []
        if edge_type:
            sql += " WHERE edge_type = ?"
            args.append(edge_type)
        return [{"source_id": r["source_id"], "target_id": r["target_id"],
                 "edge_type": r["edge_type"], "weight": r["weight"],
                 "metadata": json.loads(r["metadata"] or "{}")}
                for r in b.conn.execute(sql + " ORDER BY rowid", args)]


def oplog(data_dir: Path, name: str = "default") -> list:
    if not store_path(data_dir, name).is_file():
        return []
    with store(data_dir, name) as b:
        return list(reversed(b.list_oplog(since=None, limit=100000)))


def traces_of_queue_row(data_dir: Path, queue_id: int, name: str = "default") -> dict:
    """Everything the store holds that came from queue row ``queue_id``."""
    mems = [m for m in memories(data_dir, name, deleted=True) if m.queue_id == queue_id]
    ops = [e for e in oplog(data_dir, name) if f"queue row {queue_id}" in (e.detail or "")]
    return {"memories": mems, "oplog": ops}


def embedding_blob(data_dir: Path, insight_id: str, name: str = "default") -> bytes | None:
    with store(data_dir, name) as b:
        row = b.conn.execute("SELECT embedding FROM insights WHERE id = ?",
                             (insight_id,)).fetchone()
        return row[0] if row else None


def backdate(data_dir: Path, ids, seconds: float, name: str = "default") -> None:
    """Move ``created_at`` (and updated_at) of ``ids`` ``seconds`` into the past."""
    from memman import clock

    stamp = clock.iso(clock.now() - seconds)
    with store(data_dir, name) as b, b.transaction():
        for i in ids:
            b.conn.execute("UPDATE insights SET created_at = ?, updated_at = ? WHERE id = ?",
                           (stamp, stamp, i))


# -- LLM mode ------------------------------------------------------------------------


def llm_mode(ok, loopback, *, defaults: bool = True, models: dict | None = None) -> ChatScript:
    """A ChatScript on ``loopback`` (with ``defaults()`` unless told otherwise) and the
    env file set to use it: loopback endpoint (no key needed) and one model per role."""
    script = ChatScript()
    if defaults:
        script.defaults()
    endpoint = script.install(loopback)
    ok("config", "set", "MEMMAN_LLM_ENDPOINT", endpoint)
    for key, value in (models or MODELS).items():
        ok("config", "set", key, value)
    return script


def no_backoff(monkeypatch) -> None:
    """Retries inside the LLM client wait 0 s instead of 1, 2, 4 s."""
    import memman.llm.client as client

    monkeypatch.setattr(client, "BACKOFF_SECONDS", (0.0, 0.0, 0.0))


def short_llm_timeout(monkeypatch, seconds: float) -> None:
    """The drain builds its client with ``from_settings(settings, cache=...)`` and the
    client's 60 s default timeout; no setting shortens it, so wrap ``from_settings``."""
    import memman.llm.client as client

    original = client.from_settings

    def patched(settings, *, cache=None, **kwargs):
        kwargs.setdefault("timeout", seconds)
        return original(settings, cache=cache, **kwargs)

    monkeypatch.setattr(client, "from_settings", patched)


def fact(text, category="fact", importance=3, entities=None) -> dict:
    return {"text": text, "category": category, "importance": importance,
            "entities": list(entities or [])}


def extraction(*facts, skip_reason=None) -> dict:
    return {"facts": list(facts), "skip_reason": skip_reason}


def decision(action, target=None, merged_text=None, reason="scripted", fact_index=0) -> dict:
    return {"fact": fact_index, "action": action, "target": target,
            "merged_text": merged_text, "reason": reason}


def drain(ok, *args) -> dict:
    return ok("scheduler", "drain", *args)


def only_row(out: dict) -> dict:
    assert len(out["rows"]) == 1, out
    return out["rows"][0]


def candidate_index(call, needle: str) -> int:
    """The number the model sees for the candidate memory containing ``needle`` (in a
    reconciliation or causal user message: ``[i] (date) text`` / ``[i] text``)."""
    import re

    for line in call.user.splitlines():
        m = re.match(r"^\[(\d+)\] (?:\(\S+\) )?(.*)$", line)
        if m and needle in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"no candidate containing {needle!r} in:\n{call.user}")


def chat_bodies(loopback) -> list[dict]:
    """The JSON bodies of every chat request the loopback server received."""
    return [r.json for r in loopback.requests if r.path.endswith("/chat/completions")]


def recall_ids(ok, *query) -> list[str]:
    """Ids ``memman recall`` returns (either result shape: a memory, or {"insight": ...})."""
    out = ok("recall", *query)
    return [r["insight"]["id"] if "insight" in r else r["id"] for r in out["results"]]
