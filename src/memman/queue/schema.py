"""queue.db schema as ordered, named migrations."""
from memman.db import Migrations, execute_script

migrations = Migrations()


@migrations
def m001_queue(conn):
    execute_script(conn, """
    CREATE TABLE queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        store TEXT NOT NULL,
        content TEXT NOT NULL,
        hint_cat TEXT,
        hint_imp INTEGER,
        hint_source TEXT,
        hint_entities TEXT,
        hint_replaced_id TEXT,
        hint_no_reconcile INTEGER NOT NULL DEFAULT 0,
        priority INTEGER NOT NULL DEFAULT 0,
        queued_at REAL NOT NULL,
        available_at REAL NOT NULL,
        claimed_at REAL,
        processed_at REAL,
        worker_pid INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'claimed', 'done', 'failed', 'stale')),
        last_error TEXT,
        redactions TEXT
    );
    CREATE INDEX idx_queue_claim ON queue(status, priority DESC, id);
    CREATE INDEX idx_queue_store ON queue(store, status);
    """)


@migrations
def m002_worker_runs(conn):
    execute_script(conn, """
    CREATE TABLE worker_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at REAL NOT NULL,
        finished_at REAL,
        heartbeat_at REAL,
        worker_pid INTEGER,
        hostname TEXT,
        rows_claimed INTEGER NOT NULL DEFAULT 0,
        rows_done INTEGER NOT NULL DEFAULT 0,
        rows_failed INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER,
        error TEXT
    );
    CREATE INDEX idx_worker_runs_started ON worker_runs(started_at);
    """)


@migrations
def m003_import_hints(conn):
    # Hints an import gives a row: the memory's original created_at, and the id it had
    # in the exported store (used when that id is free in the target store).
    conn.execute("ALTER TABLE queue ADD COLUMN hint_created_at TEXT")
    conn.execute("ALTER TABLE queue ADD COLUMN hint_id TEXT")


@migrations
def m004_pending_edges(conn):
    # Manual edges an import re-creates once the worker has stored both endpoints.
    # An endpoint is the memory stored for queue row *_queue_id, or (when that is
    # NULL) the existing memory *_id of the store.
    execute_script(conn, """
    CREATE TABLE pending_edges (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        store TEXT NOT NULL,
        source_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        source_queue_id INTEGER,
        target_queue_id INTEGER,
        edge_type TEXT NOT NULL,
        weight REAL NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at TEXT,
        queued_at REAL NOT NULL
    );
    CREATE INDEX idx_pending_edges_store ON pending_edges(store, id);
    """)


@migrations
def m005_usage(conn):
    # What the worker and commands paid for: one row per UTC day and (kind, purpose,
    # provider, model), added to at the end of every drain (memman.usage).
    execute_script(conn, """
    CREATE TABLE usage (
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        purpose TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL,
        PRIMARY KEY (day, kind, purpose, provider, model)
    ) WITHOUT ROWID;
    """)


@migrations
def m006_queue_meta(conn):
    # The queue's own uuid: memories remember which queue row wrote them by
    # (queue_id, origin), since hosts sharing a store each count their own rows.
    import uuid

    execute_script(conn, """
    CREATE TABLE queue_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)
    conn.execute("INSERT INTO queue_meta (key, value) VALUES ('origin', ?)",
                 (uuid.uuid4().hex,))
