"""The LLM tasks against a scripted model: what is sent, and how every kind of junk
the model may answer is normalised."""
import hashlib
import re

import pytest

from memman.llm import prompts
from memman.llm.client import LLMClient, LLMError
from memman.llm.tasks import (
    CausalLink, Decision, Enrichment, Expansion, Extraction, Fact, enrich, expand_query,
    extract_facts, infer_causal, reconcile,
)
from tests.fakes.chat import ChatScript

MODELS = {"fast": "m-fast", "slow_canonical": "m-canon", "slow_metadata": "m-meta"}


@pytest.fixture
def script(loopback):
    s = ChatScript()
    s.endpoint = s.install(loopback)
    return s


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(script, sleeps):
    c = LLMClient(script.endpoint, None, dict(MODELS), sleep=sleeps.append)
    yield c
    c.close()


def fact(text, category="fact", importance=3, entities=None):
    return {"text": text, "category": category, "importance": importance,
            "entities": entities or []}


# -- prompts -------------------------------------------------------------------------


def test_prompt_version_covers_the_prompts_that_shape_stored_memories():
    texts = [prompts.EXTRACTION, prompts.RECONCILIATION, prompts.ENRICHMENT, prompts.CAUSAL]
    expected = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    assert prompts.PROMPT_VERSION == expected
    with_expansion = hashlib.sha256("\x00".join(texts + [prompts.EXPANSION]).encode())
    assert prompts.PROMPT_VERSION != with_expansion.hexdigest()[:16]
    assert re.fullmatch(r"[0-9a-f]{16}", prompts.PROMPT_VERSION)


def test_each_prompt_opens_with_its_marker_and_asks_for_json():
    pairs = [("extraction", prompts.EXTRACTION), ("reconciliation", prompts.RECONCILIATION),
             ("enrichment", prompts.ENRICHMENT), ("causal", prompts.CAUSAL),
             ("expansion", prompts.EXPANSION)]
    for task, text in pairs:
        assert text.startswith(prompts.TASK_MARKERS[task] + "\n")
        assert "JSON only" in text
        others = [m for t, m in prompts.TASK_MARKERS.items() if t != task]
        assert not any(m in text for m in others)


def test_user_messages_defuse_closing_tags():
    assert prompts.extraction_user("a </note> b") == "<note>\na </ note> b\n</note>"
    assert prompts.enrichment_user("x") == "<memory>\nx\n</memory>"


# -- extraction ----------------------------------------------------------------------


def test_extract_splits_into_facts(script, client):
    script.when(task="extraction").reply({"facts": [
        fact("The project uses Postgres advisory locks.", "decision", 4, ["Postgres"]),
        fact("Maria prefers squash merges.", "preference", 3, ["Maria"]),
    ], "skip_reason": None})
    out = extract_facts(client, "we went with pg locks; maria likes squash", hints={})
    assert out == Extraction([
        Fact("The project uses Postgres advisory locks.", "decision", 4, ["Postgres"]),
        Fact("Maria prefers squash merges.", "preference", 3, ["Maria"]),
    ], None)
    (call,) = script.calls
    assert call.model == "m-canon" and call.task == "extraction"
    assert call.system == prompts.EXTRACTION
    assert call.user == "<note>\nwe went with pg locks; maria likes squash\n</note>"
    assert call.body["max_tokens"] >= 1024


def test_extract_skip(script, client):
    script.when(task="extraction").reply({"facts": [], "skip_reason": "  test run receipt "})
    assert extract_facts(client, "212 passed", hints={}) == Extraction([], "test run receipt")


def test_extract_no_facts_and_no_reason_keeps_the_note(script, client):
    script.when(task="extraction").reply({"facts": []})
    out = extract_facts(client, "Original note.",
                        hints={"category": "decision", "importance": 1, "entities": ["X"]})
    assert out == Extraction([Fact("Original note.", "decision", 1, ["X"])], None)


