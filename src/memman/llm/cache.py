"""The LLM response cache: answers we already paid for, keyed by exactly what was asked.

One SQLite file (conventionally ``<data_dir>/cache/llm.db``, WAL, 0600) maps
``cache_key(...)`` - a sha256 over the prompt version, model, system prompt, user
message, max_tokens and JSON mode - to the answer text and when it was stored.
The client consults it before sending a request and stores only answers that
passed its checks, so a truncated or unparseable answer is never replayed.

The cache is an optimisation and never a failure: if the file cannot be opened,
read or written, ``get`` answers None and ``put`` does nothing. It keeps the
newest ``max_rows`` entries (10,000 by default), trimming every ``trim_every``
puts. One connection guarded by a lock serves every thread; several processes
(worker and an interactive ``recall --expand``) may share the file.
"""
import hashlib
import os
import sqlite3
import threading
from pathlib import Path

from memman import clock

__all__ = ["ResponseCache", "cache_key", "MAX_ROWS"]

MAX_ROWS = 10_000
TRIM_EVERY = 100


def cache_key(prompt_version: str, model: str, system: str, user: str, max_tokens: int,
              json_mode: bool = True) -> str:
    """Hex sha256 of everything that shapes the answer (fields NUL-separated)."""
    parts = [prompt_version, model, system, user, str(int(max_tokens)),
             "json" if json_mode else "text"]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path, *, max_rows: int = MAX_ROWS, trim_every: int = TRIM_EVERY):
        self.path = Path(path)
        self.max_rows = max_rows
        self.trim_every = max(1, trim_every)
        self._lock = threading.Lock()
        self._puts = 0
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    # -- connection ------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection | None:
        """The shared connection, opened on first use; None once it proved unusable."""
        if self._conn is not None or self._broken:
            return self._conn
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            new = not self.path.exists()
            conn = sqlite3.connect(str(self.path), timeout=2.0, isolation_level=None,
                                   check_same_thread=False)
            if new:
                os.chmod(self.path, 0o600)
            conn.execute("PRAGMA busy_timeout=2000")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS responses ("
                " key TEXT PRIMARY KEY, text TEXT NOT NULL, created_at REAL NOT NULL)"
            )
            conn.execute(
                "CREATE INDEX IF NOT EXISTS responses_created ON responses(created_at)"
            )
        except (sqlite3.Error, OSError) as exc:
            self._broken = True
            _trace_failure("open", exc)
            return None
        self._conn = conn
        return conn

    # -- API -------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute("SELECT text FROM responses WHERE key = ?",
                                   (key,)).fetchone()
            except sqlite3.Error as exc:
                _trace_failure("get", exc)
                return None
        return row[0] if row else None

    def put(self, key: str, text: str) -> None:
        with self._lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO responses(key, text, created_at) VALUES (?, ?, ?)",
                    (key, text, clock.now()),
                )
                self._puts += 1
                if self._puts % self.trim_every == 0:
                    self._trim(conn)
            except sqlite3.Error as exc:
                _trace_failure("put", exc)

    def trim(self) -> None:
        """Drop all but the newest ``max_rows`` entries now."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                self._trim(conn)
            except sqlite3.Error as exc:
                _trace_failure("trim", exc)

    def count(self) -> int:
        with self._lock:
            conn = self._connection()
            if conn is None:
                return 0
            try:
                return conn.execute("SELECT count(*) FROM responses").fetchone()[0]
            except sqlite3.Error:
                return 0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None

    def _trim(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "DELETE FROM responses WHERE key IN ("
            " SELECT key FROM responses ORDER BY created_at DESC, rowid DESC"
            " LIMIT -1 OFFSET ?)",
            (self.max_rows,),
        )


def _trace_failure(op: str, exc: Exception) -> None:
    from memman import trace

    trace.event("llm_cache_error", op=op, error=f"{type(exc).__name__}: {exc}")
