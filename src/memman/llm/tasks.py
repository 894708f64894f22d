"""The jobs memman gives the model, as pure functions over an ``LLMClient``.

Each task sends one of our prompts, then validates and normalises whatever JSON came
back: wrong types, out-of-range numbers, unknown labels, extra items and blank
strings are repaired or dropped, so callers only ever see well-formed dataclasses.

Failures: ``extract_facts``, ``reconcile``, ``enrich`` and ``infer_causal`` raise
``LLMError`` when the model cannot be reached or answers with no JSON object; the
worker decides whether to retry the row later or degrade (memman 0.16 silently
stored passthrough text and duplicated memories during outages). ``expand_query``
never raises: recall falls back to the plain query.

Roles: extraction and reconciliation use ``slow_canonical``; enrichment and causal
links ``slow_metadata``; query expansion ``fast``.
"""
import re
from dataclasses import dataclass, field

from memman.constants import (
    CATEGORIES, DEFAULT_CATEGORY, DEFAULT_IMPORTANCE, INTENTS, MAX_CONTENT_BYTES,
    MAX_ENTITIES, MAX_ENTITY_CHARS,
)
from memman.llm import prompts
from memman.llm.client import LLMError

__all__ = [
    "Fact", "Extraction", "Decision", "Enrichment", "CausalLink", "Expansion",
    "extract_facts", "reconcile", "enrich", "infer_causal", "expand_query",
    "ACTIONS", "CAUSAL_SUB_TYPES",
]

SLOW_MAX_TOKENS = 4096
FAST_MAX_TOKENS = 1024
MAX_FACTS = 5
MAX_KEYWORDS = 12
MAX_ENRICH_ENTITIES = 20
MAX_SEMANTIC_FACTS = 5
SUMMARY_RATIO = 0.85
CAUSAL_CONFIDENCE_FLOOR = 0.75
MAX_EXPANSION_WORDS = 60
MAX_EXPANSION_KEYWORDS = 12
MAX_EXPANSION_ENTITIES = 12
MAX_REASON_CHARS = 300
ACTIONS = ("ADD", "UPDATE", "DELETE", "NONE")
CAUSAL_SUB_TYPES = ("causes", "enables", "prevents")


# -- result types --------------------------------------------------------------------


@dataclass
class Fact:
    text: str
    category: str = DEFAULT_CATEGORY
    importance: int = DEFAULT_IMPORTANCE
    entities: list[str] = field(default_factory=list)


@dataclass
class Extraction:
    facts: list[Fact]
    skip_reason: str | None = None


@dataclass
class Decision:
    fact_index: int
    action: str  # ADD | UPDATE | DELETE | NONE
    target_id: str | None = None
    merged_text: str | None = None
    reason: str = ""


@dataclass
class Enrichment:
    keywords: list[str] = field(default_factory=list)
    summary: str | None = None
    semantic_facts: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)


@dataclass
class CausalLink:
    source_id: str  # the cause
    target_id: str  # the effect
    sub_type: str  # causes | enables | prevents
    confidence: float
    rationale: str = ""


@dataclass
class Expansion:
    expanded_query: str
    keywords: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    intent: str | None = None


# -- small normalisers ---------------------------------------------------------------


def _text(value) -> str | None:
    """A stripped non-empty string, or None (numbers are not text)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _strings(value, *, limit: int, max_chars: int = MAX_ENTITY_CHARS) -> list[str]:
    """A list of distinct (case-insensitively) non-empty strings.

    Accepts a list (non-strings dropped) or one comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        text = _text(item)
        if text is None:
            continue
        text = " ".join(text.split())
        if len(text) > max_chars:
            continue
        folded = text.casefold()
        if folded in seen:
            continue
        seen.add(folded)
        out.append(text)
        if len(out) >= limit:
            break
    return out


def _merge_strings(*lists: list[str], limit: int) -> list[str]:
    return _strings([s for lst in lists for s in lst], limit=limit)