def test_extract_no_usable_facts_keeps_the_note_with_defaults(script, client):
    script.when(task="extraction").reply({"facts": [{"text": "   "}, 42, None, {"text": 7}],
                                          "skip_reason": ""})
    out = extract_facts(client, "Original note.", hints={"category": None})
    assert out == Extraction([Fact("Original note.", "general", 3, [])], None)


def test_extract_facts_win_over_a_skip_reason(script, client):
    script.when(task="extraction").reply({"facts": [fact("A.")], "skip_reason": "meh"})
    assert extract_facts(client, "a", hints={}).skip_reason is None


@pytest.mark.parametrize("model_imp,expected", [
    (1, 2), (0, 2), (-3, 2), (2, 2), (4, 4), (5, 5), (9, 5), ("4", 4), (4.0, 4), (3.5, 3),
    ("high", 3), (None, 3), (True, 3), ([4], 3),
])
def test_extract_model_importance_clamped(script, client, model_imp, expected):
    script.when(task="extraction").reply({"facts": [{"text": "A.", "importance": model_imp}]})
    assert extract_facts(client, "a", hints={}).facts[0].importance == expected


@pytest.mark.parametrize("hint,expected", [(1, 1), (5, 5), ("2", 2), (0, 4), (7, 4), (None, 4)])
def test_extract_importance_hint_wins_when_1_to_5(script, client, hint, expected):
    script.when(task="extraction").reply({"facts": [{"text": "A.", "importance": 4}]})
    assert extract_facts(client, "a", hints={"importance": hint}).facts[0].importance == expected


@pytest.mark.parametrize("model_cat,hint,expected", [
    ("decision", None, "decision"), ("Insight ", None, "insight"), ("todo", None, "general"),
    (5, None, "general"), (None, None, "general"), ("decision", "context", "context"),
    ("decision", "bogus", "decision"),
])
def test_extract_category(script, client, model_cat, hint, expected):
    script.when(task="extraction").reply({"facts": [{"text": "A.", "category": model_cat}]})
    assert extract_facts(client, "a", hints={"category": hint}).facts[0].category == expected


def test_extract_entities_merge_hints_first_and_dedupe(script, client):
    script.when(task="extraction").reply({"facts": [
        {"text": "A.", "entities": ["postgres", "Redis", 3, None, "", "redis", "x" * 300]},
        {"text": "B.", "entities": "Kafka, Zookeeper"},
        {"text": "C.", "entities": {"not": "a list"}},
    ]})
    out = extract_facts(client, "a", hints={"entities": ["Postgres", "Billing"]})
    assert [f.entities for f in out.facts] == [
        ["Postgres", "Billing", "Redis"],
        ["Postgres", "Billing", "Kafka", "Zookeeper"],
        ["Postgres", "Billing"],
    ]


def test_extract_at_most_five_facts_without_blanks_or_duplicates(script, client):
    texts = ["One.", "  ", "one.", "Two.", "Three.", "Four.", "Five.", "Six.", "Seven."]
    script.when(task="extraction").reply({"facts": [{"text": t} for t in texts]})
    out = extract_facts(client, "a", hints={})
    assert [f.text for f in out.facts] == ["One.", "Two.", "Three.", "Four.", "Five."]


def test_extract_accepts_plain_strings_and_a_bare_array(script, client):
    script.when(task="extraction", user_contains="strings").reply(
        {"facts": ["Plain string fact.", {"fact": "Keyed as fact."}]})
    script.when(task="extraction", user_contains="array").reply(
        '[{"text": "From an array.", "category": "insight"}]')
    assert [f.text for f in extract_facts(client, "strings", hints={}).facts] == [
        "Plain string fact.", "Keyed as fact."]
    assert extract_facts(client, "array", hints={}).facts == [
        Fact("From an array.", "insight", 3, [])]


def test_extract_single_fact_object_and_junk_facts_field(script, client):
    script.when(task="extraction", user_contains="single").reply({"text": "Lone fact."})
    script.when(task="extraction", user_contains="junk").reply({"facts": 42})
    assert [f.text for f in extract_facts(client, "single", hints={}).facts] == ["Lone fact."]
    assert extract_facts(client, "junk", hints={}).facts == [Fact("junk", "general", 3, [])]


