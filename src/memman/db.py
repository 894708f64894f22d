"""SQLite plumbing shared by the store and the queue.

Connections (WAL, busy timeout, foreign keys, autocommit with explicit
``BEGIN IMMEDIATE`` transactions) and the migration runner: a schema is an ordered
list of small named functions, each applied once inside a transaction and recorded
in a ``_migrations`` table.
"""
import os
import sqlite3
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.parse import quote

from memman import clock
from memman.errors import MemmanError

BUSY_TIMEOUT_MS = 5000


def busy_timeout_ms() -> int:
    # Tuning knob from the process environment only (tests shorten it).
    raw = os.environ.get("MEMMAN_BUSY_TIMEOUT_MS")
    return int(raw) if raw and raw.isdigit() else BUSY_TIMEOUT_MS


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open ``path``; read-write opens create the file and switch it to WAL."""
    timeout = busy_timeout_ms() / 1000
    if readonly:
        conn = _connect_readonly(str(path), timeout)
    else:
        new = path != ":memory:" and not os.path.exists(path)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=timeout)
        if new:
            os.chmod(path, 0o600)
            # Must precede the first write of the header (switching to WAL is one).
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        _ensure_wal(conn, timeout)
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.row_factory = sqlite3.Row
    return conn


def _connect_readonly(path: str, timeout: float) -> sqlite3.Connection:
    """A read-only connection. A WAL database on a read-only file system (a ``:ro`` bind
    mount) opens with ``mode=ro`` only while its -shm/-wal files exist, that is while
    the owner has it open; otherwise SQLite cannot create them and refuses. The file is
    then a checkpointed snapshot, which ``immutable=1`` reads without any side file."""
    uri = f"file:{quote(path)}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc) or not os.path.isfile(path) \
                or os.path.exists(path + "-wal"):
            raise
    return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None,
                           timeout=timeout)


def writable_dir(path) -> bool:
    """Can this process create and change files in ``path``? False on a read-only
    mount (checked with statvfs, which also holds for root) and without write
    permission."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _ensure_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL once per database. Processes racing to create the same file can
    get "database is locked" from the switch without SQLite's busy wait, so retry
    until another process has switched it or the busy timeout runs out."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``; nested use joins the outer transaction."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction.

    ``executescript`` would commit first; this splits on complete statements
    instead, so triggers (which contain semicolons) stay whole.
    """
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                conn.execute(buf)
            buf = ""
    if buf.strip():
        conn.execute(buf)


Migration = Callable[[sqlite3.Connection], None]


class Migrations:
    """An ordered list of named migrations; use an instance as a decorator."""

    def __init__(self, table: str = "_migrations"):
        self.table = table
        self.steps: list[Migration] = []

    def __call__(self, fn: Migration) -> Migration:
        self.steps.append(fn)
        return fn

    @property
    def names(self) -> list[str]:
        return [fn.__name__ for fn in self.steps]

    def applied(self, conn: sqlite3.Connection) -> set[str]:
        try:
            return {r[0] for r in conn.execute(f"SELECT name FROM {self.table}")}
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return set()
            raise

    def pending(self, conn: sqlite3.Connection) -> list[str]:
        done = self.applied(conn)
        return [n for n in self.names if n not in done]

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Apply what is missing; returns the names applied now."""
        if not self.pending(conn):
            return []
        with transaction(conn):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = self.applied(conn)  # re-read under the write lock
            ran = []
            for fn in self.steps:
                if fn.__name__ in done:
                    continue
                fn(conn)
                conn.execute(
                    f"INSERT INTO {self.table} (name, applied_at) VALUES (?, ?)",
                    (fn.__name__, clock.iso()),
                )
                ran.append(fn.__name__)
            return ran


def describe_error(what: str, path, exc: sqlite3.Error) -> MemmanError:
    """Turn a SQLite failure into a one-line error that says what to do."""
    msg = str(exc)
    if "locked" in msg or "busy" in msg:
        return MemmanError(f"{what} {path} is locked by another process; try again in a moment")
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return MemmanError(
            f"{what} {path} is corrupt ({msg}); move it aside (memman will start a new one)"
        )
    if "readonly" in msg or "read-only" in msg:
        return MemmanError(f"{what} {path} is read-only ({msg})")
    if "unable to open" in msg:
        return MemmanError(f"{what} {path} cannot be opened ({msg})")
    return MemmanError(f"{what} {path}: {msg}")
