"""Rule-based content-quality flags for memory text.

This module owns the heuristics that say a text is probably a poor long-term
memory: receipts ("verified that…", "deployed to prod"), transient state
snapshots ("pods are up", "status: pending"), references that rot
(``server.py:120``, "line 42", "as mentioned above") and formatting noise
(all-caps headers).

The flags are advisory.  At ``remember`` time they are reported back to the
agent as warnings and never block a write; later ``insights review`` runs the
same rules over stored memories and ranks them with :func:`severity`, worst
first.

Design notes:

* This runs on the remember hot path, where every call is a fresh process and
  compiling the patterns below would cost ~10 ms, far more than running them.
  So only the pattern *sources* live at module level; a pattern is compiled
  (once, cached in ``_COMPILED``) only when its rule's *trigger* passes.  A
  trigger is a cheap ``str`` test on the text and its folded copy (see
  :func:`_fold`) that is a **necessary** condition for the pattern to match:
  if the trigger fails, the pattern cannot match, so skipping it changes
  nothing.  A typical clean memory passes no trigger and compiles nothing.
  ``tests/test_intake_fastpath.py`` checks every trigger against the full
  patterns.
* :data:`RULES` (the compiled patterns) is built on first access.
* The guarded "tests pass" alternative of ``verification_receipt`` (160
  fixed-width look-behinds, ~5 ms to compile) is evaluated as a small pattern
  plus the same guard checked with string comparisons; the result is the same
  as the full pattern's.
* Patterns are written to be linear on adversarial input (8000-byte repeats):
  token starts are pinned with look-behinds, runs that could be split several
  ways are atomic or possessive, and line-anchored rules only start at ``^``.
  The triggers are linear too.
* Precision beats recall: ordinary durable facts ("Keep functions under 50
  lines", "Images are pushed to ECR by CI", "The staging DB is at
  db.internal:5432", "Make sure tests pass before merging") must not warn.
"""

import re

__all__ = ["RULES", "LABELS", "WEIGHTS", "DEFAULT_WEIGHT", "quality_warnings", "severity"]

_I = re.IGNORECASE
_M = re.MULTILINE


def _not_after(words):
    """Chain of fixed-width negative look-behinds: not directly after ``word ``."""
    return "".join(rf"(?<!\b{w}\s)" for w in words)


# A number: 42, 1,200 or 1200 -- never the tail of a version (3.11) or a word.
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
# Cheap gate first (a digit that does not continue a word/version), then the
# limit-word look-behinds, so most positions are rejected in one step.
_NUM_START = r"(?<![\w.,])(?=\d)"

# Words that make a following number a limit or a rule rather than an
# observation: "under 50 lines", "at least 3 replicas", "max 100 rows".
_LIMIT_WORDS = (
    "under", "than", "to", "max", "maximum", "most", "within", "below",
    "exceed", "exceeds", "over", "at", "least", "min", "minimum", "per",
    "every", "first", "use", "uses", "keep", "need", "needs", "require",
    "requires", "allow", "allows", "limit", "cap", "of", "into",
)
_AFTER_LIMIT = _not_after(_LIMIT_WORDS)

# ---------------------------------------------------------------- aws ids
_AWS_INSTANCE_ID = r"\bi-(?:[0-9a-fA-F]{17}|[0-9a-fA-F]{8})\b"

# ----------------------------------------------------------- resource counts
_RESOURCE_NOUN = (
    r"(?:pods?|instances?|containers?|nodes?|replicas?|files?|rows?|records?"
    r"|tests?|servers?|vms?|tasks?|jobs?|items?)"
)
_RESOURCE_ADJ = (
    r"(?:running|healthy|unhealthy|active|inactive|failing|failed|passing"
    r"|passed|new|total|matching|pending|ready|idle|stopped|available"
    r"|remaining|broken|stale|ec2|k8s|test|unit|worker)"
)
_RESOURCE_COUNT = (
    _NUM_START + _AFTER_LIMIT + _NUM + rf"\s+(?:{_RESOURCE_ADJ}\s+)?{_RESOURCE_NOUN}\b"
    # "10 jobs at a time", "50 items per page" are limits, not observations
    r"(?!\s+(?:per|each|at\s+a\s+time|at\s+once|in\s+parallel|concurrently)\b)"
)

