"""Checks of one store's database. They only read.

``run`` is the full set for ``memman doctor``; ``health`` is the cheap subset that
``memman status`` summarises on every call. Thresholds follow memman 0.16's doctor
(coverage warn below 100 %, fail below 90 %; orphans warn up to 5 %, fail above;
median edge degree pass from 5, warn from 2).
"""
import statistics

from memman.doctor.report import FAIL, PASS, WARN, check
from memman.errors import MemmanError

REQUIRED_COLUMNS = ("prompt_version", "model_id", "embedding_model", "linked_at",
                    "enriched_at", "last_accessed_at", "effective_importance", "summary",
                    "keywords", "semantic_facts", "embedding", "queue_id")
DELTA_OPERATIONS = ("remember", "replace", "reconcile-update", "reconcile-delete", "forget",
                    "auto_prune")
COVERAGE_FAIL = 0.90
ORPHAN_FAIL = 0.05
DEGREE_PASS = 5
DEGREE_WARN = 2
SWAP_PREFIX = "embed_swap_"


def stores_to_check(ctx) -> list[str]:
    """Every SQLite store of the data dir that its settings still route to SQLite
    (a store routed elsewhere only leaves files behind: see system_checks)."""
    return [s for s in ctx.datadir.sqlite_stores() if ctx.settings.backend_for(s) == "sqlite"]


def run(ctx, store: str) -> list[dict]:
    from memman.store.open import open_store

    backend_name = ctx.settings.backend_for(store)
    if backend_name != "sqlite":
        return [check("integrity", PASS, f"not applicable: the {backend_name} backend has "
                      "no checks in this build", store=store)]
    try:
        # Read-only where the folder is (open_store decides); a writable store gets
        # its schema brought up to date on open, as every command does.
        backend = open_store(ctx.datadir, ctx.settings, store)
    except MemmanError as exc:
        return [_open_failure(ctx, store, str(exc))]
    try:
        return _checks(ctx, store, backend, full=True)
    finally:
        backend.close()


def health(ctx, store: str, backend) -> list[dict]:
    """The cheap checks, on an open backend (what ``status`` reports)."""
    return _checks(ctx, store, backend, full=False)


def _checks(ctx, store, backend, *, full: bool) -> list[dict]:
    remedy = _Remedies(ctx, store)
    active = backend.count_active()
    steps = []
    if full:
        steps += [("integrity", lambda: _integrity(backend, store, active, remedy)),
                  ("schema_columns", lambda: _schema_columns(backend, store, remedy))]
    steps += [("embed_fingerprint",
               lambda: _embed_fingerprint(ctx, backend, store, remedy, full)),
              ("no_stale_swap_meta", lambda: _swap_meta(backend, store, remedy)),
              ("dangling_edges", lambda: _dangling_edges(backend, store, remedy)),
              ("embedding_consistency", lambda: _embedding_consistency(backend, store, remedy)),
              ("fts_sync", lambda: _fts_sync(backend, store, remedy)),
              ("recall_vectors", lambda: _recall_vectors(ctx, backend, store, remedy))]
    if full and active:
        steps += [("enrichment_coverage", lambda: _enrichment(backend, store, active, remedy)),
                  ("oplog_delta_coverage", lambda: _oplog_deltas(backend, store)),
                  ("orphan_insights", lambda: _orphans(backend, store, active, remedy)),
                  ("embed_threshold", lambda: _threshold(ctx, backend, store, remedy)),
                  ("provenance_drift", lambda: _provenance(ctx, backend, store, remedy)),
                  ("edge_degree", lambda: _edge_degree(backend, store, active, remedy))]
    out = []
    for name, step in steps:
        try:
            out.append(step())
        except Exception as exc:  # a check that cannot run is itself a finding
            out.append(check(name, FAIL, f"check could not run: {type(exc).__name__}: {exc}",
                             store=store))
    return out


