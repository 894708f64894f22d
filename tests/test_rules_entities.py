"""Tests for memman.rules.entities: rule-based entity extraction (worker and recall)."""
import json
import subprocess
import sys

import pytest

from memman.constants import MAX_ENTITY_CHARS
from memman.rules.entities import QUERY_LIMIT, extract_entities, query_entities


def ents(text, **kw):
    return extract_entities(text, **kw)


# ------------------------------------------------------------ capitalised names
@pytest.mark.parametrize("text, expected", [
    ("Alice owns the billing service", ["Alice"]),
    ("Ask Alice Smith about it", ["Alice Smith"]),
    ("Alice Smith moved to New York last year.", ["Alice Smith", "New York"]),
    ("New York office uses AWS.", ["New York", "AWS"]),
    ("The team met with Bob. We decided to use Postgres.", ["Bob", "Postgres"]),
    ("Use Redis for caching.", ["Redis"]),
    ("Running Postgres locally requires Docker Desktop.", ["Postgres", "Docker Desktop"]),
    ("Billing Service is owned by Alice.", ["Billing Service", "Alice"]),
    ("Bank of America and the University of California", ["Bank of America",
                                                          "University of California"]),
    ("Jean-Luc Picard reviewed it", ["Jean-Luc Picard"]),
    ("Ask Alice's team", ["Alice"]),
    ("How We Deploy The Billing Service", ["Billing Service"]),
])
def test_capitalised_names(text, expected):
    assert ents(text) == expected


@pytest.mark.parametrize("text", [
    "The build is slow.",
    "We prefer tabs.",
    "Always run the linter. When it fails, fix it.",
    "Never deploy on Fridays.",
    "Deploys need a review.",
    "Tests pass on main.",
    "I think so. A test is missing.",
    "Meeting on Monday in March.",
    "Release Notes",
    "Note: Use the staging cluster",
    "who owns billing service",
])
def test_sentence_initial_common_words_are_not_names(text):
    assert ents(text) == []


def test_sentence_initial_word_counts_when_capitalised_elsewhere():
    assert ents("Vault stores secrets. We rotate Vault tokens monthly.") == ["Vault"]
    # without the mid-sentence evidence, sentence-initial "Vault" alone is a common noun
    assert ents("Vault stores secrets.") == ["Vault"]  # "vault" is not a common word
    assert ents("Support handles refunds.") == []
    assert ents("Payments go to Support.") == ["Support"]
    assert ents("Support Team handles refunds; ask Support.") == ["Support Team", "Support"]


def test_mid_sentence_capital_is_a_name_even_if_common():
    assert ents("we format with Black") == ["Black"]


def test_i_and_a_are_never_entities():
    assert ents("I know. A fix is coming, and I will ship it") == []


# ------------------------------------------------------------ identifiers
@pytest.mark.parametrize("text, expected", [
    ("BillingService calls getUserById", ["BillingService", "getUserById"]),
    ("set max_retries and __init__ hooks", ["max_retries", "__init__"]),
    ("export VAULT_ADDR first", ["VAULT_ADDR"]),
    ("GitHub and PostgreSQL and OAuth", ["GitHub", "PostgreSQL", "OAuth"]),
    ("our iPhone and macOS builds", ["iPhone", "macOS"]),
])
def test_identifiers(text, expected):
    assert ents(text) == expected


@pytest.mark.parametrize("text", ["plain lowercase words", "an _emphasised_ word",
                                  "x_ and _ and __", "1_000 rows"])
def test_identifier_near_misses(text):
    assert ents(text) == []


# ------------------------------------------------------------ acronyms
def test_acronyms():
    assert ents("We chose PostgreSQL over MySQL because of JSONB support. I think CI is fine.") \
        == ["PostgreSQL", "MySQL", "JSONB", "CI"]
    assert ents("runs on EC2 with UTF-8 and SHA-256") == ["EC2", "UTF-8", "SHA-256"]
    assert ents("the APIs and PRs") == ["API", "PR"]


