"""Rule-based entity extraction, for memories (worker) and queries (recall).

:func:`extract_entities` returns the names, identifiers and references a text
mentions, in order of first appearance, deduplicated case-insensitively (the
first spelling wins), without trailing punctuation, each at most
:data:`memman.constants.MAX_ENTITY_CHARS` characters. :func:`query_entities`
applies the same rules to a recall query.

Rules, in priority order (a span claimed by an earlier rule is not re-read by a
later one):

1. URLs with a scheme (``https://example.com/a``, ``postgres://db/x``), kept
   whole; e-mail addresses.
2. File paths: ``~/...``, ``./...``, ``../...``, absolute ``/etc/hosts``, and
   relative paths with two or more slashes, a trailing slash (``docs/``) or a
   file extension (``app/main.py``); ``and/or``, ``TCP/IP``, dates are not
   paths. Windows ``C:\\...`` paths.
3. Quoted terms of 1-5 words in "double", \\`back\\`, 'single' or curly quotes.
4. ``@mentions`` and ``#tags`` (a tag starts with a letter; hex colours are not
   tags).
5. Versions: ``v1.2.3``/``v2``, bare ``3.11.7`` (three or more parts, so IPv4
   addresses too), ``Python 3.11`` (a capitalised, non-common word followed by
   a dotted version; ``Python`` alone is reported as well), and the number in
   ``version 2.1`` / ``release 2.1``. A bare ``3.11`` is not a version.
6. Dotted names ``db.internal``, ``memman.cli``, ``main.py`` and dot-files
   ``.env``; ``e.g.``/``i.e.`` (all one-letter parts) and ``works.Next``
   (a missing space after a full stop) are not.
7. Identifiers: ``snake_case`` and ``__dunder__``, ``SCREAMING_CASE``,
   ``CamelCase`` (two or more capitals and a lowercase letter: ``GitHub``,
   ``OAuth``), ``mixedCase`` (``getUserById``, ``iPhone``).
8. Acronyms: 2-6 capitals, digits allowed (``AWS``, ``JSONB``, ``EC2``,
   ``UTF-8``; plural ``APIs`` -> ``API``). Not ``I``/``A``, and not all-caps
   common words or chat shorthand (``NOT``, ``NOTE``, ``TODO``, ``FYI``, ``OK``).
9. Capitalised names, single or multi-word (``Alice``, ``Alice Smith``,
   ``New York``, ``Bank of America``). The capitalisation rule:

   * mid-sentence, a capitalised word is a name word unless it is a stopword,
     a weekday or month, an honorific or one letter;
   * in the run of capitalised words that opens a sentence (start of text or
     line, after ``. ! ? :``) or anywhere in a Title-Case headline (three or
     more content words, 80% of them capitalised), a capitalised word is a
     name word only if it is not a common English word (lists in
     :mod:`memman.rules._words`), or it appears
     capitalised mid-sentence elsewhere in the text, or it is a common
     noun/adjective standing next to another capitalised non-verb word
     ("Billing Service", "New York", but not "Use Postgres" -> ``Postgres``,
     "The", "We", "Always", "When");
   * adjacent name words (separated by spaces only, optionally joined by
     ``of``/``van``/``von``/``de``/``da``/``di``/``du``/``del``/``der``/``la``/
     ``le``) make one entity; a possessive ``'s`` ends it and is dropped.
     CamelCase words and acronyms may be part of a name ("GitHub Actions",
     "AWS Lambda") and are then also reported on their own.

Numbers alone are never entities. Only :mod:`re` and :mod:`functools` are used;
patterns are compiled on first use and written so that 8000 characters of
adversarial input stay linear (possessive quantifiers, start-of-token
look-behinds, bounded quote lengths).
"""
import re
from functools import lru_cache

from memman.constants import MAX_ENTITY_CHARS
from memman.textutil import STOPWORDS

__all__ = ["extract_entities", "query_entities"]

QUERY_LIMIT = 10

_SEG = r"[\w.@%+~-]"  # one character of a path segment
_CONNECTORS = frozenset("of van von de da di du del der den la le".split())
_CONTRACTIONS = frozenset("s m ve ll d re t".split())
_BREAK_CHARS = frozenset(".!?:\n\r")
_TRIM = ".,;:!?*~-"