# ---------------------------------------------------- verification receipts
# Bare "tests pass" is a receipt ("Tests pass on CI") unless it is a rule or
# a condition ("Make sure all tests pass", "merge once the tests pass").
_TESTS_PASS_GUARDS = (
    "sure", "ensure", "ensures", "until", "unless", "if", "when", "whenever",
    "must", "should", "once", "so", "to", "before", "after", "that",
)
_TESTS_PASS_FILLERS = (
    "", "the ", "all ", "all the ", "all of the ", "unit ", "the unit ",
    "all unit ", "integration ", "the integration ",
)
_TESTS_PASS_GUARD = "".join(
    rf"(?<!\b{g} {f})" for g in _TESTS_PASS_GUARDS for f in _TESTS_PASS_FILLERS
)
_VERIFICATION_MARKS = r"[\u2713\u2714\u2705\u2611]"  # ✓ ✔ ✅ ☑
_VERIFICATION_GATE = r"\b(?=[abcdetv])"  # the first letters of the phrases below
_VERIFICATION_PHRASES = (
    r"(?:verified|confirmed|validated|double-checked)\s+that\b",
    r"\ball\s+\d+\s+(?:\w+\s+)?tests?\s+(?:have\s+|now\s+)?pass(?:ed|es|ing)?\b",
    r"\btests?\s+(?:have\s+|all\s+|now\s+)?passed\b",
    r"\btests?\s+(?:are|were|now|all)\s+(?:now\s+|all\s+)?passing\b",
    r"\b(?=tests?\s+pass(?:es)?\b)" + _TESTS_PASS_GUARD + r"tests?\s+pass(?:es)?\b",
    r"\bbuild\s+(?:succeeded|passed|is\s+green|was\s+green|was\s+successful|successful)\b",
    r"\bCI\s+(?:is|was)\s+(?:now\s+)?green\b",
    r"\bchecked\s+and\s+(?:it\s+|everything\s+)?works?\b",
    r"\b(?:it|everything)\s+works\s+now\b",
)
_TESTS_PASS_PHRASE = 4  # index of the guarded "tests pass" phrase
_VERIFICATION_RECEIPT = (
    _VERIFICATION_MARKS
    + "|" + _VERIFICATION_GATE + "(?:" + "|".join(_VERIFICATION_PHRASES) + ")"
)
# Fast path: every phrase but the guarded one ...
_VERIFICATION_OTHER = (
    _VERIFICATION_GATE + "(?:"
    + "|".join(p for i, p in enumerate(_VERIFICATION_PHRASES) if i != _TESTS_PASS_PHRASE)
    + ")"
)
# ... and the guarded one's candidates, whose guard is checked in Python.
_TESTS_PASS = r"\btests?\s+pass(?:es)?\b"

# -------------------------------------------------------- state observations
_STATE_WORDS = (
    r"(?:running|up|down|live|online|offline|active|inactive|healthy"
    r"|unhealthy|ready|available|unavailable|deployed|working|broken|fixed"
    r"|failing|passing|green|red|stopped|started|pending|complete|completed"
    r"|done|finished|in\s+progress)"
)
_STATE_OBSERVATION = (
    rf"\b(?:is|are)\s+now\s+{_STATE_WORDS}\b"
    r"|\b(?:is|are)\s+(?:up|down)\b(?!\s+to\b|-)"
    r"|\bis\s+currently\b"
    r"|\bstatus\s*:(?:\s|$)"
    r"|\bstill\s+(?:pending|running|waiting|failing|broken|down|building"
    r"|deploying|processing|queued|in\s+progress)\b"
    r"|\bin\s+progress\b"
    r"|\bright\s+now\b"
    r"|\bat\s+the\s+moment\b"
)