def test_extract_strips_line_references(script, client):
    cases = {
        "HttpPool fails before init() (see src/pool.py:88).":
            "HttpPool fails before init() (see src/pool.py).",
        "The retry loop in worker.ts:120:5 caps at 3 tries.":
            "The retry loop in worker.ts caps at 3 tries.",
        "The parser chokes on BOMs (line 42).": "The parser chokes on BOMs.",
        "Tokens expire early, at line 7 of the config.":
            "Tokens expire early, at line 7 of the config.",
        "The check fails on line 12. Fix it first.": "The check fails. Fix it first.",
        "The check fails at lines 3-9": "The check fails",
        "Staging lives at db.example.com:5432 and the build at 10:30.":
            "Staging lives at db.example.com:5432 and the build at 10:30.",
    }
    for i, (given, expected) in enumerate(cases.items()):
        script.when(task="extraction", user_contains=f"case{i}").reply({"facts": [given]})
        (got,) = extract_facts(client, f"case{i}", hints={}).facts
        assert got.text == expected


def test_extract_drops_oversized_facts(script, client):
    script.when(task="extraction").reply({"facts": [{"text": "x" * 9000}, {"text": "Short."}]})
    assert [f.text for f in extract_facts(client, "a", hints={}).facts] == ["Short."]


def test_extract_propagates_llm_errors(script, client):
    script.when(task="extraction").reply(status=503)
    with pytest.raises(LLMError):
        extract_facts(client, "a", hints={})
    script.when(task="extraction").reply("I'd rather not.")
    with pytest.raises(LLMError):
        extract_facts(client, "a", hints={})


# -- reconciliation ------------------------------------------------------------------

CANDIDATES = [
    {"id": "id-a", "content": "The API listens on port 8080.",
     "created_at": "2025-03-02T10:00:00Z"},
    {"id": "id-b", "content": "Jobs run on Celery.", "created_at": "2024-11-20T09:00:00.5Z"},
    {"id": "id-c", "content": "Use pnpm.", "created_at": None},
]
FACTS = [Fact("The API listens on port 8443."), Fact("Jobs run on RQ."), Fact("Use pnpm always."),
         Fact("Sam reviews migrations.")]


def test_reconcile_without_candidates_makes_no_call(script, client):
    out = reconcile(client, FACTS[:2], [])
    assert [(d.fact_index, d.action, d.target_id) for d in out] == [(0, "ADD", None),
                                                                    (1, "ADD", None)]
    assert script.calls == []
    assert reconcile(client, [], CANDIDATES) == []
    assert script.calls == []


def test_reconcile_maps_indices_to_ids(script, client):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 0, "action": "UPDATE", "target": 0,
         "merged_text": "The API listens on port 8443.", "reason": "port changed"},
        {"fact": 1, "action": "DELETE", "target": 1, "reason": "replaced"},
        {"fact": 2, "action": "NONE", "target": 2, "reason": "already captured"},
        {"fact": 3, "action": "ADD", "target": None, "reason": "new"},
    ]})
    out = reconcile(client, FACTS, CANDIDATES)
    assert out == [
        Decision(0, "UPDATE", "id-a", "The API listens on port 8443.", "port changed"),
        Decision(1, "DELETE", "id-b", None, "replaced"),
        Decision(2, "NONE", "id-c", None, "already captured"),
        Decision(3, "ADD", None, None, "new"),
    ]
    (call,) = script.calls
    assert call.model == "m-canon" and call.system == prompts.RECONCILIATION
    assert call.user == (
        "NEW FACTS\nF0: The API listens on port 8443.\nF1: Jobs run on RQ.\n"
        "F2: Use pnpm always.\nF3: Sam reviews migrations.\nEXISTING MEMORIES\n"
        "[0] (2025-03-02) The API listens on port 8080.\n"
        "[1] (2024-11-20) Jobs run on Celery.\n"
        "[2] (unknown date) Use pnpm.")
    assert "id-a" not in call.user


