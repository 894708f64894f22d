"""Opt-in cross-encoder rerank: Voyage and generic /rerank endpoints, with fallback."""
from tests.fakes.loopback import Reply


def seed(ok):
    for text in ("Alice owns the billing service", "Bob owns the deploy pipeline",
                 "Carol owns the billing database migrations"):
        ok("remember", text)
    ok("scheduler", "drain")


def contents(out):
    return [r["insight"]["content"] for r in out["results"]]


def test_rerank_is_off_by_default(ok, loopback):
    seed(ok)
    out = ok("recall", "who owns the billing things")
    assert out["meta"]["reranked"] is False and loopback.requests == []


def test_voyage_rerank_reorders_and_reports_scores(ok, loopback):
    seed(ok)

    def voyage(req):
        docs = req.json["documents"]
        assert req.json["model"] == "rerank-2.5-lite" and req.json["query"]
        assert req.headers["Authorization"] == "Bearer pa-test-key"
        scores = [0.9 if d.startswith("Carol") else 0.1 for d in docs]
        return {"data": [{"index": i, "relevance_score": s} for i, s in enumerate(scores)]}

    loopback.route("POST", "/v1/rerank", voyage)
    ok("config", "set", "MEMMAN_VOYAGE_API_KEY", "pa-test-key")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/v1")
    ok("config", "set", "MEMMAN_RERANK_ENABLED_default", "true")
    out = ok("recall", "who owns the billing things", "--limit", "2")
    assert out["meta"]["reranked"] is True
    assert contents(out)[0].startswith("Carol") and len(out["results"]) == 2
    assert out["results"][0]["signals"]["rerank"] == 0.9
    assert set(out["meta"]["order"]) == {r["insight"]["id"] for r in out["results"]}


def test_http_rerank_speaks_tei_and_cohere_shapes(ok, loopback):
    seed(ok)
    loopback.route("POST", "/tei", lambda req: [
        {"index": i, "score": 1.0 if t.startswith("Bob") else 0.0}
        for i, t in enumerate(req.json["texts"])])
    loopback.route("POST", "/cohere", lambda req: {"results": [
        {"index": i, "relevance_score": 1.0 if d.startswith("Alice") else 0.0}
        for i, d in enumerate(req.json["documents"])]})
    ok("config", "set", "MEMMAN_RERANK_PROVIDER", "http")
    ok("config", "set", "MEMMAN_RERANK_ENABLED", "true")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/tei")
    assert contents(ok("recall", "who owns what here"))[0].startswith("Bob")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/cohere")
    assert contents(ok("recall", "who owns what here"))[0].startswith("Alice")


def test_rerank_failure_keeps_recalls_own_order(ok, loopback):
    seed(ok)
    baseline = contents(ok("recall", "who owns the billing things"))
    loopback.route("POST", "/rerank", Reply(500, {"error": "boom"}))
    ok("config", "set", "MEMMAN_RERANK_PROVIDER", "http")
    ok("config", "set", "MEMMAN_RERANK_ENABLED", "true")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/rerank")
    out = ok("recall", "who owns the billing things")
    assert out["meta"]["reranked"] is False and "500" in out["meta"]["rerank_error"]
    assert contents(out) == baseline


def test_rerank_timeout_falls_back(ok, loopback):
    seed(ok)
    loopback.route("POST", "/slow", Reply(200, [], delay=1.0))
    ok("config", "set", "MEMMAN_RERANK_PROVIDER", "http")
    ok("config", "set", "MEMMAN_RERANK_ENABLED", "true")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/slow")
    ok("config", "set", "MEMMAN_RERANK_TIMEOUT", "0.2")
    out = ok("recall", "who owns the billing things")
    assert out["meta"]["reranked"] is False and "Timeout" in out["meta"]["rerank_error"]
    assert out["results"]


def test_short_queries_are_not_reranked(ok, loopback):
    seed(ok)
    ok("config", "set", "MEMMAN_RERANK_PROVIDER", "http")
    ok("config", "set", "MEMMAN_RERANK_ENABLED", "true")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/rerank")
    out = ok("recall", "billing")
    assert out["meta"]["reranked"] is False and loopback.requests == []


def test_per_store_switch_overrides_the_global_one(ok, loopback):
    seed(ok)
    ok("config", "set", "MEMMAN_RERANK_ENABLED", "true")
    ok("config", "set", "MEMMAN_RERANK_ENABLED_default", "false")
    ok("config", "set", "MEMMAN_RERANK_PROVIDER", "http")
    ok("config", "set", "MEMMAN_RERANK_ENDPOINT", loopback.url + "/rerank")
    out = ok("recall", "who owns the billing things")
    assert out["meta"]["reranked"] is False and loopback.requests == []