class _Remedies:
    """Remedy command lines for one store."""

    def __init__(self, ctx, store):
        self.ctx, self.store = ctx, store

    def cmd(self, *args: str) -> str:
        return self.ctx.memman(*args, store=self.store)

    def rebuild_store(self) -> str:
        """Export, then import into a fresh store: every vector, index and automatic
        edge is rebuilt by the worker."""
        s = self.store
        file = f"{s}-export.jsonl"
        return (f"{self.cmd('export', '-o', file)} && "
                f"{self.ctx.memman('store', 'create', s + '-rebuilt')} && "
                f"{self.ctx.memman('import', '--store', s + '-rebuilt', file)}")


def _open_failure(ctx, store: str, message: str) -> dict:
    if "older memman" in message:
        return check("schema_columns", FAIL, f"schema upgrade pending: {message}",
                     ctx.memman("status", store=store) + " (where the store is writable)",
                     store=store)
    path = ctx.datadir.store_db(store)
    return check("integrity", FAIL, f"cannot open: {message}",
                 f"move {path} aside and restore it from a backup or an export", store=store)


def _integrity(backend, store, active, remedy) -> dict:
    problems = backend.integrity_problems()
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return check("integrity", FAIL, f"integrity_check: {problems[0]}{more}",
                     remedy.rebuild_store(), store=store)
    return check("integrity", PASS, f"integrity_check ok ({active} active memories)",
                 store=store)


def _schema_columns(backend, store, remedy) -> dict:
    from memman.store.sqlite_schema import migrations

    missing = [c for c in REQUIRED_COLUMNS if c not in backend.insight_columns()]
    if missing:
        return check("schema_columns", FAIL, "insights lacks " + ", ".join(missing),
                     remedy.rebuild_store(), store=store)
    unknown = [m for m in backend.applied_migrations() if m not in migrations.names]
    if unknown:
        return check("schema_columns", WARN, "written by a newer memman (migrations "
                     + ", ".join(unknown) + ")", "upgrade memman on this machine",
                     store=store)
    return check("schema_columns", PASS,
                 f"all columns present, {len(migrations.names)} migrations applied",
                 store=store)


def _fingerprint(backend):
    """(fingerprint dict or None, error text or None)."""
    from memman.embed.registry import parse_fingerprint

    try:
        return parse_fingerprint(backend.get_meta("embed_fingerprint")), None
    except MemmanError as exc:
        return None, str(exc)


def _embed_fingerprint(ctx, backend, store, remedy, full: bool) -> dict:
    from memman.embed.registry import for_fingerprint

    fp, error = _fingerprint(backend)
    if error:
        return check("embed_fingerprint", FAIL, error, remedy.rebuild_store(), store=store)
    if fp is None:
        if backend.vector_sizes():
            return check("embed_fingerprint", FAIL,
                         "the store holds vectors but no embed_fingerprint",
                         remedy.rebuild_store(), store=store)
        return check("embed_fingerprint", PASS, "none yet (set by the first stored vector)",
                     store=store)
    shown = f"{fp['provider']}/{fp['model']} ({fp['dim']}d)"
    if fp["provider"] == "builtin" and not full:
        return check("embed_fingerprint", PASS, shown, store=store)  # keyless; numpy-free
    try:
        embedder = for_fingerprint(fp, ctx.settings)
    except MemmanError as exc:
        return check("embed_fingerprint", FAIL, f"{shown}: {exc}",
                     remedy.rebuild_store(), store=store)
    if embedder.missing_key:
        key = embedder.missing_key
        return check("embed_fingerprint", FAIL,
                     f"{shown}: {key} is not set, so nothing can be embedded for this store",
                     ctx.memman("config", "set", key, "<key>"), store=store)
    return check("embed_fingerprint", PASS, shown, store=store)


def _swap_meta(backend, store, remedy) -> dict:
    left = backend.meta_keys(SWAP_PREFIX)
    if left:
        return check("no_stale_swap_meta", WARN,
                     "leftover embedder-swap state: " + ", ".join(left),
                     remedy.cmd("embed", "swap", "--abort"), store=store)
    return check("no_stale_swap_meta", PASS, "no embedder swap in progress", store=store)