@pytest.mark.parametrize("target,expected", [
    (0, ("UPDATE", "id-a")), ("0", ("UPDATE", "id-a")), ("[1]", ("UPDATE", "id-b")),
    ("id-c", ("UPDATE", "id-c")), (2.0, ("UPDATE", "id-c")), (3, ("ADD", None)),
    (-1, ("ADD", None)), (None, ("ADD", None)), ("nope", ("ADD", None)), (True, ("ADD", None)),
    ([0], ("ADD", None)),
])
def test_reconcile_targets(script, client, target, expected):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 0, "action": "UPDATE", "target": target, "merged_text": "Merged."}]})
    (d,) = reconcile(client, FACTS[:1], CANDIDATES)
    assert (d.action, d.target_id) == expected
    assert d.merged_text == ("Merged." if expected[0] == "UPDATE" else None)


def test_reconcile_update_without_merged_text_uses_the_fact(script, client):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 0, "action": "update", "target": 0, "merged_text": "  "},
        {"fact": 1, "action": "Update", "target": 1}]})
    out = reconcile(client, FACTS[:2], CANDIDATES)
    assert [(d.action, d.merged_text) for d in out] == [
        ("UPDATE", "The API listens on port 8443."), ("UPDATE", "Jobs run on RQ.")]


def test_reconcile_one_decision_per_fact(script, client):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 1, "action": "DELETE", "target": 1},
        {"fact": 1, "action": "NONE", "target": 1},       # second for fact 1: ignored
        {"fact": 9, "action": "DELETE", "target": 0},     # no such fact: ignored
        "junk", 17,
        {"fact": "F2", "action": "MERGE", "target": 2},   # unknown action
    ]})
    out = reconcile(client, FACTS, CANDIDATES)
    assert [(d.fact_index, d.action, d.target_id) for d in out] == [
        (0, "ADD", None), (1, "DELETE", "id-b"), (2, "ADD", None), (3, "ADD", None)]


def test_reconcile_none_needs_a_valid_target(script, client):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 0, "action": "NONE", "reason": "dupe"}]})
    (d,) = reconcile(client, FACTS[:1], CANDIDATES)
    assert d.action == "ADD"


def test_reconcile_a_target_is_claimed_once(script, client):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 0, "action": "UPDATE", "target": 0, "merged_text": "M0"},
        {"fact": 1, "action": "UPDATE", "target": 0, "merged_text": "M1"},
        {"fact": 2, "action": "DELETE", "target": 0},
        {"fact": 3, "action": "NONE", "target": 0},
    ]})
    out = reconcile(client, FACTS, CANDIDATES)
    assert [(d.action, d.target_id) for d in out] == [
        ("UPDATE", "id-a"), ("ADD", None), ("ADD", None), ("NONE", "id-a")]


def test_reconcile_positional_when_facts_are_not_named(script, client):
    script.when(task="reconciliation").reply({"actions": [
        {"action": "NONE", "target": 2}, {"action": "ADD"}]})
    out = reconcile(client, FACTS[:3], CANDIDATES)
    assert [(d.action, d.target_id) for d in out] == [("NONE", "id-c"), ("ADD", None),
                                                      ("ADD", None)]


def test_reconcile_junk_shapes_mean_add(script, client):
    script.when(task="reconciliation").reply({"decisions": "ADD everything"})
    assert [d.action for d in reconcile(client, FACTS[:2], CANDIDATES)] == ["ADD", "ADD"]


def test_reconcile_oversized_merge_falls_back_to_add(script, client):
    script.when(task="reconciliation").reply({"decisions": [
        {"fact": 0, "action": "UPDATE", "target": 0, "merged_text": "y" * 9000}]})
    (d,) = reconcile(client, FACTS[:1], CANDIDATES)
    assert (d.action, d.target_id, d.merged_text) == ("ADD", None, None)


def test_reconcile_propagates_llm_errors(script, client):
    script.when(task="reconciliation").reply(status=400, error="bad request")
    with pytest.raises(LLMError):
        reconcile(client, FACTS[:1], CANDIDATES)


