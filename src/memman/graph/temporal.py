"""Temporal edges: a backbone through each source's memories, and proximity in time."""
from memman import clock
from memman.store.model import Edge, Insight

TEMPORAL_WINDOW_HOURS = 4.0
MAX_PROXIMITY_EDGES = 5
MIN_PROXIMITY_WEIGHT = 0.10


def temporal_edges(backend, insight: Insight, exclude: set[str]) -> list[Edge]:
    skip = exclude | {insight.id}
    edges: list[Edge] = []
    # The predecessor is the newest earlier memory from the same source, so imports
    # with old timestamps and rebuilds of old memories link into the right place.
    previous = backend.latest_with_source(insight.source, skip, insight.created_at)
    backbone = set()
    if previous is not None:
        backbone.add(previous.id)
        edges.append(Edge(previous.id, insight.id, "temporal", 1.0,
                          {"sub_type": "backbone", "direction": "precedes"}))
        edges.append(Edge(insight.id, previous.id, "temporal", 1.0,
                          {"sub_type": "backbone", "direction": "succeeds"}))
    created = clock.parse_iso(insight.created_at)
    window = TEMPORAL_WINDOW_HOURS * 3600
    near = backend.closest_in_time(insight.created_at, clock.iso(created - window),
                                   clock.iso(created + window),
                                   MAX_PROXIMITY_EDGES + len(backbone), skip)
    added = 0
    for other in near:
        if other.id in backbone or added >= MAX_PROXIMITY_EDGES:
            continue
        hours = abs(created - clock.parse_iso(other.created_at)) / 3600
        weight = 1.0 / (1.0 + hours)
        if weight < MIN_PROXIMITY_WEIGHT:
            continue
        meta = {"sub_type": "proximity", "hours_diff": round(hours, 3)}
        edges.append(Edge(insight.id, other.id, "temporal", round(weight, 4), meta))
        edges.append(Edge(other.id, insight.id, "temporal", round(weight, 4), dict(meta)))
        added += 1
    return edges
