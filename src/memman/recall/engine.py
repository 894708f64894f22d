"""Ranked recall: candidates from several signals, a relevance score for each,
activation spread from the most relevant over the memory graph, and an
intent-specific reading order.

1. Candidates, up to ANCHOR_K per signal: keyword (the backend's keyword index over
   the query's terms: FTS5 BM25 on SQLite, a tsvector rank on Postgres), vector
   (cosine against the query, from ``backend.vector_top``: the HNSW index on
   Postgres, the recall vector file on SQLite) and entity (memories naming the
   query's entities, found by the same rules the worker uses). Only these anchors
   and their graph neighbours are read, so recall does not scan the store.
2. Relevance of each candidate, in [0, 1]: a weighted sum (per intent) of keyword
   match (the larger of its BM25 relative to the best hit and the IDF-weighted share
   of the query's terms it contains, so a word that is in every memory counts for
   little), cosine similarity and entity match.
3. Spreading activation from the SOURCES most relevant candidates over the four edge
   graphs: a neighbour receives the source's relevance x the intent's weight for
   that edge type (intent.EDGE_WEIGHTS) x the edge's weight, keeping the best path
   (a memory never activates itself). DEPTH hops; each hop after the first starts
   from the BEAM most activated memories of the last one and multiplies by DECAY.
   Memories first reached this way get a relevance of their own. This finds what sits
   next to a match: the answer given right after the question that shares the
   query's words, the rest of a work session (temporal edges), a cause (causal edges).
4. Score = relevance + the intent's graph weight x activation, plus a tie-breaker:
   IMPORTANCE_BONUS x effective importance (capped at 1), computed for this moment
   (decay since the last access) by memman.lifecycle.retention. Results are always
   in score order (an ordering that moved the best evidence down would cost the
   reader it); ``meta.order`` gives the same results oldest-first for WHEN and
   cause-before-effect for WHY.
"""
import math

from memman import clock
from memman.lifecycle.retention import effective_importance_of
from memman.recall.intent import EDGE_WEIGHTS, HINTS
from memman.recall.matrix import VectorView  # noqa: F401  (moved; bench/ profiles it here)

ANCHOR_K = 30
VECTOR_MIN_SIM = 0.10
SOURCES = 10
DEPTH = 1
BEAM = 12
DECAY = 0.85
MAX_VISITED = 400

# Score = sum(weight x signal); every signal is in [0, 1]. keyword + similarity +
# entity is the memory's own relevance; graph is what its neighbours lend it.
SCORE_WEIGHTS = {
    "WHY": {"keyword": 0.45, "similarity": 0.45, "entity": 0.10, "graph": 0.40},
    "WHEN": {"keyword": 0.45, "similarity": 0.45, "entity": 0.10, "graph": 0.40},
    "ENTITY": {"keyword": 0.40, "similarity": 0.40, "entity": 0.20, "graph": 0.40},
    "GENERAL": {"keyword": 0.45, "similarity": 0.45, "entity": 0.10, "graph": 0.40},
}
# At most 0.03 against signals weighted 0.40-0.45 each: EI can only reorder memories
# whose relevance is nearly tied, so it cannot push a weaker match over a better one.
IMPORTANCE_BONUS = 0.03


def spread(backend, sources: dict[str, float], intent: str) -> dict[str, float]:
    """Best-path activation each memory receives from the others, from the SOURCES
    strongest of ``sources`` (memory -> relevance)."""
    weights = EDGE_WEIGHTS[intent]
    best: dict[str, float] = {}
    # frontier: memory -> (activation, the source it came from)
    frontier = {i: (v, i) for i, v in sorted(sources.items(), key=lambda kv: -kv[1])[:SOURCES]
                if v > 0}
    visited = set(frontier)
    for hop in range(DEPTH):
        if not frontier or len(visited) >= MAX_VISITED:
            break
        reached: dict[str, tuple[float, str]] = {}
        for src, dst, edge_type, weight in backend.edges_from(list(frontier)):
            value, origin = frontier[src]
            if dst == origin:
                continue
            value *= weights.get(edge_type, 0.0) * min(weight, 1.0) * DECAY ** hop
            if value > best.get(dst, 0.0) and value > reached.get(dst, (0.0, ""))[0]:
                reached[dst] = (value, origin)
        for dst, (value, _) in reached.items():
            best[dst] = value
        visited |= set(reached)
        frontier = dict(sorted(reached.items(), key=lambda kv: -kv[1][0])[:BEAM])
    return best