# ------------------------------------------------------ deployment receipts
# Passive/habitual forms state a durable process, not an event:
# "Images are pushed to ECR by CI", "main is auto-deployed to staging".
_DEPLOY_VERBS = ("deployed", "pushed", "shipped", "published", "uploaded", "merged", "rolled")
_DEPLOY_GUARD_WORDS = (
    "is", "are", "be", "get", "gets", "automatically", "always", "never", "only", "usually"
)
_DEPLOY_GUARD = r"(?<!-)" + _not_after(_DEPLOY_GUARD_WORDS)
_DEPLOYMENT_RECEIPT = (
    r"\b(?=" + "|".join(_DEPLOY_VERBS) + ")" + _DEPLOY_GUARD + "(?:"
    r"(?:deployed|pushed|shipped|published|uploaded)\s+(?:\S+\s+){0,2}?to\b"
    r"|merged\s+(?:\S+\s+){0,2}?into\b"
    r"|rolled\s+(?:it\s+|this\s+|that\s+|\S+\s+)?(?:out|back)\b"
    r")"
    r"|\breleased\s+(?:version\s+)?v?\d+(?:\.\d+)+"
    r"|\bcommitted\s+(?:it\s+)?(?:as|in|at)\s+(?=[a-f]*\d)[0-9a-f]{7,40}\b"
)

# -------------------------------------------------- line number references
_LINE_NUMBER_REFERENCE = (
    r"\blines?\s+#?\d+\b"
    r"|#L\d+"
    r"|(?-i:\bL\d{2,}\b)"  # L42, but not L2/L7 ("L2 cache", "L7 load balancer")
)

# --------------------------------------------------------------- line counts
_LINE_COUNT = _NUM_START + _AFTER_LIMIT + _NUM + r"(?:\s*k)?(?:\s+|-)(?:lines?|s?loc)\b"

# ------------------------------------------------- symbol:line references
_SOURCE_EXT = (
    r"(?:py|pyi|pyx|ipynb|js|mjs|cjs|jsx|ts|mts|tsx|go|rs|java|kt|kts|scala"
    r"|groovy|gradle|rb|php|c|h|cc|cpp|cxx|hpp|hh|cs|fs|swift|m|mm|sh|bash"
    r"|zsh|ps1|lua|pl|pm|r|jl|ex|exs|erl|hs|ml|clj|dart|vue|svelte|html|htm"
    r"|css|scss|sass|less|sql|yaml|yml|json|toml|ini|cfg|conf|xml|md|rst|txt"
    r"|proto|tf|hcl|nix|zig|nim|elm|sol)"
)
# Words that are followed by ":<number>" for reasons other than a line
# number: URL schemes, ports, image tags (python:3, node:18), config keys.
_SYMBOL_STOPWORDS = (
    r"(?:https?|ftps?|sftp|ssh|git|svn|tcp|udp|wss?|file|mailto|smtp|imap|amqp"
    r"|jdbc|redis|postgres|postgresql|mysql|mongodb|mongo|port|ports|step|steps"
    r"|version|ver|line|lines|localhost|host|hostname|db|database|node|python"
    r"|ruby|golang|go|rust|java|openjdk|php|perl|ubuntu|debian|alpine|centos"
    r"|fedora|nginx|httpd|image|tag|timeout|retries|retry|replicas|workers"
    r"|threads|size|limit|max|min|count|level|priority|phase|stage|part|page"
    r"|section|chapter|item|issue|pr|ticket|round|day|week|month|year|time|at"
    r"|id|api|app|web|server|client|worker|pid|uid|gid|user|code|exit|status"
    r"|error|errno|rc|score|weight|ratio|depth|width|height|indent|tab|tabs"
    r"|row|col|column|offset|index|idx|attempt|try|total|note|ref|vol|volume)"
)
_SYM_START = r"(?<![\w./@:$#\\-])"
_SYMBOL_LINE_REFERENCE = (
    # server.py:120, src/app/main.ts:88:5
    # gate: the token reaches ":<digit>" (checked possessively, so linear)
    _SYM_START + r"(?=(?:[\w./$#~-]|::)*+(?:\(\))?:\d)(?:"
    rf"[A-Za-z_.~/][\w./-]*\.(?i:{_SOURCE_EXT}):\d+\b"
    # code-like identifiers (camelCase or snake_case somewhere in the dotted /
    # ::-joined path), any line number: handleRequest:88, parse_args:12,
    # UserService.createUser:301, Foo::doWork():7
    r"|(?=[A-Za-z_$])(?=(?:[\w$.#]|::)*?(?:[a-z][A-Z]|_))"
    r"(?>[\w$]+(?:(?:\.|::|#)[\w$]+)*)(?:\(\))?:\d+(?!\w|\.\d)"
    # main:42, render():9 -- plain words, not stop-words, 1-3 digit numbers
    rf"|(?!(?i:{_SYMBOL_STOPWORDS})(?:\(\))?:)"
    r"[A-Za-z][a-z]+(?:\(\))?:\d{1,3}(?!\w|\.\d|-[A-Za-z])"
    r")"
)

