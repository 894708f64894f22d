"""Tests for memman.rules.keywords (TF-IDF keywords) and memman.rules.stem."""
import pytest

from memman.rules.keywords import MAX_DF_LOOKUPS, keywords
from memman.rules.stem import content_tokens, stem


# ------------------------------------------------------------ stem
@pytest.mark.parametrize("family", [
    ["deploy", "deploys", "deployed", "deploying", "deployment", "deployments"],
    ["service", "services"],
    ["cache", "caches", "cached", "caching"],
    ["configure", "configured", "configuring", "configuration"],
    ["test", "tests", "tested", "testing"],
    ["run", "runs", "running"],
    ["stop", "stops", "stopped", "stopping"],
    ["migrate", "migrated", "migration", "migrations"],
    ["optimize", "optimized", "optimization"],
    ["connect", "connected", "connection", "connections"],
    ["update", "updated", "updates", "updating"],
    ["enable", "enabled", "enables", "enabling"],
    ["retry", "retries", "retried", "retrying"],
    ["pass", "passes", "passed", "passing"],
    ["validate", "validated", "validation"],
    ["serve", "server", "servers", "serving"],
    ["policy", "policies"],
    ["class", "classes"],
])
def test_stem_conflates_variants(family):
    assert len({stem(w) for w in family}) == 1, {w: stem(w) for w in family}


def test_stem_examples_and_determinism():
    assert stem("deployment") == "deploy"
    assert stem("Deploys") == "deploy"
    assert stem("services") == stem("service")
    assert stem("status") == "status"
    assert stem("analysis") == "analysis"
    assert [stem("caching") for _ in range(3)] == ["cach"] * 3


def test_stem_keeps_distinct_words_apart():
    assert stem("user") != stem("use")
    assert stem("deploy") != stem("develop")
    assert stem("string") == "string"
    assert stem("need") == "need"


def test_stem_leaves_identifiers_and_numbers():
    assert stem("max_retries") == "max_retries"
    assert stem("py311") == "py311"
    assert stem("2024") == "2024"
    assert stem("") == ""
    assert stem("go") == "go"


def test_content_tokens():
    assert content_tokens("The deploys were failing because of the disk") == {
        "deploy", "fail", "disk"}
    assert content_tokens("") == set()
    assert content_tokens("a I the of") == set()
    assert "max_retries" in content_tokens("set max_retries to 5")
    assert content_tokens("Deploys deployed") == {"deploy"}


# ------------------------------------------------------------ keywords without doc_freq
TEXT = ("Deploys need VAULT_ADDR set. The deploy script deploys BillingService to staging; "
        "a deployment fails without VAULT_ADDR.")


def test_keywords_tf_and_variants_group():
    result = keywords(TEXT)
    # "deploy" appears 4x (deploys/deploy/deploys/deployment): first
    assert result[0] == "deploys"
    assert "vault_addr" in result[:3]
    assert "billingservice" in result
    assert len(result) <= 8


def test_keywords_filters_stopwords_short_words_and_numbers():
    assert keywords("the of an it is 42 1234 ok go") == []
    result = keywords("The API uses port 8080 and 443 for the API gateway")
    assert "8080" not in result and "443" not in result
    assert "the" not in result and "for" not in result
    assert result[0] == "api"


def test_keywords_are_lowercase_and_unique():
    result = keywords("Redis REDIS redis Postgres")
    assert result == ["redis", "postgres"]


def test_keywords_length_bonus_breaks_tf_ties():
    # same tf: the longer (more specific) word first
    assert keywords("cat kubernetes") == ["kubernetes", "cat"]


def test_keywords_deterministic_tie_order():
    # identical scores: alphabetical
    assert keywords("bbb aaa ccc") == ["aaa", "bbb", "ccc"]
    assert keywords("bbb aaa ccc") == keywords("ccc bbb aaa")


def test_keywords_identifier_boost():
    result = keywords("retries retries max_retries")
    # max_retries: tf 1 x 1.5 boost beats nothing else, but retries has tf 2
    assert result == ["retries", "max_retries"]
    assert keywords("payment getPaymentById") == ["getpaymentbyid", "payment"]


def test_keywords_limit():
    text = " ".join(f"word{chr(97 + i)}xyz" for i in range(20))
    assert len(keywords(text)) == 8
    assert len(keywords(text, limit=3)) == 3
    assert keywords(text, limit=0) == []
    assert keywords("") == []


# ------------------------------------------------------------ keywords with doc_freq
def test_frequent_store_term_ranks_below_rare_one():
    df = {"postgres": 90, "redis": 1}
    text = "postgres postgres redis"
    assert keywords(text) == ["postgres", "redis"]
    assert keywords(text, doc_freq=lambda t: df.get(t, 0), n_docs=100) == ["redis", "postgres"]


def test_doc_freq_idf_formula():
    import math

    df = {"alpha": 9, "beta": 0}
    calls = []

    def doc_freq(term):
        calls.append(term)
        return df[term]

    result = keywords("alpha alpha beta", doc_freq=doc_freq, n_docs=9)
    # alpha: 2 * (ln(10/10) + 1) = 2.0; beta: 1 * (ln(10/1) + 1) = 3.30
    assert result == ["beta", "alpha"]
    assert 1 * (math.log(10 / 1) + 1) > 2 * (math.log(10 / 10) + 1)
    assert sorted(calls) == ["alpha", "beta"]  # once per term


def test_doc_freq_called_once_per_variant_group():
    calls = []
    keywords("deploy deploys deployed", doc_freq=lambda t: calls.append(t) or 0, n_docs=10)
    assert calls == ["deploy"]


def test_n_docs_smaller_than_df_does_not_go_negative():
    result = keywords("common rare", doc_freq=lambda t: 50 if t == "common" else 0, n_docs=0)
    assert result == ["rare", "common"]


def test_doc_freq_lookups_are_bounded():
    calls = []
    text = " ".join(f"term{i:04d}x" for i in range(1000))
    result = keywords(text, doc_freq=lambda t: calls.append(t) or 0, n_docs=10)
    assert len(calls) == MAX_DF_LOOKUPS
    assert len(result) == 8


@pytest.mark.parametrize("unit", ["a", "ab ", "abc ", "deploy ", "max_retries ", "A_b",
                                  "\u00e9t\u00e9 ", "x1 ", "!!", "The "])
def test_pathological_input_finishes(unit):
    text = (unit * (8000 // len(unit) + 1))[:8000]
    assert isinstance(keywords(text), list)
    assert isinstance(keywords(text, doc_freq=lambda t: 1, n_docs=5), list)
    assert isinstance(content_tokens(text), set)
