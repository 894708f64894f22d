"""Talking to an OpenAI-compatible chat model: the client, our prompts, the tasks.

- ``client``: ``LLMClient`` (one per process/drain; thread-safe), ``LLMError``,
  ``from_settings`` / ``llm_mode`` (when memman runs with a model at all) and
  ``is_loopback``.
- ``parse``: tolerant JSON extraction from model answers.
- ``cache``: ``ResponseCache``, a small SQLite file of answers keyed by prompt.
- ``prompts``: our system prompts, the user-message builders and ``PROMPT_VERSION``.
- ``tasks``: the five jobs the worker and recall ask of the model (extract,
  reconcile, enrich, causal links, query expansion), each returning validated,
  normalised dataclasses.

Importing this package costs nothing: httpx is imported only when a client sends
its first request, and the submodules are imported by name where they are used.
"""