# -------------------------------------------------- line number corrections
_LINE_NUMBER_CORRECTION = (
    r"(?<![\w.])\d+\s*(?:->|-->|=>|\u2192|\u27f6|\u21d2|\u279c)\s*\d+(?![\w.])"
)

# ----------------------------------------------------------- back references
_BACK_REFERENCE = (
    r"\bmemor(?:y|ies)\s*\[\s*\d+\s*\]"
    r"|\bas\s+(?:I\s+|we\s+)?(?:mentioned|noted|stated|described|discussed|said|explained)"
    r"\s+(?:above|earlier|before|previously)\b"
    r"|\bas\s+(?:I|we)\s+(?:mentioned|noted|stated|said|explained)\b"
    r"|\bsee\s+(?:the\s+)?(?:previous|prior|above|earlier|last)\s+"
    r"(?:memory|memories|note|notes|entry|entries|message|messages)\b"
    r"|\b(?:previous|prior|earlier|last)\s+memory\b"
    r"|\bthe\s+above\b"
    r"|\b(?:mentioned|noted|described)\s+above\b"
)

# ---------------------------------------------------------- uppercase header
# A line made of 2+ all-caps words (one of them 4+ letters, so "AWS CLI:" is
# not a header), optionally decorated with #, *, =, -, >, ending the line or
# followed by a colon.
_HWORD = r"[A-Z0-9&][A-Z0-9&/'.-]*"
_UPPERCASE_HEADER = (
    r"^[ \t]*+(?:[#>*=-]++[ \t]*+)?\**+"
    r"(?=[A-Z0-9&/'. \t-]*?[A-Z]{4})"
    rf"[A-Z][A-Z0-9&/'.-]*(?:[ \t]+{_HWORD})+"
    r"[ \t]*\**[ \t]*(?::|[=#*-]*[ \t]*$)"
)

# ----------------------------------------------------------------- currently
_CURRENTLY = r"\bcurrently\b"

# ---------------------------------------------------------------- as of date
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_AS_OF_DATE = (
    r"\bas\s+of\s+(?:"
    r"\d{4}-\d{1,2}(?:-\d{1,2})?\b"
    r"|\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|(?:19|20)\d{2}\b(?!\.\d)"
    rf"|{_MONTH}\b"
    r"|q[1-4]\b"
    r"|today|tonight|now|yesterday|right\s+now|writing|this\s+writing"
    r"|(?:this|last)\s+(?:morning|afternoon|evening|night|week|month|year|quarter|sprint)"
    r")\b"
)

# (label, source, flags) in rule order: what :data:`RULES` compiles.
_RULE_SOURCES = (
    ("aws_instance_id", _AWS_INSTANCE_ID, 0),
    ("resource_count", _RESOURCE_COUNT, _I),
    ("verification_receipt", _VERIFICATION_RECEIPT, _I),
    ("state_observation", _STATE_OBSERVATION, _I),
    ("deployment_receipt", _DEPLOYMENT_RECEIPT, _I),
    ("line_number_reference", _LINE_NUMBER_REFERENCE, _I),
    ("line_count", _LINE_COUNT, _I),
    ("symbol_line_reference", _SYMBOL_LINE_REFERENCE, 0),
    ("line_number_correction", _LINE_NUMBER_CORRECTION, 0),
    ("back_reference", _BACK_REFERENCE, _I),
    ("uppercase_header", _UPPERCASE_HEADER, _M),
    ("currently", _CURRENTLY, _I),
    ("as_of_date", _AS_OF_DATE, _I),
)

