"""The store-dependent half of processing a row, run in queue order.

For each prepared fact: candidates (keyword + vector), a decision (ADD / UPDATE /
DELETE / NONE; REPLACE for replace rows), causal links; then everything is written
in one store transaction by ``apply``. Network calls all happen before that
transaction, so a failure leaves the store untouched and the row is retried.
"""
from dataclasses import dataclass, field

from memman.worker.prepare import Enrichment, Prepared, merge_entities

KEYWORD_CANDIDATES = 5
VECTOR_CANDIDATES = 10
MAX_CANDIDATES = 10
SIMILARITY_CANDIDATE_MIN = 0.5
# Zero-config reconciliation: a fact is a duplicate of an existing memory when the two
# are this similar AND the fact adds no word (or number) the memory lacks; "port 9090"
# after "port 8080" is new information, not a duplicate.
HEURISTIC_DUPLICATE_SIM = 0.85


@dataclass
class Decision:
    action: str  # ADD, UPDATE, DELETE, NONE, REPLACE
    target_id: str | None = None
    merged_text: str | None = None
    reason: str = ""


@dataclass
class Plan:
    prepared: Prepared
    decisions: list[Decision] = field(default_factory=list)
    causal: list[list] = field(default_factory=list)  # per fact: Edge list (or LLM links)
    llm_calls: int = 0
    pending: tuple | None = None  # (swap target, its vectors per fact) during an embed swap


def candidates(ctx, text: str, vector, exclude: set[str]) -> list[str]:
    from memman.textutil import query_terms

    ids: list[str] = []
    for other, _ in ctx.backend.keyword_candidates(query_terms(text)[:12], KEYWORD_CANDIDATES,
                                                   exclude):
        ids.append(other)
    for other, _ in ctx.index.search(vector, VECTOR_CANDIDATES,
                                     min_sim=SIMILARITY_CANDIDATE_MIN, exclude=exclude):
        if other not in ids:
            ids.append(other)
    return ids[:MAX_CANDIDATES]


def heuristic_enrichment(ctx, text: str, entities: list[str]) -> Enrichment:
    from memman.rules.entities import extract_entities
    from memman.rules.keywords import keywords

    from memman.intake.redact import strip_markers

    plain = strip_markers(text)
    n_docs = ctx.backend.count_active()
    return Enrichment(
        keywords=keywords(plain, doc_freq=ctx.backend.term_doc_count, n_docs=n_docs),
        entities=merge_entities(entities, extract_entities(plain)),
    )


def plan_row(ctx, prepared: Prepared, executor) -> Plan:
    from memman.embed.registry import embed_text
    from memman.embed.swap import worker_pending

    plan = Plan(prepared)
    facts, hints = prepared.facts, prepared.hints
    if not facts:
        return plan
    ctx.follow_swap()
    if not prepared.enrichments:  # zero-config: enrich and embed here
        prepared.enrichments = [heuristic_enrichment(ctx, f.text, f.entities) for f in facts]
        prepared.vectors = []
    texts = [embed_text(f.text, e.keywords)
             for f, e in zip(facts, prepared.enrichments, strict=True)]
    # Re-embed when the vectors may be the old embedder's: an embed swap cut over
    # since this context opened (rows are prepared ahead with the embedder of then).
    if not prepared.vectors or ctx.swapped:
        prepared.vectors = list(ctx.embedder.embed(texts))
    plan.pending = worker_pending(ctx, texts)  # the swap target's vectors, if one runs
    jobs = _start_causal(ctx, prepared, executor, plan)  # overlaps reconciliation
    if hints["replaced_id"]:
        target = ctx.backend.get_insight(hints["replaced_id"])
        # A target forgotten while the replacement waited in the queue: store it new.
        plan.decisions = [Decision("REPLACE", target.id) if target else
                          Decision("ADD", reason="replace target no longer exists")]
    elif hints["no_reconcile"]:
        plan.decisions = [Decision("ADD", reason="reconciliation off") for _ in facts]
    else:
        plan.decisions = _reconcile(ctx, prepared, executor, plan)
    plan.causal = [(kind, job.result() if hasattr(job, "result") else job)
                   for kind, job in jobs]
    return plan


def _reconcile(ctx, prepared, executor, plan) -> list[Decision]:
    pools = [candidates(ctx, f.text, v, set())
             for f, v in zip(prepared.facts, prepared.vectors, strict=True)]
    all_ids = list(dict.fromkeys(i for pool in pools for i in pool))
    if not all_ids:
        return [Decision("ADD", reason="nothing similar stored") for _ in prepared.facts]
    if ctx.llm is None:
        return [_heuristic_decision(ctx, f.text, v)
                for f, v in zip(prepared.facts, prepared.vectors, strict=True)]
    from memman.llm import tasks

    rows = {i.id: i for i in ctx.backend.get_insights(all_ids)}
    cands = [{"id": i, "content": rows[i].content, "created_at": rows[i].created_at}
             for i in all_ids if i in rows]
    facts = [_llm_fact(f) for f in prepared.facts]
    plan.llm_calls += 1
    return [Decision(d.action, d.target_id, d.merged_text, d.reason)
            for d in tasks.reconcile(ctx.llm, facts, cands)]


def _llm_fact(fact):
    from memman.llm.tasks import Fact as LLMFact

    return LLMFact(fact.text, fact.category, fact.importance, fact.entities)


def _tokens(text: str) -> set[str]:
    from memman.rules.stem import stem
    from memman.textutil import STOPWORDS, words

    return {stem(w) for w in words(text) if w not in STOPWORDS}


def _heuristic_decision(ctx, text: str, vector) -> Decision:
    close = ctx.index.search(vector, 3, min_sim=HEURISTIC_DUPLICATE_SIM)
    if close:
        mine = _tokens(text)
        for other in ctx.backend.get_insights([i for i, _ in close]):
            if mine <= _tokens(other.content):
                return Decision("NONE", other.id, reason=f"already captured by {other.id}")
    return Decision("ADD", reason="no near-duplicate")


def _start_causal(ctx, prepared, executor, plan) -> list[tuple]:
    """Per fact: ("heuristic", pool) or ("llm", future of CausalLinks | [])."""
    from memman.graph import causal
    from memman.store.model import Insight

    jobs = []
    for fact, vector in zip(prepared.facts, prepared.vectors, strict=True):
        related = [i for i, _ in ctx.index.search(vector, 5, min_sim=0.3)]
        probe = Insight(id="new", content=fact.text)
        pool = causal.candidate_pool(ctx.backend, probe, related, set())
        if ctx.llm is None:
            jobs.append(("heuristic", pool))
        elif not pool:
            jobs.append(("llm", []))
        else:
            from memman.llm import tasks

            items = [{"id": p.id, "content": p.content} for p in pool]
            jobs.append(("llm", executor.submit(tasks.infer_causal, ctx.llm,
                                                {"id": "new", "content": fact.text}, items)))
            plan.llm_calls += 1
    return jobs
