"""The Postgres backend: one schema per store (``config.stores.pg_schema_name``) in a
database with pgvector, behind the same protocol as the SQLite backend.

One connection per backend object: autocommit, ``search_path`` set to the store
schema, explicit transactions (nested use joins the outer one, as on SQLite). Vector
anchors come from the HNSW cosine index and graph walks are SQL, so recall touches
the rows it returns and their neighbours, not the whole store. Workers on several
hosts draining into one store serialise on ``drain_lock`` (a session advisory lock).
"""
import hashlib
import json
from contextlib import contextmanager

from memman import clock
from memman.config.keys import mask_dsn
from memman.config.stores import pg_schema_name
from memman.errors import MemmanError, NotFoundError
from memman.store import pg_connect
from memman.store import postgres_schema as schema_mod
from memman.store.base import Backend
from memman.store.model import JSON_LIST_FIELDS, Edge, Insight, OpEntry, Version
from memman.store.pg_connect import VectorBlob

_COLUMNS = ", ".join(Insight.COLUMNS)
_I_COLUMNS = ", ".join("i." + c for c in Insight.COLUMNS)
_PROTECTED_EDGE_AUTHORS = "('claude', 'manual')"
RECALL_BOOKKEEPING_WAIT = "200ms"
# ts_rank weights {D, C, B, A}: content (A) 1.0, entities (B) 0.6, keywords (C) 0.4,
# as the SQLite index weighs its columns; normalisation 1 divides by 1 + log(length).
_RANK = "ts_rank('{0.1, 0.4, 0.6, 1.0}', i.fts, q.q, 1)"
ARCHIVE_PREFIX = "archived_"