# Everything the fast path may compile, by key: the rules, plus the two
# halves of verification_receipt.
_SOURCES = {label: (source, flags) for label, source, flags in _RULE_SOURCES}
_SOURCES["verification_marks"] = (_VERIFICATION_MARKS, _I)
_SOURCES["verification_other"] = (_VERIFICATION_OTHER, _I)
_SOURCES["tests_pass"] = (_TESTS_PASS, _I)

_COMPILED: dict = {}


def _pattern(key: str) -> "re.Pattern[str]":
    """The compiled pattern for ``key`` (compiled on first use)."""
    pattern = _COMPILED.get(key)
    if pattern is None:
        source, flags = _SOURCES[key]
        pattern = _COMPILED[key] = re.compile(source, flags)
    return pattern


def __getattr__(name: str):
    # RULES is built on first access, not at import (see the module notes).
    if name == "RULES":
        rules = tuple((label, _pattern(label)) for label, _, _ in _RULE_SOURCES)
        globals()["RULES"] = rules
        return rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RULES: "tuple[tuple[str, re.Pattern[str]], ...]"
"""Ordered ``(label, compiled pattern)`` pairs; a label applies if its pattern
matches anywhere in the text (``pattern.search``).  Compiled on first access
(by the module ``__getattr__`` above), not at import."""

LABELS = tuple(label for label, _, _ in _RULE_SOURCES)

WEIGHTS = {
    "verification_receipt": 3,
    "deployment_receipt": 3,
    "state_observation": 3,
    "resource_count": 2,
    "aws_instance_id": 2,
    "line_number_reference": 2,
    "symbol_line_reference": 2,
    "line_number_correction": 2,
    "back_reference": 2,
    "as_of_date": 2,
    "line_count": 1,
    "currently": 1,
    "uppercase_header": 1,
}
"""Per-label weight used by :func:`severity`: receipts and state snapshots
weigh most, stale-prone references next, cosmetic issues least."""

DEFAULT_WEIGHT = 1
"""Weight of a label not in :data:`WEIGHTS` (e.g. one stored by a newer
version), so unknown labels still rank above clean memories."""


# --------------------------------------------------------------------------
# Triggers: (label, pattern key, trigger) in rule order.  A label applies if
# for one of its rows the trigger holds and the pattern (if any) matches.
# A trigger is a necessary condition for its pattern to match, so when it
# fails the pattern is neither compiled nor run.  It is a string:
# alternatives separated by "|", each a list of atoms that must all hold:
#   word    occurs in the folded text (see _fold)
#   #       the text has a digit (\d)
#   a,b~w   w occurs right after whitespace that follows a or b ("~w": after
#           any whitespace)
#   @name   _t_name(text, low) is true
# \s is str.isspace, \d str.isdecimal and \w str.isalnum or "_", exactly as
# in re for str patterns.
# --------------------------------------------------------------------------

_TRIGGERS = (
    ("aws_instance_id", "aws_instance_id", "i-"),
    ("resource_count", "resource_count", "@resource_count"),
    ("verification_receipt", "verification_marks", "\u2713|\u2714|\u2705|\u2611"),
    ("verification_receipt", "verification_other",
     "that verified|that confirmed|that validated|that double-checked|test passed"
     "|test passing|test pass all #|build succe|build passed|build green|ci green"
     "|checked work|works now"),
    ("verification_receipt", None, "test pass @tests_pass"),
    ("state_observation", "state_observation",
     "is,are,right~now|is,are~up|is,are~down|currently|status :|still|progress|moment"),
    ("deployment_receipt", "deployment_receipt", "released|committed|@deploy"),
    ("line_number_reference", "line_number_reference", "line #|#l #|@line_ref"),
    ("line_count", "line_count", "@line_count"),
    ("symbol_line_reference", "symbol_line_reference", "@symbol_line"),
    ("line_number_correction", "line_number_correction",
     "-> #|=> #|\u2192 #|\u27f6 #|\u21d2 #|\u279c #"),
    ("back_reference", "back_reference",
     "memor|mentioned|noted|stated|described|discussed|said|explained|the~above"
     "|see previous|see prior|see above|see earlier|see last"),
    ("uppercase_header", "uppercase_header", "@header"),
    ("currently", "currently", "currently"),
    ("as_of_date", "as_of_date", "as~of"),
)


