"""Retention: effective importance (EI), immunity, and prune candidates.

EI = base(importance) x max(1, ln(1 + accesses)) x 0.5^(days idle / 30)
     x (1 + 0.1 x min(edge rows, 5))

base is 1.0, 0.8, 0.5, 0.3, 0.15 for importance 5..1; "days idle" counts from the
last access, or from creation for a memory never accessed; a mirrored link is two
edge rows. A memory is immune (never auto-pruned, never a candidate) when its
importance is 4 or more or it was protected with ``insights protect``.

An access is a recall that showed the memory among its first ACCESS_COUNTED_TOP
results, counted at most once per recall: a broad recall (``--limit 500``) cannot
inflate the counts of everything it lists.
"""
import math

from memman import clock

HALF_LIFE_DAYS = 30.0
BASE_WEIGHT = {5: 1.0, 4: 0.8, 3: 0.5, 2: 0.3}
LOWEST_BASE = 0.15
EDGE_FACTOR = 0.1
EDGE_CAP = 5
IMMUNE_IMPORTANCE = 4
CANDIDATE_THRESHOLD = 0.5
ACCESS_COUNTED_TOP = 5


def days_idle(last_seen: str, now: float) -> float:
    return max(0.0, (now - clock.parse_iso(last_seen)) / 86400)


def effective_importance(importance: int, access_count: int, last_seen: str, edges: int,
                         now: float) -> float:
    base = BASE_WEIGHT.get(importance, LOWEST_BASE)
    return round(base * max(1.0, math.log1p(access_count))
                 * 0.5 ** (days_idle(last_seen, now) / HALF_LIFE_DAYS)
                 * (1 + EDGE_FACTOR * min(edges, EDGE_CAP)), 6)


def effective_importance_of(insight, edges: int, now: float) -> float:
    return effective_importance(insight.importance, insight.access_count,
                                insight.last_accessed_at or insight.created_at, edges, now)


def is_immune(importance: int, protected: bool) -> bool:
    return importance >= IMMUNE_IMPORTANCE or bool(protected)


def accessed_ids(shown_ids: list[str]) -> list[str]:
    """The shown results a recall counts as accessed: the first few, once each."""
    return list(dict.fromkeys(shown_ids))[:ACCESS_COUNTED_TOP]


def candidates(backend, threshold: float, limit: int) -> tuple[int, list[dict]]:
    """Non-immune memories whose EI (computed now, not the stored value) is below
    ``threshold``, lowest first: (how many there are, the first ``limit``). Reads only."""
    now = clock.now()
    found = []
    for insight_id, importance, accesses, last_seen, edges, protected in \
            backend.importance_inputs():
        if is_immune(importance, protected):
            continue
        ei = effective_importance(importance, accesses, last_seen, edges, now)
        if ei < threshold:
            found.append((ei, last_seen, insight_id, edges))
    found.sort()
    shown = found[:limit]
    rows = {i.id: i for i in backend.get_insights([f[2] for f in shown])}
    out = []
    for ei, last_seen, insight_id, edges in shown:
        insight = rows.get(insight_id)
        if insight is None:  # forgotten since importance_inputs() read it
            continue
        out.append({"id": insight_id, "content": insight.content,
                    "category": insight.category, "importance": insight.importance,
                    "access_count": insight.access_count, "effective_importance": ei,
                    "days_since_access": round(days_idle(last_seen, now), 1),
                    "edge_count": edges, "immune": False})
    return len(found), out
