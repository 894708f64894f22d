"""Credential redaction of memory text before it is enqueued.

This module owns the secret-scrubbing step of intake: every piece of text an
agent asks memman to remember passes through :func:`redact` before it is
queued, so API keys, tokens, passwords, private keys and ``<private>`` blocks
never reach the long-term store.

Each redacted span is replaced by ``[REDACTED:<kind>]``.  For assignment- and
URL-style secrets only the secret value is replaced and the surrounding
structure (key name, URL user and host) is kept.

Rules run in a fixed order: ``<private>`` blocks and PEM private keys first,
then vendor-specific key formats, then the generic URL-password, bearer and
assignment rules.  A value that is already a ``[REDACTED:...]`` marker is
never redacted again, so ``redact`` is idempotent.

This runs on a latency-critical hot path where every call is a fresh process,
and compiling all patterns (~3 ms) would cost far more than running them.  So
only the pattern *sources* live at module level; a pattern is compiled (once,
cached in ``_COMPILED``) only when its rule's *trigger* passes: a cheap
``str`` test that is a necessary condition for the pattern to match (a
literal of the pattern occurs), so skipping the pattern changes nothing.
Text without secrets usually compiles nothing.  ``tests/test_intake_fastpath.py``
checks the triggers against the patterns.  Patterns start with literals so the
engine's fast prefix search does most of the scanning, and every repetition
is either bounded or stopped by a character its class excludes (no
catastrophic backtracking).  An 8000-character text takes ~0.1 ms once the
patterns are compiled.
"""

import re

__all__ = ["KINDS", "redact"]

KINDS: tuple[str, ...] = (
    "private",
    "private_key",
    "anthropic_key",
    "openrouter_key",
    "openai_key",
    "voyage_key",
    "github_token",
    "aws_access_key",
    "slack_token",
    "jwt",
    "url_password",
    "bearer_token",
    "password_assignment",
)

_MARK = {kind: "[REDACTED:" + kind + "]" for kind in KINDS}
_REDACTED_PREFIX = "[REDACTED"


# --------------------------------------------------------------------------
# Patterns, as (source, flags) specs: compiled on first use by _rx.
#
# Patterns start with a literal wherever possible so that the regex engine
# can use its fast literal-prefix search.  "Not preceded by an alphanumeric"
# is therefore written as a lookbehind placed *after* the literal, e.g.
# ``sk-(?<![A-Za-z0-9]sk-)``.
# --------------------------------------------------------------------------

# <private> ... </private>: tags are found here and paired in
# _redact_private, which keeps unclosed or repeated tags linear.
_PRIVATE_TAG = (r"<(/?)private\s*>", re.IGNORECASE)

# PEM private keys.  A BEGIN line without a matching END redacts to the end
# of the text (fail closed).
_PEM = (
    r"-----BEGIN (?:(?:RSA|EC|OPENSSH|DSA|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END [A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----|.*)",
    re.DOTALL,
)

_ANTHROPIC = (r"sk-ant-(?<![A-Za-z0-9]sk-ant-)[A-Za-z0-9_-]{20,}", 0)
_OPENROUTER = (r"sk-or-(?<![A-Za-z0-9]sk-or-)[A-Za-z0-9_-]{20,}", 0)
# sk-, sk-proj-, sk-svcacct- (the body class contains "-").  Runs after the
# two rules above; their markers contain no "sk-".
_OPENAI = (r"sk-(?<![A-Za-z0-9]sk-)[A-Za-z0-9_-]{20,}", 0)
_VOYAGE = (r"pa-(?<![A-Za-z0-9]pa-)[A-Za-z0-9_-]{30,}", 0)
_GITHUB = (
    r"g(?<![A-Za-z0-9]g)(?:h[pousr]_[A-Za-z0-9]{30,}|ithub_pat_[A-Za-z0-9_]{40,})",
    0,
)
_AWS = (
    r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|GPA|IDA|ROA|NPA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    0,
)
_SLACK_TOKEN = (r"x(?<![A-Za-z0-9]x)(?:ox[abposr]|app)-[A-Za-z0-9-]{10,}", 0)
# Webhook URL: keep the endpoint, redact the path that carries the secret.
_SLACK_WEBHOOK = (
    r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<val>[A-Za-z0-9_/-]+)",
    0,
)
_JWT = (
    r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{10,}",
    0,
)
# scheme://user:PASSWORD@host.  Anchored on "://" (scheme and user are kept
# as they are).  The password may itself contain "@": the greedy class backs
# off to the last "@" before whitespace or "/".  The user part excludes "[",
# so the colon inside an earlier marker (https://[REDACTED:github_token]@h)
# is not mistaken for the user:password separator.
_URL_PASSWORD = (
    r"://[^\s:/?#@\"'<>\[\]]{0,256}:(?P<val>[^\s/\"'<>]{1,256})(?=@)",
    0,
)

