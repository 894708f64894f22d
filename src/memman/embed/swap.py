"""``memman embed swap``: move a store to another embedder while it stays in use.

The new model's vectors are backfilled in batches into each memory's pending slot
(``Backend.swap_begin`` / ``pending_batch`` / ``write_pending``), next to the live
vectors that recall and the worker keep using, from the same text the worker embeds
(``registry.embed_text``: content plus keywords). Progress is a cursor in the store's
meta, so a killed swap resumes where it stopped (``--resume``) or is undone
(``--abort``). While a swap backfills, the worker also writes the new model's vector
of every memory it stores (``worker_pending``), and any change of a memory's text
voids its pending vector, so the swap re-embeds it. The cutover is one transaction
that holds off every writer, fills the last missing pending vectors and switches
vectors and fingerprint together; the recall vector file is then rewritten for the
new model. Recall never sees vectors of two models: before the cutover it reads the
old ones only, after it the new ones only.
"""
import logging

from memman.errors import MemmanError
from memman.filelock import ExclusiveFileLock

BATCH = 200
# Passes over memories changed behind the cursor before the cutover takes the lock.
CATCH_UP_ROUNDS = 3
FINGERPRINT_KEY = "embed_fingerprint"

log = logging.getLogger(__name__)


class SwapLock(ExclusiveFileLock):
    """One swap (or reembed) per store on this host: a non-blocking lock file
    ``<data_dir>/embed_swap.<store>.lock``, released by the OS if the process dies."""

    def __init__(self, datadir, store: str):
        super().__init__(datadir.root / f"embed_swap.{store}.lock")


# -- reading the state ----------------------------------------------------------

def stored_fingerprint(backend) -> dict | None:
    from memman.embed.registry import parse_fingerprint

    return parse_fingerprint(backend.get_meta(FINGERPRINT_KEY))


def target_of(state: dict | None) -> dict | None:
    """The target fingerprint of a swap state; None when it is incomplete."""
    if not state or not state.get("target_provider") or not state.get("target_model") \
            or not state.get("target_dim"):
        return None
    return {"provider": state["target_provider"], "model": state["target_model"],
            "dim": state["target_dim"]}


def backfilling_target(backend) -> dict | None:
    """The target of the swap backfilling this store, if one is."""
    state = backend.swap_state()
    if state is None or state.get("state") != "backfilling":
        return None
    return target_of(state)


def status(backend, settings) -> dict:
    """What ``embed status`` shows for one store."""
    from memman.embed.base import EmbedError
    from memman.embed.registry import for_fingerprint, from_settings

    out: dict = {"stored": None, "credentials_available": False}
    try:
        stored = stored_fingerprint(backend)
    except EmbedError as exc:
        stored = None
        out["hint"] = str(exc)
    if stored is not None:
        out["stored"] = stored
        try:
            embedder = for_fingerprint(stored, settings)
            out["credentials_available"] = embedder.credentials_available
            if not embedder.credentials_available:
                out["hint"] = (f"{embedder.missing_key} is not set; run 'memman config set "
                               f"{embedder.missing_key} ...'")
        except EmbedError as exc:
            out["hint"] = str(exc)
    elif "hint" not in out:
        out["hint"] = "the store has no vectors yet; the first drain records its embedder"
    try:
        configured = from_settings(settings)
        out["configured"] = {"provider": configured.provider, "model": configured.model}
    except EmbedError as exc:
        out["configured"] = {"error": str(exc)}
    state = backend.swap_state()
    if state is not None:
        total = backend.count_active()
        out["swap"] = {**state, "total": total,
                       "remaining": backend.count_missing_pending()}
    return out


# -- running a swap --------------------------------------------------------------

def target_embedder(settings, provider: str, model: str, dim: int | None = None):
    """The embedder to swap to, with its dimension known (a probe call if needed)."""
    from memman.embed.registry import for_fingerprint

    embedder = for_fingerprint({"provider": provider, "model": model, "dim": dim}, settings)
    embedder.check_credentials()
    if embedder.dim is None:
        embedder.embed_one("memman embed swap: dimension probe")
    return embedder


def start(backend, settings, *, model: str, provider: str, batch: int = BATCH,
          show_progress: bool | None = None) -> dict:
    """Swap the store to ``provider``/``model``: begin, backfill, cut over."""
    if backend.swap_state() is not None:
        raise MemmanError("an embedder swap is already in progress on this store; resume "
                          "it with 'memman embed swap --resume' or cancel it with "
                          "'memman embed swap --abort'")
    current = stored_fingerprint(backend)
    embedder = target_embedder(settings, provider, model)
    target = embedder.fingerprint
    if current == target:
        return {"state": "done", "fingerprint": target, "previous": current,
                "reembedded": 0, "switched": 0, "note": "the store already uses this embedder"}
    backend.swap_begin(target)
    return run(backend, embedder, target, previous=current, batch=batch,
               show_progress=show_progress, operation="embed_swap")


