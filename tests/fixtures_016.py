"""A data dir as memman 0.16 left it, written by hand from the reference's description
(/work/shared/spec/memman-0.16-reference.md §2-§3), without the old package.

    built = build_016_data_dir(root, embed_endpoint=url, llm_endpoint=url)

writes ``env`` (0.16's installable keys), ``active`` (store ``work``), ``queue.db``
(0.16 columns: epoch times, no ``available_at``; a pending row, a done row, a row in
back-off and a failed row, one worker run) and ``data/work/memman.db`` (0.16 schema:
no ``_migrations``, no ``seq``; four memories, one forgotten; edges of every type
with metadata; oplog rows with before/after images; ``meta`` with the embed
fingerprint). Vectors are little-endian float64, as 0.16 wrote them, taken from the
built-in embedder so a loopback "openai" embedder (tests/fakes/embeddings.py)
produces comparable query vectors. ``built`` holds what was written, for comparison.
"""
import json
import sqlite3
import struct
import time
from pathlib import Path

STORE = "work"
DIM = 384
FINGERPRINT = {"dim": DIM, "model": "text-embedding-3-small", "provider": "openai"}

STORE_SCHEMA = """
CREATE TABLE insights (
    id TEXT PRIMARY KEY, content TEXT NOT NULL, category TEXT DEFAULT 'general',
    importance INTEGER DEFAULT 3, entities TEXT DEFAULT '[]', source TEXT DEFAULT 'user',
    access_count INTEGER DEFAULT 0, keywords TEXT, summary TEXT, semantic_facts TEXT,
    last_accessed_at TEXT, embedding BLOB, embedding_pending BLOB,
    effective_importance REAL DEFAULT 0.5, linked_at TEXT, enriched_at TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT,
    prompt_version TEXT, model_id TEXT, embedding_model TEXT);
CREATE TABLE edges (
    source_id TEXT NOT NULL, target_id TEXT NOT NULL,
    edge_type TEXT NOT NULL CHECK (edge_type IN ('temporal','semantic','causal','entity')),
    weight REAL DEFAULT 1.0, metadata TEXT DEFAULT '{}', created_at TEXT NOT NULL,
    PRIMARY KEY (source_id, target_id, edge_type),
    FOREIGN KEY (source_id) REFERENCES insights(id) ON DELETE CASCADE,
    FOREIGN KEY (target_id) REFERENCES insights(id) ON DELETE CASCADE);
CREATE INDEX idx_insights_category ON insights(category);
CREATE INDEX idx_insights_created ON insights(created_at);
CREATE INDEX idx_insights_deleted ON insights(deleted_at);
CREATE INDEX idx_insights_effective_imp ON insights(effective_importance);
CREATE INDEX idx_insights_pending_link ON insights(linked_at)
    WHERE linked_at IS NULL AND deleted_at IS NULL;
CREATE INDEX idx_edges_source ON edges(source_id);
CREATE INDEX idx_edges_target ON edges(target_id);
CREATE INDEX idx_edges_type ON edges(edge_type);
CREATE TABLE oplog (
    id INTEGER PRIMARY KEY AUTOINCREMENT, operation TEXT NOT NULL, insight_id TEXT,
    detail TEXT DEFAULT '', created_at TEXT NOT NULL, before TEXT, after TEXT);
CREATE INDEX idx_oplog_created ON oplog(created_at);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

QUEUE_SCHEMA = """
CREATE TABLE queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, store TEXT NOT NULL, content TEXT NOT NULL,
    hint_cat TEXT, hint_imp INTEGER, hint_source TEXT, hint_entities TEXT,
    hint_replaced_id TEXT, hint_no_reconcile INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL, claimed_at INTEGER,
    worker_pid INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending','done','failed','stale')),
    last_error TEXT, processed_at INTEGER);
CREATE INDEX idx_queue_ready ON queue(status, priority DESC, queued_at ASC)
    WHERE status = 'pending';