def _fold(text: str) -> str:
    """``text`` lower-cased, indices unchanged, such that every character an
    ASCII letter matches under ``re.IGNORECASE`` becomes that letter: also
    U+0130 and U+0131 ("i"), U+017F ("s") and U+212A ("k").  (U+0130 is
    the only code point whose lower case is two characters long.)"""
    if text.isascii():
        return text.lower()
    low = text.replace("\u0130", "i").lower()
    return low.replace("\u0131", "i").replace("\u017f", "s")


def _triggered(trigger: str, text: str, low: str) -> bool:
    for alternative in trigger.split("|"):
        for atom in alternative.split(" "):
            if atom[0] == "@":
                ok = globals()["_t_" + atom[1:]](text, low)
            elif atom == "#":
                ok = any(ch.isdecimal() for ch in text)
            elif "~" in atom:
                before, word = atom.split("~")
                ok = _after_space(low, word, tuple(before.split(",")) if before else ())
            else:
                ok = atom in low
            if not ok:
                break
        else:
            return True
    return False


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _after_space(low: str, word: str, before: tuple) -> bool:
    """``word`` follows whitespace (which follows one of ``before``)."""
    i = low.find(word)
    while i >= 0:
        j = i
        while j and low[j - 1].isspace():
            j -= 1
        if j < i and (not before or low.endswith(before, 0, j)):
            return True
        i = low.find(word, i + 1)
    return False


def _guarded(text: str, low: str, end: int, phrases) -> bool:
    """``(?<!\\b<phrase>)`` fails at ``end`` for one of ``phrases`` (lower case,
    each starting with a letter)."""
    for phrase in phrases:
        start = end - len(phrase)
        if start >= 0 and low.startswith(phrase, start) and not (
            start and _is_word(text[start - 1])
        ):
            return True
    return False


def _t_tests_pass(text, low):
    # The guarded "tests pass" phrase, checked like the full pattern does:
    # \b(?=tests?\s+pass(?:es)?\b)<guard>... where the guard is (?<!\b<g> <f>)
    # for every guard word g and filler f.  Candidates never overlap, so
    # finditer sees every start.
    phrases = [g + " " + f for g in _TESTS_PASS_GUARDS for f in _TESTS_PASS_FILLERS]
    return any(
        not _guarded(text, low, m.start(), phrases)
        for m in _pattern("tests_pass").finditer(text)
    )


def _t_resource_count(text, low):
    # <number> [<adjective>] <noun>: the number ends a whitespace-separated
    # token; an adjective is a whole token.
    nouns = ("pod", "instance", "container", "node", "replica", "file", "row", "record",
             "test", "server", "vm", "task", "job", "item")
    words = low.split()
    for i in range(len(words) - 1):
        if words[i][-1].isdecimal() and (
            words[i + 1].startswith(nouns)
            or (words[i + 1] in _RESOURCE_ADJ[3:-1].split("|")
                and words[i + 2 : i + 3] and words[i + 2].startswith(nouns))
        ):
            return True
    return False


def _t_deploy(text, low):
    # A verb of _DEPLOY_VERBS at a word start that _DEPLOY_GUARD lets through.
    guards = _DEPLOY_GUARD_WORDS
    for verb in _DEPLOY_VERBS:
        i = low.find(verb)
        while i >= 0:
            if not i or not (
                _is_word(text[i - 1])
                or text[i - 1] == "-"
                or (text[i - 1].isspace() and _guarded(text, low, i - 1, guards))
            ):
                return True
            i = low.find(verb, i + 1)
    return False


