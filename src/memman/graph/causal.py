"""Causal edges: which memories explain which.

With an LLM, the model judges links between a new memory and a bounded pool of
related ones (confidence >= 0.75). Without one, cue phrases ("because", "due to",
"to avoid", ...) split the new memory into cause and effect, and each side is
matched against the pool by word overlap; those edges are marked
``created_by: heuristic`` and weigh less.
"""
from memman.store.model import Edge, Insight

MIN_CAUSAL_OVERLAP = 0.15
MAX_POOL = 10
POOL_BFS_DEPTH = 2
POOL_RECENT = 20
HEURISTIC_WEIGHT = 0.5
HEURISTIC_MIN_OVERLAP = 0.3


def candidate_pool(backend, insight: Insight, related_ids: list[str],
                   exclude: set[str]) -> list[Insight]:
    """Graph neighbours of the related memories plus the newest ones, kept only
    when they share enough content words with the new memory."""
    from memman.rules.causal import overlap
    from memman.rules.stem import content_tokens

    skip = exclude | {insight.id}
    ids = list(dict.fromkeys(related_ids))
    ids += backend.neighbours(ids, POOL_BFS_DEPTH, MAX_POOL) if ids else []
    pool = {i.id: i for i in backend.get_insights([i for i in ids if i not in skip])}
    for other in backend.newest(POOL_RECENT, skip):
        pool.setdefault(other.id, other)
    mine = content_tokens(insight.content)
    scored = []
    for other in pool.values():
        score = overlap(mine, content_tokens(other.content))
        if score >= MIN_CAUSAL_OVERLAP:
            scored.append((score, other))
    scored.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [other for _, other in scored[:MAX_POOL]]


def llm_edges(links) -> list[Edge]:
    return [Edge(link.source_id, link.target_id, "causal", round(link.confidence, 4),
                 {"created_by": "llm", "confidence": round(link.confidence, 4),
                  "rationale": link.rationale, "sub_type": link.sub_type})
            for link in links if link.source_id != link.target_id]


def heuristic_edges(insight: Insight, pool: list[Insight]) -> list[Edge]:
    from memman.rules.causal import find_causal_clauses, overlap
    from memman.rules.stem import content_tokens

    edges: list[Edge] = []
    seen = set()
    for clause in find_causal_clauses(insight.content):
        cause, effect = content_tokens(clause.cause), content_tokens(clause.effect)
        for other in pool:
            if other.id == insight.id:
                continue
            tokens = content_tokens(other.content)
            # The other memory states the cause: it explains the new one.
            if overlap(cause, tokens) >= HEURISTIC_MIN_OVERLAP:
                pair = (other.id, insight.id)
            elif overlap(effect, tokens) >= HEURISTIC_MIN_OVERLAP:
                pair = (insight.id, other.id)
            else:
                continue
            if pair in seen:
                continue
            seen.add(pair)
            edges.append(Edge(pair[0], pair[1], "causal", HEURISTIC_WEIGHT,
                              {"created_by": "heuristic", "cue": clause.cue,
                               "sub_type": clause.sub_type}))
    return edges