# -- enrichment ----------------------------------------------------------------------

CONTENT = ("Deploys to production go through the release-train job in GitHub Actions every "
           "Tuesday; hotfixes outside the train need approval from Priya.")


def test_enrich_normalises(script, client):
    script.when(task="enrichment").reply({
        "keywords": [f"kw{i}" for i in range(20)] + ["KW1"],
        "summary": "  Weekly release train. ",
        "semantic_facts": ["Deploys are weekly.", 5, "", CONTENT] + [f"s{i}" for i in range(9)],
        "entities": ["GitHub Actions", "github actions", "Priya", None]
                    + [f"E{i}" for i in range(30)],
    })
    out = enrich(client, CONTENT)
    assert out.keywords == [f"kw{i}" for i in range(12)]
    assert out.summary == "Weekly release train."
    assert out.semantic_facts == ["Deploys are weekly.", "s0", "s1", "s2"]
    assert out.entities[:3] == ["GitHub Actions", "Priya", "E0"] and len(out.entities) == 20
    (call,) = script.calls
    assert call.model == "m-meta" and call.system == prompts.ENRICHMENT
    assert call.user == f"<memory>\n{CONTENT}\n</memory>"


def test_enrich_drops_a_summary_that_is_not_much_shorter(script, client):
    content = "x" * 100
    script.when(task="enrichment", user_contains="x" * 100).reply({"summary": "s" * 85})
    assert enrich(client, content).summary is None
    script.when(task="enrichment", user_contains="x" * 100).reply({"summary": "s" * 84})
    assert enrich(client, content).summary == "s" * 84


def test_enrich_wrong_types(script, client):
    script.when(task="enrichment").reply({"keywords": "deploy, release,  , ci",
                                          "summary": ["not", "text"], "semantic_facts": "x",
                                          "entities": 3})
    assert enrich(client, CONTENT) == Enrichment(["deploy", "release", "ci"], None, ["x"], [])


def test_enrich_empty_answer_object(script, client):
    script.when(task="enrichment").reply({})
    assert enrich(client, CONTENT) == Enrichment([], None, [], [])


# -- causal links --------------------------------------------------------------------

NEW = {"id": "new-id", "content": "The build pins numpy below 2.0.",
       "created_at": "2025-05-01T00:00:00Z"}
POOL = [{"id": "p0", "content": "numpy 2.0 broke the pickled cache."},
        {"id": "p1", "content": "CI runs on Ubuntu 22.04."},
        {"id": "p2", "content": "The cache keeps CI fast."}]


def test_causal_empty_pool_makes_no_call(script, client):
    assert infer_causal(client, NEW, []) == []
    assert infer_causal(client, NEW, [dict(NEW)]) == []
    assert script.calls == []


def test_causal_filters_and_maps(script, client):
    script.when(task="causal").reply({"links": [
        {"cause": 0, "effect": "new", "sub_type": "causes", "confidence": 0.9,
         "rationale": "why pinned"},
        {"cause": "new", "effect": 2, "sub_type": "ENABLES", "confidence": "0.8"},
        {"cause": 1, "effect": "new", "sub_type": "causes", "confidence": 0.5},   # weak
        {"cause": 1, "effect": "new", "sub_type": "causes", "confidence": 80},    # not 0..1
        {"cause": 0, "effect": 2, "sub_type": "causes", "confidence": 0.95},      # pool-pool
        {"cause": "new", "effect": "new", "confidence": 0.99},                   # self loop
        {"cause": 7, "effect": "new", "confidence": 0.99},                       # out of range
        {"cause": "new", "effect": 1, "sub_type": "correlates", "confidence": 0.75},
        "junk",
        {"cause": "p1", "effect": "new", "sub_type": "prevents", "confidence": 0.76},
    ]})
    out = infer_causal(client, NEW, POOL)
    assert out == [
        CausalLink("p0", "new-id", "causes", 0.9, "why pinned"),
        CausalLink("new-id", "p2", "enables", 0.8, ""),
        CausalLink("p1", "new-id", "prevents", 0.76, ""),
    ]
    (call,) = script.calls
    assert call.model == "m-meta" and call.system == prompts.CAUSAL
    assert call.user == ("NEW: The build pins numpy below 2.0.\nCANDIDATES\n"
                         "[0] numpy 2.0 broke the pickled cache.\n[1] CI runs on Ubuntu 22.04.\n"
                         "[2] The cache keeps CI fast.")


