"""Embedding providers' wire formats, served by the ``loopback`` fixture.

    endpoint = openai_embeddings(loopback)       # -> loopback.url (POST /v1/embeddings)
    voyage_embeddings(loopback)                  # POST /v1/embeddings, Voyage's reply
    ollama_embeddings(loopback)                  # POST /api/embed and /api/embeddings
    ollama_embeddings(loopback, legacy=True)     # a server older than 0.3: /api/embed 404

Each reply carries the token counts the real API reports: OpenAI-compatible
``usage: {prompt_tokens, total_tokens}``, Voyage ``usage: {total_tokens}``, Ollama
``/api/embed`` ``prompt_eval_count``, legacy Ollama ``/api/embeddings`` none. A text
costs ``tokens_of(text)`` tokens (its whitespace-separated words, at least 1), so a
test can compute what a request cost. Vectors are the builtin embedder's (``dim``
384 by default), so memories stay comparable whichever fake served them.
"""
from tests.fakes.loopback import Reply

__all__ = ["tokens_of", "openai_embeddings", "voyage_embeddings", "ollama_embeddings"]


def tokens_of(text: str) -> int:
    return max(1, len(text.split()))


def _vectors(texts: list[str]) -> list[list[float]]:
    from memman.embed.builtin import BuiltinEmbedder

    return [v.tolist() for v in BuiltinEmbedder().embed(list(texts))]


def openai_embeddings(server, prefix: str = "/v1") -> str:
    """An OpenAI-compatible ``<prefix>/embeddings`` route; returns the server URL."""
    def handler(req):
        texts = req.json["input"]
        tokens = sum(tokens_of(t) for t in texts)
        return {"object": "list", "model": req.json["model"],
                "data": [{"object": "embedding", "index": i, "embedding": v}
                         for i, v in enumerate(_vectors(texts))],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    server.route("POST", f"{prefix}/embeddings", handler)
    return server.url


def voyage_embeddings(server, prefix: str = "/v1") -> str:
    """Voyage's ``<prefix>/embeddings``; returns the endpoint (``<url><prefix>``)."""
    def handler(req):
        texts = req.json["input"]
        return {"object": "list", "model": req.json["model"],
                "data": [{"object": "embedding", "index": i, "embedding": v}
                         for i, v in enumerate(_vectors(texts))],
                "usage": {"total_tokens": sum(tokens_of(t) for t in texts)}}

    server.route("POST", f"{prefix}/embeddings", handler)
    return server.url + prefix


def ollama_embeddings(server, *, legacy: bool = False) -> str:
    """Ollama's ``/api/embed`` (404 when ``legacy``) and ``/api/embeddings``; the host."""
    def embed(req):
        if legacy:
            return Reply(404, body=b"404 page not found",
                         headers={"Content-Type": "text/plain"})
        texts = req.json["input"]
        return {"model": req.json["model"], "embeddings": _vectors(texts),
                "total_duration": 1000, "load_duration": 10,
                "prompt_eval_count": sum(tokens_of(t) for t in texts)}

    def embeddings(req):
        return {"embedding": _vectors([req.json["prompt"]])[0]}

    server.route("POST", "/api/embed", embed)
    server.route("POST", "/api/embeddings", embeddings)
    return server.url
