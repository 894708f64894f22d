"""Long-term storage of memories, edges, the oplog and store meta.

``base.Backend`` names every storage verb; ``sqlite.SQLiteBackend`` implements it
(Postgres joins later behind the same protocol). ``model`` holds the record types
and the constants of the contract; ``open_store`` picks and opens a backend.
"""
