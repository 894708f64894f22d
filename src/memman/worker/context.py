"""What the worker holds open per store during one drain: backend, embedder bound
from the store's fingerprint, the vector index, and the semantic threshold."""
from memman.graph import thresholds
from memman.store.open import open_store

FINGERPRINT_KEY = "embed_fingerprint"


class StoreContext:
    def __init__(self, datadir, settings, store: str, llm):
        from memman.embed.registry import for_fingerprint, from_settings, parse_fingerprint

        self.store = store
        self.settings = settings
        self.llm = llm
        self.backend = open_store(datadir, settings, store, create=True)
        try:
            stored = parse_fingerprint(self.backend.get_meta(FINGERPRINT_KEY) or "")
            # A store keeps the embedder it was built with; the env only seeds new ones.
            self.embedder = for_fingerprint(stored, settings) if stored else from_settings(settings)
            if stored:
                self._check_vector_sizes(stored)
                # Postgres types its vector column from the fingerprint (once) and
                # refuses a store whose column has another size; SQLite: no-op.
                self.backend.bind_vector_dim(int(stored.get("dim") or 0))
        except BaseException:
            self.backend.close()
            raise
        self._bind_threshold()
        self._index = None
        self.swapped = False  # an embed swap cut over while this context was open
        self._swap_target = (None, None)  # (target fingerprint, its embedder)

    def _bind_threshold(self) -> None:
        surface = self.settings.for_store("MEMMAN_SURFACE", self.store) or "code"
        override = self.settings.values.get(f"MEMMAN_AUTO_SEMANTIC_THRESHOLD_{self.store}")
        self.threshold, self.threshold_source = thresholds.resolve(
            self.embedder.provider, self.embedder.model, surface=surface, override=override)

    # -- embed swap (memman.embed.swap) ---------------------------------------------
    def _stored_fingerprint(self) -> dict | None:
        from memman.embed.registry import parse_fingerprint

        return parse_fingerprint(self.backend.get_meta(FINGERPRINT_KEY) or "")

    def follow_swap(self) -> bool:
        """Rebind to the store's embedder if an ``embed swap`` cut over since this
        context bound it; True when it did (vectors made before are then void)."""
        from memman.embed.registry import for_fingerprint

        stored = self._stored_fingerprint()
        if stored is None or stored == self.embedder.fingerprint:
            return False
        self.embedder = for_fingerprint(stored, self.settings)
        self._bind_threshold()
        self._index = None
        self.swapped = True
        return True

    def check_fingerprint(self) -> None:
        """Inside a write transaction: refuse to store this context's vectors when
        the store's embedder changed under it (the row is retried)."""
        from memman.embed.base import EmbedError

        stored = self._stored_fingerprint()
        if stored is not None and stored != self.embedder.fingerprint:
            raise EmbedError(
                f"store '{self.store}' switched embedder to {stored['provider']}/"
                f"{stored['model']} while this work was in flight; it will be retried")

    def swap_embedder(self):
        """The target embedder while an ``embed swap`` backfills this store, else None."""
        from memman.embed.registry import for_fingerprint
        from memman.embed.swap import backfilling_target

        target = backfilling_target(self.backend)
        if target is None:
            return None
        if self._swap_target[0] != target:
            try:
                self._swap_target = (target, for_fingerprint(target, self.settings))
            except Exception:  # unusable here: the swap embeds these memories itself
                return None
        return self._swap_target[1]

    def _check_vector_sizes(self, fingerprint: dict) -> None:
        """Refuse a store whose vectors disagree with its fingerprint: writing more
        vectors would mix two models' spaces."""
        from memman.embed.base import EmbedDimensionError

        dim = fingerprint.get("dim")
        if not dim:
            return
        wrong = {size // 4: n for size, n in self.backend.vector_sizes().items()
                 if size != 4 * dim}
        if wrong:
            sizes = ", ".join(f"{n} of {d} dims" for d, n in sorted(wrong.items()))
            raise EmbedDimensionError(
                f"store '{self.store}' holds vectors ({sizes}) that do not match its "
                f"fingerprint ({fingerprint.get('provider')}/{fingerprint.get('model')}, "
                f"{dim} dims); run 'memman embed reembed'")

    @property
    def mode(self) -> str:
        return "llm" if self.llm is not None else "heuristic"

    @property
    def index(self):
        if self._index is None:
            from memman.worker.vector_index import VectorIndex

            self._index = VectorIndex.from_rows(self.backend.active_vectors(), self.embedder.dim)
        return self._index

    def ensure_fingerprint(self) -> None:
        """Record the embedder on the store once it has produced a vector."""
        from memman.embed.registry import dump_fingerprint

        if self.embedder.dim and self.backend.get_meta(FINGERPRINT_KEY) is None:
            self.backend.set_meta(FINGERPRINT_KEY, dump_fingerprint(self.embedder.fingerprint))

    def close(self) -> None:
        self.backend.close()
