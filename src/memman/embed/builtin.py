"""The built-in embedder: a lexical hashing embedder, not a neural model.

Zero configuration, offline, no download, and deterministic across processes,
platforms and Python hash seeds (features are hashed with blake2b). It is memman's
default embedder and feeds semantic similarity, so what it captures is lexical
overlap: shared words (after light stemming), shared word pairs, and shared
sub-word character n-grams (which also catch compounds, identifiers and typos). It
does not know synonyms: "car" and "automobile" are unrelated to it.

Features of a text (NFKC, lowercased, split into runs of letters/digits):

- ``w:`` word unigrams of the stemmed content words (stopwords dropped unless the text
  has nothing else), weight 1.0;
- ``b:`` bigrams of consecutive stemmed content words, weight 0.2;
- ``c:`` character 3- to 5-grams of each content word with ``<``/``>`` boundary
  markers, each weighted ``0.6 / sqrt(k)`` for a word with k n-grams: a word's
  n-grams together weigh 0.6 whatever its length, below its unigram's 1.0, so
  shared whole words dominate and long words do not outweigh short ones.

Each feature's weight is scaled by sublinear term frequency ``1 + ln(tf)``, hashed
(64-bit blake2b) into one of ``dim`` buckets with a sign taken from the hash, and the
vector is L2-normalised. Any change to tokenising, stemming, stopwords, weights or
hashing changes every vector: it must ship under a new model name, never as
``hash-ngram-v1``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
try:  # the same function hashlib exports, without hashlib's OpenSSL start-up (~2 ms)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Python implementations
    from hashlib import blake2b

import numpy as np

from memman.embed.base import Embedder

MODEL = "hash-ngram-v1"
DEFAULT_DIM = 384

W_UNIGRAM = 1.0
W_BIGRAM = 0.2
W_CHAR_BLOCK = 0.6  # L2 weight of one word's character n-grams taken together
NGRAM_SIZES = (3, 4, 5)
MAX_NGRAM_WORD = 40  # longer tokens (hashes, blobs) get n-grams of their first 40 chars

_TOKEN_RE = re.compile(r"[^\W_]+")

# Frozen with the model: do not share with (or import from) textutil, whose list may
# evolve. "keywords" is here because registry.embed_text appends a "Keywords:" line.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing done down during
each either etc few for from further get got had has have having he her here hers
herself him himself his how i if in into is it its itself just keywords let may me
might more most must my myself neither no nor not now of off on once only or other
our ours ourselves out over own per same shall she should so some such than that the
their theirs them themselves then there these they this those through thus to too
under until up upon us very via was we were what when where which while who whom why
will with within without would yet you your yours yourself yourselves
""".split())

_VOWELS = frozenset("aeiouy")
_UNDOUBLE_KEEP = frozenset("lsz")


def _has_vowel(s: str) -> bool:
    return any(c in _VOWELS for c in s)


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """A light suffix-stripping stemmer: plural -s/-es/-ies, -ed/-ied/-ing (undoubling
    the final consonant), -ment, -ation -> -ate, then a final -e.

    deploy/deploys/deployed/deploying/deployment -> deploy; cache/caching/cached -> cach;
    run/running -> run; migrate/migration/migrating -> migrat. Conservative: a stem
    keeps at least three letters and a vowel."""
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    # plurals
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("ss", "us", "is")):
        pass
    elif w.endswith("s") and len(w) > 3:
        w = w[:-1]
    # verb endings / -ation
    if w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ation") and len(w) >= 8:
        w = w[:-5] + "ate"
    else:
        for suffix in ("ing", "ed"):
            if w.endswith(suffix):
                base = w[: -len(suffix)]
                if len(base) >= 3 and _has_vowel(base):
                    if (len(base) > 3 and base[-1] == base[-2]
                            and base[-1] not in _VOWELS and base[-1] not in _UNDOUBLE_KEEP):
                        base = base[:-1]
                    w = base
                break
    if w.endswith("ment") and len(w) >= 8:
        w = w[:-4]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def _hash64(feature: str) -> int:
    return int.from_bytes(blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")


@lru_cache(maxsize=131072)
def _word_features(word: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Hashed feature ids and weights of one content word: its stem unigram and its
    boundary-marked character n-grams. Independent of dim (bucketed later)."""
    ids = [_hash64("w:" + stem(word))]
    marked = "<" + word[:MAX_NGRAM_WORD] + ">"
    for n in NGRAM_SIZES:
        for i in range(len(marked) - n + 1):
            ids.append(_hash64("c:" + marked[i:i + n]))
    k = len(ids) - 1
    return tuple(ids), (W_UNIGRAM,) + (W_CHAR_BLOCK / math.sqrt(k),) * k


@lru_cache(maxsize=131072)
def _bigram_id(first: str, second: str) -> int:
    return _hash64("b:" + first + " " + second)


_EMPTY_ID = _hash64("e:<empty>")


def tokens(text: str) -> list[str]:
    """The content words the builtin embeds (lowercased, stopwords dropped unless
    nothing else is left, single letters dropped)."""
    words = _TOKEN_RE.findall(unicodedata.normalize("NFKC", text).lower())
    content = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return content or words


def _features(text: str) -> tuple[np.ndarray, np.ndarray]:
    words = tokens(text)
    if not words:
        return np.array([_EMPTY_ID], dtype=np.uint64), np.array([1.0])
    ids: list[int] = []
    weights: list[float] = []
    for word in words:
        wid, ww = _word_features(word)
        ids.extend(wid)
        weights.extend(ww)
    stems = [stem(w) for w in words]
    for a, b in zip(stems, stems[1:], strict=False):
        ids.append(_bigram_id(a, b))
        weights.append(W_BIGRAM)
    return np.array(ids, dtype=np.uint64), np.array(weights, dtype=np.float64)


class BuiltinEmbedder(Embedder):
    """Offline lexical hashing embedder (provider "builtin", model "hash-ngram-v1")."""

    provider = "builtin"

    def __init__(self, dim: int = DEFAULT_DIM):
        dim = int(dim)
        if dim < 8:
            raise ValueError(f"builtin embedder dim must be >= 8, got {dim}")
        self.model = MODEL
        self.dim = dim

    def _embed(self, texts: list[str]) -> np.ndarray:
        dim = self.dim
        out = np.zeros((len(texts), dim), dtype=np.float64)
        udim = np.uint64(dim)
        shift = np.uint64(63)
        for row, text in enumerate(texts):
            ids, weights = _features(text)
            uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
            w = weights[first] * (1.0 + np.log(counts))
            w[(uniq >> shift) == 1] *= -1.0
            out[row] = np.bincount((uniq % udim).astype(np.intp), weights=w, minlength=dim)
        return out
