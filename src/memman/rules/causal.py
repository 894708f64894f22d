"""Cue-phrase causality: the zero-config stand-in for the LLM causal judgement.

:data:`CUES` lists the cue phrases and what they imply. A cue is either

* ``backward``: the text *after* the cue is the cause ("X because Y",
  "X due to Y", "X thanks to Y"), or
* ``forward``: the text *before* the cue is the cause ("X so that Y",
  "X to avoid Y", "X, which caused Y", "X led to Y"),

and carries the edge ``sub_type``: ``enables`` for purpose cues ("so that",
"in order to", "thanks to"), ``prevents`` for "to avoid" / "to prevent" /
"prevents", ``causes`` otherwise.

:func:`find_causal_clauses` splits the text into sentences (``. ! ? ;`` and line
breaks), finds the cues in each and cuts the sentence around them:

* mid-sentence, the part between the previous cue (or the sentence start) and
  the cue is one side, the part up to the next cue (or the sentence end) the
  other;
* at the start of a sentence, "Because Y, X" / "Due to Y, X" / "To avoid Y, X" /
  "In order to Y, X" are split at the first comma, and consequence cues
  ("Therefore X", "As a result, X", "That's why X", "This led to X") take the
  previous sentence as the cause;
* "since" is causal only clause-initially (sentence start or after a comma)
  and when a clause follows (a subject pronoun or an auxiliary/modal verb
  before the next comma) that does not open with a time expression:
  "since 2020", "since then", "Since the migration, ..." are temporal; a bare
  ", so" is a consequence cue only after a comma ("so far", "so many" are not);
* a passive effect loses its dangling auxiliary ("The outage was caused by X"
  -> effect "The outage");
* "to avoid" / "to prevent" after "need", "want", "try", "have", "how" ... are
  not purpose clauses ("we need to avoid X" states no cause).

Parts are stripped of surrounding punctuation and dangling conjunctions, and a
clause whose cause or effect has no content word (see
:func:`memman.rules.stem.content_tokens`) is dropped.

:func:`overlap` is |A n B| / max(|A|, |B|) over content-token sets; it accepts
strings (tokenised with :func:`~memman.rules.stem.content_tokens`) or ready token
collections. Stdlib only; patterns are compiled on first use.
"""
import re
from functools import lru_cache
from typing import Iterable, NamedTuple

from memman.rules.stem import content_tokens

__all__ = ["Cue", "CUES", "CausalClause", "find_causal_clauses", "overlap"]


class Cue(NamedTuple):
    phrase: str
    direction: str  # "backward": cause follows the cue; "forward": cause precedes it
    sub_type: str  # "causes" | "enables" | "prevents"


class CausalClause(NamedTuple):
    cue: str
    cause: str
    effect: str
    sub_type: str


CUES: tuple[Cue, ...] = (
    Cue("because of", "backward", "causes"),
    Cue("because", "backward", "causes"),
    Cue("due to", "backward", "causes"),
    Cue("since", "backward", "causes"),
    Cue("caused by", "backward", "causes"),
    Cue("as a result of", "backward", "causes"),
    Cue("thanks to", "backward", "enables"),
    Cue("prevented by", "backward", "prevents"),
    Cue("so that", "forward", "enables"),
    Cue("in order to", "forward", "enables"),
    Cue("to avoid", "forward", "prevents"),
    Cue("to prevent", "forward", "prevents"),
    Cue("prevents", "forward", "prevents"),
    Cue("prevented", "forward", "prevents"),
    Cue("so we", "forward", "causes"),
    Cue("therefore", "forward", "causes"),
    Cue("hence", "forward", "causes"),
    Cue("as a result", "forward", "causes"),
    Cue("which caused", "forward", "causes"),
    Cue("caused", "forward", "causes"),
    Cue("led to", "forward", "causes"),
    Cue("leads to", "forward", "causes"),
    Cue("lead to", "forward", "causes"),
    Cue("results in", "forward", "causes"),
    Cue("resulted in", "forward", "causes"),
    Cue("resulting in", "forward", "causes"),
    Cue("that's why", "forward", "causes"),
    Cue("that is why", "forward", "causes"),
    Cue("which is why", "forward", "causes"),
    Cue("so", "forward", "causes"),
)
"""Cue phrases (longest match wins where several start at the same place)."""

_PURPOSE = frozenset({"so that", "in order to", "to avoid", "to prevent"})
_NOT_PURPOSE_BEFORE = (
    "need", "needs", "needed", "want", "wants", "wanted", "try", "tries", "tried", "trying",
    "have", "has", "had", "how", "able", "going", "must", "should", "helps", "help",
    "order", "ways", "way", "is", "are", "was", "were", "hard", "easy", "best",
)
_TEMPORAL_START = frozenset("""
then last yesterday today ever forever early earlier late later the_beginning morning
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday version release v
""".split())
_CLAUSE_MARKERS = frozenset("""
is are was were has have had does do did can can't cannot could will won't would should
must may might isn't aren't wasn't weren't doesn't don't didn't hasn't haven't needs need
requires require lacks lack uses use supports support only
""".split())
_SUBJECTS = frozenset("we they it you i he she there this that these those".split())
_EDGE_WORDS = frozenset("and but or so then which also thus".split())
# A passive effect ("The outage was caused by X") keeps no dangling auxiliary.
_TRAILING_AUX = frozenset("was were is are be been being got get gets has have had".split())
_STRIP = " \t\r\n.,;:!?-\u2013\u2014()[]{}\"'`\u201c\u201d\u2018\u2019*"


