"""The Voyage AI embeddings client (provider "voyage").

Wire format: POST ``<endpoint>/embeddings`` ``{"input": [...], "model",
"input_type"?: "document"|"query"}``, reply ``{"data": [{"embedding", "index"}],
"model", "usage": {"total_tokens"}}``; batches of 128. Dims of the common models are
known up front; others are learned from the first response.
"""
from __future__ import annotations

from memman.embed.base import Embedder, EmbedError
from memman.embed.http import post_json
from memman.embed.openai_compat import parse_embeddings

KEY_NAME = "MEMMAN_VOYAGE_API_KEY"
DEFAULT_ENDPOINT = "https://api.voyageai.com/v1"
KNOWN_DIMS = {
    "voyage-3-lite": 512,
    "voyage-3": 1024,
    "voyage-3-large": 1024,
    "voyage-code-3": 1024,
}
INPUT_TYPES = (None, "document", "query")


class VoyageEmbedder(Embedder):
    provider = "voyage"

    def __init__(self, api_key: str | None, model: str = "voyage-3-lite",
                 endpoint: str = DEFAULT_ENDPOINT, input_type: str | None = None, *,
                 dim: int | None = None, timeout: float = 30.0, batch_size: int = 128,
                 retries: int = 3, sleep=None):
        if input_type not in INPUT_TYPES:
            raise EmbedError(f"voyage input_type must be 'document' or 'query', "
                             f"got {input_type!r}")
        self.api_key = api_key or None
        self.model = model
        self.dim = dim if dim is not None else KNOWN_DIMS.get(model)
        self.endpoint = endpoint.rstrip("/")
        self.url = self.endpoint + "/embeddings"
        self.input_type = input_type
        self.timeout = float(timeout)
        self.batch_size = max(1, int(batch_size))
        self.retries = retries
        self.sleep = sleep

    @property
    def missing_key(self) -> str | None:
        return None if self.api_key else KEY_NAME

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import httpx

        headers = {"Content-Type": "application/json",
                   "Authorization": f"Bearer {self.api_key}"}
        out: list[list[float]] = []
        with httpx.Client(timeout=httpx.Timeout(self.timeout)) as client:
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start:start + self.batch_size]
                payload: dict = {"input": batch, "model": self.model}
                if self.input_type:
                    payload["input_type"] = self.input_type
                data = post_json(self.url, payload, headers, self.timeout, self.retries,
                                 sleep=self.sleep, key_name=KEY_NAME, provider=self.provider,
                                 client=client)
                vectors = parse_embeddings(data, len(batch), self.url)
                self._check_dim(len(vectors[0]))
                out.extend(vectors)
        return out
