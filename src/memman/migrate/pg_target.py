"""The Postgres side of ``migrate``: a store's schema, a scratch schema to copy into,
and renames to put a verified copy in place or to archive a source (never a drop)."""
import hashlib

from memman import clock
from memman.errors import MemmanError
from memman.migrate.targets import ABSENT, state_of


class PostgresTarget:
    kind = "postgres"

    def __init__(self, settings, store: str):
        from memman.config.stores import pg_schema_name
        from memman.store.open import postgres_dsn

        self.store = store
        self.dsn = postgres_dsn(settings, store)
        self.schema = pg_schema_name(store)
        self.scratch_schema = "migrating_" + hashlib.sha256(self.schema.encode()).hexdigest()[:16]

    def describe(self) -> str:
        from memman.config.keys import mask_dsn

        return f"schema {self.schema} at {mask_dsn(self.dsn)}"

    def state(self) -> str:
        from memman.store.postgres import PostgresBackend, schema_exists

        if not schema_exists(self.dsn, self.store):
            return ABSENT
        backend = PostgresBackend(self.dsn, self.store, readonly=True)  # a plan writes nothing
        try:
            return state_of(backend)
        finally:
            backend.close()

    def scratch(self):
        from psycopg import sql

        from memman.store.postgres import PostgresBackend

        self.discard()
        backend = PostgresBackend(self.dsn, self.store, create=True, schema=self.scratch_schema)
        backend.conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
            sql.Identifier(self.scratch_schema),
            sql.Literal(f"memman migration scratch for store {self.store}")))
        return backend

    def finish(self, scratch) -> None:
        """Type the vector column and build its index from the copied fingerprint."""
        import json

        text = scratch.get_meta("embed_fingerprint")
        try:
            dim = int(json.loads(text).get("dim") or 0) if text else 0
        except (ValueError, AttributeError, TypeError):
            dim = 0
        if dim:
            scratch.bind_vector_dim(dim)

    def promote(self, scratch) -> str | None:
        from psycopg import sql

        conn, replaced = scratch.conn, None
        try:
            with conn.transaction():
                exists = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace "
                                      "WHERE nspname = %s)", (self.schema,)).fetchone()[0]
                if exists:
                    replaced = self._archive_name()
                    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(self.schema), sql.Identifier(replaced)))
                    conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                        sql.Identifier(replaced), sql.Literal(
                            f"memman archived store {self.store} (replaced by migrate)")))
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(self.scratch_schema), sql.Identifier(self.schema)))
                conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    sql.Identifier(self.schema), sql.Literal(f"memman store {self.store}")))
        finally:
            scratch.close()
        return replaced

    def discard(self) -> None:
        from psycopg import sql

        from memman.store import pg_connect

        conn = pg_connect.connect(self.dsn)
        try:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(self.scratch_schema)))
        except Exception as exc:
            conn.close()
            raise MemmanError(f"cannot drop the scratch schema {self.scratch_schema}: {exc}") \
                from None
        pg_connect.release(self.dsn, conn)

    def archive_source(self) -> str:
        from memman.store.postgres import archive_store

        return archive_store(self.dsn, self.store)

    def _archive_name(self) -> str:
        stamp = clock.iso().replace("-", "").replace(":", "").replace(".", "")[:21].lower()
        return f"archived_{stamp}_{hashlib.sha256(self.schema.encode()).hexdigest()[:8]}"