@pytest.mark.parametrize("text", ["DO NOT USE THE OLD ONE", "TODO: fix", "FYI the build", "OK then",
                                  "IMPORTANT", "IDs"])
def test_acronym_near_misses(text):
    assert ents(text) == []


def test_multiword_names_with_acronyms_and_camelcase_report_the_parts():
    assert ents("we use GitHub Actions and AWS Lambda") == ["GitHub Actions", "GitHub",
                                                           "AWS Lambda", "AWS"]


# ------------------------------------------------------------ paths and urls
@pytest.mark.parametrize("text, expected", [
    ("See src/app/main.py for details.", ["src/app/main.py"]),
    ("edit ~/.config/x now", ["~/.config/x"]),
    ("run ./run.sh, then ../tools/lint.sh", ["./run.sh", "../tools/lint.sh"]),
    ("notes live in docs/meetings/.", ["docs/meetings/"]),
    ("logs in /var/log/app and app/main.py", ["/var/log/app", "app/main.py"]),
    ("the .github/workflows/ci.yml file", [".github/workflows/ci.yml"]),
    ("copy to C:\\Users\\bob\\app.ini", ["C:\\Users\\bob\\app.ini"]),
])
def test_paths(text, expected):
    assert ents(text) == expected


@pytest.mark.parametrize("text", ["and/or", "read/write access", "on 12/05/2024", "24/7 support",
                                  "w/o tests"])
def test_path_near_misses(text):
    assert ents(text) == []


def test_urls_are_kept_whole_without_trailing_punctuation():
    assert ents("Docs at https://example.com/a.") == ["https://example.com/a"]
    assert ents("(see https://en.wikipedia.org/wiki/Foo_(bar)).") == [
        "https://en.wikipedia.org/wiki/Foo_(bar)"]
    assert ents("db at postgres://db.internal:5432/app, ok") == [
        "postgres://db.internal:5432/app"]


def test_emails():
    assert ents("mail alice@example.com today") == ["alice@example.com"]


# ------------------------------------------------------------ dotted names
def test_dotted_names():
    assert ents("The staging DB is at db.internal:5432; import memman.cli first.") == [
        "DB", "db.internal", "memman.cli"]
    assert ents("put it in .env and main.py") == [".env", "main.py"]
    assert ents("Node.js and www.example.com") == ["Node.js", "www.example.com"]


@pytest.mark.parametrize("text", ["e.g. this", "i.e. that", "it works.Next we", "costs 3.50 now",
                                  "etc."])
def test_dotted_near_misses(text):
    assert ents(text) == []


# ------------------------------------------------------------ versions
def test_versions():
    assert ents("Upgrade to v1.2.3 and Python 3.11; 3.11.7 is installed.") == [
        "v1.2.3", "Python 3.11", "Python", "3.11.7"]
    assert ents("pin to version 2.1") == ["2.1"]
    assert ents("the v2 API") == ["v2", "API"]
    assert ents("Postgres 16.2 is required") == ["Postgres 16.2", "Postgres"]
    assert ents("host 10.0.0.12 is down") == ["10.0.0.12"]


@pytest.mark.parametrize("text", ["it takes 3.11 seconds", "42", "set it to 5",
                                  "Figure 3.2 shows it", "ratio 0.15"])
def test_version_near_misses(text):
    assert ents(text) == []


# ------------------------------------------------------------ quotes, mentions, tags
def test_quoted_terms():
    assert ents('Use "dry run" mode and \'safe mode\' with `pytest -x`.') == [
        "dry run", "safe mode", "pytest -x"]
    assert ents("\u201cgolden path\u201d docs") == ["golden path"]


def test_quoted_near_misses():
    assert ents("don't say it's fine") == []
    # more than five words is not a term
    assert ents('he said "we should really not do this now" today') == []


def test_mentions_and_tags():
    assert ents("Ping @alice about #billing, colour #fff") == ["@alice", "#billing"]
    assert ents("C# and issue #42") == []


# ------------------------------------------------------------ output contract
def test_order_dedup_and_casing():
    text = "Alice met BOB and bob. Then alice met Alice and AWS; aws is fine. AWS again"
    assert ents(text) == ["Alice", "BOB", "AWS"]


