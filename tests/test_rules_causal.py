"""Tests for memman.rules.causal: cue-phrase cause/effect clauses and word overlap."""
import pytest

from memman.rules.causal import CUES, CausalClause, Cue, find_causal_clauses, overlap
from memman.rules.stem import content_tokens

REQUIRED_CUES = ("because", "because of", "due to", "since", "so that", "in order to",
                 "to avoid", "to prevent", "so we", "therefore", "hence", "as a result",
                 "which caused", "caused by", "led to", "leads to", "results in",
                 "resulted in", "that's why", "thanks to")


def test_cue_table():
    phrases = [c.phrase for c in CUES]
    for cue in REQUIRED_CUES:
        assert cue in phrases
    assert len(set(phrases)) == len(phrases)
    for cue in CUES:
        assert isinstance(cue, Cue)
        assert cue.direction in ("forward", "backward")
        assert cue.sub_type in ("causes", "enables", "prevents")


def one(text) -> CausalClause:
    clauses = find_causal_clauses(text)
    assert len(clauses) == 1, clauses
    return clauses[0]


# (text, cue, cause, effect, sub_type)
CASES = [
    ("The deploy failed because the disk was full; fix by pruning images",
     "because", "the disk was full", "The deploy failed", "causes"),
    ("We pinned numpy because of the ABI break.",
     "because of", "the ABI break", "We pinned numpy", "causes"),
    ("Builds are slow due to the cold cache.",
     "due to", "the cold cache", "Builds are slow", "causes"),
    ("Since the cache is cold, requests time out.",
     "since", "the cache is cold", "requests time out", "causes"),
    ("Requests time out, since the cache is cold.",
     "since", "the cache is cold", "Requests time out", "causes"),
    ("The outage was caused by a bad config push.",
     "caused by", "a bad config push", "The outage", "causes"),
    ("We cache tokens so that requests stay under 100ms.",
     "so that", "We cache tokens", "requests stay under 100ms", "enables"),
    ("We batch writes in order to reduce lock contention.",
     "in order to", "We batch writes", "reduce lock contention", "enables"),
    ("We deploy blue-green to avoid downtime.",
     "to avoid", "We deploy blue-green", "downtime", "prevents"),
    ("Pin the version to prevent surprise upgrades.",
     "to prevent", "Pin the version", "surprise upgrades", "prevents"),
    ("Tests were flaky, so we added retries.",
     "so we", "Tests were flaky", "we added retries", "causes"),
    ("The disk filled up. Therefore the deploy failed.",
     "therefore", "The disk filled up", "the deploy failed", "causes"),
    ("The disk filled up; hence the deploy failed.",
     "hence", "The disk filled up", "the deploy failed", "causes"),
    ("The disk filled up. As a result, the deploy failed.",
     "as a result", "The disk filled up", "the deploy failed", "causes"),
    ("The index was dropped, which caused slow queries.",
     "which caused", "The index was dropped", "slow queries", "causes"),
    ("The memory leak led to OOM kills.",
     "led to", "The memory leak", "OOM kills", "causes"),
    ("Unbounded retries leads to thundering herds.",
     "leads to", "Unbounded retries", "thundering herds", "causes"),
    ("A missing index results in full table scans.",
     "results in", "A missing index", "full table scans", "causes"),
    ("The bad migration resulted in data loss.",
     "resulted in", "The bad migration", "data loss", "causes"),
    ("The DB was overloaded. That's why we added a read replica.",
     "that's why", "The DB was overloaded", "we added a read replica", "causes"),
    ("Thanks to the retry wrapper, flaky calls no longer fail the build.",
     "thanks to", "the retry wrapper", "flaky calls no longer fail the build", "enables"),
    ("Because the API is rate-limited, we batch requests.",
     "because", "the API is rate-limited", "we batch requests", "causes"),
    ("To avoid downtime, we deploy blue-green.",
     "to avoid", "we deploy blue-green", "downtime", "prevents"),
    ("In order to cut costs, we moved to spot instances.",
     "in order to", "we moved to spot instances", "cut costs", "enables"),
    ("Due to the freeze, releases wait until Monday.",
     "due to", "the freeze", "releases wait until Monday", "causes"),
    ("The disk was full, so the deploy failed.",
     "so", "The disk was full", "the deploy failed", "causes"),
]


