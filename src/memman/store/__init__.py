"""Long-term storage of memories, edges, the oplog and store meta.

``base.Backend`` names every storage verb; ``sqlite.SQLiteBackend`` and
``postgres.PostgresBackend`` implement it (``postgres_schema`` and ``sqlite_schema``
hold each one's migrations, ``pg_connect`` the Postgres connection handling).
``model`` holds the record types and the constants of the contract; ``open_store``
picks and opens a backend.
"""
