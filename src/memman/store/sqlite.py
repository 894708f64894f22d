"""The SQLite backend: one ``memman.db`` per store, WAL, one BEGIN IMMEDIATE per write."""
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from memman import clock, db
from memman.errors import MemmanError
from memman.store.base import Backend
from memman.store.model import Edge, Insight, OpEntry, Version
from memman.store.sqlite_schema import migrations

_COLUMNS = ", ".join(Insight.COLUMNS)
_PROTECTED_EDGE_AUTHORS = ("claude", "manual")
# A recall waits at most this long for a busy writer before skipping its bookkeeping.
RECALL_BOOKKEEPING_WAIT_MS = 200


def _encode(name: str, value):
    if name in ("entities", "keywords", "semantic_facts") and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            self.conn = db.connect(str(self.path), readonly=readonly)
            if not readonly:
                migrations.apply(self.conn)
            elif migrations.pending(self.conn):
                raise MemmanError(
                    f"store database {self.path} is read-only and was written by an older "
                    "memman; upgrade it where it is writable (any memman command there "
                    "does) before reading it here")
        except sqlite3.Error as exc:
            raise db.describe_error("store database", self.path, exc) from None

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.conn.close()

    def transaction(self):
        if self.readonly:
            raise MemmanError(f"store database {self.path} is read-only here; change it "
                              "where it is writable")
        return db.transaction(self.conn)

    # -- meta ------------------------------------------------------------------
    def get_meta(self, key):
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key, value):
        with self.transaction():
            if value is None:
                self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- memories ----------------------------------------------------------------
    def insert_insight(self, insight):
        now = clock.iso()
        insight.created_at = insight.created_at or now
        insight.updated_at = insight.updated_at or insight.created_at
        names = Insight.COLUMNS
        with self.transaction():
            self.conn.execute(
                f"INSERT INTO insights ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [_encode(n, getattr(insight, n)) for n in names],
            )

    def get_insight(self, insight_id, *, include_deleted=False):
        sql = f"SELECT {_COLUMNS} FROM insights WHERE id = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        row = self.conn.execute(sql, (insight_id,)).fetchone()
        return Insight.from_row(row) if row else None

    def update_insight(self, insight_id, changes):
        if not changes:
            return
        changes = dict(changes)
        changes.setdefault("updated_at", clock.iso())
        unknown = set(changes) - set(Insight.COLUMNS)
        if unknown:
            raise ValueError(f"unknown insight fields: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self.transaction():
            self.conn.execute(
                f"UPDATE insights SET {assignments} WHERE id = ?",
                [_encode(k, v) for k, v in changes.items()] + [insight_id],
            )

    def soft_delete_insight(self, insight_id):
        now = clock.iso()
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE insights SET deleted_at = ?, updated_at = ? "
                "WHERE id = ? AND deleted_at IS NULL",
                (now, now, insight_id),
            )
            if cur.rowcount == 0:
                return False
            self.delete_edges_of(insight_id)
            return True

    def find_by_queue_id(self, queue_id, origin=None):
        sql, args = f"SELECT {_COLUMNS} FROM insights WHERE queue_id = ?", [queue_id]
        if origin is not None:
            sql += " AND queue_origin = ?"
            args.append(origin)
        rows = self.conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [Insight.from_row(r) for r in rows]

    def search_basic(self, terms, *, category, source, limit):
        if not terms:
            return []
        match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = (
            f"SELECT {', '.join('i.' + c for c in Insight.COLUMNS)} FROM insights_fts f "
            "JOIN insights i ON i.seq = f.rowid "
            "WHERE insights_fts MATCH ? AND i.deleted_at IS NULL"
        )
        args: list = [match]
        if category:
            sql += " AND i.category = ?"
            args.append(category)
        if source:
            sql += " AND i.source = ?"
            args.append(source)
        sql += " ORDER BY i.importance DESC, i.created_at DESC, i.seq DESC LIMIT ?"
        args.append(limit)
        return [Insight.from_row(r) for r in self.conn.execute(sql, args)]

    def record_access(self, insight_ids):
        if not insight_ids:
            return
        marks = ", ".join("?" * len(insight_ids))
        with self.transaction():
            self.conn.execute(
                "UPDATE insights SET access_count = access_count + 1, last_accessed_at = ? "
                f"WHERE id IN ({marks}) AND deleted_at IS NULL",
                [clock.iso(), *insight_ids],
            )

    def note_recall(self, insight_ids, operation, detail):
        try:
            self.conn.execute(f"PRAGMA busy_timeout={RECALL_BOOKKEEPING_WAIT_MS}")
            with self.transaction():
                self.record_access(insight_ids)
                self.log_op(operation, None, detail)
            return True
        except sqlite3.Error:
            return False
        finally:
            try:
                self.conn.execute(f"PRAGMA busy_timeout={db.busy_timeout_ms()}")
            except sqlite3.Error:
                pass

    def set_embedding(self, insight_id, vector, model):
        with self.transaction():
            self.conn.execute(
                "UPDATE insights SET embedding = ?, embedding_model = ? WHERE id = ?",
                (vector, model, insight_id),
            )

    def counts(self):
        q = self.conn.execute
        total, deleted = q(
            "SELECT sum(deleted_at IS NULL), sum(deleted_at IS NOT NULL) FROM insights"
        ).fetchone()
        by_category = {
            r[0]: r[1]
            for r in q(
                "SELECT category, count(*) FROM insights WHERE deleted_at IS NULL "
                "GROUP BY category ORDER BY category"
            )
        }
        top_entities = [
            {"entity": r[0], "count": r[1]}
            for r in q(
                "SELECT min(j.value), count(*) AS n FROM insights i, json_each(i.entities) j "
                "WHERE i.deleted_at IS NULL GROUP BY lower(j.value) ORDER BY n DESC, 1 LIMIT 20"
            )
        ]
        return {
            "total_insights": total or 0,
            "deleted_insights": deleted or 0,
            "edge_count": q("SELECT count(*) FROM edges").fetchone()[0],
            "oplog_count": q("SELECT count(*) FROM oplog").fetchone()[0],
            "by_category": by_category,
            "top_entities": top_entities,
        }

    def _exclusion(self, exclude):
        if not exclude:
            return "", []
        return f" AND id NOT IN ({', '.join('?' * len(exclude))})", list(exclude)

    def _select(self, where: str, args, tail: str = "") -> list[Insight]:
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM insights WHERE {where} {tail}", args)
        return [Insight.from_row(r) for r in rows]

    def get_insights(self, insight_ids):
        out: list[Insight] = []
        ids = list(dict.fromkeys(insight_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            out += self._select(
                f"deleted_at IS NULL AND id IN ({', '.join('?' * len(chunk))})", chunk)
        return out

    def count_active(self):
        # All rows minus the forgotten ones: both counts walk a small index (the
        # forgotten ones a partial one), where "deleted_at IS NULL" would scan the table.
        return self.conn.execute(
            "SELECT (SELECT count(*) FROM insights) - "
            "(SELECT count(*) FROM insights WHERE deleted_at IS NOT NULL)").fetchone()[0]

    def count_stale(self, prompt_version, model_id):
        return self.conn.execute(
            "SELECT count(*) FROM insights WHERE deleted_at IS NULL AND "
            "(coalesce(prompt_version, '') != ? OR coalesce(model_id, '') != ?)",
            (prompt_version, model_id)).fetchone()[0]

    def has_any_rows(self):
        return self.conn.execute("SELECT 1 FROM insights LIMIT 1").fetchone() is not None

    def active_vectors(self):
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT id, embedding FROM insights WHERE deleted_at IS NULL "
            "AND embedding IS NOT NULL ORDER BY seq")]

    def active_vectors_for(self, insight_ids):
        ids = list(insight_ids)
        if not ids:
            return []
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT id, embedding FROM insights WHERE deleted_at IS NULL AND embedding IS NOT "
            f"NULL AND id IN ({', '.join('?' * len(ids))})", ids)]

    def vector_sizes(self):
        return {r[0]: r[1] for r in self.conn.execute(
            "SELECT length(embedding), count(*) FROM insights WHERE deleted_at IS NULL "
            "AND embedding IS NOT NULL GROUP BY length(embedding)")}

    def vector_rows(self):
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT seq, embedding FROM insights WHERE deleted_at IS NULL "
            "AND embedding IS NOT NULL ORDER BY seq")]

    def ids_without_vectors(self, limit):
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM insights WHERE deleted_at IS NULL AND embedding IS NULL "
            "ORDER BY seq LIMIT ?", (limit,))]

    def latest_with_source(self, source, exclude, before):
        clause, args = self._exclusion(exclude)
        found = self._select(f"deleted_at IS NULL AND source = ? AND created_at <= ?{clause}",
                             [source, before, *args],
                             "ORDER BY created_at DESC, seq DESC LIMIT 1")
        return found[0] if found else None

    def closest_in_time(self, center, start, end, limit, exclude):
        clause, args = self._exclusion(exclude)
        return self._select(
            f"deleted_at IS NULL AND created_at >= ? AND created_at <= ?{clause}",
            [start, end, *args, center, limit],
            "ORDER BY abs(julianday(created_at) - julianday(?)), seq DESC LIMIT ?")

    def newest(self, limit, exclude):
        clause, args = self._exclusion(exclude)
        return self._select(f"deleted_at IS NULL{clause}", [*args, limit],
                            "ORDER BY created_at DESC, seq DESC LIMIT ?")

    def entity_sharers(self, entity, limit, exclude):
        clause, args = self._exclusion(exclude)
        clause = clause.replace(" id NOT IN", " i.id NOT IN")
        return [r[0] for r in self.conn.execute(
            "SELECT i.id FROM insight_entities e JOIN insights i ON i.id = e.insight_id "
            f"WHERE e.entity = lower(?) AND i.deleted_at IS NULL{clause} "
            "ORDER BY i.created_at DESC, i.seq DESC LIMIT ?", [entity, *args, limit])]

    def entity_count(self, entity):
        return self.conn.execute(
            "SELECT count(*) FROM insight_entities WHERE entity = lower(?)", (entity,)
        ).fetchone()[0]

    def keyword_candidates(self, terms, limit, exclude):
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        clause, args = self._exclusion(exclude)
        clause = clause.replace(" id NOT IN", " i.id NOT IN")
        rows = self.conn.execute(
            "SELECT i.id, bm25(insights_fts) AS rank FROM insights_fts f "
            "JOIN insights i ON i.seq = f.rowid "
            f"WHERE insights_fts MATCH ? AND i.deleted_at IS NULL{clause} "
            "ORDER BY rank LIMIT ?", [match, *args, limit])
        return [(r[0], -r[1]) for r in rows]

    def term_doc_count(self, term):
        try:
            return self.conn.execute(
                "SELECT count(*) FROM insights_fts WHERE insights_fts MATCH ?",
                ('"' + term.replace('"', '""') + '"',)).fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    def neighbours(self, insight_ids, depth, limit):
        if not insight_ids or depth < 1:
            return []
        seeds = ", ".join("(?, 0)" for _ in insight_ids)
        rows = self.conn.execute(
            f"WITH RECURSIVE walk(id, d) AS (VALUES {seeds} "
            "UNION SELECT e.target_id, w.d + 1 FROM walk w JOIN edges e ON e.source_id = w.id "
            "WHERE w.d < ?) "
            "SELECT w.id, min(w.d) AS d FROM walk w JOIN insights i ON i.id = w.id "
            "WHERE i.deleted_at IS NULL GROUP BY w.id ORDER BY d, w.id",
            [*insight_ids, depth])
        start = set(insight_ids)
        return [r[0] for r in rows if r[0] not in start][:limit]

    # -- recall --------------------------------------------------------------------
    @staticmethod
    def _filters(category, source, alias="i"):
        sql, args = "", []
        if category:
            sql += f" AND {alias}.category = ?"
            args.append(category)
        if source:
            sql += f" AND {alias}.source = ?"
            args.append(source)
        return sql, args

    def recall_keyword(self, terms, limit, *, category=None, source=None):
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        extra, args = self._filters(category, source)
        # Rank inside the FTS index first and join only the best rows: joining every
        # match before sorting costs tens of ms on a large store. The index holds
        # active memories only; filters can drop rows, so widen until enough survive.
        fetch = limit * (8 if extra else 2)
        while True:
            rows = self.conn.execute(
                "SELECT i.id, f.rank FROM (SELECT rowid, bm25(insights_fts, 1.0, 0.6, 0.4) "
                "AS rank FROM insights_fts WHERE insights_fts MATCH ? ORDER BY rank LIMIT ?) f "
                f"JOIN insights i ON i.seq = f.rowid WHERE i.deleted_at IS NULL{extra} "
                "ORDER BY f.rank LIMIT ?", [match, fetch, *args, limit]).fetchall()
            if len(rows) >= limit or fetch >= 100_000:
                return [(r[0], -r[1]) for r in rows]
            total = self.conn.execute(
                "SELECT count(*) FROM insights_fts WHERE insights_fts MATCH ?", (match,)
            ).fetchone()[0]
            if total <= fetch:
                return [(r[0], -r[1]) for r in rows]
            fetch *= 4

    def recall_entity(self, entities, limit, *, category=None, source=None):
        if not entities:
            return []
        extra, args = self._filters(category, source)
        marks = ", ".join("?" * len(entities))
        rows = self.conn.execute(
            "SELECT i.id, count(*) AS n FROM insight_entities e "
            "JOIN insights i ON i.id = e.insight_id "
            f"WHERE e.entity IN ({marks}) AND i.deleted_at IS NULL{extra} "
            "GROUP BY i.id ORDER BY n DESC, i.created_at DESC LIMIT ?",
            [*(x.lower() for x in entities), *args, limit])
        return [(r[0], r[1]) for r in rows]

    def recall_recent(self, limit, *, category=None, source=None):
        extra, args = self._filters(category, source)
        return [r[0] for r in self.conn.execute(
            f"SELECT i.id FROM insights i WHERE i.deleted_at IS NULL{extra} "
            "ORDER BY i.created_at DESC, i.seq DESC LIMIT ?", [*args, limit])]

    def ids_for_seqs(self, seqs, *, category=None, source=None):
        out: dict[int, str] = {}
        extra, args = self._filters(category, source)
        seqs = [int(s) for s in seqs]
        for start in range(0, len(seqs), 500):
            chunk = seqs[start:start + 500]
            for r in self.conn.execute(
                    f"SELECT i.seq, i.id FROM insights i WHERE i.seq IN "
                    f"({', '.join('?' * len(chunk))}) AND i.deleted_at IS NULL{extra}",
                    [*chunk, *args]):
                out[r[0]] = r[1]
        return out

    def seqs_for_ids(self, insight_ids):
        out: dict[str, int] = {}
        ids = list(insight_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in self.conn.execute(
                    f"SELECT id, seq FROM insights WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk):
                out[r[0]] = r[1]
        return out

    def vectors_after(self, seq, *, changed_since=None):
        sql = ("SELECT seq, id, embedding FROM insights WHERE deleted_at IS NULL AND "
               "embedding IS NOT NULL AND (seq > ?")
        args: list = [seq]
        if changed_since:
            sql += " OR updated_at > ?"
            args.append(changed_since)
        return [(r[0], r[1], r[2]) for r in self.conn.execute(sql + ")", args)]

    def edges_from(self, insight_ids):
        out = []
        ids = list(insight_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            out += [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(
                "SELECT e.source_id, e.target_id, e.edge_type, e.weight FROM edges e "
                "JOIN insights i ON i.id = e.target_id AND i.deleted_at IS NULL "
                f"WHERE e.source_id IN ({', '.join('?' * len(chunk))})", chunk)]
        return out

    # -- edges -------------------------------------------------------------------
    def upsert_edge(self, edge):
        authors = ", ".join(f"'{a}'" for a in _PROTECTED_EDGE_AUTHORS)
        with self.transaction():
            self.conn.execute(
                "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(source_id, target_id, edge_type) DO UPDATE SET "
                "metadata = CASE WHEN excluded.weight > edges.weight AND "
                f"coalesce(json_extract(edges.metadata, '$.created_by'), '') NOT IN ({authors}) "
                "THEN excluded.metadata ELSE edges.metadata END, "
                "weight = max(edges.weight, excluded.weight)",
                (edge.source_id, edge.target_id, edge.edge_type, edge.weight,
                 json.dumps(edge.metadata, sort_keys=True), edge.created_at or clock.iso()),
            )

    def link_edge(self, edge, *, keep_heavier=True):
        with self.transaction():
            row = self.conn.execute(
                "SELECT weight FROM edges WHERE source_id = ? AND target_id = ? AND edge_type = ?",
                (edge.source_id, edge.target_id, edge.edge_type)).fetchone()
            previous = row[0] if row else None
            weight = edge.weight
            if keep_heavier and previous is not None and previous > weight:
                weight = previous
            self.conn.execute(
                "INSERT INTO edges (source_id, target_id, edge_type, weight, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(source_id, target_id, edge_type) DO UPDATE SET "
                "weight = excluded.weight, metadata = excluded.metadata, "
                "created_at = excluded.created_at",
                (edge.source_id, edge.target_id, edge.edge_type, weight,
                 json.dumps(edge.metadata, sort_keys=True), edge.created_at or clock.iso()),
            )
            return previous

    def edges_of(self, insight_id):
        rows = self.conn.execute(
            "SELECT * FROM edges WHERE source_id = ? OR target_id = ? "
            "ORDER BY edge_type, weight DESC",
            (insight_id, insight_id),
        )
        return [
            Edge(r["source_id"], r["target_id"], r["edge_type"], r["weight"],
                 json.loads(r["metadata"] or "{}"), r["created_at"])
            for r in rows
        ]

    def delete_edges_of(self, insight_id):
        with self.transaction():
            cur = self.conn.execute(
                "DELETE FROM edges WHERE source_id = ? OR target_id = ?", (insight_id, insight_id)
            )
            return cur.rowcount

    def delete_auto_edges_of(self, insight_id):
        authors = ", ".join(f"'{a}'" for a in _PROTECTED_EDGE_AUTHORS)
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM edges WHERE (source_id = ? OR target_id = ?) AND "
                f"coalesce(json_extract(metadata, '$.created_by'), '') NOT IN ({authors})",
                (insight_id, insight_id)).rowcount

    def count_edges(self):
        return self.conn.execute("SELECT count(*) FROM edges").fetchone()[0]

    def optimize(self):
        # Sampled ANALYZE: a few ms even on large stores, and the planner then
        # knows which indexes are selective.
        self.conn.execute("PRAGMA analysis_limit=1000")
        self.conn.execute("ANALYZE")

    # -- lifecycle -----------------------------------------------------------------
    def importance_inputs(self):
        return [tuple(r) for r in self.conn.execute(
            "SELECT i.id, i.importance, i.access_count, "
            "coalesce(i.last_accessed_at, i.created_at), "
            "(SELECT count(*) FROM edges e WHERE e.source_id = i.id OR e.target_id = i.id), "
            "i.protected FROM insights i WHERE i.deleted_at IS NULL")]

    def set_effective_importance(self, values):
        with self.transaction():
            self.conn.executemany(
                "UPDATE insights SET effective_importance = ? WHERE id = ?",
                [(ei, i) for i, ei in values])

    def prune_candidates(self, limit, created_before):
        return self._select(
            "deleted_at IS NULL AND importance < 4 AND protected = 0 AND created_at < ?",
            [created_before, limit], "ORDER BY effective_importance, created_at LIMIT ?")

    def trim_oplog(self, before, keep):
        with self.transaction():
            n = self.conn.execute("DELETE FROM oplog WHERE created_at < ?", (before,)).rowcount
            n += self.conn.execute(
                "DELETE FROM oplog WHERE id <= (SELECT id FROM oplog ORDER BY id DESC "
                "LIMIT 1 OFFSET ?)", (keep,)).rowcount
            return n

    # -- oplog ---------------------------------------------------------------------
    def log_op(self, operation, insight_id, detail=None, before=None, after=None):
        with self.transaction():
            self.conn.execute(
                "INSERT INTO oplog (operation, insight_id, detail, created_at, before, after) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (operation, insight_id, detail, clock.iso(),
                 json.dumps(before, ensure_ascii=False) if before is not None else None,
                 json.dumps(after, ensure_ascii=False) if after is not None else None),
            )

    def list_oplog(self, *, since, limit):
        return self._oplog("1", [], since, limit)

    def _oplog(self, where: str, args: list, since, limit) -> list[OpEntry]:
        """Newest first: oplog rows matching ``where`` (and ``since``, when given)."""
        if since:
            where += " AND created_at >= ?"
            args = [*args, since]
        rows = self.conn.execute(f"SELECT * FROM oplog WHERE {where} ORDER BY id DESC LIMIT ?",
                                 [*args, limit])
        return [OpEntry.from_row(r) for r in rows]

    def oplog_stats(self, *, since):
        sql = "SELECT operation, count(*) FROM oplog"
        args: list = []
        if since:
            sql += " WHERE created_at >= ?"
            args.append(since)
        sql += " GROUP BY operation ORDER BY operation"
        counts = {r[0]: r[1] for r in self.conn.execute(sql, args)}
        never, active = self.conn.execute(
            "SELECT sum(access_count = 0), count(*) FROM insights WHERE deleted_at IS NULL"
        ).fetchone()
        return {"operation_counts": counts, "never_accessed": never or 0, "total_active": active}

    # -- usage and recall stats ------------------------------------------------------
    def list_oplog_ops(self, operations, *, since, limit):
        if not operations:
            return []
        return self._oplog(f"operation IN ({', '.join('?' * len(operations))})",
                           list(operations), since, limit)

    def never_recalled(self, *, created_before, limit):
        where = "deleted_at IS NULL AND access_count = 0 AND created_at < ?"
        count = self.conn.execute(f"SELECT count(*) FROM insights WHERE {where}",
                                  (created_before,)).fetchone()[0]
        return count, self._select(where, [created_before, limit],
                                   "ORDER BY created_at, seq LIMIT ?")

    def insights_by_id_prefix(self, prefixes):
        out: dict[str, Insight] = {}
        for prefix in dict.fromkeys(p for p in prefixes if p):
            # A range on the unique id index; active memories win a shared prefix.
            found = self._select("id >= ? AND id < ?", [prefix, prefix + "\U0010ffff"],
                                 "ORDER BY deleted_at IS NOT NULL, seq LIMIT 1")
            if found:
                out[prefix] = found[0]
        return out

    # -- lifecycle and history -------------------------------------------------------
    _VERSION_FIELDS = ("insight_id, version, content, category, importance, entities, source, "
                       "keywords, summary, semantic_facts, deleted, written_at, queue_id, "
                       "changed_at, change, reason, changed_by_queue_id")

    def save_version(self, insight_id, change, *, reason=None, queue_id=None):
        with self.transaction():
            row = self.conn.execute(
                "SELECT content, category, importance, entities, source, keywords, summary, "
                "semantic_facts, embedding, embedding_model, deleted_at, updated_at, queue_id "
                "FROM insights WHERE id = ?", (insight_id,)).fetchone()
            if row is None:
                return None
            version = self.conn.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM insight_history "
                "WHERE insight_id = ?", (insight_id,)).fetchone()[0]
            edges = [e.to_dict() for e in self.edges_of(insight_id)]
            self.conn.execute(
                f"INSERT INTO insight_history ({self._VERSION_FIELDS}, embedding, "
                "embedding_model, edges) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?)",
                (insight_id, version, row["content"], row["category"], row["importance"],
                 row["entities"], row["source"], row["keywords"], row["summary"],
                 row["semantic_facts"], int(row["deleted_at"] is not None), row["updated_at"],
                 row["queue_id"], clock.iso(), change, reason, queue_id, row["embedding"],
                 row["embedding_model"], json.dumps(edges, ensure_ascii=False, sort_keys=True)))
            return version

    @staticmethod
    def _version(row, full: bool) -> Version:
        lists = {k: json.loads(row[k]) if row[k] else None
                 for k in ("entities", "keywords", "semantic_facts")}
        out = Version(
            row["insight_id"], row["version"], row["content"], row["category"],
            row["importance"], lists["entities"] or [], row["source"], bool(row["deleted"]),
            row["written_at"], row["queue_id"], row["changed_at"], row["change"], row["reason"],
            row["changed_by_queue_id"], lists["keywords"], row["summary"],
            lists["semantic_facts"])
        if full:
            out.embedding, out.embedding_model = row["embedding"], row["embedding_model"]
            out.edges = json.loads(row["edges"] or "[]")
        return out

    def versions_of(self, insight_id):
        return [self._version(r, False) for r in self.conn.execute(
            f"SELECT {self._VERSION_FIELDS} FROM insight_history WHERE insight_id = ? "
            "ORDER BY version", (insight_id,))]

    def get_version(self, insight_id, version):
        row = self.conn.execute(
            f"SELECT {self._VERSION_FIELDS}, embedding, embedding_model, edges "
            "FROM insight_history WHERE insight_id = ? AND version = ?",
            (insight_id, version)).fetchone()
        return self._version(row, True) if row else None

    def set_protected(self, insight_id, protected):
        with self.transaction():
            return self.conn.execute(
                "UPDATE insights SET protected = ? WHERE id = ? AND deleted_at IS NULL",
                (int(bool(protected)), insight_id)).rowcount > 0

    def degrees_of(self, insight_ids):
        out: dict[str, int] = {}
        ids = list(dict.fromkeys(insight_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for column in ("source_id", "target_id"):
                for r in self.conn.execute(
                        f"SELECT {column}, count(*) FROM edges WHERE {column} IN ({marks}) "
                        f"GROUP BY {column}", chunk):
                    out[r[0]] = out.get(r[0], 0) + r[1]
        return out

    # -- graph walks and export ------------------------------------------------------
    def related(self, insight_id, edge_type, depth, limit):
        if depth < 1 or limit < 1:
            return []
        # "+" keeps the planner on the endpoint indexes (the type index scans every
        # edge of that type once per walked memory).
        only = " AND +e.edge_type = :type" if edge_type else ""
        # walk: every (active memory, hops) reachable over edges in either direction;
        # UNION keeps it finite (at most memories x depth rows). reach: fewest hops.
        rows = self.conn.execute(
            "WITH RECURSIVE walk(id, d) AS ("
            "  SELECT :start, 0 "
            "  UNION "
            "  SELECT CASE WHEN e.source_id = w.id THEN e.target_id ELSE e.source_id END, "
            "         w.d + 1 "
            "  FROM walk w JOIN edges e ON (e.source_id = w.id OR e.target_id = w.id)"
            f"{only} "
            "  JOIN insights n ON n.id = CASE WHEN e.source_id = w.id "
            "                             THEN e.target_id ELSE e.source_id END "
            "                     AND n.deleted_at IS NULL "
            "  WHERE w.d < :depth"
            "), reach AS (SELECT id, min(d) AS d FROM walk GROUP BY id), "
            "hits AS ("
            "  SELECT r.id, r.d FROM reach r JOIN insights i ON i.id = r.id "
            "  WHERE r.d > 0 AND r.id != :start "
            "  ORDER BY r.d, i.importance DESC, i.created_at DESC, i.seq DESC LIMIT :limit"
            ") "
            "SELECT h.d AS hop_depth, ("
            "  SELECT e.edge_type FROM edges e JOIN reach p ON p.d = h.d - 1 AND p.id = "
            "    CASE WHEN e.source_id = h.id THEN e.target_id ELSE e.source_id END "
            f"  WHERE (e.source_id = h.id OR e.target_id = h.id){only} "
            "  ORDER BY e.weight DESC, e.edge_type LIMIT 1"
            f") AS via, {', '.join('i.' + c for c in Insight.COLUMNS)} "
            "FROM hits h JOIN insights i ON i.id = h.id "
            "ORDER BY h.d, i.importance DESC, i.created_at DESC, i.seq DESC",
            {"start": insight_id, "depth": depth, "limit": limit, "type": edge_type},
        ).fetchall()
        return [(Insight.from_row(r), r["hop_depth"], r["via"]) for r in rows]

    @contextmanager
    def read_snapshot(self):
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN DEFERRED")
        try:
            self.conn.execute("SELECT 1 FROM insights LIMIT 1").fetchall()  # pin the view
            yield
        finally:
            self.conn.execute("COMMIT")

    # -- migrate ---------------------------------------------------------------
    def dump_rows(self, table, *, batch=500):
        from memman.store.base import COPIED_TABLES

        columns = COPIED_TABLES[table]
        key = {"meta": "key", "edges": "source_id, target_id, edge_type"}.get(
            table, "seq" if "seq" in columns else "id")
        offset = 0
        while True:  # keyset paging would need per-table code; tables are copied whole
            rows = self.conn.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key} "
                "LIMIT ? OFFSET ?", (batch, offset)).fetchall()
            if not rows:
                return
            offset += len(rows)
            for row in rows:
                yield {c: row[c] for c in columns}

    def load_rows(self, table, rows):
        from memman.store.base import COPIED_TABLES

        if not rows:
            return
        columns = COPIED_TABLES[table]
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            [tuple(row[c] for c in columns) for row in rows])

    def iter_insights(self, *, include_deleted=True, batch=500):
        where = "" if include_deleted else " AND deleted_at IS NULL"
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT seq, {_COLUMNS} FROM insights WHERE seq > ?{where} "
                "ORDER BY seq LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1]["seq"]
            for row in rows:
                yield Insight.from_row(row)

    def iter_edges(self, *, batch=500):
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT rowid AS rid, * FROM edges WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1]["rid"]
            for r in rows:
                yield Edge(r["source_id"], r["target_id"], r["edge_type"], r["weight"],
                           json.loads(r["metadata"] or "{}"), r["created_at"])

    def applied_migrations(self):
        done = migrations.applied(self.conn)
        return [name for name in migrations.names if name in done] + sorted(
            done - set(migrations.names))

    # -- embed swap ------------------------------------------------------------------
    # The pending slot is the ``embedding_pending`` column; trigger
    # insights_pending_stale (migration m010) clears it when content or keywords change.
    _SWAP_TARGET = ("provider", "model", "dim")

    def swap_state(self):
        rows = dict(self.conn.execute(
            "SELECT key, value FROM meta WHERE key IN ('embed_swap_state', "
            "'embed_swap_cursor', 'embed_swap_target_provider', 'embed_swap_target_model', "
            "'embed_swap_target_dim')").fetchall())
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
        self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(f"embed_swap_{k}", str(v)) for k, v in values.items()])

    def swap_begin(self, target):
        with self.transaction():
            if self.swap_state() is not None:
                raise MemmanError("an embedder swap is already in progress on this store")
            self.conn.execute("UPDATE insights SET embedding_pending = NULL "
                              "WHERE embedding_pending IS NOT NULL")
            self._set_swap_meta({"state": "backfilling", "cursor": 0,
                                 **{f"target_{k}": target[k] for k in self._SWAP_TARGET}})

    def pending_batch(self, after_seq, limit):
        rows = self.conn.execute(
            "SELECT seq, id, content, keywords FROM insights WHERE seq > ? AND "
            "deleted_at IS NULL AND embedding_pending IS NULL ORDER BY seq LIMIT ?",
            (after_seq, limit)).fetchall()
        return [(r["seq"], r["id"], r["content"],
                 json.loads(r["keywords"]) if r["keywords"] else None,
                 (r["content"], r["keywords"])) for r in rows]

    def write_pending(self, rows, target, *, cursor=None):
        written = 0
        with self.transaction():
            if not self._swap_target_is(target):
                return 0
            for insight_id, blob, token in rows:
                if token is None:
                    cur = self.conn.execute(
                        "UPDATE insights SET embedding_pending = ? WHERE id = ?",
                        (blob, insight_id))
                else:
                    cur = self.conn.execute(
                        "UPDATE insights SET embedding_pending = ? WHERE id = ? AND "
                        "content = ? AND keywords IS ?", (blob, insight_id, *token))
                written += cur.rowcount
            if cursor is not None:
                self._set_swap_meta({"cursor": int(cursor)})
        return written

    def count_missing_pending(self):
        return self.conn.execute(
            "SELECT count(*) FROM insights WHERE deleted_at IS NULL "
            "AND embedding_pending IS NULL").fetchone()[0]

    def cutover_transaction(self):
        return self.transaction()

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
            self.conn.execute(
                "UPDATE insights SET embedding = embedding_pending, embedding_model = "
                "CASE WHEN embedding_pending IS NULL THEN NULL ELSE ? END, "
                "embedding_pending = NULL "
                "WHERE embedding_pending IS NOT NULL OR embedding IS NOT NULL",
                (target["model"],))
            self.conn.execute("INSERT INTO meta (key, value) VALUES ('embed_fingerprint', ?) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                              (dump_fingerprint(target),))
            self.conn.execute("DELETE FROM meta WHERE key LIKE 'embed\\_swap\\_%' ESCAPE '\\'")
            return switched

    def swap_abort(self):
        with self.transaction():
            if not self.meta_keys("embed_swap_"):
                return False
            self.conn.execute("UPDATE insights SET embedding_pending = NULL "
                              "WHERE embedding_pending IS NOT NULL")
            self.conn.execute("DELETE FROM meta WHERE key LIKE 'embed\\_swap\\_%' ESCAPE '\\'")
            return True

    # -- doctor ------------------------------------------------------------------------
    def integrity_problems(self, limit=20):
        rows = [r[0] for r in self.conn.execute(f"PRAGMA integrity_check({int(limit)})")]
        return [] if rows == ["ok"] else rows

    def insight_columns(self):
        return {r["name"] for r in self.conn.execute("PRAGMA table_info(insights)")}

    def enrichment_gaps(self):
        row = self.conn.execute(
            "SELECT sum(enriched_at IS NULL), sum(linked_at IS NULL), sum(embedding IS NULL) "
            "FROM insights WHERE deleted_at IS NULL").fetchone()
        return {"enriched_at": row[0] or 0, "linked_at": row[1] or 0, "embedding": row[2] or 0}

    def oplog_delta_counts(self, operations):
        if not operations:
            return 0, 0
        row = self.conn.execute(
            "SELECT count(*), sum(before IS NOT NULL OR after IS NOT NULL) FROM oplog "
            f"WHERE operation IN ({', '.join('?' * len(operations))})",
            list(operations)).fetchone()
        return row[0] or 0, row[1] or 0

    def orphan_count(self):
        return self.conn.execute(
            "SELECT count(*) FROM insights i WHERE i.deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.source_id = i.id) "
            "AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.target_id = i.id)").fetchone()[0]

    def dangling_edge_count(self):
        return self.conn.execute(
            "SELECT count(*) FROM edges e "
            "LEFT JOIN insights s ON s.id = e.source_id "
            "LEFT JOIN insights t ON t.id = e.target_id "
            "WHERE s.id IS NULL OR t.id IS NULL "
            "OR s.deleted_at IS NOT NULL OR t.deleted_at IS NOT NULL").fetchone()[0]

    def edge_degrees(self):
        return [r[0] for r in self.conn.execute(
            "SELECT (SELECT count(*) FROM edges e WHERE e.source_id = i.id) + "
            "(SELECT count(*) FROM edges e WHERE e.target_id = i.id) "
            "FROM insights i WHERE i.deleted_at IS NULL")]

    def meta_keys(self, prefix):
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [r[0] for r in self.conn.execute(
            "SELECT key FROM meta WHERE key LIKE ? ESCAPE '\\' ORDER BY key",
            (escaped + "%",))]

    def keyword_index_drift(self):
        missing = self.conn.execute(
            "SELECT count(*) FROM insights i WHERE i.deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM insights_fts f WHERE f.rowid = i.seq)").fetchone()[0]
        extra = self.conn.execute(
            "SELECT count(*) FROM insights_fts f WHERE NOT EXISTS "
            "(SELECT 1 FROM insights i WHERE i.seq = f.rowid AND i.deleted_at IS NULL)"
        ).fetchone()[0]
        return missing, extra

    # -- postgres and many hosts -------------------------------------------------------
    # Vector anchors come from the recall vector file plus the rows written after it
    # (recall.matrix.VectorView). One view serves a query's top-k and similarity calls;
    # it is rebuilt for another query or once any connection changed the store.
    def _vector_view(self, query: bytes):
        key = (query, self.conn.execute("PRAGMA data_version").fetchone()[0],
               self.conn.total_changes)
        cached = getattr(self, "_vview", None)
        if cached is None or cached[0] != key:
            import numpy as np

            from memman.recall.matrix import VectorView

            try:
                fingerprint = json.loads(self.get_meta("embed_fingerprint") or "null")
            except ValueError:
                fingerprint = None
            view = VectorView(self, self.path.parent, fingerprint,
                              np.frombuffer(query, dtype="<f4"))
            self._vview = cached = (key, view)
        return cached[1]

    def vector_top(self, query, k, *, min_sim=0.0, category=None, source=None):
        if not query or k < 1:
            return []
        return self._vector_view(query).top(self, k, min_sim=min_sim, category=category,
                                            source=source)

    def vector_similarity(self, query, insight_ids):
        if not query or not insight_ids:
            return {}
        return self._vector_view(query).similarity(self, list(insight_ids))

    def vector_source(self, query):
        return self._vector_view(query).source if query else "none"

    def vector_file_dir(self):
        return str(self.path.parent)