def _int_like(value) -> int | None:
    """An int from 3, 3.0 or "3"; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
            return int(float(text))
    return None


def _float_like(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _fits(text: str) -> bool:
    return len(text.encode("utf-8")) <= MAX_CONTENT_BYTES


def _reason(value) -> str:
    text = _text(value) or ""
    text = " ".join(text.split())
    return text[:MAX_REASON_CHARS]


# file:line references and "line N" mentions the prompt asks the model to drop; a
# model that keeps them anyway gets them removed here (only after known source
# extensions, so "example.com:8080" keeps its port).
_CODE_EXT = (
    r"py|pyi|js|jsx|mjs|cjs|ts|tsx|go|rs|java|kt|kts|rb|php|c|h|cc|cpp|cxx|hpp|hh|cs|"
    r"swift|m|mm|scala|sh|bash|zsh|sql|ya?ml|toml|json|md|rst|txt|html?|css|scss|vue|"
    r"svelte|ex|exs|erl|lua|dart|r|jl|tf|ini|cfg|proto|gradle"
)
_FILE_LINE = re.compile(
    rf"(\b[\w./-]+\.(?:{_CODE_EXT})):\d+(?:[:-]\d+)?(?![\w.])", re.IGNORECASE
)
_LINE_REF = re.compile(
    r"\s*\((?:at |on )?lines? \d+(?:\s*[-–]\s*\d+)?\)"
    r"|,?\s+(?:at|on|near) lines? \d+(?:\s*[-–]\s*\d+)?(?=[.;!?]?\s*$|[.;!?]\s)",
    re.IGNORECASE,
)


def _strip_line_refs(text: str) -> str:
    text = _FILE_LINE.sub(r"\1", text)
    text = _LINE_REF.sub("", text)
    return " ".join(text.split())


# -- extraction ----------------------------------------------------------------------


def _hint_category(hints: dict) -> str | None:
    value = hints.get("category")
    return value if value in CATEGORIES else None


def _hint_importance(hints: dict) -> int | None:
    value = _int_like(hints.get("importance"))
    return value if value is not None and 1 <= value <= 5 else None


def _hint_entities(hints: dict) -> list[str]:
    return _strings(hints.get("entities") or [], limit=MAX_ENTITIES)


def _raw_facts(data: dict) -> list:
    facts = data.get("facts")
    if facts is None:
        facts = data.get("items")
    if facts is None and ("text" in data or "fact" in data):
        facts = [data]
    if isinstance(facts, (dict, str)):
        facts = [facts]
    return facts if isinstance(facts, list) else []


def extract_facts(client, text: str, *, hints: dict | None = None) -> Extraction:
    """Durable, atomic facts from one note (``skip_reason`` set when none are).

    Explicit hints win: a valid ``category`` replaces the model's; an ``importance``
    of 1..5 is used exactly (the model's is clamped to 2..5, 3 when missing);
    ``entities`` come first and the model's are added after them (deduplicated,
    at most 50). At most 5 facts; blank, duplicate and oversized facts are dropped;
    no facts and no skip reason means one fact holding the original text.
    """
    hints = hints or {}
    data = client.complete_json("slow_canonical", prompts.EXTRACTION,
                                prompts.extraction_user(text), max_tokens=SLOW_MAX_TOKENS)
    category_hint = _hint_category(hints)
    importance_hint = _hint_importance(hints)
    entity_hint = _hint_entities(hints)

    facts: list[Fact] = []
    seen: set[str] = set()
    for raw in _raw_facts(data):
        if isinstance(raw, str):
            raw = {"text": raw}
        if not isinstance(raw, dict):
            continue
        body = _text(raw.get("text")) or _text(raw.get("fact"))
        if body is None:
            continue
        body = _strip_line_refs(body)
        folded = body.casefold()
        if not body or folded in seen or not _fits(body):
            continue
        seen.add(folded)
        category = raw.get("category")
        category = category.strip().lower() if isinstance(category, str) else None
        if category_hint:
            category = category_hint
        elif category not in CATEGORIES:
            category = DEFAULT_CATEGORY
        if importance_hint is not None:
            importance = importance_hint
        else:
            model_imp = _int_like(raw.get("importance"))
            if model_imp is None:
                importance = DEFAULT_IMPORTANCE
            else:
                importance = min(5, max(2, model_imp))
        entities = _merge_strings(entity_hint, _strings(raw.get("entities"), limit=MAX_ENTITIES),
                                  limit=MAX_ENTITIES)
        facts.append(Fact(body, category, importance, entities))
        if len(facts) >= MAX_FACTS:
            break

    if facts:
        return Extraction(facts, None)
    skip_reason = _reason(data.get("skip_reason"))
    if skip_reason:
        return Extraction([], skip_reason)
    # Nothing usable and no reason to skip: keep the note as it was written.
    return Extraction([Fact(
        text,
        category_hint or DEFAULT_CATEGORY,
        importance_hint if importance_hint is not None else DEFAULT_IMPORTANCE,
        entity_hint,
    )], None)


# -- reconciliation ------------------------------------------------------------------


def _index(value, count: int, ids: list[str]) -> int | None:
    """A candidate position from 2, "2", "[2]", 2.0 or the candidate's own id."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped in ids:
            return ids.index(stripped)
        stripped = stripped.strip("[]#() ")
        value = stripped
    number = _int_like(value)
    if number is None or not 0 <= number < count:
        return None
    return number


