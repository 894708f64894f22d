"""TF-IDF keywords for a memory, the zero-config stand-in for LLM enrichment keywords.

:func:`keywords` picks the words that best describe a text:

* Candidates are ``\\w+`` words (as :data:`memman.textutil.WORD_RE` sees them),
  lowercased, at least 3 characters, containing a letter, not in
  :data:`memman.textutil.STOPWORDS` nor in a short list of low-content words
  ("also", "use", "need", "via"...).
* Variants of one word are counted together: candidates are grouped by
  :func:`memman.rules.stem.stem` ("deploy", "deploys", "deployed" add up), and
  the group is reported under its most frequent spelling (ties: the one seen
  first).
* Score = tf x idf with idf = ln((n_docs + 1) / (df + 1)) + 1 when a
  ``doc_freq(term) -> int`` is given (the worker passes one backed by the
  store's full-text index; ``n_docs`` is raised to the largest df seen so idf
  never drops below 1). doc_freq is called once per group, for at most
  :data:`MAX_DF_LOOKUPS` groups (those with the highest tf), so a huge text
  costs a bounded number of lookups; groups beyond that are not candidates.
  Without doc_freq the score is tf x (1 + 0.05 x min(length, 12)): longer words
  are usually more specific.
* Identifiers get a x1.5 boost. Entities are *not* merged in as extra terms:
  ``snake_case``, ``CamelCase``, ``mixedCase`` and ``SCREAMING_CASE``
  identifiers are already single ``\\w+`` words (``BillingService`` ->
  ``billingservice``, ``max_retries``), and multi-word names, paths and URLs
  would not be single terms the keyword index can look up; the boost is decided
  from the token's original spelling (an underscore, or a capital after a
  lowercase letter), which is cheaper than running the entity rules.

Ordering is deterministic: score descending, then the term. Stdlib only.
"""
import math
from collections.abc import Callable

from memman.rules.stem import stem
from memman.textutil import STOPWORDS, WORD_RE

__all__ = ["keywords", "MAX_DF_LOOKUPS", "LOW_CONTENT"]

MAX_DF_LOOKUPS = 200
IDENTIFIER_BOOST = 1.5

LOW_CONTENT = frozenset("""
also via like get got gets one two use used uses using make made makes need needs needed
way ways thing things lot lots etc yet still even much many every per well new old good bad
sure okay really always never often sometimes usually already instead maybe please let
lets see seen say said says want wants put puts take takes took keep keeps kept can't
won't didn't doesn't isn't aren't wasn't weren't shouldn't couldn't wouldn't
without within across along around upon onto toward towards whether though although
however unless since though thus therefore hence because else otherwise rather across
among amongst beside besides beyond despite except inside outside near next last first
another either neither something anything everything nothing someone anyone everyone
""".split())


def _is_identifier(word: str) -> bool:
    if "_" in word.strip("_"):
        return True
    return any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))


def keywords(text: str, *, doc_freq: Callable[[str], int] | None = None, n_docs: int = 0,
             limit: int = 8) -> list[str]:
    """The ``limit`` best keywords of ``text``, best first (see the module doc)."""
    if not text or limit <= 0:
        return []
    groups: dict[str, dict] = {}
    for position, raw in enumerate(WORD_RE.findall(text)):
        word = raw.lower()
        if (len(word) < 3 or word in STOPWORDS or word in LOW_CONTENT
                or not any(ch.isalpha() for ch in word)):
            continue
        key = stem(word)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"tf": 0, "forms": {}, "first": position, "ident": False}
        group["tf"] += 1
        forms = group["forms"]
        if word in forms:
            forms[word][0] += 1
        else:
            forms[word] = [1, position]
        if not group["ident"] and _is_identifier(raw):
            group["ident"] = True
    if not groups:
        return []

    def representative(group) -> str:
        return min(group["forms"].items(), key=lambda kv: (-kv[1][0], kv[1][1]))[0]

    ranked = sorted(groups.values(), key=lambda g: (-g["tf"], g["first"]))
    scored: list[tuple[float, str]] = []
    if doc_freq is not None:
        ranked = ranked[:MAX_DF_LOOKUPS]
        terms = [representative(g) for g in ranked]
        dfs = [max(0, int(doc_freq(term))) for term in terms]
        n = max(n_docs, max(dfs, default=0), 0)
        for group, term, df in zip(ranked, terms, dfs, strict=True):
            score = group["tf"] * (math.log((n + 1) / (df + 1)) + 1.0)
            if group["ident"]:
                score *= IDENTIFIER_BOOST
            scored.append((round(score, 9), term))
    else:
        for group in ranked:
            term = representative(group)
            score = group["tf"] * (1.0 + 0.05 * min(len(term), 12))
            if group["ident"]:
                score *= IDENTIFIER_BOOST
            scored.append((round(score, 9), term))
    scored.sort(key=lambda st: (-st[0], st[1]))
    out: list[str] = []
    seen: set[str] = set()
    for _, term in scored:
        if term not in seen:
            seen.add(term)
            out.append(term)
            if len(out) >= limit:
                break
    return out
