"""The lazy fast path of memman.intake.redact and memman.intake.quality.

Both modules compile a pattern only when a cheap trigger (a necessary
condition for the pattern to match) passes.  A trigger that is too strict
would silently drop a redaction or a warning, so these tests check

* every trigger against its pattern on every string of the two test files
  (each positive example must pass its trigger), and
* the fast path against the reference "compile and run every rule" on that
  corpus and on random mixtures of it (identical results required).
"""

import ast
import random
import re
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

import memman.intake.quality as q
import memman.intake.redact as r
from tests import test_quality as tq
from tests import test_redact as tr

# --------------------------------------------------------------------------
# corpus: every string in both test files
# --------------------------------------------------------------------------


def _strings(value, out):
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _strings(item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings(key, out)
            _strings(item, out)


def _harvest(module) -> list[str]:
    """String literals of the module's source, its module-level string values
    (fake credentials are built at run time) and its parametrize arguments."""
    out: list[str] = []
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
    for name, value in vars(module).items():
        if name.startswith("__"):
            continue
        _strings(value, out)
        for mark in getattr(value, "pytestmark", ()):
            if mark.name == "parametrize":
                _strings(mark.args[1], out)
    return out


def _expand(texts: list[str]) -> list[str]:
    """Also the test templates filled in, and the (short) pathological ones."""
    out = list(texts)
    for text in texts:
        if "{v}" in text:
            out.append(text.replace("{{", "{").replace("}}", "}").replace("{v}", tr.PASSWORD))
    return out


# (the long pathological inputs are cut to their first 500 characters)
CORPUS = sorted({t if len(t) <= 2000 else t[:500] for t in _expand(_harvest(tr) + _harvest(tq))})
assert len(CORPUS) > 300

# Fragments that sit on trigger edges: case and Unicode case variants,
# unusual whitespace and digits, separators and markers.
EDGE_PIECES = [
    " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\x1f", "", ":", "=", "-", "_", ".", ",", "()",
    "#", "$", "/", "@", "'", '"', "\\", "[", "]", "<", ">", "*", "&",
    "\u0130", "\u0131", "\u017f", "\u212a", "\u0663", "\u0664\u0665", "1", "42", "1,200", "3k",
    "L42", "#L7", "i-0abc123d", "->", "\u2192", "=>",
    "tests", "TeSts", "te\u017fts", "pass", "PA\u017f\u017f", "passes", "passed", "passing",
    "sure", "en\u017fure", "unit", "integration", "all", "the", "of", "as", "is", "are",
    "up", "down", "now", "right", "still", "status", "currently", "progress", "moment",
    "deployed", "merged", "pushed", "rolled", "released", "committed", "into", "to", "out",
    "auto-", "always", "never", "usually", "line", "lines", "loc", "sloc", "k",
    "pods", "replicas", "running", "healthy", "memory[3]", "above", "mentioned", "see",
    "previous", "notes", "IMPORTANT", "NOTES", "##", "**", "verified", "that", "build",
    "succeeded", "green", "CI", "checked", "works", "everything", "it",
    "server.py", ".PY", ".ps1", ".\u212at", "handleRequest", "parse_args", "Foo::bar", "main",
    "node", "Python", "db.internal", "localhost", "step",
    "password", "pa\u017f\u017fword", "PASSWD", "pwd", "secret", "\u017fecret", "token",
    "api", "API_KEY", "Api-Key", "apikey", "_access_key", "bearer", "BEARER",
    "Authorization: Bearer ", "<private>", "</private>", "<PR\u0130VATE>", "<pr\u0131vate >",
    "sk-", "sk-ant-", "sk-or-", "pa-", "ghp_", "github_pat_", "AKIA", "ASIA", "xoxb-", "xapp-",
    "eyJ", ".eyJ", "hooks.slack.com/services/", "https://", "postgres://u:", "-----BEGIN ",
    "PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "[REDACTED:openai_key]",
    "[REDACTED:password_assignment]",
    tr.ANTHROPIC, tr.OPENROUTER, tr.OPENAI, tr.OPENAI_PROJ, tr.VOYAGE, tr.GHP, tr.GITHUB_PAT,
    tr.AWS, tr.SLACK, tr.SLACK_HOOK_PATH, tr.JWT, tr.BEARER, tr.PASSWORD, tr.PEM,
]
WORDS = sorted({w for t in CORPUS if len(t) < 400 for w in t.split()})
SEPARATORS = [" ", " ", " ", "", "\n", "\t", "  ", ", ", ". ", ": ", "\u00a0", "-", "/"]


def _mixtures(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    short = [t for t in CORPUS if len(t) <= 300]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 10)):
            pick = rng.random()
            if pick < 0.15:
                parts.append(rng.choice(short))
            elif pick < 0.55:
                parts.append(rng.choice(EDGE_PIECES))
            else:
                parts.append(rng.choice(WORDS))
            parts.append(rng.choice(SEPARATORS))
        text = "".join(parts)
        roll = rng.random()
        if roll < 0.15:
            text = text.upper()
        elif roll < 0.3:
            text = "".join(c.swapcase() if rng.random() < 0.3 else c for c in text)
        elif roll < 0.35:
            text = text.replace("s", "\u017f").replace("i", "\u0131").replace("k", "\u212a")
        out.append(text)
    return out