def advisory_key(schema: str, name: str) -> int:
    """A signed int8 for ``pg_advisory_*``: blake2b-8 of ``"<schema>:<name>"``."""
    digest = hashlib.blake2b(f"{schema}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value)


def _encode(name: str, value):
    if name in JSON_LIST_FIELDS:
        return _jsonb(value)
    if name == "protected":
        return bool(value)
    return value


def _tsquery(terms, joiner: str) -> tuple[str, list]:
    """A tsquery matching each term as a phrase (as FTS5 "term" does), joined by
    ``&&`` or ``||``; the same splitting and stemming as the index."""
    part = f"phraseto_tsquery('{schema_mod.TS_CONFIG}', regexp_replace(%s, {schema_mod.SPLIT}))"
    return f" {joiner} ".join(part for _ in terms), list(terms)


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, dsn: str, store: str, *, create: bool = False, readonly: bool = False,
                 schema: str | None = None):
        """``schema`` overrides the store's own schema name (``migrate`` builds its
        copy in a scratch schema and renames it into place)."""
        import psycopg

        self.dsn, self.store = dsn, store
        self.schema = schema or pg_schema_name(store)
        self.readonly = readonly
        self._dim: int | None = None
        self._locks_held = 0
        self.conn = pg_connect.connect(dsn)
        try:
            self._setup(create)
        except psycopg.Error as exc:
            self.conn.close()
            raise pg_connect.describe(dsn, exc, f"cannot open store '{store}'") from None
        except BaseException:
            self.conn.close()
            raise

    def _setup(self, create: bool) -> None:
        from psycopg import sql

        conn = self.conn
        ext, exists = conn.execute(
            "SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'vector'), "
            "EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", (self.schema,)).fetchone()
        if not exists and not create:
            raise NotFoundError(f"store '{self.store}' does not exist (no schema {self.schema} "
                                f"at {mask_dsn(self.dsn)})")
        if ext is None:
            if self.readonly:
                raise MemmanError(f"Postgres at {mask_dsn(self.dsn)} has no pgvector extension")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            ext = conn.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                               "ON n.oid = e.extnamespace WHERE e.extname = 'vector'").fetchone()[0]
        if not exists:
            with conn.transaction():
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    sql.Identifier(self.schema), sql.Literal(f"memman store {self.store}")))
        conn.execute(sql.SQL("SET search_path TO {}, {}").format(
            sql.Identifier(self.schema), sql.Identifier(ext)))
        conn.execute("SET default_transaction_read_only = "
                     + ("on" if self.readonly else "off"))
        if self.readonly:
            pending = [n for n in schema_mod.NAMES
                       if n not in schema_mod.applied(conn, self.schema)]
            if pending:
                raise MemmanError(f"store '{self.store}' was written by an older memman; "
                                  "upgrade it with a read-write memman before reading it here")
        else:
            schema_mod.apply(conn, self.schema, advisory_key(self.schema, "migrate"))
        pg_connect.register_vector(conn)
        self._dim = self._column_dim()

    def _column_dim(self) -> int | None:
        row = self.conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attname = 'embedding'", (f"{self.schema}.insights",)).fetchone()
        return row[0] if row and row[0] > 0 else None

    @property
    def location(self) -> str:
        return f"{mask_dsn(self.dsn)} schema {self.schema}"

    def close(self) -> None:
        if self._locks_held and not self.conn.closed:
            # A parked connection must not carry this store's drain lock to its next user.
            self.conn.execute("SELECT pg_advisory_unlock_all()")
            self._locks_held = 0
        pg_connect.release(self.dsn, self.conn)

    @contextmanager
    def _tx(self):
        from psycopg import pq

        if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
            yield self.conn  # join the outer transaction, as SQLite's nested use does
            return
        with self.conn.transaction():
            yield self.conn

    def transaction(self):
        if self.readonly:
            raise MemmanError(f"store '{self.store}' is opened read-only here; change it "
                              "with a read-write memman")
        return self._tx()

    # -- small helpers ---------------------------------------------------------------
    def _rows(self, sql, args=()):
        return self.conn.execute(sql, args).fetchall()

    def _one(self, sql, args=()):
        return self.conn.execute(sql, args).fetchone()

    def _dicts(self, sql, args=(), *, binary=False):
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row, binary=binary) as cur:
            return cur.execute(sql, args).fetchall()

    def _select(self, where: str, args, tail: str = "") -> list[Insight]:
        return [Insight.from_row(r) for r in self._dicts(
            f"SELECT {_COLUMNS} FROM insights WHERE {where} {tail}", args)]

    @staticmethod
    def _exclusion(exclude, alias=""):
        if not exclude:
            return "", []
        return f" AND NOT ({alias}id = ANY(%s))", [list(exclude)]

    @staticmethod
    def _filters(category, source, alias="i"):
        sql, args = "", []
        if category:
            sql += f" AND {alias}.category = %s"
            args.append(category)
        if source:
            sql += f" AND {alias}.source = %s"
            args.append(source)
        return sql, args

    # -- meta ------------------------------------------------------------------------
    def get_meta(self, key):
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return row[0] if row else None

    def set_meta(self, key, value):
        with self.transaction():
            if value is None:
                self.conn.execute("DELETE FROM meta WHERE key = %s", (key,))
                return
            self.conn.execute("INSERT INTO meta (key, value) VALUES (%s, %s) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                              (key, value))
            if key == "embed_fingerprint":
                dim = _fingerprint_dim(value)
                if dim:
                    self.bind_vector_dim(dim)

    # -- memories --------------------------------------------------------------------
    def insert_insight(self, insight):
        insight.created_at = insight.created_at or clock.iso()
        insight.updated_at = insight.updated_at or insight.created_at
        names = Insight.COLUMNS
        with self.transaction():
            self.conn.execute(
                f"INSERT INTO insights ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(names))})",
                [_encode(n, getattr(insight, n)) for n in names])

    def get_insight(self, insight_id, *, include_deleted=False):
        where = "id = %s" + ("" if include_deleted else " AND deleted_at IS NULL")
        found = self._select(where, [insight_id])
        return found[0] if found else None

    def update_insight(self, insight_id, changes):
        if not changes:
            return
        changes = dict(changes)
        changes.setdefault("updated_at", clock.iso())
        unknown = set(changes) - set(Insight.COLUMNS)
        if unknown:
            raise ValueError(f"unknown insight fields: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = %s" for k in changes)
        with self.transaction():
            self.conn.execute(f"UPDATE insights SET {assignments} WHERE id = %s",
                              [_encode(k, v) for k, v in changes.items()] + [insight_id])

    def soft_delete_insight(self, insight_id):
        now = clock.iso()
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE insights SET deleted_at = %s, updated_at = %s "
                "WHERE id = %s AND deleted_at IS NULL", (now, now, insight_id))
            if cur.rowcount == 0:
                return False
            self.delete_edges_of(insight_id)
            return True

    def find_by_queue_id(self, queue_id, origin=None):
        if origin is not None:
            return self._select("queue_id = %s AND queue_origin = %s", [queue_id, origin],
                                "ORDER BY seq")
        return self._select("queue_id = %s", [queue_id], "ORDER BY seq")

    def search_basic(self, terms, *, category, source, limit):
        if not terms:
            return []
        query, args = _tsquery(terms, "&&")
        extra, more = self._filters(category, source)
        return [Insight.from_row(r) for r in self._dicts(
            f"SELECT {_I_COLUMNS} FROM insights i, (SELECT {query} AS q) q "
            f"WHERE i.fts @@ q.q AND i.deleted_at IS NULL{extra} "
            "ORDER BY i.importance DESC, i.created_at DESC, i.seq DESC LIMIT %s",
            [*args, *more, limit])]

    def record_access(self, insight_ids):
        if not insight_ids:
            return
        with self.transaction():
            self.conn.execute(
                "UPDATE insights SET access_count = access_count + 1, last_accessed_at = %s "
                "WHERE id = ANY(%s) AND deleted_at IS NULL", (clock.iso(), list(insight_ids)))

    def note_recall(self, insight_ids, operation, detail):
        import psycopg

        if self.readonly:
            return False
        try:
            with self._tx():
                # Wait briefly for a row a writer holds, then give up the bookkeeping.
                self.conn.execute(f"SET LOCAL lock_timeout = '{RECALL_BOOKKEEPING_WAIT}'")
                self.record_access(insight_ids)
                self.log_op(operation, None, detail)
            return True
        except psycopg.Error:
            return False

    def set_embedding(self, insight_id, vector, model):
        import psycopg

        try:
            with self.transaction():
                self.conn.execute(
                    "UPDATE insights SET embedding = %s, embedding_model = %s WHERE id = %s",
                    (None if vector is None else VectorBlob(vector), model, insight_id))
        except psycopg.errors.DataException as exc:
            raise self._dim_error(len(vector or b"") // 4, exc) from None

    def _dim_error(self, got: int, exc=None) -> MemmanError:
        from memman.embed.base import EmbedDimensionError

        return EmbedDimensionError(
            f"store '{self.store}' holds vector({self._dim or '?'}) embeddings; refusing a "
            f"{got}-dimension vector ({' '.join(str(exc).split()) if exc else 'size mismatch'})")

    def counts(self):
        total, deleted = self._one(
            "SELECT count(*) FILTER (WHERE deleted_at IS NULL), "
            "count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM insights")
        by_category = {r[0]: r[1] for r in self._rows(
            "SELECT category, count(*) FROM insights WHERE deleted_at IS NULL "
            'GROUP BY category ORDER BY category COLLATE "C"')}
        top = [{"entity": r[0], "count": r[1]} for r in self._rows(
            'SELECT min(x COLLATE "C"), count(*) AS n FROM insights i, '
            "jsonb_array_elements_text(i.entities) x WHERE i.deleted_at IS NULL "
            "GROUP BY lower(x) ORDER BY n DESC, 1 LIMIT 20")]
        return {
            "total_insights": total, "deleted_insights": deleted,
            "edge_count": self.count_edges(),
            "oplog_count": self._one("SELECT count(*) FROM oplog")[0],
            "by_category": by_category, "top_entities": top,
        }

    def get_insights(self, insight_ids):
        ids = list(dict.fromkeys(insight_ids))
        return self._select("deleted_at IS NULL AND id = ANY(%s)", [ids]) if ids else []

    def count_active(self):
        return self._one("SELECT count(*) FROM insights WHERE deleted_at IS NULL")[0]

    def count_stale(self, prompt_version, model_id):
        return self._one(
            "SELECT count(*) FROM insights WHERE deleted_at IS NULL AND "
            "(coalesce(prompt_version, '') <> %s OR coalesce(model_id, '') <> %s)",
            (prompt_version, model_id))[0]

    def has_any_rows(self):
        return self._one("SELECT EXISTS (SELECT 1 FROM insights)")[0]

    def _vectors(self, sql, args=()):
        with self.conn.cursor(binary=True) as cur:
            return cur.execute(sql, args).fetchall()

    def active_vectors(self):
        return [(r[0], r[1]) for r in self._vectors(
            "SELECT id, embedding FROM insights WHERE deleted_at IS NULL "
            "AND embedding IS NOT NULL ORDER BY seq")]

    def active_vectors_for(self, insight_ids):
        ids = list(insight_ids)
        if not ids:
            return []
        return [(r[0], r[1]) for r in self._vectors(
            "SELECT id, embedding FROM insights WHERE deleted_at IS NULL "
            "AND embedding IS NOT NULL AND id = ANY(%s)", (ids,))]

    def vector_sizes(self):
        return {r[0]: r[1] for r in self._rows(
            "SELECT vector_dims(embedding) * 4, count(*) FROM insights "
            "WHERE deleted_at IS NULL AND embedding IS NOT NULL GROUP BY 1")}

    def vector_rows(self):
        return [(r[0], r[1]) for r in self._vectors(
            "SELECT seq, embedding FROM insights WHERE deleted_at IS NULL "
            "AND embedding IS NOT NULL ORDER BY seq")]

    def ids_without_vectors(self, limit):
        return [r[0] for r in self._rows(
            "SELECT id FROM insights WHERE deleted_at IS NULL AND embedding IS NULL "
            "ORDER BY seq LIMIT %s", (limit,))]

    def latest_with_source(self, source, exclude, before):
        clause, args = self._exclusion(exclude)
        found = self._select(f"deleted_at IS NULL AND source = %s AND created_at <= %s{clause}",
                             [source, before, *args],
                             "ORDER BY created_at DESC, seq DESC LIMIT 1")
        return found[0] if found else None

    def closest_in_time(self, center, start, end, limit, exclude):
        clause, args = self._exclusion(exclude)
        return self._select(
            f"deleted_at IS NULL AND created_at >= %s AND created_at <= %s{clause}",
            [start, end, *args, center, limit],
            "ORDER BY abs(extract(epoch FROM created_at::timestamptz - %s::timestamptz)), "
            "seq DESC LIMIT %s")

    def newest(self, limit, exclude):
        clause, args = self._exclusion(exclude)
        return self._select(f"deleted_at IS NULL{clause}", [*args, limit],
                            "ORDER BY created_at DESC, seq DESC LIMIT %s")

    def entity_sharers(self, entity, limit, exclude):
        clause, args = self._exclusion(exclude)
        return [r[0] for r in self._rows(
            "SELECT id FROM insights WHERE entity_keys @> ARRAY[lower(%s)] "
            f"AND deleted_at IS NULL{clause} ORDER BY created_at DESC, seq DESC LIMIT %s",
            [entity, *args, limit])]

    def entity_count(self, entity):
        return self._one("SELECT count(*) FROM insights WHERE entity_keys @> ARRAY[lower(%s)] "
                         "AND deleted_at IS NULL", (entity,))[0]

    def keyword_candidates(self, terms, limit, exclude):
        if not terms:
            return []
        query, args = _tsquery(terms, "||")
        clause, more = self._exclusion(exclude, "i.")
        return [(r[0], r[1]) for r in self._rows(
            f"SELECT i.id, {_RANK} AS rank FROM insights i, (SELECT {query} AS q) q "
            f"WHERE i.fts @@ q.q AND i.deleted_at IS NULL{clause} "
            "ORDER BY rank DESC, i.seq LIMIT %s", [*args, *more, limit])]

    def term_doc_count(self, term):
        query, args = _tsquery([term], "||")
        return self._one(f"SELECT count(*) FROM insights WHERE fts @@ {query} "
                         "AND deleted_at IS NULL", args)[0]

    def neighbours(self, insight_ids, depth, limit):
        if not insight_ids or depth < 1:
            return []
        rows = self._rows(
            "WITH RECURSIVE walk(id, d) AS (SELECT unnest(%s::text[]), 0 "
            "UNION SELECT e.target_id, w.d + 1 FROM walk w JOIN edges e ON e.source_id = w.id "
            "WHERE w.d < %s) "
            "SELECT w.id, min(w.d) AS d FROM walk w JOIN insights i ON i.id = w.id "
            'WHERE i.deleted_at IS NULL GROUP BY w.id ORDER BY d, w.id COLLATE "C"',
            (list(insight_ids), depth))
        start = set(insight_ids)
        return [r[0] for r in rows if r[0] not in start][:limit]

    # -- recall ----------------------------------------------------------------------
    def recall_keyword(self, terms, limit, *, category=None, source=None):
        if not terms:
            return []
        query, args = _tsquery(terms, "||")
        extra, more = self._filters(category, source)
        return [(r[0], r[1]) for r in self._rows(
            f"SELECT i.id, {_RANK} AS rank FROM insights i, (SELECT {query} AS q) q "
            f"WHERE i.fts @@ q.q AND i.deleted_at IS NULL{extra} "
            "ORDER BY rank DESC, i.seq LIMIT %s", [*args, *more, limit])]

    def recall_entity(self, entities, limit, *, category=None, source=None):
        if not entities:
            return []
        keys = list(dict.fromkeys(e.lower() for e in entities))
        extra, args = self._filters(category, source)
        return [(r[0], r[1]) for r in self._rows(
            "SELECT i.id, (SELECT count(*) FROM unnest(i.entity_keys) k WHERE k = ANY(%s)) AS n "
            f"FROM insights i WHERE i.entity_keys && %s::text[] AND i.deleted_at IS NULL{extra} "
            "ORDER BY n DESC, i.created_at DESC LIMIT %s", [keys, keys, *args, limit])]

    def recall_recent(self, limit, *, category=None, source=None):
        extra, args = self._filters(category, source)
        return [r[0] for r in self._rows(
            f"SELECT i.id FROM insights i WHERE i.deleted_at IS NULL{extra} "
            "ORDER BY i.created_at DESC, i.seq DESC LIMIT %s", [*args, limit])]

    def ids_for_seqs(self, seqs, *, category=None, source=None):
        extra, args = self._filters(category, source)
        return {r[0]: r[1] for r in self._rows(
            f"SELECT i.seq, i.id FROM insights i WHERE i.seq = ANY(%s::bigint[]) "
            f"AND i.deleted_at IS NULL{extra}", [[int(s) for s in seqs], *args])}

    def seqs_for_ids(self, insight_ids):
        return {r[0]: r[1] for r in self._rows(
            "SELECT id, seq FROM insights WHERE id = ANY(%s)", (list(insight_ids),))}

    def vectors_after(self, seq, *, changed_since=None):
        sql = ("SELECT seq, id, embedding FROM insights WHERE deleted_at IS NULL AND "
               "embedding IS NOT NULL AND (seq > %s")
        args: list = [seq]
        if changed_since:
            sql += " OR updated_at > %s"
            args.append(changed_since)
        return [(r[0], r[1], r[2]) for r in self._vectors(sql + ")", args)]

    def edges_from(self, insight_ids):
        ids = list(insight_ids)
        if not ids:
            return []
        return [(r[0], r[1], r[2], r[3]) for r in self._rows(
            "SELECT e.source_id, e.target_id, e.edge_type, e.weight FROM edges e "
            "JOIN insights i ON i.id = e.target_id AND i.deleted_at IS NULL "
            "WHERE e.source_id = ANY(%s)", (ids,))]

    # -- edges -----------------------------------------------------------------------
    def upsert_edge(self, edge):
        with self.transaction():
            self.conn.execute(
                "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (source_id, target_id, edge_type) DO UPDATE SET "
                "metadata = CASE WHEN excluded.weight > edges.weight AND "
                "coalesce(edges.metadata->>'created_by', '') NOT IN "
                f"{_PROTECTED_EDGE_AUTHORS} THEN excluded.metadata ELSE edges.metadata END, "
                "weight = greatest(edges.weight, excluded.weight)",
                (edge.source_id, edge.target_id, edge.edge_type, edge.weight,
                 _jsonb(edge.metadata or {}), edge.created_at or clock.iso()))

    def link_edge(self, edge, *, keep_heavier=True):
        with self.transaction():
            row = self._one("SELECT weight FROM edges WHERE source_id = %s AND target_id = %s "
                            "AND edge_type = %s FOR UPDATE",
                            (edge.source_id, edge.target_id, edge.edge_type))
            previous = row[0] if row else None
            weight = edge.weight
            if keep_heavier and previous is not None and previous > weight:
                weight = previous
            self.conn.execute(
                "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (source_id, target_id, edge_type) DO UPDATE SET "
                "weight = excluded.weight, metadata = excluded.metadata, "
                "created_at = excluded.created_at",
                (edge.source_id, edge.target_id, edge.edge_type, weight,
                 _jsonb(edge.metadata or {}), edge.created_at or clock.iso()))
            return previous

    @staticmethod
    def _edge(r) -> Edge:
        return Edge(r["source_id"], r["target_id"], r["edge_type"], r["weight"],
                    r["metadata"] or {}, r["created_at"])

    def edges_of(self, insight_id):
        return [self._edge(r) for r in self._dicts(
            "SELECT * FROM edges WHERE source_id = %s OR target_id = %s "
            'ORDER BY edge_type COLLATE "C", weight DESC, seq', (insight_id, insight_id))]

    def delete_edges_of(self, insight_id):
        with self.transaction():
            return self.conn.execute("DELETE FROM edges WHERE source_id = %s OR target_id = %s",
                                     (insight_id, insight_id)).rowcount

    def delete_auto_edges_of(self, insight_id):
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM edges WHERE (source_id = %s OR target_id = %s) AND "
                f"coalesce(metadata->>'created_by', '') NOT IN {_PROTECTED_EDGE_AUTHORS}",
                (insight_id, insight_id)).rowcount

    def count_edges(self):
        return self._one("SELECT count(*) FROM edges")[0]

    def optimize(self):
        if not self.readonly:
            self.conn.execute("ANALYZE insights, edges")

    # -- lifecycle -------------------------------------------------------------------
    def importance_inputs(self):
        return [tuple(r) for r in self._rows(
            "SELECT i.id, i.importance, i.access_count, "
            "coalesce(i.last_accessed_at, i.created_at), "
            "(SELECT count(*) FROM edges e WHERE e.source_id = i.id OR e.target_id = i.id), "
            "i.protected::int FROM insights i WHERE i.deleted_at IS NULL")]

    def set_effective_importance(self, values):
        values = list(values)
        if not values:
            return
        with self.transaction():
            self.conn.execute(
                "UPDATE insights i SET effective_importance = v.ei "
                "FROM unnest(%s::text[], %s::float8[]) AS v(id, ei) WHERE i.id = v.id",
                ([i for i, _ in values], [float(ei) for _, ei in values]))

    def prune_candidates(self, limit, created_before):
        return self._select(
            "deleted_at IS NULL AND importance < 4 AND NOT protected AND created_at < %s",
            [created_before, limit], "ORDER BY effective_importance, created_at LIMIT %s")

    def trim_oplog(self, before, keep):
        with self.transaction():
            n = self.conn.execute("DELETE FROM oplog WHERE created_at < %s", (before,)).rowcount
            n += self.conn.execute(
                "DELETE FROM oplog WHERE id <= (SELECT id FROM oplog ORDER BY id DESC "
                "LIMIT 1 OFFSET %s)", (keep,)).rowcount
            return n

    # -- oplog -----------------------------------------------------------------------
    def log_op(self, operation, insight_id, detail=None, before=None, after=None):
        with self.transaction():
            self.conn.execute(
                "INSERT INTO oplog (operation, insight_id, detail, created_at, before, after) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (operation, insight_id, detail, clock.iso(), _jsonb(before), _jsonb(after)))

    def list_oplog(self, *, since, limit):
        sql, args = "SELECT * FROM oplog", []
        if since:
            sql += " WHERE created_at >= %s"
            args.append(since)
        rows = self._dicts(sql + " ORDER BY id DESC LIMIT %s", [*args, limit])
        return [OpEntry.from_row(r) for r in rows]

    def oplog_stats(self, *, since):
        sql, args = "SELECT operation, count(*) FROM oplog", []
        if since:
            sql += " WHERE created_at >= %s"
            args.append(since)
        counts = {r[0]: r[1] for r in self._rows(
            sql + ' GROUP BY operation ORDER BY operation COLLATE "C"', args)}
        never, active = self._one(
            "SELECT count(*) FILTER (WHERE access_count = 0), count(*) FROM insights "
            "WHERE deleted_at IS NULL")
        return {"operation_counts": counts, "never_accessed": never, "total_active": active}

    # -- usage and recall stats --------------------------------------------------------
    def list_oplog_ops(self, operations, *, since, limit):
        if not operations:
            return []
        sql, args = "SELECT * FROM oplog WHERE operation = ANY(%s)", [list(operations)]
        if since:
            sql += " AND created_at >= %s"
            args.append(since)
        rows = self._dicts(sql + " ORDER BY id DESC LIMIT %s", [*args, limit])
        return [OpEntry.from_row(r) for r in rows]

    def never_recalled(self, *, created_before, limit):
        where = "deleted_at IS NULL AND access_count = 0 AND created_at < %s"
        count = self._one(f"SELECT count(*) FROM insights WHERE {where}", (created_before,))[0]
        return count, self._select(where, [created_before, limit],
                                   "ORDER BY created_at, seq LIMIT %s")

    def insights_by_id_prefix(self, prefixes):
        out: dict[str, Insight] = {}
        for prefix in dict.fromkeys(p for p in prefixes if p):
            found = self._select("starts_with(id, %s)", [prefix],
                                 "ORDER BY deleted_at IS NOT NULL, seq LIMIT 1")
            if found:
                out[prefix] = found[0]
        return out

    # -- lifecycle and history ---------------------------------------------------------
    _VERSION_FIELDS = ("insight_id, version, content, category, importance, entities, source, "
                       "keywords, summary, semantic_facts, deleted, written_at, queue_id, "
                       "changed_at, change, reason, changed_by_queue_id")

    def save_version(self, insight_id, change, *, reason=None, queue_id=None):
        with self.transaction():
            rows = self._dicts(
                "SELECT content, category, importance, entities, source, keywords, summary, "
                "semantic_facts, embedding, embedding_model, deleted_at, updated_at, queue_id "
                "FROM insights WHERE id = %s FOR UPDATE", (insight_id,))
            if not rows:
                return None
            row = rows[0]
            version = self._one("SELECT coalesce(max(version), 0) + 1 FROM insight_history "
                                "WHERE insight_id = %s", (insight_id,))[0]
            edges = [e.to_dict() for e in self.edges_of(insight_id)]
            self.conn.execute(
                f"INSERT INTO insight_history ({self._VERSION_FIELDS}, embedding, "
                "embedding_model, edges) VALUES (" + ", ".join(["%s"] * 20) + ")",
                (insight_id, version, row["content"], row["category"], row["importance"],
                 _jsonb(row["entities"]), row["source"], _jsonb(row["keywords"]),
                 row["summary"], _jsonb(row["semantic_facts"]), row["deleted_at"] is not None,
                 row["updated_at"], row["queue_id"], clock.iso(), change, reason, queue_id,
                 row["embedding"], row["embedding_model"], _jsonb(edges)))
            return version

    @staticmethod
    def _version(row, full: bool) -> Version:
        out = Version(
            row["insight_id"], row["version"], row["content"], row["category"],
            row["importance"], row["entities"] or [], row["source"], bool(row["deleted"]),
            row["written_at"], row["queue_id"], row["changed_at"], row["change"], row["reason"],
            row["changed_by_queue_id"], row["keywords"], row["summary"], row["semantic_facts"])
        if full:
            blob = row["embedding"]
            out.embedding = bytes(blob) if blob is not None else None
            out.embedding_model = row["embedding_model"]
            out.edges = row["edges"] or []
        return out

    def versions_of(self, insight_id):
        return [self._version(r, False) for r in self._dicts(
            f"SELECT {self._VERSION_FIELDS} FROM insight_history WHERE insight_id = %s "
            "ORDER BY version", (insight_id,))]

    def get_version(self, insight_id, version):
        rows = self._dicts(
            f"SELECT {self._VERSION_FIELDS}, embedding, embedding_model, edges "
            "FROM insight_history WHERE insight_id = %s AND version = %s",
            (insight_id, version))
        return self._version(rows[0], True) if rows else None

    def set_protected(self, insight_id, protected):
        with self.transaction():
            return self.conn.execute(
                "UPDATE insights SET protected = %s WHERE id = %s AND deleted_at IS NULL",
                (bool(protected), insight_id)).rowcount > 0

    def degrees_of(self, insight_ids):
        ids = list(dict.fromkeys(insight_ids))
        if not ids:
            return {}
        return {r[0]: r[1] for r in self._rows(
            "SELECT x, count(*) FROM (SELECT source_id AS x FROM edges WHERE source_id = ANY(%s) "
            "UNION ALL SELECT target_id FROM edges WHERE target_id = ANY(%s)) s GROUP BY x",
            (ids, ids))}

    # -- graph walks and export ----------------------------------------------------------
    def related(self, insight_id, edge_type, depth, limit):
        if depth < 1 or limit < 1:
            return []
        only = " AND e.edge_type = %(type)s" if edge_type else ""
        other = "CASE WHEN e.source_id = w.id THEN e.target_id ELSE e.source_id END"
        rows = self._dicts(
            "WITH RECURSIVE walk(id, d) AS ("
            "  SELECT %(start)s::text, 0 "
            "  UNION "
            f"  SELECT {other}, w.d + 1 "
            f"  FROM walk w JOIN edges e ON (e.source_id = w.id OR e.target_id = w.id){only} "
            f"  JOIN insights n ON n.id = {other} AND n.deleted_at IS NULL "
            "  WHERE w.d < %(depth)s"
            "), reach AS (SELECT id, min(d) AS d FROM walk GROUP BY id), "
            "hits AS ("
            "  SELECT r.id, r.d FROM reach r JOIN insights i ON i.id = r.id "
            "  WHERE r.d > 0 AND r.id <> %(start)s "
            "  ORDER BY r.d, i.importance DESC, i.created_at DESC, i.seq DESC LIMIT %(limit)s"
            ") "
            "SELECT h.d AS hop_depth, ("
            "  SELECT e.edge_type FROM edges e JOIN reach p ON p.d = h.d - 1 AND p.id = "
            "    CASE WHEN e.source_id = h.id THEN e.target_id ELSE e.source_id END "
            f"  WHERE (e.source_id = h.id OR e.target_id = h.id){only} "
            '  ORDER BY e.weight DESC, e.edge_type COLLATE "C" LIMIT 1'
            f") AS via, {_I_COLUMNS} "
            "FROM hits h JOIN insights i ON i.id = h.id "
            "ORDER BY h.d, i.importance DESC, i.created_at DESC, i.seq DESC",
            {"start": insight_id, "depth": depth, "limit": limit, "type": edge_type})
        return [(Insight.from_row(r), r["hop_depth"], r["via"]) for r in rows]

    @contextmanager
    def read_snapshot(self):
        from psycopg import pq

        if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
            yield
            return
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    def iter_insights(self, *, include_deleted=True, batch=500):
        where = "" if include_deleted else " AND deleted_at IS NULL"
        last = 0
        while True:
            rows = self._dicts(f"SELECT seq, {_COLUMNS} FROM insights WHERE seq > %s{where} "
                               "ORDER BY seq LIMIT %s", (last, batch))
            if not rows:
                return
            last = rows[-1]["seq"]
            for row in rows:
                yield Insight.from_row(row)

    def iter_edges(self, *, batch=500):
        last = 0
        while True:
            rows = self._dicts("SELECT * FROM edges WHERE seq > %s ORDER BY seq LIMIT %s",
                               (last, batch))
            if not rows:
                return
            last = rows[-1]["seq"]
            for r in rows:
                yield self._edge(r)

    def applied_migrations(self):
        done = schema_mod.applied(self.conn, self.schema)
        return ([n for n in schema_mod.NAMES if n in done]
                + [n for n in done if n not in schema_mod.NAMES])

    # -- migrate -------------------------------------------------------------------------
    # Rows travel in SQLite's plain types (JSON text, float32 blobs, 0/1 flags).
    _DUMP_KEYS = {"meta": 'key COLLATE "C"', "edges": "source_id, target_id, edge_type",
                  "insights": "seq", "oplog": "id", "insight_history": "seq"}
    _JSON_COLUMNS = {"entities", "keywords", "semantic_facts", "metadata", "before", "after",
                     "edges"}
    _FLAG_COLUMNS = {"protected", "deleted"}

    def dump_rows(self, table, *, batch=500):
        from memman.store.base import COPIED_TABLES

        columns = COPIED_TABLES[table]
        offset = 0
        while True:
            with self.conn.cursor(binary=True) as cur:
                rows = cur.execute(
                    f"SELECT {', '.join(columns)} FROM {table} ORDER BY {self._DUMP_KEYS[table]} "
                    "LIMIT %s OFFSET %s", (batch, offset)).fetchall()
            if not rows:
                return
            offset += len(rows)
            for row in rows:
                yield {c: self._plain(c, v) for c, v in zip(columns, row, strict=True)}

    def _plain(self, column, value):
        if value is None:
            return None
        if column in self._JSON_COLUMNS:
            return json.dumps(value, ensure_ascii=False, sort_keys=column != "edges")
        if column in self._FLAG_COLUMNS:
            return int(bool(value))
        if isinstance(value, memoryview):
            return bytes(value)
        return value

    def load_rows(self, table, rows):
        from memman.store.base import COPIED_TABLES

        if not rows:
            return
        columns = COPIED_TABLES[table]
        vectors = {"embedding", "embedding_pending"} if table == "insights" else set()

        def typed(column, value):
            if value is None:
                return None
            if column in self._JSON_COLUMNS:
                return _jsonb(json.loads(value) if isinstance(value, str) else value)
            if column in self._FLAG_COLUMNS:
                return bool(value)
            if column in vectors:
                return VectorBlob(value)
            return value

        overriding = " OVERRIDING SYSTEM VALUE" if table == "insight_history" else ""
        with self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}){overriding} "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                [tuple(typed(c, row[c]) for c in columns) for row in rows])
        key = {"insights": "seq", "oplog": "id", "insight_history": "seq"}.get(table)
        if key:  # later inserts continue after the copied ids
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{self.schema}.{table}', '{key}'), "
                f"greatest((SELECT max({key}) FROM {table}), 1))")

    # -- embed swap ------------------------------------------------------------------------
    # The pending slot is the ``embedding_pending`` column (no fixed size); trigger
    # insights_pending_stale (migration m007) clears it when content or keywords change.
    # The cutover retypes ``embedding`` to the new size and rebuilds the HNSW index.
    _SWAP_TARGET = ("provider", "model", "dim")

    def swap_state(self):
        rows = dict(self._rows(
            "SELECT key, value FROM meta WHERE key IN ('embed_swap_state', "
            "'embed_swap_cursor', 'embed_swap_target_provider', 'embed_swap_target_model', "
            "'embed_swap_target_dim')"))
        if "embed_swap_state" not in rows:
            return None
        out = {"state": rows["embed_swap_state"]}
        for name in ("cursor", "target_provider", "target_model", "target_dim"):
            value = rows.get(f"embed_swap_{name}")
            if name in ("cursor", "target_dim"):
                value = int(value) if value and value.isdigit() else None
            out[name] = value
        return out

    def _swap_target_is(self, target) -> bool:
        state = self.swap_state()
        return state is not None and state["state"] == "backfilling" and all(
            state[f"target_{k}"] == target.get(k) for k in self._SWAP_TARGET)

    def _set_swap_meta(self, values: dict) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(f"embed_swap_{k}", str(v)) for k, v in values.items()])

    def _drop_swap_meta(self) -> None:
        self.conn.execute("DELETE FROM meta WHERE starts_with(key, 'embed_swap_')")

    def swap_begin(self, target):
        with self.transaction():
            if self.swap_state() is not None:
                raise MemmanError("an embedder swap is already in progress on this store")
            self.conn.execute("UPDATE insights SET embedding_pending = NULL "
                              "WHERE embedding_pending IS NOT NULL")
            self._set_swap_meta({"state": "backfilling", "cursor": 0,
                                 **{f"target_{k}": target[k] for k in self._SWAP_TARGET}})

    def pending_batch(self, after_seq, limit):
        rows = self._rows(
            "SELECT seq, id, content, keywords FROM insights WHERE seq > %s AND "
            "deleted_at IS NULL AND embedding_pending IS NULL ORDER BY seq LIMIT %s",
            (after_seq, limit))
        return [(r[0], r[1], r[2], r[3], (r[2], _jsonb(r[3]))) for r in rows]

    def write_pending(self, rows, target, *, cursor=None):
        written = 0
        with self.transaction():
            if not self._swap_target_is(target):
                return 0
            for insight_id, blob, token in rows:
                if token is None:
                    cur = self.conn.execute(
                        "UPDATE insights SET embedding_pending = %s WHERE id = %s",
                        (VectorBlob(blob), insight_id))
                else:
                    cur = self.conn.execute(
                        "UPDATE insights SET embedding_pending = %s WHERE id = %s AND "
                        "content = %s AND keywords IS NOT DISTINCT FROM %s",
                        (VectorBlob(blob), insight_id, *token))
                written += cur.rowcount
            if cursor is not None:
                self._set_swap_meta({"cursor": int(cursor)})
        return written

    def count_missing_pending(self):
        return self._one("SELECT count(*) FROM insights WHERE deleted_at IS NULL "
                         "AND embedding_pending IS NULL")[0]

    @contextmanager
    def cutover_transaction(self):
        with self.transaction():
            # Readers go on; every other writer of memories waits until the cutover ends.
            self.conn.execute("LOCK TABLE insights IN EXCLUSIVE MODE")
            yield self.conn

    def swap_cutover(self, target):
        from memman.embed.registry import dump_fingerprint

        with self.transaction():
            if not self._swap_target_is(target):
                raise MemmanError("no embedder swap to "
                                  f"{target.get('provider')}/{target.get('model')} is in "
                                  "progress on this store")
            missing = self.count_missing_pending()
            if missing:
                raise MemmanError(f"{missing} memories still lack a vector of the new "
                                  "embedder; the swap cannot cut over yet")
            switched = self.count_active()
            self.conn.execute(f"DROP INDEX IF EXISTS {schema_mod.HNSW_INDEX}")
            self.conn.execute("ALTER TABLE insights ALTER COLUMN embedding TYPE vector")
            self.conn.execute(
                "UPDATE insights SET embedding = embedding_pending, embedding_model = "
                "CASE WHEN embedding_pending IS NULL THEN NULL ELSE %s END, "
                "embedding_pending = NULL "
                "WHERE embedding_pending IS NOT NULL OR embedding IS NOT NULL",
                (target["model"],))
            schema_mod.bind_vector_dim(self.conn, self.schema, int(target["dim"]))
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('embed_fingerprint', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (dump_fingerprint(target),))
            self._drop_swap_meta()
        self._dim = int(target["dim"])
        return switched

    def swap_abort(self):
        with self.transaction():
            if not self.meta_keys("embed_swap_"):
                return False
            self.conn.execute("UPDATE insights SET embedding_pending = NULL "
                              "WHERE embedding_pending IS NOT NULL")
            self._drop_swap_meta()
            return True

    # -- doctor --------------------------------------------------------------------------
    def integrity_problems(self, limit=20):
        # No page checksums to walk from SQL; what Postgres can say cheaply is which of
        # this store's indexes a failed build left invalid.
        return [f"index {r[0]} is invalid (rebuild it with REINDEX)" for r in self._rows(
            "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT x.indisvalid ORDER BY 1 LIMIT %s",
            (self.schema, limit))]

    def insight_columns(self):
        return {r[0] for r in self._rows(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'insights'", (self.schema,))}

    def enrichment_gaps(self):
        row = self._one(
            "SELECT count(*) FILTER (WHERE enriched_at IS NULL), "
            "count(*) FILTER (WHERE linked_at IS NULL), "
            "count(*) FILTER (WHERE embedding IS NULL) FROM insights WHERE deleted_at IS NULL")
        return {"enriched_at": row[0], "linked_at": row[1], "embedding": row[2]}

    def oplog_delta_counts(self, operations):
        if not operations:
            return 0, 0
        row = self._one(
            "SELECT count(*), count(*) FILTER (WHERE before IS NOT NULL OR after IS NOT NULL) "
            "FROM oplog WHERE operation = ANY(%s)", (list(operations),))
        return row[0], row[1]

    def orphan_count(self):
        return self._one(
            "SELECT count(*) FROM insights i WHERE i.deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.source_id = i.id) "
            "AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.target_id = i.id)")[0]

    def dangling_edge_count(self):
        return self._one(
            "SELECT count(*) FROM edges e "
            "LEFT JOIN insights s ON s.id = e.source_id "
            "LEFT JOIN insights t ON t.id = e.target_id "
            "WHERE s.id IS NULL OR t.id IS NULL "
            "OR s.deleted_at IS NOT NULL OR t.deleted_at IS NOT NULL")[0]

    def edge_degrees(self):
        return [r[0] for r in self._rows(
            "SELECT (SELECT count(*) FROM edges e WHERE e.source_id = i.id) + "
            "(SELECT count(*) FROM edges e WHERE e.target_id = i.id) "
            "FROM insights i WHERE i.deleted_at IS NULL")]

    def meta_keys(self, prefix):
        return [r[0] for r in self._rows(
            'SELECT key FROM meta WHERE starts_with(key, %s) ORDER BY key COLLATE "C"',
            (prefix,))]

    def keyword_index_drift(self):
        # The keyword index is a generated column: it cannot miss a memory or keep a
        # forgotten one (the GIN index covers active rows only), short of a NULL vector.
        missing = self._one("SELECT count(*) FROM insights WHERE deleted_at IS NULL "
                            "AND fts IS NULL")[0]
        return missing, 0

    # -- postgres and many hosts ---------------------------------------------------------
    def bind_vector_dim(self, dim):
        dim = int(dim or 0)
        if dim <= 0 or self._dim == dim:
            return
        if self._dim is not None:
            raise self._dim_error(dim)
        with self.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)",
                              (advisory_key(self.schema, "migrate"),))
            current = self._column_dim()
            if current is None:
                wrong = self._one("SELECT count(*) FROM insights WHERE embedding IS NOT NULL "
                                  "AND vector_dims(embedding) <> %s", (dim,))[0]
                if wrong:
                    raise MemmanError(
                        f"store '{self.store}' holds {wrong} vectors that are not {dim}-"
                        "dimensional; run 'memman embed reembed' before binding it")
                schema_mod.bind_vector_dim(self.conn, self.schema, dim)
                current = dim
            self._dim = current
        if current != dim:
            raise self._dim_error(dim)

    def vector_dim(self) -> int | None:
        """The bound dimension of the vector column (None before binding)."""
        return self._dim

    def vector_file_dir(self):
        return None

    def vector_source(self, query):
        return "index"

    def vector_top(self, query, k, *, min_sim=0.0, category=None, source=None):
        import psycopg

        if not query or k < 1:
            return []
        if self._dim is not None and len(query) != 4 * self._dim:
            return []
        extra, args = self._filters(category, source)
        try:
            with self._tx():
                # Filters are applied after the index scan; iterative scans keep walking
                # the graph until k rows survive them (pgvector >= 0.8).
                self.conn.execute(f"SET LOCAL hnsw.ef_search = {max(40, 2 * int(k))}")
                self.conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                rows = self._rows(
                    "SELECT i.id, 1 - (i.embedding <=> %s) AS sim FROM insights i "
                    f"WHERE i.deleted_at IS NULL AND i.embedding IS NOT NULL{extra} "
                    "ORDER BY i.embedding <=> %s LIMIT %s",
                    [VectorBlob(query), *args, VectorBlob(query), k])
        except psycopg.errors.DataException:
            return []  # vectors of another size (a store never bound to a dimension)
        found = [(r[0], float(r[1])) for r in rows if r[1] is not None and r[1] >= min_sim]
        found.sort(key=lambda kv: -kv[1])
        return found

    def vector_similarity(self, query, insight_ids):
        import psycopg

        ids = list(insight_ids)
        if not query or not ids:
            return {}
        try:
            rows = self._rows(
                "SELECT id, 1 - (embedding <=> %s) FROM insights WHERE id = ANY(%s) "
                "AND deleted_at IS NULL AND embedding IS NOT NULL "
                "AND vector_dims(embedding) = %s", (VectorBlob(query), ids, len(query) // 4))
        except psycopg.errors.DataException:
            return {}
        return {r[0]: float(r[1]) for r in rows if r[1] is not None}

    @contextmanager
    def drain_lock(self, timeout=None):
        """Hold this store's drain lock (a session advisory lock, so a worker that dies
        releases it with its connection); yields False when ``timeout`` seconds passed
        without getting it (``timeout=None`` waits as long as it takes)."""
        import time

        key = advisory_key(self.schema, "drain")
        if timeout is None:
            self.conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            got = True
        else:
            deadline = time.monotonic() + timeout
            while True:
                got = self._one("SELECT pg_try_advisory_lock(%s)", (key,))[0]
                if got or time.monotonic() >= deadline:
                    break
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        self._locks_held += bool(got)
        try:
            yield got
        finally:
            if got and not self.conn.closed and self._locks_held:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                self._locks_held -= 1

    def record_heartbeat(self, host, pid, run_id=None):
        now = clock.iso()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO worker_heartbeats (host, pid, run_id, first_seen_at, "
                "last_heartbeat_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (host) DO UPDATE "
                "SET pid = excluded.pid, run_id = excluded.run_id, "
                "last_heartbeat_at = excluded.last_heartbeat_at",
                (host, int(pid), run_id, now, now))

    def heartbeats(self):
        return [dict(r) for r in self._dicts(
            "SELECT host, pid, run_id, last_heartbeat_at FROM worker_heartbeats "
            'ORDER BY host COLLATE "C"')]


def _fingerprint_dim(text: str) -> int | None:
    try:
        return int(json.loads(text).get("dim") or 0) or None
    except (ValueError, TypeError, AttributeError):
        return None


# -- stores on a server: used by ``memman store`` ------------------------------------
def store_schemas(dsn: str) -> dict[str, str]:
    """Live memman stores on the server at ``dsn``: store name -> schema (the name is
    kept in the schema's comment, since hashed schema names cannot be reversed)."""
    import psycopg

    conn = pg_connect.connect(dsn)
    try:
        rows = conn.execute(
            "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace "
            "WHERE nspname LIKE 'store\\_%' AND "
            "obj_description(oid, 'pg_namespace') LIKE 'memman store %'").fetchall()
    except psycopg.Error as exc:
        conn.close()
        raise pg_connect.describe(dsn, exc, "cannot list stores") from None
    pg_connect.release(dsn, conn)
    return {comment[len("memman store "):]: nsp for nsp, comment in rows}


def schema_exists(dsn: str, store: str) -> bool:
    import psycopg

    conn = pg_connect.connect(dsn)
    try:
        found = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
                             (pg_schema_name(store),)).fetchone()[0]
    except psycopg.Error as exc:
        conn.close()
        raise pg_connect.describe(dsn, exc) from None
    pg_connect.release(dsn, conn)
    return found


def archive_store(dsn: str, store: str) -> str:
    """Rename the store's schema to ``archived_<UTC stamp>_<hash>`` (never dropped) while
    holding its drain lock, so no worker is writing; returns the new schema name."""
    from psycopg import sql

    backend = PostgresBackend(dsn, store)
    try:
        stamp = clock.iso().replace("-", "").replace(":", "").replace(".", "")[:21].lower()
        digest = hashlib.sha256(backend.schema.encode()).hexdigest()[:8]
        target = f"{ARCHIVE_PREFIX}{stamp}_{digest}"
        with backend.drain_lock(timeout=30) as got:
            if not got:
                raise MemmanError(f"store '{store}' is being drained; try again when the "
                                  "drain has finished")
            with backend.conn.transaction():
                backend.conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(backend.schema), sql.Identifier(target)))
                backend.conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    sql.Identifier(target),
                    sql.Literal(f"memman archived store {store} (was {backend.schema})")))
        backend.conn.execute("RESET search_path")
    finally:
        backend.close()
    return target