def _fact_position(value, count: int) -> int | None:
    if isinstance(value, str):
        value = value.strip().lstrip("Ff").strip("[]#() ")
    number = _int_like(value)
    return number if number is not None and 0 <= number < count else None


def reconcile(client, facts: list[Fact], candidates: list[dict]) -> list[Decision]:
    """One decision per fact, in fact order, against ``candidates`` ({id, content,
    created_at}).

    ADD stores the fact; UPDATE replaces ``target_id`` with ``merged_text``; DELETE
    removes ``target_id`` (contradicted) and stores the fact; NONE stores nothing
    (``target_id`` already says it). Repairs: unknown actions, missing or
    out-of-range targets -> ADD; UPDATE without merged text -> the fact's text; a
    target already claimed by an earlier UPDATE/DELETE -> ADD; facts the model left
    out -> ADD. No candidates -> all ADD without a model call.
    """
    if not facts:
        return []
    if not candidates:
        return [Decision(i, "ADD", reason="no similar memories") for i in range(len(facts))]
    ids = [str(c.get("id")) for c in candidates]
    data = client.complete_json(
        "slow_canonical", prompts.RECONCILIATION,
        prompts.reconciliation_user(
            [f.text for f in facts],
            [(str(c.get("created_at") or ""), str(c.get("content") or "")) for c in candidates],
        ),
        max_tokens=SLOW_MAX_TOKENS,
    )
    raw_list = data.get("decisions")
    if raw_list is None:
        raw_list = data.get("actions", data.get("items"))
    if not isinstance(raw_list, list):
        raw_list = []
    raw_list = [r for r in raw_list if isinstance(r, dict)]

    # Which fact each raw decision is about: its "fact" field, else its position
    # (only when no entry names a fact at all).
    named = any("fact" in r or "fact_index" in r for r in raw_list)
    by_fact: dict[int, dict] = {}
    for pos, raw in enumerate(raw_list):
        if named:
            fi = _fact_position(raw.get("fact", raw.get("fact_index")), len(facts))
        else:
            fi = pos if pos < len(facts) else None
        if fi is not None and fi not in by_fact:
            by_fact[fi] = raw

    decisions: list[Decision] = []
    claimed: set[int] = set()
    for fi, fact in enumerate(facts):
        raw = by_fact.get(fi)
        if raw is None:
            decisions.append(Decision(fi, "ADD", reason="no decision from the model"))
            continue
        decisions.append(_decision(fi, fact, raw, ids, claimed))
    return decisions


def _decision(fi: int, fact: Fact, raw: dict, ids: list[str], claimed: set[int]) -> Decision:
    action = raw.get("action")
    action = action.strip().upper() if isinstance(action, str) else ""
    reason = _reason(raw.get("reason"))
    if action not in ACTIONS:
        return Decision(fi, "ADD", reason=f"unknown action {action!r}" if action else reason)
    if action == "ADD":
        return Decision(fi, "ADD", reason=reason)
    target_raw = raw.get("target", raw.get("target_id", raw.get("target_index")))
    target = _index(target_raw, len(ids), ids)
    if target is None:
        return Decision(fi, "ADD", reason=f"{action} without a valid target; added")
    if action == "NONE":
        return Decision(fi, "NONE", ids[target], None, reason or "already captured")
    if target in claimed:
        return Decision(fi, "ADD", reason=f"{action} target already used; added")
    if action == "DELETE":
        claimed.add(target)
        return Decision(fi, "DELETE", ids[target], None, reason)
    merged = _text(raw.get("merged_text"))
    if merged is None:
        merged = fact.text
    merged = " ".join(merged.split())
    if not _fits(merged):
        return Decision(fi, "ADD", reason="merged text too long; added")
    claimed.add(target)
    return Decision(fi, "UPDATE", ids[target], merged, reason)


# -- enrichment ----------------------------------------------------------------------