# The two case-insensitive rules are written in lower case and, for ASCII
# text, run case-sensitively over ``text.lower()`` (much faster than
# re.IGNORECASE); the *_I variants are the fallback when lowering would shift
# character positions.
_BEARER_SRC = r"bearer(?<![A-Za-z0-9]bearer)[ \t]+(?P<val>[A-Za-z0-9._~+/-]+=*)"
# Checked against the (lowered) text just before "bearer".
_AUTH_BEFORE = (r"authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?\Z", 0)

# key = value / key: value.  The match is anchored on the keyword itself: a
# prefix (DB_, GITHUB_, access, client_, camelCase ...) is left untouched and
# need not be matched.  The optional suffix covers SECRET_KEY and
# AWS_SECRET_ACCESS_KEY.  The keyword must be followed directly by the
# separator (optionally after a closing quote / bracket), so "tokens:",
# "tokenizer=" and "password reset" do not match.  Quoted values may contain
# spaces; \"...\" handles JSON that is itself embedded in a string.
_ASSIGNMENT_SRC = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key)"
    r"(?:[_-]?(?:access[_-]?)?key)?"
    r"\\?[\"']?\]?[ \t]*(?::=|=>|==|[:=])[ \t]*"
    r"(?:\\\"(?P<edq>[^\"\\\n]*)\\\""  # \"value\" inside escaped JSON
    r"|\"(?P<dq>(?:[^\"\\\n]|\\.)*)\""  # "value" (backslash escapes allowed)
    r"|'(?P<sq>(?:[^'\\\n]|\\.)*)'"
    r"|[\"']?(?P<uq>[^\s\"'`,;&]+))"  # bare value
)
_BEARER = (_BEARER_SRC, 0)
_BEARER_I = (_BEARER_SRC, re.IGNORECASE)
_ASSIGNMENT = (_ASSIGNMENT_SRC, 0)
_ASSIGNMENT_I = (_ASSIGNMENT_SRC, re.IGNORECASE)

# Values of obvious non-secret shape.
_PLACEHOLDER_WORD = (
    r"[*xX.\u2022-]+|none|null|nil|true|false|undefined|redacted|"
    r"str|string|bytes|secretstr",
    re.IGNORECASE,
)
_PLACEHOLDER_PREFIX = (
    r"(?:your|example|sample|dummy|placeholder)[_-]"
    r"|process\.env\b|os\.environ\b|import\.meta\.env\b"
    r"|[A-Za-z_][A-Za-z0-9_.]*\[",  # code / type hints: Optional[str], ENV["X"]
    re.IGNORECASE,
)
_ALL_LOWER_WORDS = (r"[a-z-]+", 0)
_MIN_ASSIGNMENT_LEN = 4
_MIN_STANDALONE_BEARER_LEN = 20

_COMPILED: dict = {}
# Tests set this to skip every trigger and run every pattern (the reference
# the fast path is checked against).
_FULL = False


def _rx(spec: tuple) -> "re.Pattern[str]":
    """The compiled pattern of a (source, flags) spec, compiled on first use."""
    pattern = _COMPILED.get(spec)
    if pattern is None:
        pattern = _COMPILED[spec] = re.compile(*spec)
    return pattern


def _is_placeholder(value: str) -> bool:
    """True if an assignment / URL / header value is obviously not a secret."""
    if not value or value.startswith(_REDACTED_PREFIX):
        return True
    if value[0] in "<$%{":  # <your token>, $VAR, ${VAR}, %VAR%, {{ tmpl }}
        return True
    if "(" in value:  # code: get_password(), os.getenv("X")
        return True
    if _rx(_PLACEHOLDER_WORD).fullmatch(value) is not None:
        return True
    return _rx(_PLACEHOLDER_PREFIX).match(value) is not None