def _dangling_edges(backend, store, remedy) -> dict:
    n = backend.dangling_edge_count()
    if n:
        return check("dangling_edges", FAIL,
                     f"{n} edges lead to a missing or forgotten memory",
                     remedy.cmd("graph", "rebuild"), store=store)
    return check("dangling_edges", PASS, "every edge joins two active memories", store=store)


def _embedding_consistency(backend, store, remedy) -> dict:
    fp, _ = _fingerprint(backend)
    sizes = {size // 4: n for size, n in backend.vector_sizes().items()}
    total = sum(sizes.values())
    expected = fp.get("dim") if fp else None
    shown = ", ".join(f"{n} of {d}d" for d, n in sorted(sizes.items()))
    if len(sizes) > 1 or (expected and sizes and set(sizes) != {expected}):
        want = f"; the fingerprint says {expected}d" if expected else ""
        return check("embedding_consistency", FAIL, f"mixed vector sizes: {shown}{want}",
                     remedy.rebuild_store(), store=store)
    if not total:
        return check("embedding_consistency", PASS, "no vectors yet", store=store)
    return check("embedding_consistency", PASS, f"{total} vectors, all {shown.split()[-1]}",
                 store=store)


def _fts_sync(backend, store, remedy) -> dict:
    missing, extra = backend.keyword_index_drift()
    if missing:
        return check("fts_sync", FAIL, f"{missing} active memories are missing from the "
                     "keyword index (keyword recall cannot find them)",
                     remedy.cmd("graph", "rebuild"), store=store)
    if extra:
        return check("fts_sync", WARN, f"{extra} keyword-index rows belong to no active "
                     "memory (recall filters them out)", remedy.rebuild_store(), store=store)
    return check("fts_sync", PASS, "keyword index matches the active memories", store=store)


def _recall_vectors(ctx, backend, store, remedy) -> dict:
    from memman.recall import matrix

    fp, _ = _fingerprint(backend)
    vectors = sum(backend.vector_sizes().values())
    fix = ctx.memman("scheduler", "drain")
    if not vectors or fp is None:
        return check("recall_vectors", PASS, "not needed: no vectors yet", store=store)
    if backend.vector_file_dir() is None:
        return check("recall_vectors", PASS, "not needed: the backend's vector index "
                     "answers recall", store=store)
    path = ctx.datadir.store_dir(store) / matrix.FILENAME
    header = _matrix_header(path, fp)
    if header is None:
        why = "unreadable or written for another embedder" if path.exists() else "missing"
        return check("recall_vectors", WARN, f"{matrix.FILENAME} {why}: recall reads every "
                     "vector from the database instead", fix, store=store)
    written = header.get("written_at", "?")
    newer = backend.vectors_after(int(header.get("max_seq", 0)), changed_since=written)
    if newer:
        return check("recall_vectors", WARN, f"{len(newer)} vectors changed since the file "
                     f"was written ({written}); recall reads those from the database",
                     fix, store=store)
    return check("recall_vectors", PASS,
                 f"up to date ({header.get('count', 0)} vectors, written {written})",
                 store=store)


def _matrix_header(path, fingerprint: dict) -> dict | None:
    """The recall vector file's header when the file is whole and made for
    ``fingerprint``; None otherwise. Reads the header only (no numpy: status runs this)."""
    import json
    import struct

    from memman.recall import matrix

    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8 or head[:4] != matrix.MAGIC:
                return None
            (length,) = struct.unpack("<I", head[4:8])
            header = json.loads(fh.read(length))
        start = 8 + length
        start += -start % matrix.ALIGN
        count, dim = int(header["count"]), int(header["dim"])
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None
    if header.get("fingerprint") != fingerprint or size < start + count * (8 + 4 * dim):
        return None
    return header


def _enrichment(backend, store, active, remedy) -> dict:
    gaps = backend.enrichment_gaps()
    field, worst_gap = max(gaps.items(), key=lambda kv: kv[1])
    coverage = 1 - worst_gap / active
    pct = f"{coverage * 100:.1f}%"
    if worst_gap == 0:
        return check("enrichment_coverage", PASS, f"100% of {active} memories enriched, "
                     "linked and embedded", store=store)
    detail = f"{pct} covered: {worst_gap} of {active} active memories lack {field}"
    status = WARN if coverage >= COVERAGE_FAIL else FAIL
    return check("enrichment_coverage", status, detail, remedy.cmd("graph", "rebuild"),
                 store=store)


def _oplog_deltas(backend, store) -> dict:
    total, with_delta = backend.oplog_delta_counts(DELTA_OPERATIONS)
    if not total:
        return check("oplog_delta_coverage", PASS, "no memory changes logged yet", store=store)
    return check("oplog_delta_coverage", PASS, f"{with_delta * 100 / total:.0f}% of {total} "
                 "logged changes carry before/after content", store=store)


def _orphans(backend, store, active, remedy) -> dict:
    if active < 2:
        return check("orphan_insights", PASS, "not applicable: fewer than 2 memories",
                     store=store)
    n = backend.orphan_count()
    share = n / active
    detail = f"{n} of {active} active memories ({share * 100:.1f}%) have no edge"
    if n == 0:
        return check("orphan_insights", PASS, "every active memory has an edge", store=store)
    status = WARN if share <= ORPHAN_FAIL else FAIL
    return check("orphan_insights", status, detail, remedy.cmd("graph", "rebuild"),
                 store=store)


def _threshold(ctx, backend, store, remedy) -> dict:
    from memman.graph import thresholds

    fp, _ = _fingerprint(backend)
    if fp is None:
        return check("embed_threshold", PASS, "not applicable: no embedder yet", store=store)
    surface = ctx.settings.for_store("MEMMAN_SURFACE", store) or "code"
    override = ctx.settings.values.get(f"MEMMAN_AUTO_SEMANTIC_THRESHOLD_{store}")
    value, source = thresholds.resolve(fp["provider"], fp["model"], surface=surface,
                                       override=override)
    shown = "off" if value is None else f"{value:g}"
    if source == "surface_median":
        key = f"MEMMAN_AUTO_SEMANTIC_THRESHOLD_{store}"
        return check("embed_threshold", WARN, f"{shown} ({surface} median): "
                     f"{fp['provider']}/{fp['model']} is not calibrated",
                     ctx.memman("config", "set", key, "<0..1>"), store=store)
    return check("embed_threshold", PASS, f"{shown} ({source})", store=store)


def _provenance(ctx, backend, store, remedy) -> dict:
    from memman.worker.provenance import active

    current = active(ctx.settings)
    stale = backend.count_stale(current["prompt_version"], current["model_id"])
    if stale:
        return check("provenance_drift", WARN, f"{stale} memories were written under other "
                     f"prompts or another model than {current['model_id']} "
                     f"({current['prompt_version']})",
                     remedy.cmd("graph", "rebuild", "--stale-only"), store=store)
    return check("provenance_drift", PASS, f"all stamped {current['model_id']} "
                 f"({current['prompt_version']})", store=store)


def _edge_degree(backend, store, active, remedy) -> dict:
    if active < 2:
        return check("edge_degree", PASS, "not applicable: fewer than 2 memories",
                     store=store)
    median = statistics.median(backend.edge_degrees())
    detail = f"median {median:g} edges per memory"
    if median >= DEGREE_PASS:
        return check("edge_degree", PASS, detail, store=store)
    status = WARN if median >= DEGREE_WARN else FAIL
    return check("edge_degree", status, detail + f" (healthy: {DEGREE_PASS} or more)",
                 remedy.cmd("graph", "rebuild"), store=store)