MIXTURES = _mixtures(20240501, 6000)


# --------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------

# Per trigger row: the pattern whose match the row's trigger must allow.
# Rows with a pattern key run that pattern; the key-less row (the guarded
# "tests pass" phrase) is checked against that phrase of the full pattern.
_TESTS_PASS_FULL = re.compile(
    q._VERIFICATION_GATE + "(?:" + q._VERIFICATION_PHRASES[q._TESTS_PASS_PHRASE] + ")",
    re.IGNORECASE,
)


def _row_reference(key):
    return _TESTS_PASS_FULL if key is None else q._pattern(key)


def _reference_warnings(text):
    if not text:
        return []
    return [label for label, pattern in q.RULES if pattern.search(text)]


def _check_quality_rows(text):
    low = q._fold(text)
    for label, key, trigger in q._TRIGGERS:
        matches = _row_reference(key).search(text) is not None
        triggered = q._triggered(trigger, text, low)
        if matches:
            assert triggered, (label, key, trigger, text)
        if key is None:
            assert triggered == matches, (label, text)


def test_rules_are_the_full_patterns():
    assert [label for label, _ in q.RULES] == list(q.LABELS)
    for (label, pattern), (label2, source, flags) in zip(q.RULES, q._RULE_SOURCES, strict=True):
        assert label == label2
        assert pattern.pattern == source
        assert pattern.flags == re.compile(source, flags).flags
    assert [label for label, _, _ in q._TRIGGERS] == sorted(
        (row[0] for row in q._TRIGGERS), key=q.LABELS.index
    )
    assert {label for label, _, _ in q._TRIGGERS} == set(q.LABELS)


def test_verification_split_covers_the_full_pattern():
    # The fast path runs marks | other phrases | guarded phrase; together they
    # are the full alternation.
    full = q._VERIFICATION_RECEIPT
    assert full == (
        q._VERIFICATION_MARKS + "|" + q._VERIFICATION_GATE + "(?:"
        + "|".join(q._VERIFICATION_PHRASES) + ")"
    )
    others = [p for i, p in enumerate(q._VERIFICATION_PHRASES) if i != q._TESTS_PASS_PHRASE]
    assert q._VERIFICATION_OTHER == q._VERIFICATION_GATE + "(?:" + "|".join(others) + ")"


@pytest.mark.parametrize(
    "label,text",
    [(label, text) for label, (pos, _) in tq.CASES.items() for text in pos],
)
def test_quality_positive_examples_pass_their_trigger(label, text):
    low = q._fold(text)
    rows = [(key, trigger) for lab, key, trigger in q._TRIGGERS if lab == label]
    assert any(
        q._triggered(trigger, text, low) and _row_reference(key).search(text)
        for key, trigger in rows
    ), (label, text)
    _check_quality_rows(text)


def test_quality_triggers_on_corpus():
    for text in CORPUS:
        _check_quality_rows(text)
        assert q.quality_warnings(text) == _reference_warnings(text), text


