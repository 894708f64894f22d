"""The SQLite store schema as ordered, named migrations (applied once each)."""
from memman.db import Migrations, execute_script

migrations = Migrations()


@migrations
def m001_insights(conn):
    # seq is the rowid alias: stable across VACUUM, so the FTS index can key on it.
    execute_script(conn, """
    CREATE TABLE insights (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        content TEXT NOT NULL,
        category TEXT NOT NULL DEFAULT 'general',
        importance INTEGER NOT NULL DEFAULT 3,
        entities TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT 'user',
        access_count INTEGER NOT NULL DEFAULT 0,
        keywords TEXT,
        summary TEXT,
        semantic_facts TEXT,
        last_accessed_at TEXT,
        embedding BLOB,
        embedding_pending BLOB,
        effective_importance REAL NOT NULL DEFAULT 0.5,
        linked_at TEXT,
        enriched_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT,
        prompt_version TEXT,
        model_id TEXT,
        embedding_model TEXT,
        queue_id INTEGER
    );
    CREATE INDEX idx_insights_category ON insights(category);
    CREATE INDEX idx_insights_importance ON insights(importance);
    CREATE INDEX idx_insights_created ON insights(created_at);
    CREATE INDEX idx_insights_deleted ON insights(deleted_at);
    CREATE INDEX idx_insights_source ON insights(source);
    CREATE INDEX idx_insights_ei ON insights(effective_importance);
    CREATE INDEX idx_insights_queue ON insights(queue_id);
    CREATE INDEX idx_insights_pending_link ON insights(created_at)
        WHERE linked_at IS NULL AND deleted_at IS NULL;
    """)


@migrations
def m002_edges(conn):
    execute_script(conn, """
    CREATE TABLE edges (
        source_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
        target_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
        edge_type TEXT NOT NULL CHECK (edge_type IN ('temporal', 'semantic', 'causal', 'entity')),
        weight REAL NOT NULL DEFAULT 1.0,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        PRIMARY KEY (source_id, target_id, edge_type)
    );
    CREATE INDEX idx_edges_target ON edges(target_id, edge_type);
    CREATE INDEX idx_edges_type ON edges(edge_type);
    """)