def test_causal_one_link_per_pair_keeps_the_most_confident(script, client):
    script.when(task="causal").reply({"links": [
        {"cause": 0, "effect": "new", "confidence": 0.8},
        {"cause": "new", "effect": 0, "confidence": 0.95, "sub_type": "prevents"},
        {"cause": 0, "effect": "new", "confidence": 0.85},
    ]})
    assert infer_causal(client, NEW, POOL) == [
        CausalLink("new-id", "p0", "prevents", 0.95, "")]


def test_causal_pool_excludes_the_new_memory(script, client):
    script.when(task="causal").reply({"links": [
        {"cause": 0, "effect": "new", "confidence": 0.9}]})
    out = infer_causal(client, NEW, [dict(NEW), POOL[1]])
    assert out == [CausalLink("p1", "new-id", "causes", 0.9, "")]
    assert "[1]" not in script.calls[0].user


def test_causal_junk_answer_is_no_links(script, client):
    script.when(task="causal").reply({"links": {"cause": 0}})
    assert infer_causal(client, NEW, POOL) == []


# -- expansion -----------------------------------------------------------------------


def test_expand(script, client):
    script.when(task="expansion").reply({
        "expanded_query": "reason for dropping Celery task queue", "keywords": ["celery", "queue"],
        "entities": ["Celery"], "intent": "why"})
    out = expand_query(client, "why did we drop celery")
    assert out == Expansion("reason for dropping Celery task queue", ["celery", "queue"],
                            ["Celery"], "WHY")
    (call,) = script.calls
    assert call.model == "m-fast" and call.system == prompts.EXPANSION
    assert call.user == "Query: why did we drop celery"


def test_expand_normalises_junk(script, client):
    script.when(task="expansion").reply({
        "expanded_query": " ".join(["word"] * 100), "keywords": "a, b",
        "entities": [1, "X", "x"], "intent": "SOMETIMES"})
    out = expand_query(client, "q")
    assert out.expanded_query == " ".join(["word"] * 60)
    assert out.keywords == ["a", "b"] and out.entities == ["X"] and out.intent is None


def test_expand_missing_query_falls_back_to_the_original(script, client):
    script.when(task="expansion").reply({"expanded_query": "", "intent": "WHEN"})
    assert expand_query(client, "history of the db") == Expansion("history of the db", [], [],
                                                                  "WHEN")


def test_expand_passthrough_on_errors_after_one_retry(script, client, sleeps):
    script.when(task="expansion").reply(status=500)
    assert expand_query(client, "q") == Expansion("q", [], [], None)
    assert len(script.calls) == 2 and sleeps == [1.0]


def test_expand_passthrough_on_non_json_and_without_client(script, client):
    script.when(task="expansion").reply("sorry")
    assert expand_query(client, "q") == Expansion("q", [], [], None)
    assert expand_query(None, "q") == Expansion("q", [], [], None)
    assert expand_query(client, "   ") == Expansion("   ", [], [], None)


def test_defaults_script_round_trip(script, client):
    script.defaults()
    ex = extract_facts(client, "The Billing service uses Stripe.", hints={})
    assert ex.facts == [Fact("The Billing service uses Stripe.", "fact", 3,
                             ["The", "Billing", "Stripe"])]
    assert [d.action for d in reconcile(client, ex.facts, CANDIDATES)] == ["ADD"]
    assert enrich(client, "Deploy with make release").keywords == ["deploy", "with", "make",
                                                                   "release"]
    assert infer_causal(client, NEW, POOL) == []
    assert expand_query(client, "deploy").expanded_query == "deploy"