CREATE INDEX idx_queue_store ON queue(store);
CREATE TABLE worker_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at INTEGER NOT NULL, finished_at INTEGER,
    worker_pid INTEGER, rows_claimed INTEGER NOT NULL DEFAULT 0,
    rows_done INTEGER NOT NULL DEFAULT 0, rows_failed INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER, error TEXT);
CREATE INDEX idx_worker_runs_started ON worker_runs(started_at DESC);
"""

MEMORIES = [
    # id, content, category, importance, entities, access_count, created_at, deleted_at
    ("0a1b2c3d-0000-4000-8000-000000000001",
     "The billing service stores invoices in Postgres with nightly backups.",
     "fact", 4, ["billing", "Postgres"], 5, "2025-09-01T10:00:00Z", None),
    ("0a1b2c3d-0000-4000-8000-000000000002",
     "We chose Kafka over RabbitMQ for the event bus because of replay.",
     "decision", 5, ["Kafka", "RabbitMQ"], 2, "2025-09-02T11:30:00.250000Z", None),
    ("0a1b2c3d-0000-4000-8000-000000000003",
     "Alice prefers pytest fixtures over unittest setUp methods.",
     "preference", 3, ["Alice", "pytest"], 0, "2025-09-03T08:15:00Z", None),
    ("0a1b2c3d-0000-4000-8000-000000000004",
     "The old cron deploy script was retired in August.",
     "context", 2, [], 1, "2025-08-20T07:00:00Z", "2025-09-04T09:00:00Z"),
]
M1, M2, M3, M4 = (m[0] for m in MEMORIES)
EDGES = [
    (M1, M2, "temporal", 0.8, {"created_by": "auto", "hours": 25.5}),
    (M2, M1, "temporal", 0.8, {"created_by": "auto", "hours": 25.5}),
    (M1, M2, "semantic", 0.71, {"created_by": "auto", "cosine": 0.71}),
    (M2, M3, "causal", 0.9, {"created_by": "claude", "sub_type": "enables"}),
    (M1, M3, "entity", 0.5, {"created_by": "auto", "entity": "billing"}),
]
OPLOG = [
    (1, "remember", M1, "stored", "2025-09-01T10:00:01Z", None,
     {"content": MEMORIES[0][1], "category": "fact"}),
    (2, "remember", M2, "stored", "2025-09-02T11:30:01Z", None, None),
    (3, "recall-detail", None, '{"q": "billing"}', "2025-09-03T12:00:00Z", None, None),
    (7, "forget", M4, "forgotten", "2025-09-04T09:00:00Z",
     {"content": MEMORIES[3][1], "category": "context"}, None),
]
PENDING_TEXT = "Grafana dashboards for the payments gateway live in the ops folder."


def embed(text: str) -> list[float]:
    from memman.embed.builtin import BuiltinEmbedder

    return [float(x) for x in BuiltinEmbedder().embed([text])[0]]


def float64_blob(vec) -> bytes:
    return struct.pack(f"<{len(vec)}d", *vec)


def build_016_data_dir(root: Path, *, embed_endpoint: str = "http://127.0.0.1:9",
                       llm_endpoint: str = "http://127.0.0.1:9/v1") -> dict:
    root = Path(root)
    store_dir = root / "data" / STORE
    store_dir.mkdir(parents=True)
    env = {
        "MEMMAN_LLM_ENDPOINT": llm_endpoint,
        "MEMMAN_LLM_MODEL_FAST": "test/fast-model",
        "MEMMAN_LLM_MODEL_SLOW_CANONICAL": "test/canonical-model",
        "MEMMAN_LLM_MODEL_SLOW_METADATA": "test/metadata-model",
        "MEMMAN_EMBED_PROVIDER": "openai",
        "MEMMAN_OPENAI_EMBED_ENDPOINT": embed_endpoint,
        "MEMMAN_OPENAI_EMBED_MODEL": FINGERPRINT["model"],
        "MEMMAN_OPENAI_EMBED_API_KEY": "sk-test-016-key",
        "MEMMAN_RERANK_ENABLED": "false",
        "MEMMAN_LOG_LEVEL": "WARNING",
        "MEMMAN_DEFAULT_BACKEND": "sqlite",
        f"MEMMAN_BACKEND_{STORE}": "sqlite",
        "MEMMAN_INTERVAL": "60",
    }
    # 0.16's parser: first '=' splits, one matching quote pair stripped, '#' comments
    lines = ["# written by memman 0.16 install"]
    lines += [f'{k}="{v}"' if k == "MEMMAN_LOG_LEVEL" else f"{k}={v}" for k, v in env.items()]
    (root / "env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "active").write_text(STORE + "\n", encoding="utf-8")
    (root / "scheduler.state").write_text("started\n", encoding="utf-8")

    vectors = {m[0]: embed(m[1]) for m in MEMORIES}
    conn = sqlite3.connect(store_dir / "memman.db", isolation_level=None)
    conn.execute("PRAGMA auto_vacuum=incremental")
    conn.execute("PRAGMA journal_mode=wal")
    conn.executescript(STORE_SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    for mid, content, cat, imp, ents, access, created, deleted in MEMORIES:
        conn.execute(
            "INSERT INTO insights (id, content, category, importance, entities, source, "
            "access_count, keywords, summary, semantic_facts, last_accessed_at, embedding, "
            "effective_importance, linked_at, enriched_at, created_at, updated_at, deleted_at, "
            "prompt_version, model_id, embedding_model) "
            "VALUES (?, ?, ?, ?, ?, 'user', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mid, content, cat, imp, json.dumps(ents), access,
             json.dumps(content.lower().split()[:3]), content[:40], json.dumps([content]),
             created if access else None, float64_blob(vectors[mid]), 0.42 + imp / 10,
             created, created, created, deleted or created, deleted,
             "abcdef0123456789", "anthropic/claude-sonnet-4.6", FINGERPRINT["model"]))
    for src, dst, kind, weight, meta in EDGES:
        conn.execute("INSERT INTO edges VALUES (?, ?, ?, ?, ?, ?)",
                     (src, dst, kind, weight, json.dumps(meta), "2025-09-03T08:15:02Z"))
    for oid, op, iid, detail, at, before, after in OPLOG:
        conn.execute("INSERT INTO oplog VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (oid, op, iid, detail, at, before and json.dumps(before),
                      after and json.dumps(after)))
    meta = {"embed_fingerprint": json.dumps(FINGERPRINT, sort_keys=True),
            "constants_hash": "0123456789abcdef"}
    conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    conn.execute("COMMIT")
    conn.close()  # last close checkpoints: a clean 0.16 file, as after a finished command

    now = int(time.time())
    queue = [
        # store, content, cat, imp, source, entities, queued_at, claimed_at, attempts,
        # status, last_error, processed_at
        (STORE, PENDING_TEXT, "fact", 4, None, "Grafana,payments", now - 3600, None, 0,
         "pending", None, None),
        (STORE, "An already processed note.", None, None, None, None, now - 7200, None, 1,
         "done", None, now - 7100),
        (STORE, "A note waiting out its back-off.", None, None, None, None, now - 600,
         now - 500, 1, "pending", "HTTP 503", None),
        (STORE, "A note that failed for good.", None, None, "queue:bogus", None, now - 9000,
         None, 5, "failed", "HTTP 401", now - 8000),
    ]
    qconn = sqlite3.connect(root / "queue.db", isolation_level=None)
    qconn.execute("PRAGMA journal_mode=wal")
    qconn.executescript(QUEUE_SCHEMA)
    qconn.executemany(
        "INSERT INTO queue (store, content, hint_cat, hint_imp, hint_source, hint_entities, "
        "queued_at, claimed_at, attempts, status, last_error, processed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", queue)
    qconn.execute("INSERT INTO worker_runs (started_at, finished_at, worker_pid, rows_claimed, "
                  "rows_done, rows_failed, duration_ms) VALUES (?, ?, 4242, 1, 1, 0, 900)",
                  (now - 7150, now - 7149))
    qconn.close()
    return {"root": root, "store": STORE, "env": env, "vectors": vectors,
            "queue_rows": queue, "store_db": store_dir / "memman.db",
            "queue_db": root / "queue.db"}
