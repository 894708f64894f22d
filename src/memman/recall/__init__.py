"""Recall: finding the memories that answer a query.

``intent`` classifies the query (WHY / WHEN / ENTITY / GENERAL); ``anchors``
gathers starting points from the keyword index, vectors, entities and recency,
fused by RRF; ``engine`` walks the graph from them with intent weights and ranks
the result; ``matrix`` is the worker-written, memory-mapped vector file recall
reads instead of loading every vector from the store; ``query_vector`` embeds the
query (locally for the builtin embedder, else one bounded remote call with a cache).
"""
