"""``memman migrate``: move a store between SQLite and Postgres, verified both ways.

``copy`` streams every copied table (store.base.COPIED_TABLES) from one backend into a
scratch copy on the other and compares per-table row counts and content checksums;
``targets`` knows where each backend keeps a store, how to build a scratch copy, how
to put a verified copy in place and how to archive a source; ``plan`` and ``run``
tie them together for one store at a time under the data dir's drain lock. The
backend key in the env file changes only after verification, and the source is
archived, never destroyed, so a failure at any step leaves the source in use.
"""
