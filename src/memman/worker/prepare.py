"""The store-independent half of processing a row, safe to run ahead in threads.

Quality gate and extraction (LLM, or rules in zero-config mode), and with an LLM
also enrichment and the embedding of each fact. Nothing here reads or writes the
store, so several upcoming rows can be prepared while the current one is applied.
"""
from dataclasses import dataclass, field

from memman.constants import DEFAULT_CATEGORY, DEFAULT_IMPORTANCE
from memman.queue.db import hints_of


@dataclass
class Fact:
    text: str
    category: str
    importance: int
    entities: list[str]


@dataclass
class Enrichment:
    keywords: list[str] = field(default_factory=list)
    summary: str | None = None
    semantic_facts: list[str] | None = None
    entities: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    row: dict
    hints: dict
    facts: list[Fact]
    skip_reason: str | None = None
    enrichments: list[Enrichment | None] = field(default_factory=list)
    vectors: list = field(default_factory=list)  # per fact: vector of embed_text, or None
    llm_calls: int = 0


def merge_entities(*lists) -> list[str]:
    out, seen = [], set()
    for items in lists:
        for item in items or []:
            key = item.strip().lower()
            if key and key not in seen:
                seen.add(key)
                out.append(item.strip())
    return out


def _literal_fact(text: str, hints: dict) -> Fact:
    from memman.intake.redact import strip_markers
    from memman.rules.entities import extract_entities

    return Fact(text=text,
                category=hints["category"] or DEFAULT_CATEGORY,
                importance=hints["importance"] or DEFAULT_IMPORTANCE,
                entities=merge_entities(hints["entities"], extract_entities(strip_markers(text))))


def prepare(row, embedder, llm) -> Prepared:
    row = dict(row)
    hints = hints_of(row)
    text = row["content"]
    # --no-reconcile and replace rows are stored as written: no gate, no extraction.
    literal = hints["no_reconcile"] or hints["replaced_id"]
    if llm is None:
        if not literal:
            from memman.rules.gate import gate

            reason = gate(text)
            if reason:
                return Prepared(row, hints, [], skip_reason=reason)
        return Prepared(row, hints, [_literal_fact(text, hints)])
    if literal:
        return _enrich_with_llm(row, hints, [_literal_fact(text, hints)], embedder, llm, 0)
    from memman.llm import tasks

    extraction = tasks.extract_facts(llm, row["content"], hints=hints)
    if not extraction.facts:
        return Prepared(row, hints, [], skip_reason=extraction.skip_reason or "not durable",
                        llm_calls=1)
    facts = [Fact(f.text, f.category, f.importance, merge_entities(f.entities, hints["entities"]))
             for f in extraction.facts]
    return _enrich_with_llm(row, hints, facts, embedder, llm, 1)


def _enrich_with_llm(row, hints, facts, embedder, llm, calls: int) -> Prepared:
    from concurrent.futures import ThreadPoolExecutor

    from memman.embed.registry import embed_text
    from memman.llm import tasks
    from memman.worker.drain import sequential_mode

    with ThreadPoolExecutor(max_workers=1 if sequential_mode() else min(5, len(facts))) as pool:
        raw = list(pool.map(lambda f: tasks.enrich(llm, f.text), facts))
    calls += len(facts)
    enrichments = [Enrichment(e.keywords, e.summary, e.semantic_facts, e.entities) for e in raw]
    vectors = list(embedder.embed([embed_text(f.text, e.keywords)
                                   for f, e in zip(facts, enrichments, strict=True)]))
    return Prepared(row, hints, facts, enrichments=enrichments, vectors=vectors,
                    llm_calls=calls)
