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
        except BaseException:
            self.backend.close()
            raise
        surface = settings.for_store("MEMMAN_SURFACE", store) or "code"
        override = settings.values.get(f"MEMMAN_AUTO_SEMANTIC_THRESHOLD_{store}")
        self.threshold, self.threshold_source = thresholds.resolve(
            self.embedder.provider, self.embedder.model, surface=surface, override=override)
        self._index = None

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