@lru_cache(maxsize=1)
def _patterns():
    alts = []
    for index, cue in sorted(enumerate(CUES), key=lambda ic: -len(ic[1].phrase)):
        words = cue.phrase.split()
        if cue.phrase == "so we":
            body = r"so(?=\s+we\b)"
        elif cue.phrase == "so":
            body = (r"(?<=,\s)so"
                    r"(?!\s+(?:that|far|much|many|long|on|few|little|called|to)\b)(?=\s+\w)")
        elif cue.phrase in ("to avoid", "to prevent"):
            guard = "".join(rf"(?<!\b{w}\s)" for w in _NOT_PURPOSE_BEFORE)
            body = guard + r"\s+".join(words)
        elif cue.phrase == "due to":
            body = r"due\s+to(?!\s+be\b)"
        else:
            body = r"\s+".join(re.escape(w).replace("'", "['\u2019]") for w in words)
        alts.append(rf"(?P<c{index}>{body})")
    cue_rx = re.compile(r"\b(?:" + "|".join(alts) + r")\b", re.IGNORECASE)
    sentence_rx = re.compile(r"[.!?;]+(?=\s|$)|\n+|\r+")
    word_rx = re.compile(r"[\w']+")
    return cue_rx, sentence_rx, word_rx


def _clean(part: str) -> str:
    part = part.strip(_STRIP)
    words = part.split()
    while words and words[0].lower().strip(",") in _EDGE_WORDS:
        words.pop(0)
    while words and words[-1].lower().strip(",") in (_EDGE_WORDS | _TRAILING_AUX):
        words.pop()
    return " ".join(words).strip(_STRIP)


def _since_is_causal(sentence: str, cue_start: int, right: str) -> bool:
    before = sentence[:cue_start].rstrip()
    if before and not before.endswith((",", "(", "\u2014", "-", ":")):
        return False
    word_rx = _patterns()[2]
    clause = right.split(",", 1)[0]
    words = [w.lower() for w in word_rx.findall(clause)]
    if not words or words[0][0].isdigit() or words[0] in _TEMPORAL_START:
        return False
    if words[0] in _SUBJECTS and len(words) > 1:
        return True
    return any(w in _CLAUSE_MARKERS or w.endswith("n't") for w in words[1:])


def _sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _patterns()[1].split(text)) if s]


def find_causal_clauses(text: str) -> list[CausalClause]:
    """Cause/effect pairs stated by cue phrases in ``text``, in text order."""
    if not text:
        return []
    cue_rx = _patterns()[0]
    out: list[CausalClause] = []
    previous = ""
    for sentence in _sentences(text):
        matches = []
        for m in cue_rx.finditer(sentence):
            cue = CUES[int(m.lastgroup[1:])]
            matches.append((m, cue))
        boundary = 0  # where the text belonging to the next cue's left side starts
        for k, (m, cue) in enumerate(matches):
            right_end = matches[k + 1][0].start() if k + 1 < len(matches) else len(sentence)
            left = sentence[boundary:m.start()]
            right = sentence[m.end():right_end]
            boundary = m.end()
            if cue.phrase == "since" and not _since_is_causal(sentence, m.start(), right):
                continue
            if cue.phrase == "so" and (len(right.split()) < 2 or len(left.split()) < 2):
                continue  # "so far, so good"
            initial = k == 0 and not _clean(sentence[:m.start()])
            cause = effect = ""
            if initial and (cue.direction == "backward" or cue.phrase in _PURPOSE):
                head, comma, tail = right.partition(",")
                if not comma:
                    continue
                first, second = head, tail
                boundary = m.end() + len(head) + 1
                if cue.direction == "backward":
                    cause, effect = first, second
                else:
                    effect, cause = first, second
            elif cue.direction == "backward":
                cause, effect = right, left
            else:
                if not content_tokens(_clean(left)):
                    left = previous
                cause, effect = left, right
            cause, effect = _clean(cause), _clean(effect)
            if content_tokens(cause) and content_tokens(effect):
                out.append(CausalClause(cue.phrase, cause, effect, cue.sub_type))
        previous = sentence
    return out


def overlap(a_tokens: Iterable[str] | str, b_tokens: Iterable[str] | str) -> float:
    """|A n B| / max(|A|, |B|); strings are turned into content tokens first."""
    a = content_tokens(a_tokens) if isinstance(a_tokens, str) else set(a_tokens)
    b = content_tokens(b_tokens) if isinstance(b_tokens, str) else set(b_tokens)
    if not a or not b:
        return 0.0
    return len(a & b) / max(len(a), len(b))