def test_limit():
    text = " ".join(f"Name{i}Service" for i in range(40))
    assert len(ents(text)) == 20
    assert ents(text, limit=3) == ["Name0Service", "Name1Service", "Name2Service"]
    assert ents(text, limit=0) == []


def test_entities_are_capped_at_max_entity_chars():
    url = "https://example.com/" + "a" * 300
    assert ents(f"see {url} and Alice") == ["Alice"]
    assert all(len(e) <= MAX_ENTITY_CHARS for e in ents("x " * 100 + url))


def test_empty_input():
    assert ents("") == []
    assert ents("   \n") == []
    assert query_entities("") == []


# ------------------------------------------------------------ queries
@pytest.mark.parametrize("query, expected", [
    ("who owns billing service", []),
    ("what does Alice own", ["Alice"]),
    ("Alice?", ["Alice"]),
    ("Who owns BillingService", ["BillingService"]),
    ("Tell me about Postgres", ["Postgres"]),
    ("where is max_retries set", ["max_retries"]),
    ("why did the deploy fail", []),
    ("When did we move to Python 3.11", ["Python 3.11", "Python"]),
])
def test_query_entities(query, expected):
    assert query_entities(query) == expected


def test_query_entities_limit():
    query = " ".join(f"Svc{i}Name" for i in range(30))
    assert len(query_entities(query)) == QUERY_LIMIT


# ------------------------------------------------------------ import cost and robustness
def test_import_pulls_in_only_stdlib_and_memman():
    code = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        "import memman.rules.entities as e\n"
        "e.extract_entities('Alice uses BillingService at https://x.io/a since v1.2.3')\n"
        "e.query_entities('what does Alice own')\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print(json.dumps({'new': new, 'stdlib': sorted(sys.stdlib_module_names)}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    data = json.loads(proc.stdout)
    stdlib = set(data["stdlib"])
    tops = {name.split(".")[0] for name in data["new"]}
    for heavy in ("numpy", "httpx", "psycopg", "tqdm", "click", "cachetools", "portalocker"):
        assert heavy not in tops
    assert tops <= stdlib | {"memman"}, tops - stdlib - {"memman"}
    memman_modules = {n for n in data["new"] if n.split(".")[0] == "memman"}
    assert memman_modules <= {"memman", "memman.rules", "memman.rules.entities",
                              "memman.rules._words", "memman.constants", "memman.textutil"}


def test_whole_rules_package_is_stdlib_only():
    code = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        "from memman.rules import gate, keywords, causal, stem, entities\n"
        "gate.gate('tests pass'); keywords.keywords('Alice deploys BillingService')\n"
        "causal.find_causal_clauses('X failed because Y broke')\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in set(sys.modules) - before})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    tops = set(json.loads(proc.stdout))
    assert tops <= set(sys.stdlib_module_names) | {"memman"}, tops


UNITS = ["a", "A", "Aa ", "a.", "A.", "A-", "a/", "/", '"', '"a ', "'a ", "`a ", "@", "@a.", "#a",
         "_", "a_", "1.", "v1.", "~/", "a@", ".A", "\n", "a:", "\\", "C:\\", "ABC ", "Alice ",
         "The ", "Alice Smith of Bob, ", "Python 3.11 ", "http://", "a" * 50 + "/", "a'", "%"]


@pytest.mark.parametrize("unit", UNITS)
def test_pathological_input_finishes(unit):
    text = (unit * (8000 // len(unit) + 1))[:8000]
    result = extract_entities(text)
    assert isinstance(result, list) and len(result) <= 20
    assert isinstance(query_entities(text), list)


def test_realistic_long_input():
    text = ("Alice deployed BillingService to prod since we use VAULT_ADDR and src/app/main.py "
            "with Python 3.11 so that tests pass. ") * 70
    result = extract_entities(text[:8000])
    assert result[:3] == ["Alice", "BillingService", "VAULT_ADDR"]
    assert json.dumps(result)