@pytest.mark.parametrize("text, cue, cause, effect, sub_type", CASES)
def test_cue_direction_and_sub_type(text, cue, cause, effect, sub_type):
    assert one(text) == CausalClause(cue, cause, effect, sub_type)


def test_every_required_cue_is_exercised():
    assert set(REQUIRED_CUES) <= {case[1] for case in CASES}


@pytest.mark.parametrize("text", [
    "We have used Postgres since 2020.",
    "Since 2020 we use Postgres.",
    "Since then, nothing changed.",
    "Since last week the job runs nightly.",
    "Since the migration, queries are slow.",
    "Since v2.0, the API is versioned.",
    "Alice has owned billing since March.",
])
def test_temporal_since_is_not_causal(text):
    assert find_causal_clauses(text) == []


@pytest.mark.parametrize("text", [
    "Alice owns the billing service.",
    "Deploys need VAULT_ADDR set",
    "",
    "   ",
    "So far, so good.",
    "We need to avoid long transactions.",
    "We want to prevent that.",
    "The release is due to be cut on Friday.",
    "Because of this.",
])
def test_no_causal_clause(text):
    assert find_causal_clauses(text) == []


def test_parts_without_content_words_are_dropped():
    assert find_causal_clauses("It broke because of it.") == []


def test_multiple_cues_in_one_sentence():
    clauses = find_causal_clauses(
        "We moved to ARM because it is cheaper, which caused build failures.")
    assert [c.cue for c in clauses] == ["because", "which caused"]
    assert clauses[0].effect == "We moved to ARM"
    assert clauses[0].cause == "it is cheaper"
    assert clauses[1].effect == "build failures"


def test_multiple_sentences_in_order():
    text = ("Builds are slow due to the cold cache. We cache tokens so that requests "
            "stay fast.\nThe job failed because the token expired.")
    assert [c.cue for c in find_causal_clauses(text)] == ["due to", "so that", "because"]


def test_case_insensitive_cues():
    assert one("Deploys FAILED BECAUSE the disk was full").cue == "because"


# ------------------------------------------------------------ overlap
def test_overlap_on_sets():
    assert overlap({"a", "b"}, {"a"}) == 0.5
    assert overlap({"a", "b"}, {"a", "b"}) == 1.0
    assert overlap({"a"}, {"b"}) == 0.0
    assert overlap(set(), {"a"}) == 0.0
    assert overlap([], []) == 0.0


def test_overlap_on_text_uses_stopwords_and_stemming():
    a = "deploys fail when the disk is full"
    b = "the deploy failed: full disk"
    assert overlap(a, b) == 1.0
    assert overlap(content_tokens(a), content_tokens(b)) == 1.0
    assert overlap("the and of", "the and of") == 0.0


def test_overlap_is_symmetric_and_bounded():
    a = content_tokens("Postgres replicas lag during the nightly backup")
    b = content_tokens("the nightly backup job locks tables")
    assert overlap(a, b) == overlap(b, a)
    assert 0.0 < overlap(a, b) < 1.0
    assert overlap(a, b) == len(a & b) / max(len(a), len(b))


@pytest.mark.parametrize("unit", ["a because ", "therefore a ", "a so we b ", "since we ",
                                  ", so a b ", "because, ", "to avoid x, ", "Because a, b ",
                                  "x. Therefore y ", "so that ", "a", ".", "\n", "because"])
def test_pathological_input_finishes(unit):
    text = (unit * (8000 // len(unit) + 1))[:8000]
    clauses = find_causal_clauses(text)
    assert isinstance(clauses, list)
    assert overlap(text, text) in (0.0, 1.0)
