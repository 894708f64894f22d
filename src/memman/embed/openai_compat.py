"""The OpenAI-compatible ``/embeddings`` client: OpenAI, vLLM, TEI, llama.cpp, LiteLLM
(provider "openai") and OpenRouter (provider "openrouter").

Wire format: POST ``{"model", "input": [...], "encoding_format": "float"}``, reply
``{"data": [{"embedding": [...], "index": i}, ...]}``; vectors are put back in input
order by ``index``.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from memman.embed.base import Embedder, EmbedError
from memman.embed.http import post_json

OPENROUTER_HEADERS = {"HTTP-Referer": "https://github.com/memman", "X-Title": "memman"}


def embeddings_url(endpoint: str) -> str:
    """``https://api.openai.com`` -> ``.../v1/embeddings``; an endpoint with a path
    (``.../v1``, ``.../api/v1``) -> ``<endpoint>/embeddings``; a full ``.../embeddings``
    URL is used as is."""
    base = endpoint.rstrip("/")
    path = urlsplit(base).path
    if path.endswith("/embeddings"):
        return base
    if path in ("", "/"):
        base += "/v1"
    return base + "/embeddings"


def parse_embeddings(data, n: int, where: str) -> list[list[float]]:
    """``data[i].embedding`` ordered by ``data[i].index``; n vectors of one dim, or a
    one-line EmbedError "malformed embeddings response ..."."""
    def bad(why: str) -> EmbedError:
        return EmbedError(f"malformed embeddings response from {where}: {why}")

    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise bad("no 'data' list")
    if len(items) != n:
        raise bad(f"expected {n} vectors, got {len(items)}")
    slots: list = [None] * n
    for pos, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("embedding"), list):
            raise bad(f"item {pos} has no 'embedding' list")
        index = item.get("index", pos)
        if not isinstance(index, int) or not 0 <= index < n or slots[index] is not None:
            raise bad(f"item {pos} has a bad or repeated index {index!r}")
        slots[index] = item["embedding"]
    dims = {len(v) for v in slots}
    if len(dims) != 1 or 0 in dims:
        raise bad(f"vectors of mixed or empty dims {sorted(dims)}")
    return slots


class OpenAICompatEmbedder(Embedder):
    """Any OpenAI-compatible ``/embeddings`` endpoint."""

    def __init__(self, endpoint: str, api_key: str | None, model: str, provider: str = "openai",
                 dim: int | None = None, timeout: float = 30.0, batch_size: int = 128,
                 extra_headers: dict | None = None, *, key_name: str | None = None,
                 require_key: bool = False, retries: int = 3, sleep=None):
        self.provider = provider
        self.model = model
        self.dim = dim
        self.endpoint = endpoint
        self.url = embeddings_url(endpoint)
        self.api_key = api_key or None
        self.timeout = float(timeout)
        self.batch_size = max(1, int(batch_size))
        self.extra_headers = dict(extra_headers or {})
        self.key_name = key_name or f"MEMMAN_{provider.upper()}_API_KEY"
        self.require_key = require_key
        self.retries = retries
        self.sleep = sleep

    @property
    def missing_key(self) -> str | None:
        return self.key_name if self.require_key and not self.api_key else None

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json", **self.extra_headers}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import httpx

        out: list[list[float]] = []
        headers = self._headers()
        with httpx.Client(timeout=httpx.Timeout(self.timeout)) as client:
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start:start + self.batch_size]
                payload = {"model": self.model, "input": batch, "encoding_format": "float"}
                data = post_json(self.url, payload, headers, self.timeout, self.retries,
                                 sleep=self.sleep, key_name=self.key_name,
                                 provider=self.provider, client=client)
                vectors = parse_embeddings(data, len(batch), self.url)
                self._check_dim(len(vectors[0]))
                out.extend(vectors)
        return out