def test_quality_fast_path_equals_reference_on_mixtures():
    for text in MIXTURES:
        assert q.quality_warnings(text) == _reference_warnings(text), text
        _check_quality_rows(text)


def test_quality_guarded_tests_pass_phrase_exhaustively():
    # Every guard word x filler, in several cases / spacings, with and
    # without a word character in front, must agree with the full pattern.
    texts = []
    for guard in q._TESTS_PASS_GUARDS:
        for filler in q._TESTS_PASS_FILLERS:
            for head in ("", "x", "-", "\n", "un"):
                for tail in ("tests pass", "test passes", "tests\tpass.", "Tests  PASS"):
                    texts.append(f"{head}{guard} {filler}{tail}")
                    texts.append(f"{head}{guard}  {filler}{tail}")
                    texts.append(f"{head}{guard.upper()} {filler.upper()}{tail}")
    texts += ["tests pass", "Tests pass on CI", "\u0130f tests pass", "\u017fure tests pass"]
    for text in texts:
        assert q.quality_warnings(text) == _reference_warnings(text), text
        _check_quality_rows(text)


# One or more positive examples per alternative of every rule (the test
# files' examples do not cover them all), each checked on its own.
ALTERNATIVE_POSITIVES = {
    "aws_instance_id": ["i-0abc123def4567890", "(i-deadbeef)"],
    "resource_count": [
        "3 pods", "(3 pods", "1,200 rows", "3 running pods", "2 ec2 instances", "4 k8s nodes",
        "5 test files", "7 unit tests", "2 worker vms", "3\u00a0PODS", "\u0663 jobs", "9 items",
        "2 records", "6 servers", "1 task", "2 containers", "3 replicas",
    ],
    "verification_receipt": [
        "\u2713", "\u2714 done", "\u2705", "\u2611", "verified that x", "Confirmed that",
        "validated that", "double-checked that", "all 12 tests passed", "all 3 unit tests pass",
        "all 5 tests have passed", "tests passed", "tests have passed", "tests all passed",
        "tests are passing", "tests were all passing", "test now passing", "tests pass",
        "test passes", "TESTS PASS", "build succeeded", "build passed", "build is green",
        "build was green", "build was successful", "build successful", "CI is green",
        "ci was now green", "checked and it works", "checked and everything work",
        "checked and works", "everything works now",
    ],
    "state_observation": [
        "is now running", "are now in progress", "is\tnow live", "is up", "are down",
        "is currently", "status: x", "Status:", "still pending", "still in progress",
        "in progress", "right now", "at the moment",
    ],
    "deployment_receipt": [
        "deployed to prod", "pushed it to main", "shipped x y to z", "published v to npm",
        "uploaded to s3", "merged x into main", "rolled out", "rolled it back", "Rolled back",
        "released v1.2", "released version 2.0.1", "committed as abc1234",
        "committed it in 1234567",
    ],
    "line_number_reference": ["line 42", "lines #10", "#L7", "#l7", "L42"],
    "line_count": [
        "500 lines", "1200-line", "3k LOC", "3 k lines", "12 sloc", "2,400 lines", "5k-loc",
        "7\nline",
    ],
    "symbol_line_reference": [
        "server.py:120", "src/app/main.ts:88:5", "x.PS1:3", "a.\u212at:4", "handleRequest:88",
        "parse_args:12", "UserService.createUser:301", "Foo::doWork():7", "a#b_c:5",
        "a_b#c:5", "a_b.c:5", "a_b::c:5", "aB.c:5", "a$_b:1", "x_y.z():2",
        "$foo_bar:3", "main:42", "render():9", "Main:42", "(main:42",
    ],
    "line_number_correction": [
        "120 -> 134", "42\u219257", "10->12", "1 --> 2", "3 => 4", "5 \u27f6 6", "7\u21d28",
        "9 \u279c 10",
    ],
    "back_reference": [
        "memory[3]", "memories [ 2 ]", "as mentioned above", "as I noted earlier",
        "as we said before", "as stated previously", "as described above",
        "as discussed earlier", "as explained before", "As I mentioned", "as we explained",
        "see previous memory", "see the prior notes", "see above entry", "see earlier messages",
        "see last note", "previous memory", "last memory", "the above", "noted above",
        "described above",
    ],
    "uppercase_header": [
        "IMPORTANT NOTES:", "## SUMMARY OF CHANGES", "**KEY DECISIONS:**", "  > NEXT STEPS",
        "=== BIG TITLE ===", "A LONG-TERM PLAN", "R&D NOTES:", "x\nOPEN QUESTIONS\ny",
    ],
    "currently": ["currently", "CURRENTLY"],
    "as_of_date": [
        "as of 2025-01-31", "as of 1/2/24", "as of 2024", "as of jan", "as of Q3",
        "as of today", "as of right now", "as of this writing", "as of last sprint",
    ],
}