@lru_cache(maxsize=1)
def _rx():
    """All patterns, compiled once on first use."""
    c = re.compile
    return {
        "url": c(r"(?<![\w.+-])[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s<>\"'`{}|\\^]++"),
        "email": c(r"(?<![\w.+-])[\w.+-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++"),
        "winpath": c(r"(?<![\w])[A-Za-z]:\\[\w.@%+~\\-]++"),
        "path": c(
            rf"(?<![\w.~/:@%+\\-])(?:"
            rf"~/(?:{_SEG}++(?:/{_SEG}++)*+/?)?"
            rf"|\.\.?(?:/{_SEG}++)++/?"
            rf"|/{_SEG}++(?:/{_SEG}++)*+/?"
            rf"|{_SEG}++(?:/{_SEG}++)++/?"
            rf"|{_SEG}++/(?![\w/])"
            r")"
        ),
        "extension": c(r"\.[A-Za-z][A-Za-z0-9]{0,9}\Z"),
        "quote": c(
            r"\"([^\"\n]{1,200})\""
            r"|\u201c([^\u201c\u201d\n]{1,200})\u201d"
            r"|`([^`\n]{1,200})`"
            r"|(?<![\w'\u2019`])'([^'\n]{1,120})'(?![\w'])"
            r"|\u2018([^\u2018\u2019\n]{1,120})\u2019(?!\w)"
        ),
        "mention": c(r"(?<![\w@.+-])@[A-Za-z0-9_][\w.-]*+(?:/[\w.-]++)?"),
        "tag": c(r"(?<![\w#&/])#[A-Za-z][\w-]*+"),
        "hex": c(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\Z"),
        "named_version": c(
            r"(?<![\w.+#-])([A-Z][A-Za-z0-9+#]*+(?:[.-][A-Za-z0-9+#]++)*+)[ \t]++"
            r"([vV]?\d++(?:\.\d++)++(?:-[0-9A-Za-z]++)?)(?!\w|\.\w)"
        ),
        "prefixed_version": c(
            r"(?i:\b(?:version|ver|release|rel|tag)s?)[ \t]++"
            r"([vV]?\d++(?:\.\d++)++)(?!\w|\.\w)"
        ),
        "version": c(
            r"(?<![\w.])(?:[vV]\d++(?:\.\d++)*+|\d++(?:\.\d++){2,}+)"
            r"(?:-(?:rc|alpha|beta|dev|pre|post)\.?\d*+)?(?!\w|\.\w)"
        ),
        "dotted": c(r"(?<![\w.@/\\-])[A-Za-z_][\w-]*+(?:\.[A-Za-z_][\w-]*+)++"),
        "dotfile": c(r"(?<![\w./~\\-])\.[A-Za-z][\w-]*+(?:\.[A-Za-z][\w-]*+)*+"),
        "token": c(r"\w++(?:[-'\u2019]\w++)*+"),
    }


# ---------------------------------------------------------------- word classes
def _tables():
    from memman.rules._words import tables

    return tables()


@lru_cache(maxsize=8192)
def _common_class(lower: str) -> str | None:
    """'verb' (never starts a name), 'noun' (may start a multi-word name) or None."""
    verbish, nounish, _, _ = _tables()
    if lower in verbish or lower in STOPWORDS:
        return "verb"
    if lower in nounish:
        return "noun"
    if "-" in lower:
        parts = [p for p in lower.split("-") if p]
        classes = [_common_class(p) for p in parts]
        if not parts or None in classes:
            return None
        return classes[0]
    for base in _inflection_bases(lower):
        if base in verbish:
            return "verb"
        if base in nounish:
            return "noun"
    n = len(lower)
    if n >= 5 and lower.endswith("ly"):
        return "verb"
    if (n >= 6 and lower.endswith("ed")) or (n >= 6 and lower.endswith("ing")):
        return "verb"
    if n >= 6 and lower.endswith((
            "tion", "tions", "sion", "sions", "ment", "ments", "ness", "ity", "ities",
            "ance", "ances", "ence", "ences", "ism", "isms", "ers", "ures")):
        return "noun"
    return None


def _inflection_bases(w: str):
    if w.endswith("ies") and len(w) > 4:
        yield w[:-3] + "y"
    if w.endswith("es") and len(w) > 3:
        yield w[:-2]
    if w.endswith("s") and len(w) > 3:
        yield w[:-1]
    if w.endswith("ied") and len(w) > 4:
        yield w[:-3] + "y"
    if w.endswith("ed") and len(w) > 4:
        yield w[:-2]
        yield w[:-1]
        if len(w) > 5 and w[-3] == w[-4]:
            yield w[:-3]
    if w.endswith("ing") and len(w) > 5:
        yield w[:-3]
        yield w[:-3] + "e"
        if w[-4] == w[-5]:
            yield w[:-4]


def _is_acronym_core(part: str) -> bool:
    """2-6 characters, capitals and digits, starting with a capital, >= 2 capitals."""
    return (2 <= len(part) <= 6 and part[0].isupper() and part.isupper()
            and part.isalnum() and sum(ch.isalpha() for ch in part) >= 2)


def _classify(tok: str) -> tuple[str, str]:
    """(kind, value) of one word token (possessive already removed)."""
    if "_" in tok:
        core = tok.strip("_")
        if len(core) < 2 or not any(ch.isalpha() for ch in core):
            return "other", tok
        if (tok.startswith("_") and tok.endswith("_") and not tok.startswith("__")
                and "_" not in core):
            return "other", tok  # markdown _emphasis_
        if not any(ch.islower() for ch in tok):
            return "screaming", tok
        return "snake", tok
    first = tok[0]
    if not first.isalpha():
        return "other", tok
    has_lower = any(ch.islower() for ch in tok)
    if first.islower():
        if any(ch.isupper() for ch in tok):
            return "mixed", tok
        return "other", tok
    parts = tok.split("-")
    if not has_lower:
        if _is_acronym_core(parts[0]) and all(
                p and p.isalnum() and (p.isupper() or p[0].isdigit()) for p in parts[1:]):
            return _acronym(tok, parts[0])
        return "other", tok
    if len(parts) == 1 and len(tok) <= 7 and tok[-1] == "s" and _is_acronym_core(tok[:-1]):
        return _acronym(tok[:-1], tok[:-1])  # APIs -> API
    if any(sum(ch.isupper() for ch in p) >= 2 and any(ch.islower() for ch in p)
           for p in parts):
        return "camel", tok
    return "title", tok


def _acronym(value: str, core: str) -> tuple[str, str]:
    """An acronym, unless its core is an all-caps common word or chat shorthand."""
    low = core.lower()
    verbish, nounish, never, stop = _tables()
    if low in STOPWORDS or low in verbish or low in nounish or low in never or low in stop:
        return "other", value
    return "acronym", value


# ---------------------------------------------------------------- phase A
class _Claims:
    """Collects (start, end, value, kind) and remembers which characters are taken."""

    __slots__ = ("mask", "found")

    def __init__(self, n: int):
        self.mask = bytearray(n)
        self.found: list[tuple[int, int, str, str]] = []

    def free(self, start: int, end: int) -> bool:
        return self.mask.find(1, start, end) == -1

    def take(self, start, end, value, kind, block=None) -> bool:
        bs, be = block or (start, end)
        if end <= start or not self.free(bs, be):
            return False
        self.mask[bs:be] = b"\x01" * (be - bs)
        self.found.append((start, end, value, kind))
        return True


def _trim_end(text: str, start: int, end: int, chars: str = _TRIM) -> int:
    while end > start and text[end - 1] in chars:
        end -= 1
    return end


def _trim_url(text: str, start: int, end: int) -> int:
    while end > start:
        ch = text[end - 1]
        if ch in ".,;:!?*~'\"":
            end -= 1
        elif ch in ")]" and text.count("(" if ch == ")" else "[", start, end) < text.count(
                ch, start, end):
            end -= 1
        else:
            break
    return end


def _path_ok(value: str) -> bool:
    if not any(ch.isalpha() for ch in value):
        return False
    if value.startswith(("~/", "./", "../", "/")):
        return len(value) >= 3 or value == "~/"
    body = value[:-1] if value.endswith("/") else value
    if value.endswith("/") or body.count("/") >= 2 or body.startswith("."):
        return True
    return bool(_rx()["extension"].search(body))


def _dotted_ok(value: str) -> bool:
    parts = value.split(".")
    if any(not p for p in parts) or all(len(p) <= 1 for p in parts):
        return False
    if len(parts) == 2:
        a, b = parts
        # "works.Next": a sentence that lost the space after its full stop.
        if a.isalpha() and a.islower() and b.isalpha() and b[0].isupper() and b[1:].islower():
            return False
    return True


def _phase_a(text: str, claims: _Claims) -> None:
    rx = _rx()
    for m in rx["url"].finditer(text):
        end = _trim_url(text, m.start(), m.end())
        if text.find("://", m.start(), end) + 3 < end:
            claims.take(m.start(), end, text[m.start():end], "url")
    for m in rx["email"].finditer(text):
        end = _trim_end(text, m.start(), m.end())
        claims.take(m.start(), end, text[m.start():end], "email")
    for m in rx["winpath"].finditer(text):
        end = _trim_end(text, m.start(), m.end())
        if end - m.start() > 3:
            claims.take(m.start(), end, text[m.start():end], "path")
    for m in rx["path"].finditer(text):
        end = _trim_end(text, m.start(), m.end(), ".,;:!?*")
        value = text[m.start():end]
        if _path_ok(value):
            claims.take(m.start(), end, value, "path")
    for m in rx["quote"].finditer(text):
        gi = m.lastindex
        raw = m.group(gi)
        inner = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        s = m.start(gi) + lead
        e = _trim_end(text, s, s + len(inner), ".,;:!?")
        value = text[s:e]
        if value and 1 <= len(value.split()) <= 5 and any(ch.isalnum() for ch in value):
            claims.take(s, e, value, "quoted", block=(m.start(), m.end()))
    for m in rx["mention"].finditer(text):
        end = _trim_end(text, m.start(), m.end(), ".-")
        if end - m.start() >= 2:
            claims.take(m.start(), end, text[m.start():end], "mention")
    for m in rx["tag"].finditer(text):
        end = _trim_end(text, m.start(), m.end(), "-")
        value = text[m.start():end]
        if not rx["hex"].match(value):
            claims.take(m.start(), end, value, "tag")
    for m in rx["named_version"].finditer(text):
        name = m.group(1)
        lower = name.lower()
        if (len(name) >= 2 and _common_class(lower) is None
                and lower not in _tables()[2] and claims.free(m.start(1), m.end(1))):
            claims.take(m.start(), m.end(), f"{name} {m.group(2)}", "version",
                        block=(m.start(2), m.end(2)))
    for m in rx["prefixed_version"].finditer(text):
        claims.take(m.start(1), m.end(1), m.group(1), "version")
    for m in rx["version"].finditer(text):
        claims.take(m.start(), m.end(), m.group(), "version")
    for m in rx["dotted"].finditer(text):
        end = _trim_end(text, m.start(), m.end(), "-")
        value = text[m.start():end]
        if _dotted_ok(value):
            claims.take(m.start(), end, value, "dotted")
    for m in rx["dotfile"].finditer(text):
        end = _trim_end(text, m.start(), m.end(), "-")
        if end - m.start() >= 3:
            claims.take(m.start(), end, text[m.start():end], "dotted")


# ---------------------------------------------------------------- phase B
class _Tok:
    __slots__ = ("start", "end", "value", "kind", "lower", "initial", "sent",
                 "possessive", "name", "blocked")


def _tokens(text: str, claims: _Claims) -> tuple[list, list]:
    """Word tokens with kind, sentence index and sentence-initial flag; headline flags."""
    rx = _rx()
    toks = []
    sent = 0
    prev_end = None
    stats: list[list[int]] = [[0, 0]]  # per sentence: content words, capitalised
    mask = claims.mask
    for m in rx["token"].finditer(text):
        t = _Tok()
        s, e = m.span()
        if prev_end is None:
            initial = True
        else:
            initial = not _BREAK_CHARS.isdisjoint(text[prev_end:s])
        if initial and prev_end is not None:
            sent += 1
            stats.append([0, 0])
        prev_end = e
        word = m.group()
        t.start, t.initial, t.sent, t.possessive, t.name = s, initial, sent, False, False
        apos = max(word.rfind("'"), word.rfind("\u2019"))
        if apos > 0 and word[apos + 1:].lower() in _CONTRACTIONS:
            word = word[:apos]
            t.possessive = True
        t.end = s + len(word)
        t.blocked = mask[s] == 1 or mask[t.end - 1] == 1
        if t.blocked:
            t.kind, t.value = "blocked", word
        else:
            t.kind, t.value = _classify(word)
        t.lower = t.value.lower()
        if t.kind in ("title", "other") and t.value[0].isalpha() and len(t.value) > 1 \
                and t.lower not in STOPWORDS:
            stats[sent][0] += 1
            if t.kind == "title":
                stats[sent][1] += 1
        toks.append(t)
    headline = [n >= 3 and cap >= 0.8 * n for n, cap in stats]
    return toks, headline


def _phase_b(text: str, claims: _Claims) -> None:
    toks, headline = _tokens(text, claims)
    never = _tables()[2]
    n = len(toks)

    def never_name(low: str) -> bool:
        return low in never or (low.endswith("s") and low[:-1] in never)

    def adjacent(a, b) -> bool:
        if a.possessive:
            return False
        gap = text[a.end:b.start]
        return bool(gap) and not gap.strip(" \t")

    def strong(t) -> bool:
        if t.kind in ("camel", "acronym"):
            return True
        return (t.kind == "title" and len(t.value) > 1 and not never_name(t.lower)
                and (t.lower in evidence or _common_class(t.lower) != "verb"))

    # The run of capitalised words that opens a sentence is "leading": it is
    # capitalised by position, so it is no evidence of a name.
    leading = [False] * n
    for i, t in enumerate(toks):
        leading[i] = t.kind in ("title", "camel", "acronym") and (
            t.initial or (i > 0 and leading[i - 1] and adjacent(toks[i - 1], t)))
    evidence = {t.lower for i, t in enumerate(toks)
                if t.kind == "title" and not leading[i] and not headline[t.sent]}

    def strong_near(i, step) -> bool:
        """A strong capitalised word next to toks[i] (through one connector)."""
        j = i + step
        if not 0 <= j < n:
            return False
        a, b = (toks[i], toks[j]) if step > 0 else (toks[j], toks[i])
        if not adjacent(a, b):
            return False
        if strong(toks[j]):
            return True
        k = j + step
        if toks[j].lower in _CONNECTORS and toks[j].kind == "other" and 0 <= k < n:
            a, b = (toks[j], toks[k]) if step > 0 else (toks[k], toks[j])
            return adjacent(a, b) and strong(toks[k])
        return False

    for i, t in enumerate(toks):
        if t.kind in ("camel", "acronym"):
            t.name = True
        elif t.kind == "title":
            low = t.lower
            if len(t.value) < 2 or low in STOPWORDS or never_name(low):
                continue
            if not (leading[i] or headline[t.sent]) or low in evidence:
                t.name = True
                continue
            cls = _common_class(low)
            if cls is None:
                t.name = True
            elif cls == "noun":
                t.name = strong_near(i, -1) or strong_near(i, 1)

    run: list = []

    def flush():
        if not run:
            return
        first, last = run[0], run[-1]
        value = " ".join(text[first.start:last.end].split())
        if len(run) == 1:
            value = first.value
        claims.found.append((first.start, last.end, value, "name"))
        if len(run) > 1:
            for member in run:
                if member.kind in ("camel", "acronym"):
                    claims.found.append((member.start, member.end, member.value, member.kind))
        run.clear()

    i = 0
    while i < n:
        t = toks[i]
        if t.kind in ("snake", "screaming", "mixed"):
            flush()
            claims.found.append((t.start, t.end, t.value, "identifier"))
        elif t.name:
            if run and adjacent(run[-1], t):
                run.append(t)
            else:
                flush()
                run.append(t)
            if t.possessive:
                flush()
        elif (run and t.lower in _CONNECTORS and t.kind == "other" and i + 1 < n
              and toks[i + 1].name and adjacent(run[-1], t) and adjacent(t, toks[i + 1])):
            run.append(t)
        else:
            flush()
        i += 1
    flush()


# ---------------------------------------------------------------- API
def _scan(text: str) -> list[tuple[int, int, str, str]]:
    """Every (start, end, value, kind) found, unordered, with duplicates."""
    claims = _Claims(len(text))
    _phase_a(text, claims)
    _phase_b(text, claims)
    return claims.found


def extract_entities(text: str, limit: int = 20) -> list[str]:
    """Entities of ``text`` in order of first appearance (see the module rules)."""
    if not text or limit <= 0:
        return []
    found = _scan(text)
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    out: list[str] = []
    seen: set[str] = set()
    for _, _, value, _ in found:
        value = value.strip()
        key = value.casefold()
        if not value or key in seen or len(value) > MAX_ENTITY_CHARS:
            continue
        seen.add(key)
        out.append(value)
        if len(out) >= limit:
            break
    return out


def query_entities(query: str) -> list[str]:
    """Entities of a recall query: the same rules, at most :data:`QUERY_LIMIT`.

    A lowercase query ("who owns billing service") names no entities; in
    "what does Alice own" only ``Alice`` is capitalised mid-sentence.
    """
    return extract_entities(query, limit=QUERY_LIMIT)
