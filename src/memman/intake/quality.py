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

* Only :mod:`re` is used and every pattern is compiled once at import time;
  this runs on the remember hot path.
* Patterns are written to be linear on adversarial input (8000-byte repeats):
  token starts are pinned with look-behinds, runs that could be split several
  ways are atomic or possessive, and line-anchored rules only start at ``^``.
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
_AWS_INSTANCE_ID = re.compile(r"\bi-(?:[0-9a-fA-F]{17}|[0-9a-fA-F]{8})\b")

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
_RESOURCE_COUNT = re.compile(
    _NUM_START + _AFTER_LIMIT + _NUM + rf"\s+(?:{_RESOURCE_ADJ}\s+)?{_RESOURCE_NOUN}\b"
    # "10 jobs at a time", "50 items per page" are limits, not observations
    r"(?!\s+(?:per|each|at\s+a\s+time|at\s+once|in\s+parallel|concurrently)\b)",
    _I,
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
_VERIFICATION_RECEIPT = re.compile(
    r"[\u2713\u2714\u2705\u2611]"  # ✓ ✔ ✅ ☑
    r"|\b(?=[abcdetv])(?:"  # gate on the first letters of the phrases below
    r"(?:verified|confirmed|validated|double-checked)\s+that\b"
    r"|\ball\s+\d+\s+(?:\w+\s+)?tests?\s+(?:have\s+|now\s+)?pass(?:ed|es|ing)?\b"
    r"|\btests?\s+(?:have\s+|all\s+|now\s+)?passed\b"
    r"|\btests?\s+(?:are|were|now|all)\s+(?:now\s+|all\s+)?passing\b"
    r"|\b(?=tests?\s+pass(?:es)?\b)" + _TESTS_PASS_GUARD + r"tests?\s+pass(?:es)?\b"
    r"|\bbuild\s+(?:succeeded|passed|is\s+green|was\s+green|was\s+successful|successful)\b"
    r"|\bCI\s+(?:is|was)\s+(?:now\s+)?green\b"
    r"|\bchecked\s+and\s+(?:it\s+|everything\s+)?works?\b"
    r"|\b(?:it|everything)\s+works\s+now\b"
    r")",
    _I,
)

# -------------------------------------------------------- state observations
_STATE_WORDS = (
    r"(?:running|up|down|live|online|offline|active|inactive|healthy"
    r"|unhealthy|ready|available|unavailable|deployed|working|broken|fixed"
    r"|failing|passing|green|red|stopped|started|pending|complete|completed"
    r"|done|finished|in\s+progress)"
)
_STATE_OBSERVATION = re.compile(
    rf"\b(?:is|are)\s+now\s+{_STATE_WORDS}\b"
    r"|\b(?:is|are)\s+(?:up|down)\b(?!\s+to\b|-)"
    r"|\bis\s+currently\b"
    r"|\bstatus\s*:(?:\s|$)"
    r"|\bstill\s+(?:pending|running|waiting|failing|broken|down|building"
    r"|deploying|processing|queued|in\s+progress)\b"
    r"|\bin\s+progress\b"
    r"|\bright\s+now\b"
    r"|\bat\s+the\s+moment\b",
    _I,
)

# ------------------------------------------------------ deployment receipts
# Passive/habitual forms state a durable process, not an event:
# "Images are pushed to ECR by CI", "main is auto-deployed to staging".
_DEPLOY_GUARD = r"(?<!-)" + _not_after(
    ("is", "are", "be", "get", "gets", "automatically", "always", "never", "only", "usually")
)
_DEPLOYMENT_RECEIPT = re.compile(
    r"\b(?=deployed|pushed|shipped|published|uploaded|merged|rolled)" + _DEPLOY_GUARD + "(?:"
    r"(?:deployed|pushed|shipped|published|uploaded)\s+(?:\S+\s+){0,2}?to\b"
    r"|merged\s+(?:\S+\s+){0,2}?into\b"
    r"|rolled\s+(?:it\s+|this\s+|that\s+|\S+\s+)?(?:out|back)\b"
    r")"
    r"|\breleased\s+(?:version\s+)?v?\d+(?:\.\d+)+"
    r"|\bcommitted\s+(?:it\s+)?(?:as|in|at)\s+(?=[a-f]*\d)[0-9a-f]{7,40}\b",
    _I,
)

# -------------------------------------------------- line number references
_LINE_NUMBER_REFERENCE = re.compile(
    r"\blines?\s+#?\d+\b"
    r"|#L\d+"
    r"|(?-i:\bL\d{2,}\b)",  # L42, but not L2/L7 ("L2 cache", "L7 load balancer")
    _I,
)

# --------------------------------------------------------------- line counts
_LINE_COUNT = re.compile(
    _NUM_START + _AFTER_LIMIT + _NUM + r"(?:\s*k)?(?:\s+|-)(?:lines?|s?loc)\b",
    _I,
)

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
_SYMBOL_LINE_REFERENCE = re.compile(
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
_LINE_NUMBER_CORRECTION = re.compile(
    r"(?<![\w.])\d+\s*(?:->|-->|=>|\u2192|\u27f6|\u21d2|\u279c)\s*\d+(?![\w.])"
)

# ----------------------------------------------------------- back references
_BACK_REFERENCE = re.compile(
    r"\bmemor(?:y|ies)\s*\[\s*\d+\s*\]"
    r"|\bas\s+(?:I\s+|we\s+)?(?:mentioned|noted|stated|described|discussed|said|explained)"
    r"\s+(?:above|earlier|before|previously)\b"
    r"|\bas\s+(?:I|we)\s+(?:mentioned|noted|stated|said|explained)\b"
    r"|\bsee\s+(?:the\s+)?(?:previous|prior|above|earlier|last)\s+"
    r"(?:memory|memories|note|notes|entry|entries|message|messages)\b"
    r"|\b(?:previous|prior|earlier|last)\s+memory\b"
    r"|\bthe\s+above\b"
    r"|\b(?:mentioned|noted|described)\s+above\b",
    _I,
)

# ---------------------------------------------------------- uppercase header
# A line made of 2+ all-caps words (one of them 4+ letters, so "AWS CLI:" is
# not a header), optionally decorated with #, *, =, -, >, ending the line or
# followed by a colon.
_HWORD = r"[A-Z0-9&][A-Z0-9&/'.-]*"
_UPPERCASE_HEADER = re.compile(
    r"^[ \t]*+(?:[#>*=-]++[ \t]*+)?\**+"
    r"(?=[A-Z0-9&/'. \t-]*?[A-Z]{4})"
    rf"[A-Z][A-Z0-9&/'.-]*(?:[ \t]+{_HWORD})+"
    r"[ \t]*\**[ \t]*(?::|[=#*-]*[ \t]*$)",
    _M,
)

# ----------------------------------------------------------------- currently
_CURRENTLY = re.compile(r"\bcurrently\b", _I)

# ---------------------------------------------------------------- as of date
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_AS_OF_DATE = re.compile(
    r"\bas\s+of\s+(?:"
    r"\d{4}-\d{1,2}(?:-\d{1,2})?\b"
    r"|\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|(?:19|20)\d{2}\b(?!\.\d)"
    rf"|{_MONTH}\b"
    r"|q[1-4]\b"
    r"|today|tonight|now|yesterday|right\s+now|writing|this\s+writing"
    r"|(?:this|last)\s+(?:morning|afternoon|evening|night|week|month|year|quarter|sprint)"
    r")\b",
    _I,
)

RULES = (
    ("aws_instance_id", _AWS_INSTANCE_ID),
    ("resource_count", _RESOURCE_COUNT),
    ("verification_receipt", _VERIFICATION_RECEIPT),
    ("state_observation", _STATE_OBSERVATION),
    ("deployment_receipt", _DEPLOYMENT_RECEIPT),
    ("line_number_reference", _LINE_NUMBER_REFERENCE),
    ("line_count", _LINE_COUNT),
    ("symbol_line_reference", _SYMBOL_LINE_REFERENCE),
    ("line_number_correction", _LINE_NUMBER_CORRECTION),
    ("back_reference", _BACK_REFERENCE),
    ("uppercase_header", _UPPERCASE_HEADER),
    ("currently", _CURRENTLY),
    ("as_of_date", _AS_OF_DATE),
)
"""Ordered ``(label, compiled pattern)`` pairs; a label applies if its pattern
matches anywhere in the text (``pattern.search``)."""

LABELS = tuple(label for label, _ in RULES)

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


def quality_warnings(text: str) -> list[str]:
    """Return the labels of every rule that matches ``text``.

    Labels come in :data:`RULES` order, each at most once; a clean memory
    yields ``[]``.  Empty or ``None`` text yields ``[]``.
    """
    if not text:
        return []
    return [label for label, pattern in RULES if pattern.search(text)]


def severity(warnings: list[str]) -> int:
    """Score a list of warning labels for ranking, higher is worse.

    The sum of :data:`WEIGHTS` over the distinct labels (duplicates count
    once; unknown labels count :data:`DEFAULT_WEIGHT`).
    """
    return sum(WEIGHTS.get(label, DEFAULT_WEIGHT) for label in dict.fromkeys(warnings))