# --------------------------------------------------------------------------
# Handlers: (match, src) -> replacement for the whole match, or None to keep
# it.  ``src`` is the original text; the match may come from its lowered
# copy, so values are always sliced from ``src``.
# --------------------------------------------------------------------------


def _splice(m: "re.Match[str]", src: str, group: str, kind: str) -> str:
    """The matched span of ``src`` with only ``group`` replaced by the marker."""
    return src[m.start() : m.start(group)] + _MARK[kind] + src[m.end(group) : m.end()]


def _whole(kind: str):
    mark = _MARK[kind]
    return lambda m, src: mark


def _value_always(kind: str):
    return lambda m, src: _splice(m, src, "val", kind)


def _value_unless_placeholder(kind: str):
    def handler(m, src):
        if _is_placeholder(src[m.start("val") : m.end("val")]):
            return None
        return _splice(m, src, "val", kind)

    return handler


def _bearer_handler(m, src):
    token = src[m.start("val") : m.end("val")]
    start = m.start()
    after_auth = _rx(_AUTH_BEFORE).search(src[max(0, start - 48) : start].lower())
    if after_auth is not None:
        if len(token) < _MIN_ASSIGNMENT_LEN or _is_placeholder(token):
            return None
    elif len(token) < _MIN_STANDALONE_BEARER_LEN or _rx(_ALL_LOWER_WORDS).fullmatch(token):
        # A standalone "Bearer" needs a token-shaped value, not a phrase
        # such as "bearer authentication-is-recommended".
        return None
    return _splice(m, src, "val", "bearer_token")


def _assignment_handler(m, src):
    for group in ("edq", "dq", "sq", "uq"):
        if m.start(group) >= 0:
            break
    value = src[m.start(group) : m.end(group)]
    if len(value) < _MIN_ASSIGNMENT_LEN or _is_placeholder(value):
        return None
    return _splice(m, src, group, "password_assignment")


# (kind, pattern, triggers, required, handler) in application order.  The
# pattern can only match if the text contains one of ``triggers`` and
# ``required`` (literals of the pattern); otherwise it is not even compiled.
_CASED_RULES = (
    ("private_key", _PEM, ("-----BEGIN ",), "PRIVATE KEY", _whole("private_key")),
    ("anthropic_key", _ANTHROPIC, ("sk-ant-",), "", _whole("anthropic_key")),
    ("openrouter_key", _OPENROUTER, ("sk-or-",), "", _whole("openrouter_key")),
    ("openai_key", _OPENAI, ("sk-",), "", _whole("openai_key")),
    ("voyage_key", _VOYAGE, ("pa-",), "", _whole("voyage_key")),
    ("github_token", _GITHUB, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "",
     _whole("github_token")),
    ("aws_access_key", _AWS, ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"), "",
     _whole("aws_access_key")),
    ("slack_token", _SLACK_TOKEN, ("xox", "xapp-"), "", _whole("slack_token")),
    ("slack_token", _SLACK_WEBHOOK, ("hooks.slack.com/",), "", _value_always("slack_token")),
    ("jwt", _JWT, (".eyJ",), "eyJ", _whole("jwt")),
    ("url_password", _URL_PASSWORD, ("://",), "@", _value_unless_placeholder("url_password")),
)


def _fold(text: str) -> str:
    """``text`` lower-cased such that every character an ASCII letter matches
    under ``re.IGNORECASE`` becomes that letter: also U+0130 and U+0131
    ("i"), U+017F ("s") and U+212A ("k")."""
    if text.isascii():
        return text.lower()
    low = text.replace("\u0130", "i").lower()
    return low.replace("\u0131", "i").replace("\u017f", "s")


def _assignment_possible(low: str) -> bool:
    """A keyword of _ASSIGNMENT_SRC, then only characters the pattern allows
    before the separator (key suffix letters, backslash, quote, "]", blanks),
    then ":" or "=".  ``low`` is ``_fold(text)``."""
    for keyword in ("password", "passwd", "pwd", "secret", "token", "api"):
        i = low.find(keyword)
        while i >= 0:
            j = i + len(keyword)
            while j < len(low) and low[j] in "_-acceksy\\\"'] \t":
                j += 1
            if low[j : j + 1] in (":", "="):
                return True
            i = low.find(keyword, i + 1)
    return False


