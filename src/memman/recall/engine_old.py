"""Ranked recall: anchors fused by RRF, a graph walk weighted by intent, a
multi-signal score, and an intent-specific reading order.

1. Anchors, up to ANCHOR_K per signal: keyword (FTS5 BM25), vector (cosine against
   the query), entity (memories naming the query's entities, found by the same rules
   the worker uses) and, for WHEN questions, recency. Fused by reciprocal rank
   (k = 60), each list weighted by intent.
2. Spreading activation from the anchors over the four edge graphs: a neighbour
   receives its parent's activation x edge weight x the intent's weight for that
   edge type x DECAY, keeping the best path; a beam bounds the work per hop.
3. Every memory reached is scored: keyword coverage, entity match, cosine
   similarity, graph activation and the fused anchor score, with a small bonus for
   effective importance. Results are always in score order (an ordering that moved
   the best evidence down would cost the reader it); ``meta.order`` gives the same
   results oldest-first for WHEN and cause-before-effect for WHY.
"""
from memman.recall.intent import EDGE_WEIGHTS, HINTS

ANCHOR_K = 30
RRF_K = 60
VECTOR_MIN_SIM = 0.10
DECAY = 0.85
BEAM = 12
DEPTH = 3
MAX_VISITED = 400

# Weight of each anchor list in RRF, per intent.
LIST_WEIGHTS = {
    "WHY": {"keyword": 1.0, "vector": 1.0, "entity": 0.6, "recent": 0.0},
    "WHEN": {"keyword": 1.0, "vector": 1.0, "entity": 0.6, "recent": 0.3},
    "ENTITY": {"keyword": 1.0, "vector": 0.9, "entity": 1.0, "recent": 0.0},
    "GENERAL": {"keyword": 1.0, "vector": 1.0, "entity": 0.6, "recent": 0.0},
}
# Final score = sum(weight x signal); every signal is in [0, 1].
SCORE_WEIGHTS = {
    "WHY": {"rrf": 0.35, "keyword": 0.20, "entity": 0.10, "similarity": 0.20, "graph": 0.15},
    "WHEN": {"rrf": 0.35, "keyword": 0.20, "entity": 0.10, "similarity": 0.20, "graph": 0.15},
    "ENTITY": {"rrf": 0.30, "keyword": 0.15, "entity": 0.25, "similarity": 0.20, "graph": 0.10},
    "GENERAL": {"rrf": 0.35, "keyword": 0.20, "entity": 0.10, "similarity": 0.25, "graph": 0.10},
}
IMPORTANCE_BONUS = 0.03


class VectorView:
    """Query similarities for a store: the precomputed file plus anything newer."""

    def __init__(self, backend, store_dir, fingerprint, qvec):
        self.qvec = qvec
        self.sims: dict[str, float] = {}   # id -> cosine, for memories known by id
        self.by_seq = None                 # (seqs, sims) arrays from the matrix
        self.source = "none"
        if qvec is None:
            return
        from memman.recall.matrix import Matrix

        import numpy as np

        matrix = Matrix.open(store_dir, fingerprint)
        tail_after, changed = 0, None
        if matrix is not None:
            self.by_seq = (matrix.seqs, matrix.vectors @ qvec)
            tail_after, changed = matrix.max_seq, matrix.header.get("written_at")
            self.source = "matrix"
        else:
            self.source = "store"
        dim = int(fingerprint.get("dim") or 0)
        for _, insight_id, blob in backend.vectors_after(tail_after, changed_since=changed):
            if dim and len(blob) == 4 * dim:
                self.sims[insight_id] = float(np.frombuffer(blob, dtype="<f4") @ qvec)

    def top(self, backend, k: int, *, category=None, source=None) -> list[tuple[str, float]]:
        import numpy as np

        found: list[tuple[str, float]] = []
        if self.by_seq is not None and len(self.by_seq[0]):
            seqs, sims = self.by_seq
            want = min(len(sims), k * (4 if category or source else 2))
            idx = np.argpartition(-sims, want - 1)[:want]
            idx = idx[np.argsort(-sims[idx])]
            idx = [i for i in idx if sims[i] >= VECTOR_MIN_SIM]
            alive = backend.ids_for_seqs([int(seqs[i]) for i in idx], category=category,
                                         source=source)
            for i in idx:
                insight_id = alive.get(int(seqs[i]))
                if insight_id is not None and insight_id not in self.sims:
                    found.append((insight_id, float(sims[i])))
        fresh = sorted(self.sims.items(), key=lambda kv: -kv[1])
        if fresh and (category or source):
            keep = {i.id for i in backend.get_insights([i for i, _ in fresh[:k * 4]])
                    if (not category or i.category == category)
                    and (not source or i.source == source)}
            fresh = [kv for kv in fresh if kv[0] in keep]
        found += [kv for kv in fresh[:k] if kv[1] >= VECTOR_MIN_SIM]
        found.sort(key=lambda kv: -kv[1])
        return found[:k]

    def similarity(self, backend, insight_ids: list[str]) -> dict[str, float]:
        import numpy as np

        out = {i: self.sims[i] for i in insight_ids if i in self.sims}
        missing = [i for i in insight_ids if i not in out]
        if missing and self.by_seq is not None and len(self.by_seq[0]):
            seqs, sims = self.by_seq
            wanted = backend.seqs_for_ids(missing)
            positions = np.searchsorted(seqs, [wanted[i] for i in missing if i in wanted])
            for insight_id, pos in zip([i for i in missing if i in wanted], positions,
                                       strict=True):
                if pos < len(seqs) and seqs[pos] == wanted[insight_id]:
                    out[insight_id] = float(sims[pos])
        return out


