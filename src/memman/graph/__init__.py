"""The memory graph: how memories link to each other.

Four edge types, each built by its own module when a memory is written:
``temporal`` (a backbone per source plus proximity in time), ``entity`` (shared
entities, IDF-weighted), ``semantic`` (vector similarity above a per-embedder
threshold) and ``causal`` (LLM judgement, or cue phrases in zero-config mode).
Builders return Edge lists; the worker writes them inside the row's transaction.
"""