def enrich(client, content: str) -> Enrichment:
    """Search keywords (<= 12), a short summary (only if < 0.85 x the content's
    length), implied statements (<= 5) and entities (<= 20, deduplicated)."""
    data = client.complete_json("slow_metadata", prompts.ENRICHMENT,
                                prompts.enrichment_user(content), max_tokens=SLOW_MAX_TOKENS)
    keywords = _strings(data.get("keywords"), limit=MAX_KEYWORDS, max_chars=60)
    entities = _strings(data.get("entities"), limit=MAX_ENRICH_ENTITIES)
    summary = _text(data.get("summary"))
    if summary is not None:
        summary = " ".join(summary.split())
        if len(summary) >= SUMMARY_RATIO * len(content or ""):
            summary = None
    semantic = [" ".join(s.split()) for s in _strings(
        data.get("semantic_facts"), limit=MAX_SEMANTIC_FACTS, max_chars=500)]
    content_folded = " ".join((content or "").split()).casefold()
    semantic = [s for s in semantic if s.casefold() != content_folded]
    return Enrichment(keywords, summary, semantic, entities)


# -- causal links --------------------------------------------------------------------


def infer_causal(client, new: dict, pool: list[dict]) -> list[CausalLink]:
    """Causal links between ``new`` and members of ``pool`` (dicts with id, content).

    Kept: exactly one end is the new memory, the other a pool member (not the new
    memory itself), confidence in [0.75, 1], sub_type causes|enables|prevents
    (anything else -> causes). One link per pair (the most confident). Empty pool ->
    [] without a model call."""
    new_id = str(new.get("id"))
    members = [m for m in pool if str(m.get("id")) != new_id]
    if not members:
        return []
    ids = [str(m.get("id")) for m in members]
    data = client.complete_json(
        "slow_metadata", prompts.CAUSAL,
        prompts.causal_user(str(new.get("content") or ""),
                            [str(m.get("content") or "") for m in members]),
        max_tokens=SLOW_MAX_TOKENS,
    )
    raw_links = data.get("links", data.get("items"))
    if not isinstance(raw_links, list):
        return []
    best: dict[str, CausalLink] = {}
    for raw in raw_links:
        if not isinstance(raw, dict):
            continue
        cause = _endpoint(raw.get("cause", raw.get("source")), ids, new_id)
        effect = _endpoint(raw.get("effect", raw.get("target")), ids, new_id)
        if cause is None or effect is None or cause == effect:
            continue
        if new_id not in (cause, effect):
            continue  # links between two old memories are not this call's business
        confidence = _float_like(raw.get("confidence"))
        if confidence is None or not CAUSAL_CONFIDENCE_FLOOR <= confidence <= 1.0:
            continue
        sub_type = raw.get("sub_type", raw.get("type"))
        sub_type = sub_type.strip().lower() if isinstance(sub_type, str) else ""
        if sub_type not in CAUSAL_SUB_TYPES:
            sub_type = "causes"
        link = CausalLink(cause, effect, sub_type, round(confidence, 4),
                          _reason(raw.get("rationale")))
        other = effect if cause == new_id else cause
        if other not in best or best[other].confidence < link.confidence:
            best[other] = link
    return list(best.values())


def _endpoint(value, ids: list[str], new_id: str) -> str | None:
    if isinstance(value, str) and value.strip().lower() in ("new", "n", "new memory"):
        return new_id
    if isinstance(value, str) and value.strip() == new_id:
        return new_id
    index = _index(value, len(ids), ids)
    return ids[index] if index is not None else None


# -- query expansion -----------------------------------------------------------------


def expand_query(client, query: str) -> Expansion:
    """A fuller search phrase, keywords, entities and intent; the plain query
    (``Expansion(query, [], [], None)``) whenever the model fails. Retries at most
    once: a person is waiting."""
    passthrough = Expansion(query, [], [], None)
    if client is None or not (query or "").strip():
        return passthrough
    try:
        data = client.complete_json("fast", prompts.EXPANSION, prompts.expansion_user(query),
                                    max_tokens=FAST_MAX_TOKENS, retries=1)
    except LLMError:
        return passthrough
    expanded = _text(data.get("expanded_query"))
    if expanded is None:
        expanded = query
    else:
        words = expanded.split()
        expanded = " ".join(words[:MAX_EXPANSION_WORDS])
    intent = data.get("intent")
    intent = intent.strip().upper() if isinstance(intent, str) else None
    if intent not in INTENTS:
        intent = None
    return Expansion(
        expanded,
        _strings(data.get("keywords"), limit=MAX_EXPANSION_KEYWORDS, max_chars=60),
        _strings(data.get("entities"), limit=MAX_EXPANSION_ENTITIES),
        intent,
    )