def rrf(lists: dict[str, list[str]], weights: dict[str, float]) -> dict[str, float]:
    fused: dict[str, float] = {}
    for name, ids in lists.items():
        w = weights.get(name, 0.0)
        if not w:
            continue
        for rank, insight_id in enumerate(ids):
            fused[insight_id] = fused.get(insight_id, 0.0) + w / (RRF_K + rank + 1)
    return fused


def spread(backend, seeds: dict[str, float], intent: str) -> dict[str, float]:
    """Best-path activation over the graph from ``seeds`` (normalised anchor scores)."""
    weights = EDGE_WEIGHTS[intent]
    best = dict(seeds)
    frontier = dict(sorted(seeds.items(), key=lambda kv: -kv[1])[:BEAM])
    for _ in range(DEPTH):
        if not frontier or len(best) >= MAX_VISITED:
            break
        reached: dict[str, float] = {}
        for src, dst, edge_type, weight in backend.edges_from(list(frontier)):
            value = frontier[src] * weights.get(edge_type, 0.0) * min(weight, 1.0) * DECAY
            if value > best.get(dst, 0.0) and value > reached.get(dst, 0.0):
                reached[dst] = value
        for dst, value in reached.items():
            best[dst] = value
        frontier = dict(sorted(reached.items(), key=lambda kv: -kv[1])[:BEAM])
    return best


def keyword_coverage(terms: list[str], insight) -> float:
    if not terms:
        return 0.0
    from memman.rules.stem import stem
    from memman.textutil import words

    have = {stem(w) for w in words(insight.content + " " + " ".join(insight.entities or []))}
    return sum(1 for t in terms if stem(t) in have) / len(terms)


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
    vectors = VectorView(backend, store_dir, fingerprint, qvec)
    meta["vector_source"] = vectors.source

    flt = {"category": category, "source": source}
    keyword = backend.recall_keyword(terms, ANCHOR_K, **flt)
    vector = vectors.top(backend, ANCHOR_K, **flt)
    entity = backend.recall_entity(entities, ANCHOR_K, **flt)
    recent = (backend.recall_recent(ANCHOR_K, **flt)
              if LIST_WEIGHTS[intent]["recent"] else [])
    fused = rrf({"keyword": [i for i, _ in keyword], "vector": [i for i, _ in vector],
                 "entity": [i for i, _ in entity], "recent": recent}, LIST_WEIGHTS[intent])
    meta["anchor_count"] = len(fused)
    via = _via(keyword, vector, entity, recent)

    top_rrf = max(fused.values(), default=0.0) or 1.0
    seeds = {i: v / top_rrf for i, v in fused.items()}
    activation = spread(backend, seeds, intent)
    meta["traversed"] = len(activation)

    rows = {i.id: i for i in backend.get_insights(list(activation))
            if (not category or i.category == category) and (not source or i.source == source)}
    sims = vectors.similarity(backend, list(rows))
    bm25 = dict(keyword)
    top_bm25 = max(bm25.values(), default=0.0) or 1.0
    graph_only = {i: activation[i] for i in rows if i not in seeds}
    top_graph = max(graph_only.values(), default=0.0) or 1.0
    weights = SCORE_WEIGHTS[intent]
    scored = []
    for insight_id, insight in rows.items():
        signals = {
            "keyword": round(max(keyword_coverage(terms, insight),
                                 bm25.get(insight_id, 0.0) / top_bm25), 4),
            "entity": round(entity_match(entities, insight), 4),
            "similarity": round(max(sims.get(insight_id, 0.0), 0.0), 4),
            "graph": round(graph_only.get(insight_id, 0.0) / top_graph, 4),
        }
        score = (weights["rrf"] * seeds.get(insight_id, 0.0)
                 + sum(weights[name] * value for name, value in signals.items())
                 + IMPORTANCE_BONUS * min(insight.effective_importance, 1.0))
        scored.append((score, insight.importance, insight_id, signals))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    chosen = scored[:limit]
    results = []
    for score, _, insight_id, signals in chosen:
        item = {"insight": rows[insight_id].to_dict(), "score": round(score, 4),
                "intent": intent, "signals": signals,
                "via": via.get(insight_id, "graph")}
        results.append(item)
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


def _via(keyword, vector, entity, recent) -> dict[str, str]:
    sources: dict[str, set] = {}
    for name, items in (("keyword", [i for i, _ in keyword]), ("vector", [i for i, _ in vector]),
                        ("entity", [i for i, _ in entity]), ("time", recent)):
        for insight_id in items:
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
