"""Optional cross-encoder rerank of recall's shortlist (off by default).

Enabled per store by ``MEMMAN_RERANK_ENABLED_<store>`` (else ``MEMMAN_RERANK_ENABLED``).
Providers: ``voyage`` (POST ``<endpoint>/rerank``, the Voyage wire format) and
``http``: any rerank endpoint at ``MEMMAN_RERANK_ENDPOINT`` speaking either the
Cohere/Jina shape (``{query, documents, top_n}`` -> ``{results: [{index,
relevance_score}]}``) or TEI's (``{query, texts}`` -> ``[{index, score}]``). One
request, bounded by ``MEMMAN_RERANK_TIMEOUT`` (default 3 s), no retries; any
failure keeps recall's own order and says why in ``meta``.
"""
MIN_QUERY_TOKENS = 3
SHORTLIST = 50
VOYAGE_ENDPOINT = "https://api.voyageai.com/v1"


def enabled(settings, store: str) -> bool:
    from memman.config.keys import truthy

    return truthy(settings.for_store("MEMMAN_RERANK_ENABLED", store))


def rerank(settings, query: str, documents: list[str]) -> list[float]:
    """One relevance score per document, or an exception (the caller falls back)."""
    import httpx

    provider = settings.get("MEMMAN_RERANK_PROVIDER") or "voyage"
    timeout = float(settings.get("MEMMAN_RERANK_TIMEOUT") or 3)
    headers = {"Content-Type": "application/json"}
    if provider == "voyage":
        key = settings.get("MEMMAN_VOYAGE_API_KEY")
        if not key:
            raise ValueError("MEMMAN_VOYAGE_API_KEY is not set")
        headers["Authorization"] = f"Bearer {key}"
        url = (settings.get("MEMMAN_RERANK_ENDPOINT") or VOYAGE_ENDPOINT).rstrip("/") + "/rerank"
        body = {"query": query, "documents": documents,
                "model": settings.get("MEMMAN_VOYAGE_RERANK_MODEL") or "rerank-2.5-lite"}
    else:
        url = settings.get("MEMMAN_RERANK_ENDPOINT")
        if not url:
            raise ValueError("MEMMAN_RERANK_ENDPOINT is not set")
        key = settings.get("MEMMAN_RERANK_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {"query": query, "documents": documents, "texts": documents,
                "top_n": len(documents)}
        model = settings.get("MEMMAN_RERANK_MODEL")
        if model:
            body["model"] = model
    response = httpx.post(url, json=body, headers=headers, timeout=timeout)
    response.raise_for_status()
    return _scores(response.json(), len(documents))


def _scores(payload, n: int) -> list[float]:
    if isinstance(payload, dict):
        items = payload.get("data") or payload.get("results")
    else:
        items = payload
    if not isinstance(items, list):
        raise ValueError("unrecognised rerank response")
    scores = [None] * n
    for item in items:
        index = item.get("index")
        score = item.get("relevance_score", item.get("score"))
        if not isinstance(index, int) or not 0 <= index < n or not isinstance(score, (int, float)):
            raise ValueError("malformed rerank item")
        scores[index] = float(score)
    if any(s is None for s in scores):
        raise ValueError("rerank response did not score every document")
    return scores


def apply(settings, store: str, query: str, results: list[dict], meta: dict) -> list[dict]:
    """Reorder ``results`` (recall result dicts) by the cross-encoder when enabled."""
    if not enabled(settings, store):
        return results
    if len(query.split()) < MIN_QUERY_TOKENS or len(results) < 2:
        meta["reranked"] = False
        return results
    head, tail = results[:SHORTLIST], results[SHORTLIST:]
    try:
        scores = rerank(settings, query, [r["insight"]["content"] for r in head])
    except Exception as exc:  # the reranker is optional: never fail a recall for it
        meta["reranked"] = False
        meta["rerank_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return results
    for result, score in zip(head, scores, strict=True):
        result["signals"]["rerank"] = round(score, 4)
    meta["reranked"] = True
    return sorted(head, key=lambda r: -r["signals"]["rerank"]) + tail