def _digit_after(text: str, literal: str):
    """Indices of ``literal`` where a digit follows it."""
    i = text.find(literal)
    while i >= 0:
        if text[i + len(literal) : i + len(literal) + 1].isdecimal():
            yield i
        i = text.find(literal, i + 1)


def _t_line_ref(text, low):
    return next(_digit_after(text, "L"), None) is not None  # (?-i:\bL\d{2,}\b)


def _t_line_count(text, low):
    # Backwards from "lines?" / "s?loc": (\s+|-), optional \s*k, a digit.
    for noun in ("line", "loc", "sloc"):
        i = low.find(noun)
        while i >= 0:
            j = i
            if j and low[j - 1] == "-":
                j -= 1
            else:
                while j and low[j - 1].isspace():
                    j -= 1
            if j < i:
                if j and low[j - 1] == "k":
                    j -= 1
                    while j and low[j - 1].isspace():
                        j -= 1
                if j and low[j - 1].isdecimal():
                    return True
            i = low.find(noun, i + 1)
    return False


def _t_symbol_line(text, low):
    # Every alternative ends in ":<digit>", after
    # 1. "." and a source extension, or
    # 2. (optionally "()" after) a run of [\w$.#:] holding "_" or [a-z][A-Z], or
    # 3. (optionally "()" after) a whole \w run [A-Za-z][a-z]+ that is no stop
    #    word and does not follow one of ./@:$#\-.
    for colon in _digit_after(text, ":"):
        j = colon
        while j and text[j - 1].isalnum():
            j -= 1
        if 0 < j < colon and text[j - 1] == "." and (
            _fold(text[j:colon]) in _SOURCE_EXT[3:-1].split("|")
        ):
            return True
        end = colon - 2 if colon >= 2 and text.startswith("()", colon - 2) else colon
        j = end
        while j and (_is_word(text[j - 1]) or text[j - 1] in "$.#:"):
            j -= 1
            if end - j > 100:  # a long run (it spans colons): let the pattern
                return True  # decide, so that this stays linear
        token = text[j:end]
        if "_" in token or any(
            "a" <= a <= "z" and "A" <= b <= "Z" for a, b in zip(token, token[1:], strict=False)
        ):
            return True
        j = end
        while j and _is_word(text[j - 1]):
            j -= 1
        word = text[j:end]
        if (
            word[1:] and word.isascii() and word.isalpha() and word[1:].islower()
            and word.lower() not in _SYMBOL_STOPWORDS[3:-1].split("|")
            and (not j or text[j - 1] not in "./@:$#\\-")
        ):
            return True
    return False


def _t_header(text, low):
    # A line of: decoration, an upper-case word, blanks, a second header-word
    # start (the head of the pattern, which cannot backtrack).
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for line in text.split("\n"):
        line = line.lstrip(" \t#>*=-")
        if line[:1] and line[0] in upper:
            rest = line.lstrip(upper + "0123456789&/'.-")
            if rest[:1] and rest[0] in " \t":
                rest = rest.lstrip(" \t")
                if rest[:1] and rest[0] in upper + "0123456789&":
                    return True
    return False


def quality_warnings(text: str) -> list[str]:
    """Return the labels of every rule that matches ``text``.

    Labels come in :data:`RULES` order, each at most once; a clean memory
    yields ``[]``.  Empty or ``None`` text yields ``[]``.
    """
    if not text:
        return []
    low = _fold(text)
    found: list[str] = []
    for label, key, trigger in _TRIGGERS:
        if (
            (not found or found[-1] != label)
            and _triggered(trigger, text, low)
            and (key is None or _pattern(key).search(text) is not None)
        ):
            found.append(label)
    return found


def severity(warnings: list[str]) -> int:
    """Score a list of warning labels for ranking, higher is worse.

    The sum of :data:`WEIGHTS` over the distinct labels (duplicates count
    once; unknown labels count :data:`DEFAULT_WEIGHT`).
    """
    return sum(WEIGHTS.get(label, DEFAULT_WEIGHT) for label in dict.fromkeys(warnings))
