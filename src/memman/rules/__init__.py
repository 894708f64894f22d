"""Rule-based language processing for zero-config mode (no LLM configured).

When no LLM is configured the worker still has to decide whether a text is worth
keeping (:mod:`~memman.rules.gate`), which entities it names
(:mod:`~memman.rules.entities`), which keywords describe it
(:mod:`~memman.rules.keywords`) and which of its clauses state a cause and an
effect (:mod:`~memman.rules.causal`); :mod:`~memman.rules.stem` holds the shared
stemmer and content-word tokenizer. Recall also runs the entity rules on the
user's query (:func:`memman.rules.entities.query_entities`), on the hot path.

Everything here is deterministic, uses only the standard library and
``memman.textutil``/``memman.constants`` (plus ``memman.intake.quality`` for
the gate), compiles its regular expressions on first use, and is written to stay
linear on adversarial 8000-byte input. This package imports none of its
submodules: import the one you need.
"""
