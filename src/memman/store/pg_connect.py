"""Postgres connections for memman: connect, describe failures, adapt vectors.

psycopg is imported here (and only when a Postgres store is opened), never on the
``remember`` hot path. A connection is autocommit with explicit transactions; libpq
reads ``~/.pgpass`` (or ``$PGPASSFILE``) itself, so a DSN may leave its password out.

Connections are parked per DSN when a backend closes and handed to the next backend
opened on the same DSN, so a process that checks a store, opens it and opens it
again (a drain pass per store, say) talks over one connection, not one per step.
"""
import struct
from array import array
from urllib.parse import urlsplit

from memman.config.keys import mask_dsn
from memman.errors import MemmanError

CONNECT_TIMEOUT_SECONDS = 10
_parked: dict[str, object] = {}


def _password_of(dsn: str) -> str | None:
    try:
        if "://" in dsn:
            return urlsplit(dsn).password
        from psycopg.conninfo import conninfo_to_dict

        return conninfo_to_dict(dsn).get("password")
    except Exception:
        return None


def describe(dsn: str, exc: Exception, what: str = "cannot connect to Postgres") -> MemmanError:
    """One line naming the (masked) DSN and libpq's reason, never the password."""
    reason = " ".join(str(exc).split())
    password = _password_of(dsn)
    if password:
        reason = reason.replace(password, "****")
    return MemmanError(f"{what} at {mask_dsn(dsn)}: {reason or type(exc).__name__}")


def connect(dsn: str):
    """A fresh autocommit connection (or the one parked for ``dsn``)."""
    conn = _parked.pop(dsn, None)
    if conn is not None and not conn.closed:
        return conn
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               application_name="memman")
    except (psycopg.Error, ValueError) as exc:
        raise describe(dsn, exc) from None


def release(dsn: str, conn) -> None:
    """Park ``conn`` for the next open on ``dsn`` with its session settings reset
    (close it if one is parked already or it is not idle)."""
    from psycopg import pq

    if conn.closed:
        return
    if dsn in _parked or conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.close()
        return
    try:  # the next user gets a plain session: no search_path, not read-only
        conn.execute("RESET ALL")
    except Exception:
        conn.close()
        return
    _parked[dsn] = conn


def close_parked() -> None:
    while _parked:
        _, conn = _parked.popitem()
        conn.close()


def probe(dsn: str) -> dict:
    """Connect, ``SELECT 1`` and check pgvector can be used: what ``install --backend
    postgres`` checks before writing the DSN."""
    import psycopg

    try:
        with psycopg.connect(dsn, autocommit=True,
                             connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1").fetchone()
            row = conn.execute(
                "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
                "(SELECT default_version FROM pg_available_extensions WHERE name = 'vector'), "
                "current_setting('server_version')").fetchone()
    except (psycopg.Error, ValueError) as exc:
        raise describe(dsn, exc) from None
    if row[0] is None and row[1] is None:
        raise MemmanError(f"Postgres at {mask_dsn(dsn)} has no pgvector extension; "
                          "install pgvector on the server first")
    return {"server_version": row[2], "pgvector": row[0] or row[1],
            "pgvector_installed": row[0] is not None}


# -- vectors -------------------------------------------------------------------
# memman hands vectors around as float32 little-endian blobs; pgvector's binary
# format is a uint16 dimension, a uint16 zero and big-endian float4s. These adapters
# convert between the two without numpy.
class VectorBlob(bytes):
    """A float32 little-endian blob to be sent as a pgvector ``vector``."""


def register_vector(conn) -> None:
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise MemmanError("the pgvector 'vector' type is not visible to this connection")

    class BlobDumper(Dumper):
        format = Format.BINARY
        oid = info.oid

        def dump(self, obj):
            floats = array("f", bytes(obj))
            floats.byteswap()  # little-endian <-> big-endian, whatever the host
            return struct.pack(">HH", len(floats), 0) + floats.tobytes()

    class BlobLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            data = bytes(data)
            (dim,) = struct.unpack(">H", data[:2])
            floats = array("f", data[4:4 + 4 * dim])
            floats.byteswap()  # little-endian <-> big-endian, whatever the host
            return floats.tobytes()

    class TextLoader(Loader):
        format = Format.TEXT

        def load(self, data):
            text = bytes(data).decode("ascii").strip("[]")
            values = [float(x) for x in text.split(",")] if text else []
            return struct.pack(f"<{len(values)}f", *values)

    conn.adapters.register_dumper(VectorBlob, BlobDumper)
    conn.adapters.register_loader(info.oid, BlobLoader)
    conn.adapters.register_loader(info.oid, TextLoader)

