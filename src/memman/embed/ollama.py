"""The Ollama embeddings client (provider "ollama").

POST ``<host>/api/embed`` ``{"model", "input": [...]}`` -> ``{"embeddings": [[...]]}``.
Servers older than Ollama 0.3 answer 404 there; then the legacy
``<host>/api/embeddings`` ``{"model", "prompt"}`` -> ``{"embedding": [...]}`` is used,
one text per request, for the rest of this embedder's life. Inputs are cut to
``max_chars`` characters (small local models have short context windows).
"""
from __future__ import annotations

from memman.embed.base import Embedder, EmbedError
from memman.embed.http import post_json

BATCH_SIZE = 64


class OllamaEmbedder(Embedder):
    provider = "ollama"

    def __init__(self, host: str, model: str, max_chars: int = 1500, *,
                 dim: int | None = None, timeout: float = 30.0, retries: int = 3,
                 sleep=None):
        self.host = host.rstrip("/")
        self.model = model
        self.max_chars = max(1, int(max_chars))
        self.dim = dim
        self.timeout = float(timeout)
        self.retries = retries
        self.sleep = sleep
        self.legacy = False

    def _post(self, client, path: str, payload: dict, handled_statuses=()):
        return post_json(self.host + path, payload, {"Content-Type": "application/json"},
                         self.timeout, self.retries, sleep=self.sleep, provider=self.provider,
                         client=client, handled_statuses=handled_statuses)

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import httpx

        texts = [t[: self.max_chars] for t in texts]
        out: list[list[float]] = []
        with httpx.Client(timeout=httpx.Timeout(self.timeout)) as client:
            start = 0
            while start < len(texts) and not self.legacy:
                batch = texts[start:start + BATCH_SIZE]
                try:
                    # a 404 here is the probe for servers older than 0.3, not a failure
                    data = self._post(client, "/api/embed", {"model": self.model, "input": batch},
                                      handled_statuses=(404,))
                except EmbedError as exc:
                    if exc.status != 404:
                        raise
                    self._raise_if_model_missing(exc)
                    self.legacy = True
                    break
                vectors = data.get("embeddings") if isinstance(data, dict) else None
                self._validate(vectors, len(batch), "/api/embed")
                out.extend(vectors)
                start += len(batch)
            for text in texts[start:]:
                try:
                    data = self._post(client, "/api/embeddings",
                                      {"model": self.model, "prompt": text})
                except EmbedError as exc:
                    if exc.status == 404:
                        self._raise_if_model_missing(exc)
                    raise
                vector = data.get("embedding") if isinstance(data, dict) else None
                self._validate([vector], 1, "/api/embeddings")
                out.append(vector)
        return out

    def _validate(self, vectors, n: int, path: str) -> None:
        where = f"{self.host}{path}"
        if not isinstance(vectors, list) or len(vectors) != n:
            got = len(vectors) if isinstance(vectors, list) else "no"
            raise EmbedError(f"malformed embeddings response from {where}: expected {n} "
                             f"vectors, got {got}")
        dims = {len(v) if isinstance(v, list) else -1 for v in vectors}
        if len(dims) != 1 or dims & {0, -1}:
            raise EmbedError(f"malformed embeddings response from {where}: vectors of mixed "
                             f"or empty dims")
        self._check_dim(dims.pop())

    def _raise_if_model_missing(self, exc: EmbedError) -> None:
        text = str(exc).lower()
        if "model" in text and "not found" in text:
            raise EmbedError(f"ollama at {self.host} has no model '{self.model}'; run "
                             f"'ollama pull {self.model}'", status=404) from None
