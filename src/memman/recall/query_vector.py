"""The query's vector, computed the way the store's memories were.

Builtin stores embed locally (no network at all). Remote stores make at most one
embedding request, bounded by ``MEMMAN_RECALL_EMBED_TIMEOUT`` (default 2 s) with no
retries, and remember the answer in ``<data_dir>/cache/query_vectors.db`` so a
repeated query costs nothing. Any failure returns None and a reason: recall then
runs on keywords, entities, recency and the graph, and says so in ``meta``.
"""
import sqlite3

CACHE_MAX_ROWS = 20_000


def query_vector(query: str, fingerprint: dict | None, settings, cache_dir):
    """(vector or None, None or the reason it is missing)."""
    if not fingerprint:
        return None, "store has no embeddings yet"
    from memman.embed.base import EmbedError
    from memman.embed.registry import for_fingerprint, is_remote

    provider = fingerprint.get("provider")
    try:
        if not is_remote(provider):
            return for_fingerprint(fingerprint, settings).embed_one(query), None
        key = _key(fingerprint, query)
        cached = _cache_get(cache_dir, key)
        if cached is not None:
            return cached, None
        timeout = float(settings.get("MEMMAN_RECALL_EMBED_TIMEOUT") or 2)
        embedder = for_fingerprint(fingerprint, settings, timeout=timeout, retries=0,
                                   query=True)
        vector = embedder.embed_one(query)
        _cache_put(cache_dir, key, vector)
        return vector, None
    except EmbedError as exc:
        return None, f"query embedding failed ({exc}); ranked without vectors"
    except Exception as exc:  # recall must answer even when the embedder misbehaves
        return None, f"query embedding failed ({type(exc).__name__}); ranked without vectors"


def _key(fingerprint: dict, query: str) -> str:
    import hashlib

    ident = f"{fingerprint.get('provider')}|{fingerprint.get('model')}|{fingerprint.get('dim')}"
    return hashlib.sha256(f"{ident}\0{query.strip()}".encode("utf-8")).hexdigest()


def _connect(cache_dir):
    import os

    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    conn = sqlite3.connect(os.path.join(str(cache_dir), "query_vectors.db"), timeout=0.2,
                           isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB, "
                 "used_at REAL)")
    return conn


def _cache_get(cache_dir, key):
    import numpy as np

    try:
        conn = _connect(cache_dir)
        try:
            row = conn.execute("SELECT vector FROM vectors WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return np.frombuffer(row[0], dtype="<f4").copy() if row else None


def _cache_put(cache_dir, key, vector) -> None:
    import time

    import numpy as np

    try:
        conn = _connect(cache_dir)
        try:
            conn.execute("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                         (key, np.asarray(vector, dtype="<f4").tobytes(), time.time()))
            conn.execute("DELETE FROM vectors WHERE key IN (SELECT key FROM vectors "
                         "ORDER BY used_at DESC LIMIT -1 OFFSET ?)", (CACHE_MAX_ROWS,))
        finally:
            conn.close()
    except sqlite3.Error:
        pass