def _assignment_matches(lowered: str):
    # The keywords share no literal prefix, and an alternation without one is
    # scanned position by position (slow).  Instead, try _ASSIGNMENT only
    # where a keyword starts; this yields exactly the matches
    # ``_ASSIGNMENT.finditer`` would.
    pattern = _rx(_ASSIGNMENT)
    if _FULL:
        yield from pattern.finditer(lowered)
        return
    starts = set()
    for keyword in ("pass", "pwd", "secret", "token", "api"):
        i = lowered.find(keyword)
        while i >= 0:
            starts.add(i)
            i = lowered.find(keyword, i + 1)
    end = 0
    for pos in sorted(starts):
        if pos < end:
            continue
        m = pattern.match(lowered, pos)
        if m is not None:
            end = m.end()
            yield m


def _lower_aligned(text: str) -> str | None:
    """``text`` lower-cased with every index unchanged, or None if impossible.

    U+0130 is the only code point whose lower case is two characters long.
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text.replace("\u0130", "i").lower()
        if len(lowered) != len(text):
            return None
    return lowered


def _apply(matches, src: str, handler) -> str | None:
    """Run ``handler`` on each match; matches index into ``src`` (or a copy
    with identical indices).  Returns the new text, or None if nothing was
    replaced.
    """
    out: list[str] = []
    pos = 0
    for m in matches:
        replacement = handler(m, src)
        if replacement is None:
            continue
        out.append(src[pos : m.start()])
        out.append(replacement)
        pos = m.end()
    if not out:
        return None
    out.append(src[pos:])
    return "".join(out)


def _redact_private(text: str) -> str | None:
    """Replace ``<private>...</private>`` elements (nesting-aware).

    An opening tag that is never closed redacts to the end of the text (fail
    closed).  Stray closing tags are left alone.  Returns None if nothing
    was replaced.
    """
    out: list[str] = []
    pos = 0
    depth = 0
    start = 0
    for m in _rx(_PRIVATE_TAG).finditer(text):
        if m.group(1):  # closing tag
            if depth == 0:
                continue
            depth -= 1
            if depth == 0:
                out.append(text[pos:start])
                out.append(_MARK["private"])
                pos = m.end()
        else:
            if depth == 0:
                start = m.start()
            depth += 1
    if depth:
        out.append(text[pos:start])
        out.append(_MARK["private"])
        pos = len(text)
    if not out:
        return None
    out.append(text[pos:])
    return "".join(out)


def strip_markers(text: str) -> str:
    """``text`` without its ``[REDACTED:kind]`` markers (for entity and keyword rules)."""
    if "[REDACTED:" not in text:
        return text
    import re

    return re.sub(r"\[REDACTED:[a-z_]+\]", " ", text)


def redact(text: str) -> tuple[str, list[str]]:
    """Redact credentials in ``text`` before it is enqueued.

    Returns ``(redacted_text, kinds)``: every secret span is replaced by
    ``[REDACTED:<kind>]`` and ``kinds`` is the sorted list of unique kind
    names (see :data:`KINDS`) that were redacted, empty when ``text`` is
    returned unchanged.  Idempotent: ``redact(redact(t)[0])`` changes nothing.
    """
    found: set[str] = set()

    if "<" in text and (_FULL or "private" in _fold(text)):
        new = _redact_private(text)
        if new is not None:
            text = new
            found.add("private")

    for kind, pattern, triggers, required, handler in _CASED_RULES:
        if _FULL or (required in text and any(t in text for t in triggers)):
            new = _apply(_rx(pattern).finditer(text), text, handler)
            if new is not None:
                text = new
                found.add(kind)

    # Case-insensitive rules: run case-sensitively over a lowered copy with
    # the same indices (re.IGNORECASE is several times slower).
    if _FULL or "bearer" in _fold(text):
        lowered = _lower_aligned(text)
        if lowered is None:
            matches = _rx(_BEARER_I).finditer(text)
        else:
            matches = _rx(_BEARER).finditer(lowered)
        new = _apply(matches, text, _bearer_handler)
        if new is not None:
            text = new
            found.add("bearer_token")

    if _FULL or _assignment_possible(_fold(text)):
        lowered = _lower_aligned(text)
        if lowered is None:
            matches = _rx(_ASSIGNMENT_I).finditer(text)
        else:
            matches = _assignment_matches(lowered)
        new = _apply(matches, text, _assignment_handler)
        if new is not None:
            text = new
            found.add("password_assignment")

    return text, sorted(found)
