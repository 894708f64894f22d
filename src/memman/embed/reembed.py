"""``memman embed reembed``: rewrite every vector of a store with the configured embedder.

The offline counterpart of ``embed swap``: the target is the embedder the env file
names (``MEMMAN_EMBED_PROVIDER`` and its model key), every active memory is embedded
afresh (even when the store already uses that embedder), and the whole run holds the
data dir's drain lock, so no drain writes meanwhile (``remember`` still queues).
It runs on the swap machinery (pending vectors, one cutover transaction), so recall
keeps answering from the old vectors until the new ones all exist, and a killed
reembed resumes when run again (or is undone with ``embed swap --abort``). It is also
the way out for a store whose fingerprint is missing or corrupt.
"""
from memman.embed import swap
from memman.errors import MemmanError

PROBE_TEXT = "memman embed reembed: dimension probe"


def reembed(datadir, settings, stores: list[str], *, dry_run: bool = False,
            batch: int = swap.BATCH, show_progress: bool | None = None) -> dict:
    from memman.embed.registry import from_settings

    embedder = from_settings(settings)
    if not dry_run:
        embedder.check_credentials()
        if embedder.dim is None:
            embedder.embed_one(PROBE_TEXT)
    target = embedder.fingerprint
    if dry_run:
        rows = [_plan(datadir, settings, store) for store in stores]
        return {"fingerprint": target, "stores": rows, "dry_run": True,
                "total_scanned": sum(r["scanned"] for r in rows),
                "total_would_reembed": sum(r["would_reembed"] for r in rows)}
    from memman.worker.drain import DrainLock

    lock = DrainLock(datadir)
    if not lock.acquire():
        raise MemmanError("a drain or a graph rebuild is running on this data dir; try "
                          "again when it has finished")
    try:
        rows = [_rewrite(datadir, settings, store, embedder, target, batch, show_progress)
                for store in stores]
    finally:
        lock.release()
    return {"fingerprint": target, "stores": rows,
            "total_scanned": sum(r["scanned"] for r in rows),
            "total_reembedded": sum(r["reembedded"] for r in rows)}


def _plan(datadir, settings, store: str) -> dict:
    from memman.store.open import open_store

    backend = open_store(datadir, settings, store)
    try:
        active = backend.count_active()
        out = {"store": store, "scanned": active, "would_reembed": active}
        state = backend.swap_state()
        if state is not None:
            out["swap_in_progress"] = state
        return out
    finally:
        backend.close()


def _rewrite(datadir, settings, store, embedder, target, batch, show_progress) -> dict:
    from memman.embed.base import EmbedError
    from memman.store.open import open_store, refuse_readonly

    refuse_readonly(datadir, settings, store)
    lock = swap.SwapLock(datadir, store)
    if not lock.acquire():
        raise MemmanError(f"an embed swap or reembed is already running on store '{store}'")
    backend = open_store(datadir, settings, store)
    try:
        try:
            previous = swap.stored_fingerprint(backend)
        except EmbedError:  # corrupt: exactly what a reembed repairs
            previous = None
        state = backend.swap_state()
        if state is None:
            backend.swap_begin(target)
        elif swap.target_of(state) != target:
            raise MemmanError(
                f"store '{store}' is in the middle of an embedder swap to "
                f"{state.get('target_provider')}/{state.get('target_model')}; finish it with "
                "'memman embed swap --resume' or cancel it with 'memman embed swap --abort' "
                "first")
        out = swap.run(backend, embedder, target, previous=previous, batch=batch,
                       show_progress=show_progress, operation="embed_reembed")
        return {"store": store, "scanned": out["switched"], "reembedded": out["reembedded"],
                "previous": previous}
    finally:
        backend.close()
        lock.release()