def resume(backend, settings, *, batch: int = BATCH, show_progress: bool | None = None,
           operation: str = "embed_swap") -> dict:
    state = backend.swap_state()
    if state is None:
        raise MemmanError("no embedder swap is in progress on this store; nothing to resume")
    target = target_of(state)
    if target is None or state.get("state") != "backfilling":
        raise MemmanError(f"the store's swap state is incomplete or unknown ({state}); "
                          "cancel it with 'memman embed swap --abort'")
    embedder = target_embedder(settings, target["provider"], target["model"], target["dim"])
    return run(backend, embedder, target, previous=stored_fingerprint(backend), batch=batch,
               show_progress=show_progress, operation=operation)


def abort(backend) -> bool:
    return backend.swap_abort()


def run(backend, embedder, target: dict, *, previous, batch: int,
        show_progress: bool | None, operation: str) -> dict:
    """Backfill the swap in progress to ``target`` and cut over."""
    from memman import progress

    total = backend.count_active()
    with progress.bar(total, desc=operation.replace("_", " "), unit="memory",
                      show=show_progress) as bar:
        bar.update(total - backend.count_missing_pending())
        made = backfill(backend, embedder, target, batch, bar)
        late, switched = cut_over(backend, embedder, target, batch)
    write_recall_vectors(backend)
    backend.log_op(operation, None,
                   f"{_name(previous)} -> {_name(target)}: {switched} memories")
    return {"state": "done", "fingerprint": target, "previous": previous,
            "reembedded": made + late, "switched": switched}


def backfill(backend, embedder, target: dict, batch: int, bar=None) -> int:
    """Fill pending vectors from the cursor on, then catch up on memories whose text
    changed behind it. Returns how many vectors were made."""
    made = 0
    cursor = (backend.swap_state() or {}).get("cursor") or 0
    while True:
        rows = backend.pending_batch(cursor, batch)
        if not rows:
            break
        made += _fill(backend, embedder, target, rows, cursor=rows[-1][0])
        cursor = rows[-1][0]
        if bar is not None:
            bar.update(len(rows))
    for _ in range(CATCH_UP_ROUNDS):
        rows = backend.pending_batch(0, batch)
        if not rows:
            break
        made += _fill(backend, embedder, target, rows)
    return made


def cut_over(backend, embedder, target: dict, batch: int) -> tuple[int, int]:
    """Holding off every writer: embed what is still missing, then switch.
    Returns (vectors made here, active memories switched)."""
    made = 0
    with backend.cutover_transaction():
        while True:
            rows = backend.pending_batch(0, batch)
            if not rows:
                break
            made += _fill(backend, embedder, target, rows)
        switched = backend.swap_cutover(target)
    return made, switched


def _fill(backend, embedder, target, rows, *, cursor=None) -> int:
    from memman.embed.registry import embed_text
    from memman.embed.vectors import to_blob

    vectors = embedder.embed([embed_text(content, keywords)
                              for _, _, content, keywords, _ in rows])
    backend.write_pending([(row[1], to_blob(vector), row[4])
                           for row, vector in zip(rows, vectors, strict=True)],
                          target, cursor=cursor)
    if backfilling_target(backend) != target:
        raise MemmanError("the embedder swap was cancelled or replaced while it ran "
                          "(memman embed swap --abort in another process?)")
    return len(rows)


def write_recall_vectors(backend) -> int | None:
    from memman.worker.maintenance import write_store_vectors

    return write_store_vectors(backend)


def _name(fp: dict | None) -> str:
    return f"{fp['provider']}/{fp['model']} ({fp['dim']}d)" if fp else "none"


# -- the worker's side -------------------------------------------------------------

def worker_pending(ctx, texts: list[str]):
    """While a swap backfills the worker's store: (target, the target embedder's
    vectors of ``texts``), so memories stored now need no later backfill; else None.
    Best effort: if the target embedder fails, the swap embeds those memories itself."""
    embedder = ctx.swap_embedder()
    if embedder is None or not texts:
        return None
    try:
        return embedder.fingerprint, list(embedder.embed(texts))
    except Exception as exc:  # the row must not fail over the swap's extra vectors
        log.warning("embed swap: target embedder failed in the worker: %s", exc)
        return None


def write_worker_pending(ctx, plan, written) -> int:
    """Inside the row's transaction: store the target vectors of memories written
    from their fact's own text (a merged text was embedded afresh: the swap does it)."""
    from memman.embed.vectors import to_blob

    if not plan.pending:
        return 0
    target, vectors = plan.pending
    rows = [(insight.id, to_blob(vectors[n]), None) for n, insight, vector in written
            if vector is plan.prepared.vectors[n]]
    return ctx.backend.write_pending(rows, target) if rows else 0
