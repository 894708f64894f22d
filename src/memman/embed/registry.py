"""Which embedder, and what text: the single decision points for embedding.

- :func:`embed_text` decides what text is embedded for a memory, everywhere (worker,
  rebuild, swap, reembed), so vectors of one store are always comparable.
- :func:`from_settings` builds the embedder the env file configures
  (``MEMMAN_EMBED_PROVIDER``); it only seeds new stores.
- :func:`for_fingerprint` binds the embedder a store's stored fingerprint names: model
  and dim from the fingerprint, credentials and endpoints from the settings.
- :func:`parse_fingerprint` / :func:`dump_fingerprint`: the fingerprint's JSON form.

Nothing here touches the network: embedders call out only when asked for vectors.
"""
from __future__ import annotations

import json

from memman.embed.base import Embedder, EmbedError

PROVIDERS = ("builtin", "voyage", "openai", "openrouter", "ollama")


def embed_text(content: str, keywords: list[str] | None) -> str:
    """The text embedded for a memory: its content, plus ``"\\nKeywords: k1, k2"``
    when it has (non-blank) keywords."""
    kws = [k.strip() for k in (keywords or []) if k and k.strip()]
    return content + ("\nKeywords: " + ", ".join(kws) if kws else "")


def is_remote(provider: str) -> bool:
    """Whether embedding with ``provider`` needs a network call (all but builtin)."""
    return provider != "builtin"


def from_settings(settings) -> Embedder:
    """The embedder the env file configures (default: builtin)."""
    provider = settings.get("MEMMAN_EMBED_PROVIDER") or "builtin"
    model = {
        "builtin": None,
        "voyage": settings.get("MEMMAN_VOYAGE_EMBED_MODEL"),
        "openai": settings.get("MEMMAN_OPENAI_EMBED_MODEL"),
        "openrouter": settings.get("MEMMAN_OPENROUTER_EMBED_MODEL"),
        "ollama": settings.get("MEMMAN_OLLAMA_EMBED_MODEL"),
    }.get(provider)
    if provider not in PROVIDERS:
        raise _unknown(provider)
    return _build(provider, model, None, settings)


def for_fingerprint(fp: dict, settings, *, timeout: float | None = None,
                    retries: int | None = None, query: bool = False) -> Embedder:
    """The embedder a store is bound to. Model and dim come from the fingerprint, never
    from the env; the embedder refuses (EmbedDimensionError) vectors of another dim.
    ``timeout``/``retries`` override the remote client's defaults (recall uses a short
    timeout and no retries); ``query`` marks query embeddings for providers that
    distinguish them (Voyage)."""
    fp = _validated(fp, "embed fingerprint")
    options = {k: v for k, v in (("timeout", timeout), ("retries", retries)) if v is not None}
    return _build(fp["provider"], fp["model"], fp["dim"], settings, options, query)


def _build(provider: str, model: str | None, dim: int | None, settings,
           options: dict | None = None, query: bool = False) -> Embedder:
    options = options or {}
    if provider == "builtin":
        from memman.embed.builtin import DEFAULT_DIM, MODEL, BuiltinEmbedder

        if model is not None and model != MODEL:
            raise EmbedError(f"unknown builtin embed model '{model}' (this memman has "
                             f"'{MODEL}'); run 'memman embed reembed'")
        return BuiltinEmbedder(dim=dim or DEFAULT_DIM)
    if provider == "voyage":
        from memman.embed.voyage import VoyageEmbedder

        return VoyageEmbedder(settings.get("MEMMAN_VOYAGE_API_KEY"),
                              model or "voyage-3-lite", dim=dim,
                              input_type="query" if query else None, **options)
    if provider == "openai":
        from memman.embed.openai_compat import OpenAICompatEmbedder

        return OpenAICompatEmbedder(
            _required(settings, "MEMMAN_OPENAI_EMBED_ENDPOINT"),
            settings.get("MEMMAN_OPENAI_EMBED_API_KEY"),
            model or _required(settings, "MEMMAN_OPENAI_EMBED_MODEL"),
            provider="openai", dim=dim, key_name="MEMMAN_OPENAI_EMBED_API_KEY", **options)
    if provider == "openrouter":
        from memman.embed.openai_compat import OPENROUTER_HEADERS, OpenAICompatEmbedder

        return OpenAICompatEmbedder(
            _required(settings, "MEMMAN_OPENROUTER_ENDPOINT"),
            settings.get("MEMMAN_OPENROUTER_API_KEY"),
            model or _required(settings, "MEMMAN_OPENROUTER_EMBED_MODEL"),
            provider="openrouter", dim=dim, extra_headers=OPENROUTER_HEADERS,
            key_name="MEMMAN_OPENROUTER_API_KEY", require_key=True, **options)
    if provider == "ollama":
        from memman.embed.ollama import OllamaEmbedder

        raw = settings.get("MEMMAN_OLLAMA_MAX_INPUT_CHARS") or "1500"
        try:
            max_chars = int(raw)
            if max_chars < 1:
                raise ValueError
        except ValueError:
            raise EmbedError(f"invalid value for MEMMAN_OLLAMA_MAX_INPUT_CHARS: {raw!r}; "
                             f"must be a whole number >= 1") from None
        return OllamaEmbedder(_required(settings, "MEMMAN_OLLAMA_HOST"),
                              model or _required(settings, "MEMMAN_OLLAMA_EMBED_MODEL"),
                              max_chars=max_chars, dim=dim, **options)
    raise _unknown(provider)


def _required(settings, name: str) -> str:
    value = settings.get(name)
    if not value:
        raise EmbedError(f"{name} is empty; run 'memman config set {name} ...'")
    return value


def _unknown(provider) -> EmbedError:
    return EmbedError(f"unknown embed provider {provider!r}; valid: {', '.join(PROVIDERS)}")


# -- fingerprints ---------------------------------------------------------------

def _validated(fp, what: str) -> dict:
    if not isinstance(fp, dict):
        raise EmbedError(f"corrupt {what}: expected an object, got {type(fp).__name__}")
    provider, model, dim = fp.get("provider"), fp.get("model"), fp.get("dim")
    if not isinstance(provider, str) or not provider:
        raise EmbedError(f"corrupt {what}: no provider")
    if provider not in PROVIDERS:
        raise _unknown(provider)
    if not isinstance(model, str) or not model:
        raise EmbedError(f"corrupt {what}: no model")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0):
        raise EmbedError(f"corrupt {what}: dim must be a positive integer, got {dim!r}")
    return {"provider": provider, "model": model, "dim": dim}


def parse_fingerprint(text: str | bytes | None) -> dict | None:
    """A stored fingerprint -> ``{"provider", "model", "dim"}``; None/blank -> None;
    anything unreadable -> EmbedError "corrupt embed_fingerprint ..."."""
    if text is None:
        return None
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not text.strip():
        return None
    hint = "; run 'memman embed reembed' to rebuild it"
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        data = json.loads(text)
    except ValueError:
        raise EmbedError(f"corrupt embed_fingerprint {shown!r}: not JSON{hint}") from None
    try:
        return _validated(data, "embed_fingerprint")
    except EmbedError as exc:
        if "unknown embed provider" in str(exc):
            raise
        raise EmbedError(f"{exc} ({shown!r}){hint}") from None


def dump_fingerprint(fp: dict) -> str:
    """``{"dim": 384, "model": "hash-ngram-v1", "provider": "builtin"}`` (sorted keys)."""
    return json.dumps(_validated(fp, "embed fingerprint"), sort_keys=True)
