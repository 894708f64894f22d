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
        except BaseException:
            self.backend.close()
            raise
        surface = settings.for_store("MEMMAN_SURFACE", store) or "code"
        override = settings.values.get(f"MEMMAN_AUTO_SEMANTIC_THRESHOLD_{store}")
        self.threshold, self.threshold_source = thresholds.resolve(
            self.embedder.provider, self.embedder.model, surface=surface, override=override)
        self._index = None

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
