"""Cosine thresholds above which two memories get a semantic edge, per embedder.

Resolution: the per-store override ``MEMMAN_AUTO_SEMANTIC_THRESHOLD_<store>``
(a number, or ``skip``/``none`` to turn semantic edges off) > the calibrated value
for (provider, model) > the median of the calibrated values for the store's
surface. The calibrated numbers for remote models are the published 0.16
calibration; the builtin embedder's was measured on our own paraphrase pairs.
"""
CALIBRATED: dict[tuple[str, str], tuple[float, float]] = {  # (code, claw) surfaces
    ("builtin", "hash-ngram-v1"): (0.5, 0.5),
    ("voyage", "voyage-3-lite"): (0.645, 0.497),
    ("voyage", "voyage-3"): (0.591, 0.524),
    ("voyage", "voyage-3-large"): (0.777, 0.681),
    ("voyage", "voyage-code-3"): (0.790, 0.795),
    ("voyage", "voyage-finance-2"): (0.654, 0.688),
    ("voyage", "voyage-law-2"): (0.625, 0.611),
    ("voyage", "voyage-multilingual-2"): (0.602, 0.680),
    ("openrouter", "openai/text-embedding-3-small"): (0.630, 0.613),
    ("openrouter", "openai/text-embedding-3-large"): (0.625, 0.636),
    ("openrouter", "baai/bge-m3"): (0.662, 0.687),
    ("openrouter", "baai/bge-large-en-v1.5"): (0.738, 0.712),
    ("openrouter", "intfloat/e5-large-v2"): (0.856, 0.845),
    ("openrouter", "intfloat/multilingual-e5-large"): (0.967, 0.962),
    ("openrouter", "qwen/qwen3-embedding-8b"): (0.639, 0.783),
    ("openrouter", "sentence-transformers/all-minilm-l6-v2"): (0.569, 0.591),
    ("openrouter", "sentence-transformers/all-mpnet-base-v2"): (0.610, 0.669),
    ("ollama", "nomic-embed-text"): (0.738, 0.744),
    ("ollama", "mxbai-embed-large"): (0.748, 0.700),
    ("ollama", "all-minilm"): (0.558, 0.568),
    ("ollama", "snowflake-arctic-embed"): (0.704, 0.752),
    ("openai", "text-embedding-3-small"): (0.630, 0.613),
    ("openai", "text-embedding-3-large"): (0.625, 0.636),
    ("openai", "all-minilm-l6-v2"): (0.569, 0.591),
}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def resolve(provider: str, model: str, *, surface: str = "code",
            override: str | None = None) -> tuple[float | None, str]:
    """(threshold or None for 'no semantic edges', where it came from)."""
    if override:
        if override.lower() in ("skip", "none"):
            return None, "override_skip"
        try:
            value = float(override)
            if 0 < value < 1:
                return value, "override"
        except ValueError:
            pass
    col = 1 if surface == "claw" else 0
    key = (provider, model.lower())
    for (p, m), pair in CALIBRATED.items():
        if (p, m.lower()) == key:
            return pair[col], "calibrated"
    remote = [pair[col] for (p, _), pair in CALIBRATED.items() if p != "builtin"]
    return round(_median(remote), 4), "surface_median"
