"""Turning text into vectors: the providers, the store fingerprint binding, and the one
function that decides what text gets embedded.

Modules:

- ``base``: the :class:`~memman.embed.base.Embedder` interface and the embed errors.
- ``builtin``: the offline, zero-config lexical hashing embedder (the default).
- ``openai_compat`` / ``voyage`` / ``ollama``: remote providers, over ``http``.
- ``vectors``: blob <-> vector conversion, normalisation, cosine.
- ``registry``: ``embed_text`` (what is embedded), ``from_settings`` (the embedder the
  env file configures), ``for_fingerprint`` (the embedder a store is bound to), and
  fingerprint parse/dump.

Importing this package is free: numpy and httpx are imported only by the modules that
need them, and no network call happens until vectors are actually requested.
"""