def _variants(text):
    yield text
    yield text.upper()
    yield text.replace(" ", "\u00a0")
    yield text.replace("s", "\u017f").replace("i", "\u0131").replace("k", "\u212a")
    yield text.replace("I", "\u0130").replace("K", "\u212a")
    yield "x " + text + " y"
    yield "_" + text


@pytest.mark.parametrize(
    "label,text",
    [(label, text) for label, texts in ALTERNATIVE_POSITIVES.items() for text in texts],
)
def test_quality_alternatives_pass_their_trigger(label, text):
    assert label in _reference_warnings(text)  # the example is a real positive
    for variant in _variants(text):
        _check_quality_rows(variant)
        assert q.quality_warnings(variant) == _reference_warnings(variant), variant


def test_quality_alternatives_cover_every_label():
    assert set(ALTERNATIVE_POSITIVES) == set(q.LABELS)


@pytest.mark.parametrize(
    "text",
    [
        "Feature branches are merged into main",
        "main is auto-deployed to staging",
        "Images are usually pushed to ECR",
        "We deployed to prod",
        "x-deployed to prod",
        "is\u00a0deployed to prod",
        "this deployed to prod",
        "IS deployed to prod",
        "Rolled it back",
        "db.py:12 and x.ps1:3 and a.\u212aT:4 and Foo::doWork():7 and render():9 at 10:30",
        "node:18 python:3 step:3 Main:42 main:4200 -main:4 a_b:1 aB:1 1:2",
        "3 k-line file; 3k LOC; 3 -line; 12 sloc; 1200-line",
        "5 running pods; 3 ec2 instances; 2 test  files",
        "NOTES ON X:\n  ## SUMMARY OF CHANGES\n**KEY DECISIONS:**",
    ],
)
def test_quality_trigger_edge_cases(text):
    assert q.quality_warnings(text) == _reference_warnings(text)
    _check_quality_rows(text)


# --------------------------------------------------------------------------
# redact
# --------------------------------------------------------------------------


def _reference_redact(text):
    r._FULL = True
    try:
        return r.redact(text)
    finally:
        r._FULL = False


def _check_redact_rules(text):
    """Every pattern that matches ``text`` has a passing trigger."""
    low = r._fold(text)
    if r._rx(r._PRIVATE_TAG).search(text):
        assert "<" in text and "private" in low, text
    for kind, pattern, triggers, required, _ in r._CASED_RULES:
        if r._rx(pattern).search(text):
            assert required in text and any(t in text for t in triggers), (kind, text)
    if r._rx(r._BEARER_I).search(text):
        assert "bearer" in low, text
    if r._rx(r._ASSIGNMENT_I).search(text):
        assert r._assignment_possible(low), text


