"""A tiny deterministic suffix-stripping stemmer and the content-word tokenizer.

:func:`stem` conflates the inflections and common derivations of a word so that
"deploy", "deploys", "deployed", "deploying" and "deployment" all become
``deploy`` and "service"/"services" both become ``servic``. It is not Porter and
does not try to produce dictionary words: what matters is that the variants of a
word meet on one stem. Steps, each applied at most once and only when the stem
left behind keeps a vowel and a minimum length:

1. plurals: ``-sses`` -> ``-ss``, ``-ies`` -> ``-y``, ``-s`` (not ``-ss``,
   ``-us``, ``-is``) dropped;
2. ``-ied`` -> ``-y``; ``-ed`` / ``-ing`` dropped (not ``-eed``), then a doubled
   final consonant is undoubled (``stopp`` -> ``stop``; l, s, z stay doubled)
   or an ``e`` restored after ``at``/``iz``/``bl`` (``validat`` -> ``validate``);
3. one derivational suffix (``-ization``, ``-ation``, ``-ment``, ``-ness``,
   ``-able``, ``-ate``, ``-ion``, ``-er``, ``-ly``, ...), longest first;
4. a final silent ``e`` dropped (``cache`` -> ``cach``).

Words with digits or underscores (identifiers, versions) are only lowercased.

:func:`content_tokens` is the word set the causal rules compare: lowercase
``\\w+`` words minus :data:`memman.textutil.STOPWORDS` and one-character words,
stemmed. Both run on the recall and worker paths and use only :mod:`re` and
:mod:`functools`.
"""
from functools import lru_cache

from memman.textutil import STOPWORDS, WORD_RE

__all__ = ["stem", "content_tokens"]

_VOWELS = frozenset("aeiouy")

# Step 3: longest first; (suffix, replacement).
_DERIVATIONAL = (
    ("ization", ""), ("isation", ""), ("ability", ""), ("ibility", ""),
    ("ation", ""), ("ition", ""), ("ement", ""), ("ment", ""), ("ness", ""),
    ("ively", ""), ("fully", ""), ("ously", ""), ("ical", ""), ("ally", ""),
    ("able", ""), ("ible", ""), ("less", ""), ("ful", ""), ("ous", ""),
    ("ive", ""), ("ize", ""), ("ise", ""), ("ate", ""), ("ity", ""),
    ("ion", ""), ("er", ""), ("ly", ""),
)


def _has_vowel(s: str) -> bool:
    return any(c in _VOWELS for c in s)


def _after_ed_ing(s: str) -> str:
    """Undo the spelling changes of -ed/-ing: undouble, or restore a silent e."""
    if len(s) >= 3 and s[-1] == s[-2] and s[-1] not in _VOWELS and s[-1] not in "lsz":
        return s[:-1]
    if s.endswith(("at", "iz", "bl")):
        return s + "e"
    return s


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Stem one word (lowercased). Deterministic; identifiers and numbers pass unchanged."""
    w = word.lower()
    if len(w) <= 2 or not w.isalpha():
        return w
    # 1. plurals / third person
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    # 2. past tense and gerunds
    if w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("eed"):
        pass
    elif w.endswith("ed") and len(w) >= 4 and _has_vowel(w[:-2]):
        w = _after_ed_ing(w[:-2])
    elif w.endswith("ing") and len(w) >= 5 and _has_vowel(w[:-3]):
        w = _after_ed_ing(w[:-3])
    # 3. one derivational suffix
    for suffix, repl in _DERIVATIONAL:
        if w.endswith(suffix):
            base = w[: -len(suffix)]
            if len(base) >= 3 and _has_vowel(base):
                w = base + repl
            break
    # 4. silent e
    if len(w) >= 3 and w.endswith("e") and not w.endswith("ee") and _has_vowel(w[:-1]):
        w = w[:-1]
    return w


def content_tokens(text: str) -> set[str]:
    """The stemmed content words of ``text``: lowercase, no stopwords, no 1-letter words."""
    if not text:
        return set()
    out = set()
    for w in WORD_RE.findall(text):
        w = w.lower()
        if len(w) > 1 and w not in STOPWORDS:
            out.add(stem(w))
    return out
