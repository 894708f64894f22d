"""Semantic edges: the few most similar memories above the embedder's threshold."""
from memman.store.model import Edge

MAX_AUTO_SEMANTIC_EDGES = 3


def semantic_edges(insight_id: str, vector, index, threshold: float | None,
                   exclude: set[str]) -> list[Edge]:
    if threshold is None or vector is None:
        return []
    edges: list[Edge] = []
    hits = index.search(vector, MAX_AUTO_SEMANTIC_EDGES, min_sim=threshold,
                        exclude=exclude | {insight_id})
    for other, sim in hits:
        meta = {"created_by": "auto", "cosine": f"{sim:.4f}"}
        edges.append(Edge(insight_id, other, "semantic", round(sim, 4), meta))
        edges.append(Edge(other, insight_id, "semantic", round(sim, 4), dict(meta)))
    return edges