REDACT_POSITIVES = [
    ("private", "keep this\n<PRIVATE>my home address</Private>"),
    ("private", "visible <private>secret stuff\nmore"),
    ("private_key", "deploy key:\n" + tr.PEM + "\nend of note"),
    ("private_key", "key follows\n-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + tr.PEM_BODY),
    ("anthropic_key", f"ANTHROPIC_API_KEY={tr.ANTHROPIC} ok"),
    ("openrouter_key", f"router key {tr.OPENROUTER}."),
    ("openai_key", f"use {tr.OPENAI} for the eval run"),
    ("openai_key", f"use {tr.OPENAI_PROJ} for the eval run"),
    ("openai_key", f"use {tr.OPENAI_SVC} for the eval run"),
    ("voyage_key", f"VOYAGE_API_KEY: {tr.VOYAGE}"),
    ("github_token", f"git clone https://{tr.GHP}@github.com/o/r.git"),
    ("github_token", f"git clone https://{tr.GHO}@github.com/o/r.git"),
    ("github_token", f"git clone https://{tr.GITHUB_PAT}@github.com/o/r.git"),
    ("aws_access_key", f"aws_access_key_id {tr.AWS} in us-east-1"),
    ("slack_token", f"bot token {tr.SLACK} posts to #ops"),
    ("slack_token", "alerts go to https://hooks.slack.com/services/" + tr.SLACK_HOOK_PATH),
    ("jwt", f"session cookie was {tr.JWT} yesterday"),
    ("url_password", "https://bob:pw@host/x"),
    ("url_password", "DATABASE_URL=postgres://app:S3cr" + "et@word@db.internal:5432/main"),
    ("bearer_token", "curl -H 'Authorization: Bearer abc123xyz' https://api.example.com"),
    ("bearer_token", f"sent Bearer {tr.BEARER} to the API"),
    ("bearer_token", f"SENT BEARER {tr.BEARER} TO THE API"),
    ("password_assignment", "password=" + "hunter2"),
    ("password_assignment", 'admin_password: "correct horse battery staple"'),
    ("password_assignment", '{\\"password\\": \\"' + tr.PASSWORD + '\\"}'),
    ("password_assignment", "\u0130\u0130 office PASSWORD=" + tr.PASSWORD + " \u0130 done"),
    ("password_assignment", "AWS_SECRET_ACCESS_KEY = " + tr.PASSWORD),
    ("password_assignment", "Api-Key := " + tr.PASSWORD),
    ("password_assignment", "pwd=> " + tr.PASSWORD),
    ("private_key",
     "-----BEGIN PGP " + "PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----"),
    ("private_key", "-----BEGIN EC " + "PRIVATE KEY-----"),
    ("github_token", "gh" + "u_" + "A1b2C3d4" * 5),
    ("github_token", "gh" + "s_" + "A1b2C3d4" * 5),
    ("github_token", "gh" + "r_" + "A1b2C3d4" * 5),
    ("aws_access_key", "AS" + "IA" + "IOSFODNN7EXAMPLE"),
    ("aws_access_key", "AG" + "PA" + "IOSFODNN7EXAMPLE"),
    ("aws_access_key", "AI" + "DA" + "IOSFODNN7EXAMPLE"),
    ("aws_access_key", "AR" + "OA" + "IOSFODNN7EXAMPLE"),
    ("aws_access_key", "AN" + "PA" + "IOSFODNN7EXAMPLE"),
    ("slack_token", "xo" + "xa-" + "1234567890ab"),
    ("slack_token", "xo" + "xp-" + "1234567890ab"),
    ("slack_token", "xo" + "xo-" + "1234567890ab"),
    ("slack_token", "xo" + "xs-" + "1234567890ab"),
    ("slack_token", "xo" + "xr-" + "1234567890ab"),
    ("slack_token", "xa" + "pp-" + "1234567890ab"),
    ("slack_token", "https://hooks.slack.com/workflows/" + tr.SLACK_HOOK_PATH),
    ("slack_token", "https://hooks.slack.com/triggers/" + tr.SLACK_HOOK_PATH),
    ("bearer_token", '"authorization": "bearer ' + tr.BEARER + '"'),
    ("password_assignment", "token\t=\t" + tr.PASSWORD),
    ("password_assignment", "secret_key]: " + tr.PASSWORD),
] + [
    ("password_assignment", template.format(v=tr.PASSWORD))
    for template, _ in tr.test_password_assignment_variants.pytestmark[0].args[1]
]


def test_redact_positives_cover_every_kind():
    assert {kind for kind, _ in REDACT_POSITIVES} == set(r.KINDS)


@pytest.mark.parametrize("kind,text", REDACT_POSITIVES)
def test_redact_positive_examples_pass_their_trigger(kind, text):
    out, kinds = r.redact(text)
    assert kind in kinds
    for variant in _variants(text):
        assert r.redact(variant) == _reference_redact(variant), variant
        _check_redact_rules(variant)


def test_redact_triggers_on_corpus():
    for text in CORPUS:
        _check_redact_rules(text)
        assert r.redact(text) == _reference_redact(text), text


def test_redact_fast_path_equals_reference_on_mixtures():
    for text in MIXTURES:
        expected = _reference_redact(text)
        assert r.redact(text) == expected, text
        _check_redact_rules(text)
        # the rules also see text that earlier rules have already rewritten
        _check_redact_rules(expected[0])


def test_redact_assignment_gap_characters():
    # Everything the pattern allows between keyword and separator.
    for keyword in ("password", "passwd", "pwd", "secret", "token", "api", "apikey"):
        for gap in ("", "key", "_key", "-key", "accesskey", "_access_key", "-access-key",
                    "\\", "'", '"', "]", " \t ", "\\\"] ", "_key\"]  "):
            for sep in (":", "=", ":=", "=>", "=="):
                for text in (f"{keyword}{gap}{sep} {tr.PASSWORD}",
                             f"{keyword.upper()}{gap.upper()}{sep}'{tr.PASSWORD}'"):
                    assert r.redact(text) == _reference_redact(text), text
                    _check_redact_rules(text)


# --------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------


def test_fold_maps_every_case_insensitive_ascii_letter_match():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for fold in (q._fold, r._fold):
        folded = fold(every)
        assert len(folded) == len(every)  # indices unchanged
        # Whatever an ASCII letter matches under IGNORECASE folds to it ...
        for ch in set(re.findall("[a-z]", every, re.IGNORECASE)):
            assert fold(ch) in string.ascii_lowercase, hex(ord(ch))
            assert re.fullmatch(fold(ch), ch, re.IGNORECASE)
        # ... and ASCII text folds like str.lower.
        ascii_text = "".join(chr(c) for c in range(128))
        assert fold(ascii_text) == ascii_text.lower()


CLEAN_TYPICAL = [
    "We chose PostgreSQL over MySQL because of JSONB support in the billing service",
    "The user prefers tabs over spaces in Go code",
    "Alice owns the billing service; ask Bob about the token bucket in the rate limiter",
    "Make sure all tests pass before merging",
]


@pytest.mark.parametrize("text", CLEAN_TYPICAL)
def test_typical_text_compiles_nothing(text, monkeypatch):
    monkeypatch.setattr(q, "_COMPILED", {})
    monkeypatch.setattr(r, "_COMPILED", {})
    assert r.redact(text) == (text, [])
    assert q.quality_warnings(text) == []
    assert set(q._COMPILED) <= {"tests_pass"}  # the small guard pattern only
    assert r._COMPILED == {}


def test_import_compiles_no_pattern():
    code = (
        "import re\n"
        "calls = []\n"
        "orig = re._compile\n"
        "re._compile = lambda *a: calls.append(a) or orig(*a)\n"
        "import memman.intake.redact as r, memman.intake.quality as q\n"
        "r.redact('We chose PostgreSQL over MySQL because of JSONB support')\n"
        "q.quality_warnings('We chose PostgreSQL over MySQL because of JSONB support')\n"
        "print(len(calls))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", out.stdout


LONG_UNITS = ["a:1", "1:", "a::1", "a$:1", "a.b:1", "aB:1", " now", "is  ", "1 k", "line ", "-line",
              "sloc ", "merged ", "is merged ", "tests pass ", "sure tests pass ", "as of ",
              "the above ", "ABCD ", "token   ", "api_key ", "password ", "bearer "]


LONG_TEXTS = [tq._fill(unit) for unit in LONG_UNITS] + tq.PATHOLOGICAL


@pytest.mark.parametrize("text", LONG_TEXTS, ids=range(len(LONG_TEXTS)))
def test_triggers_stay_linear(text):
    # A trigger that rescans the text per occurrence is quadratic: seconds on
    # these 8000-character inputs, instead of milliseconds.
    low = q._fold(text)
    start = time.perf_counter()
    for _, _, trigger in q._TRIGGERS:
        q._triggered(trigger, text, low)
    r._assignment_possible(r._fold(text))
    assert time.perf_counter() - start < 0.25
