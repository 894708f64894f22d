"""Entity edges: memories naming the same entity, weighted by how rare it is."""
import math

from memman.store.model import Edge, Insight

MAX_ENTITY_LINKS = 5
MAX_TOTAL_ENTITY_EDGES = 50
IDF_FLOOR = 0.1
IDF_MIN_STORE = 5  # below this many memories every shared entity weighs 1.0


def idf_weight(sharers: int, n_active: int) -> float | None:
    """ln(N/df)/ln(N) with df = sharers + 1, floored; None when the entity is everywhere."""
    if n_active <= IDF_MIN_STORE:
        return 1.0
    df = sharers + 1
    if df >= n_active:
        return None
    return max(IDF_FLOOR, math.log(n_active / df) / math.log(n_active))


def entity_edges(backend, insight: Insight, exclude: set[str]) -> list[Edge]:
    skip = exclude | {insight.id}
    n_active = backend.count_active()
    edges: list[Edge] = []
    linked: dict[tuple[str, str], float] = {}
    for entity in insight.entities or []:
        sharers = backend.entity_sharers(entity, MAX_ENTITY_LINKS, skip)
        if not sharers:
            continue
        weight = idf_weight(backend.entity_count(entity) - 1, n_active)
        if weight is None:
            continue
        for other in sharers:
            if linked.get((insight.id, other), -1) >= weight:
                continue
            linked[(insight.id, other)] = weight
            edges.append(Edge(insight.id, other, "entity", round(weight, 4), {"entity": entity}))
            edges.append(Edge(other, insight.id, "entity", round(weight, 4), {"entity": entity}))
            if len(edges) >= MAX_TOTAL_ENTITY_EDGES:
                return edges
    return edges