def term_weights(backend, terms: list[str]) -> dict[str, float]:
    """IDF of each query term in [0, 1]: 1 for a term no memory has, ~0 for one in
    every memory."""
    n = backend.count_active()
    if n < 2:
        return {t: 1.0 for t in terms}
    return {t: math.log((n + 1) / (backend.term_doc_count(t) + 1)) / math.log(n + 1)
            for t in terms}


def keyword_coverage(terms: list[str], insight, idf: dict[str, float] | None = None) -> float:
    """The (IDF-weighted) share of the query's terms found in the memory."""
    if not terms:
        return 0.0
    from memman.rules.stem import stem
    from memman.textutil import words

    have = {stem(w) for w in words(insight.content + " " + " ".join(insight.entities or []))}
    weight = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
    total = sum(weight(t) for t in terms)
    if total <= 0:
        return 0.0
    return sum(weight(t) for t in terms if stem(t) in have) / total


def entity_match(entities: list[str], insight) -> float:
    if not entities:
        return 0.0
    mine = {e.lower() for e in insight.entities or []}
    text = insight.content.lower()
    hits = sum(1 for e in entities if e.lower() in mine or e.lower() in text)
    return hits / len(entities)


def run(backend, store_dir, settings, cache_dir, query: str, *, limit: int = 10,
        category=None, source=None, intent: str | None = None, expand: bool = False) -> dict:
    from memman.recall import intent as intents
    from memman.recall.query_vector import query_vector
    from memman.rules.entities import query_entities
    from memman.textutil import query_terms

    intent_source = "flag" if intent else "detected"
    intent = (intent or intents.detect(query)).upper()
    terms = query_terms(query)
    entities = query_entities(query)
    meta: dict = {"intent": intent, "intent_source": intent_source}
    if expand:
        terms, entities, intent, meta = _expand(query, terms, entities, intent, settings, meta)

    fingerprint = _fingerprint(backend)
    qvec, degraded = query_vector(query, fingerprint, settings, cache_dir)
    if degraded:
        meta["degraded"] = degraded
    # The backend answers vector queries (HNSW index on Postgres, the recall vector
    # file plus newer rows on SQLite); ``store_dir`` is kept for callers.
    qblob = qvec.astype("<f4").tobytes() if qvec is not None else None
    meta["vector_source"] = backend.vector_source(qblob) if qblob else "none"

    flt = {"category": category, "source": source}
    keyword = backend.recall_keyword(terms, ANCHOR_K, **flt)
    vector = (backend.vector_top(qblob, ANCHOR_K, min_sim=VECTOR_MIN_SIM, **flt)
              if qblob else [])
    entity = backend.recall_entity(entities, ANCHOR_K, **flt)
    via = _via(keyword, vector, entity)
    meta["anchor_count"] = len(via)

    idf = term_weights(backend, terms) if keyword else None
    bm25 = dict(keyword)
    top_bm25 = max(bm25.values(), default=0.0) or 1.0
    weights = SCORE_WEIGHTS[intent]
    rows: dict = {}
    signals: dict[str, dict[str, float]] = {}
    relevance: dict[str, float] = {}

    def score_own(insight_ids):
        found = {i.id: i for i in backend.get_insights(insight_ids)
                 if (not category or i.category == category)
                 and (not source or i.source == source)}
        sims = backend.vector_similarity(qblob, list(found)) if qblob else {}
        for insight_id, insight in found.items():
            own = {
                "keyword": round(max(keyword_coverage(terms, insight, idf),
                                     bm25.get(insight_id, 0.0) / top_bm25), 4),
                "entity": round(entity_match(entities, insight), 4),
                "similarity": round(max(sims.get(insight_id, 0.0), 0.0), 4),
            }
            signals[insight_id] = own
            relevance[insight_id] = sum(weights[name] * value for name, value in own.items())
        rows.update(found)

    score_own(list(via))
    activation = spread(backend, relevance, intent)
    score_own([i for i in activation if i not in rows])
    meta["traversed"] = len(rows)

    scored = []
    degrees = backend.degrees_of(list(rows))
    now = clock.now()
    for insight_id, insight in rows.items():
        graph = round(activation.get(insight_id, 0.0), 4)
        signals[insight_id]["graph"] = graph
        ei = effective_importance_of(insight, degrees.get(insight_id, 0), now)
        score = (relevance[insight_id] + weights["graph"] * graph
                 + IMPORTANCE_BONUS * min(ei, 1.0))
        scored.append((score, insight.importance, insight_id))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    results = []
    for score, _, insight_id in scored[:limit]:
        results.append({"insight": rows[insight_id].to_dict(), "score": round(score, 4),
                        "intent": intent, "signals": signals[insight_id],
                        "via": via.get(insight_id, "graph")})
    meta.update({
        "hint": HINTS[intent], "ordering": "score", "reranked": False,
        "order": _reading_order(backend, intent, [r["insight"] for r in results]),
    })
    if len(results) < max(1, limit // 2):
        meta["sparse"] = True
    return {"results": results, "meta": meta}


def _fingerprint(backend):
    import json

    text = backend.get_meta("embed_fingerprint")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _via(keyword, vector, entity) -> dict[str, str]:
    """Candidate -> the anchor list that found it ("hybrid" for several)."""
    sources: dict[str, set] = {}
    for name, items in (("keyword", keyword), ("vector", vector), ("entity", entity)):
        for insight_id, _ in items:
            sources.setdefault(insight_id, set()).add(name)
    return {i: (next(iter(s)) if len(s) == 1 else "hybrid") for i, s in sources.items()}


def _reading_order(backend, intent: str, insights: list[dict]) -> list[str]:
    """The shown results in the order a reader should take them."""
    ids = [i["id"] for i in insights]
    if intent == "WHEN":
        return [i["id"] for i in sorted(insights, key=lambda i: (i["created_at"], i["id"]))]
    if intent != "WHY" or len(ids) < 2:
        return ids
    inside = set(ids)
    edges = [(s, t) for s, t, kind, _ in backend.edges_from(ids)
             if kind == "causal" and t in inside]
    incoming = {i: 0 for i in ids}
    for _, t in edges:
        incoming[t] += 1
    order, ready = [], [i for i in ids if incoming[i] == 0]
    while ready:
        node = ready.pop(0)
        order.append(node)
        for s, t in edges:
            if s == node:
                incoming[t] -= 1
                if incoming[t] == 0:
                    ready.append(t)
    return order + [i for i in ids if i not in order]


def _expand(query, terms, entities, intent, settings, meta):
    from memman.llm.client import from_settings
    from memman.llm.tasks import expand_query

    client = from_settings(settings)
    if client is None:
        meta["expanded"] = False
        return terms, entities, intent, meta
    from memman.textutil import query_terms

    try:
        expansion = expand_query(client, query)
    finally:
        client.close()
    meta["expanded"] = True
    terms = list(dict.fromkeys(terms + query_terms(" ".join(
        [expansion.expanded_query, *expansion.keywords]))))
    entities = list(dict.fromkeys(entities + list(expansion.entities)))
    if meta["intent_source"] != "flag" and expansion.intent:
        intent = expansion.intent
        meta["intent"], meta["intent_source"] = intent, "llm"
    return terms, entities, intent, meta