@migrations
def m003_oplog_meta(conn):
    execute_script(conn, """
    CREATE TABLE oplog (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        operation TEXT NOT NULL,
        insight_id TEXT,
        detail TEXT,
        created_at TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX idx_oplog_created ON oplog(created_at);
    CREATE INDEX idx_oplog_insight ON oplog(insight_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)


@migrations
def m004_fts(conn):
    # Keyword index over active memories, kept in sync by triggers so no code path
    # can forget it: inserts index active rows, updates re-index (or drop a row that
    # became deleted), deletes drop.
    execute_script(conn, """
    CREATE VIRTUAL TABLE insights_fts USING fts5(
        content, entities, keywords, tokenize = 'porter unicode61'
    );
    CREATE TRIGGER insights_fts_insert AFTER INSERT ON insights
    WHEN new.deleted_at IS NULL BEGIN
        INSERT INTO insights_fts (rowid, content, entities, keywords)
        VALUES (new.seq, new.content, new.entities, coalesce(new.keywords, ''));
    END;
    CREATE TRIGGER insights_fts_update AFTER UPDATE OF content, entities, keywords, deleted_at
    ON insights BEGIN
        DELETE FROM insights_fts WHERE rowid = old.seq;
        INSERT INTO insights_fts (rowid, content, entities, keywords)
        SELECT new.seq, new.content, new.entities, coalesce(new.keywords, '')
        WHERE new.deleted_at IS NULL;
    END;
    CREATE TRIGGER insights_fts_delete AFTER DELETE ON insights BEGIN
        DELETE FROM insights_fts WHERE rowid = old.seq;
    END;
    """)


@migrations
def m005_entity_index(conn):
    # One row per (active memory, lowercased entity), kept by triggers: entity-graph
    # linking and IDF counts become index lookups instead of JSON scans.
    execute_script(conn, """
    CREATE TABLE insight_entities (
        insight_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
        entity TEXT NOT NULL,
        PRIMARY KEY (entity, insight_id)
    ) WITHOUT ROWID;
    CREATE INDEX idx_insight_entities_insight ON insight_entities(insight_id);
    INSERT OR IGNORE INTO insight_entities (insight_id, entity)
        SELECT i.id, lower(j.value) FROM insights i, json_each(i.entities) j
        WHERE i.deleted_at IS NULL AND trim(j.value) != '';
    CREATE TRIGGER insight_entities_insert AFTER INSERT ON insights
    WHEN new.deleted_at IS NULL BEGIN
        INSERT OR IGNORE INTO insight_entities (insight_id, entity)
        SELECT new.id, lower(j.value) FROM json_each(new.entities) j WHERE trim(j.value) != '';
    END;
    CREATE TRIGGER insight_entities_update AFTER UPDATE OF entities, deleted_at ON insights BEGIN
        DELETE FROM insight_entities WHERE insight_id = old.id;
        INSERT OR IGNORE INTO insight_entities (insight_id, entity)
        SELECT new.id, lower(j.value) FROM json_each(new.entities) j
        WHERE new.deleted_at IS NULL AND trim(j.value) != '';
    END;
    """)


@migrations
def m006_updated_index(conn):
    # Recall asks for memories changed after its vector file was written.
    conn.execute("CREATE INDEX idx_insights_updated ON insights(updated_at)")


@migrations
def m007_partial_deleted_index(conn):
    # A full index on deleted_at (nearly all NULL) lured the planner away from the
    # primary keys, turning id lookups into scans; only deleted rows need indexing.
    execute_script(conn, """
    DROP INDEX IF EXISTS idx_insights_deleted;
    CREATE INDEX idx_insights_deleted ON insights(deleted_at) WHERE deleted_at IS NOT NULL;
    """)


@migrations
def m008_protected(conn):
    # `insights protect` makes a memory immune to auto-prune without touching its
    # access count (which ranks it).
    conn.execute("ALTER TABLE insights ADD COLUMN protected INTEGER NOT NULL DEFAULT 0")


@migrations
def m009_history(conn):
    # One row per earlier version of a memory: what it held (vector and edges too, so
    # a restore puts back exactly that state), and the change that ended the version.
    execute_script(conn, """
    CREATE TABLE insight_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        insight_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content TEXT NOT NULL,
        category TEXT NOT NULL,
        importance INTEGER NOT NULL,
        entities TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL,
        keywords TEXT,
        summary TEXT,
        semantic_facts TEXT,
        embedding BLOB,
        embedding_model TEXT,
        edges TEXT NOT NULL DEFAULT '[]',
        deleted INTEGER NOT NULL DEFAULT 0,
        written_at TEXT NOT NULL,
        queue_id INTEGER,
        changed_at TEXT NOT NULL,
        change TEXT NOT NULL,
        reason TEXT,
        changed_by_queue_id INTEGER,
        UNIQUE (insight_id, version)
    );
    """)


@migrations
def m010_pending_vector_trigger(conn):
    # During an embedder swap a memory's pending vector was made from its text as it
    # was then; a new text (content or keywords) voids it, whoever changes it, so the
    # swap re-embeds that memory before cutting over.
    execute_script(conn, """
    CREATE TRIGGER insights_pending_stale AFTER UPDATE OF content, keywords ON insights
    WHEN new.embedding_pending IS NOT NULL
         AND (new.content IS NOT old.content OR new.keywords IS NOT old.keywords) BEGIN
        UPDATE insights SET embedding_pending = NULL WHERE seq = new.seq;
    END;
    """)


@migrations
def m011_queue_origin(conn):
    # queue_id alone is ambiguous once several hosts (each with its own queue.db)
    # write one store; the queue's uuid makes "was this row applied?" exact.
    execute_script(conn, """
    ALTER TABLE insights ADD COLUMN queue_origin TEXT;
    CREATE INDEX IF NOT EXISTS idx_insights_queue_origin ON insights(queue_id, queue_origin);
    """)
