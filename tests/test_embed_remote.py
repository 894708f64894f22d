"""Remote embedders against loopback servers speaking the real wire formats."""
import json
import socket
import time

import numpy as np
import pytest

from memman import trace
from memman.config.settings import Settings
from memman.embed import registry
from memman.embed.base import EmbedCredentialError, EmbedDimensionError, EmbedError
from memman.embed.ollama import OllamaEmbedder
from memman.embed.openai_compat import OpenAICompatEmbedder, embeddings_url
from memman.embed.voyage import VoyageEmbedder
from tests.fakes.loopback import Reply


def headers_of(req) -> dict:
    return {k.lower(): v for k, v in req.headers.items()}


def vec_for(text: str, dim: int) -> list[float]:
    """A distinct, deterministic, non-normalised vector per text."""
    v = [0.0] * dim
    v[len(text) % dim] = 3.0
    v[(len(text) + 1) % dim] += 4.0
    return v


def openai_reply(dim=4, reverse=True):
    """An OpenAI-style handler: one vector per input, listed in reverse index order."""
    def handler(req):
        inputs = req.json["input"]
        data = [{"object": "embedding", "index": i, "embedding": vec_for(t, dim)}
                for i, t in enumerate(inputs)]
        if reverse:
            data.reverse()
        return {"object": "list", "data": data, "model": req.json["model"],
                "usage": {"prompt_tokens": 3, "total_tokens": 3}}
    return handler


class Sleeps(list):
    """An injectable sleep that records instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def oa(loopback, sleeps, **kw):
    kw.setdefault("api_key", "sk-test-key-123")
    kw.setdefault("model", "text-embedding-3-small")
    return OpenAICompatEmbedder(loopback.url, kw.pop("api_key"), kw.pop("model"),
                                sleep=sleeps, **kw)


# -- OpenAI-compatible -------------------------------------------------------------

def test_openai_wire_format_and_index_order(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", openai_reply(dim=4))
    emb = oa(loopback, sleeps)
    texts = ["a", "bb", "ccc"]
    out = emb.embed(texts)
    assert out.shape == (3, 4) and out.dtype == np.float32
    expected = np.array([vec_for(t, 4) for t in texts], dtype=np.float64)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(out, expected, atol=1e-6)  # reordered by index, normalised
    assert emb.dim == 4 and emb.fingerprint == {
        "provider": "openai", "model": "text-embedding-3-small", "dim": 4}
    (req,) = loopback.requests
    assert req.json == {"model": "text-embedding-3-small", "input": texts,
                        "encoding_format": "float"}
    h = headers_of(req)
    assert h["authorization"] == "Bearer sk-test-key-123"
    assert h["content-type"].startswith("application/json")
    assert sleeps == []


@pytest.mark.parametrize("endpoint, path", [
    ("", "/v1/embeddings"),
    ("/", "/v1/embeddings"),
    ("/v1", "/v1/embeddings"),
    ("/v1/", "/v1/embeddings"),
    ("/api/v1", "/api/v1/embeddings"),
    ("/v1/embeddings", "/v1/embeddings"),
])
def test_openai_endpoint_paths(loopback, sleeps, endpoint, path):
    assert embeddings_url("https://api.openai.com" + endpoint) == "https://api.openai.com" + path
    loopback.route("POST", path, openai_reply())
    OpenAICompatEmbedder(loopback.url + endpoint, None, "m", sleep=sleeps).embed(["x"])
    assert [r.path for r in loopback.requests] == [path]


def test_openai_batches(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", openai_reply(dim=8))
    texts = [f"text number {'x' * i}" for i in range(5)]
    out = oa(loopback, sleeps, batch_size=2).embed(texts)
    assert [r.json["input"] for r in loopback.requests] == [texts[0:2], texts[2:4], texts[4:5]]
    single = OpenAICompatEmbedder(loopback.url, None, "m", batch_size=128).embed(texts)
    assert np.allclose(out, single)


def test_openai_no_key_sends_no_authorization(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", openai_reply())
    emb = oa(loopback, sleeps, api_key=None)
    assert emb.credentials_available  # local servers need no key
    emb.embed(["x"])
    assert "authorization" not in headers_of(loopback.requests[0])


def test_openrouter_attribution_headers_via_settings(loopback, tmp_path, sleeps):
    loopback.route("POST", "/api/v1/embeddings", openai_reply())
    settings = Settings(tmp_path / "env", values={
        "MEMMAN_EMBED_PROVIDER": "openrouter",
        "MEMMAN_OPENROUTER_ENDPOINT": loopback.url + "/api/v1",
        "MEMMAN_OPENROUTER_API_KEY": "sk-or-test-abc",
    })
    emb = registry.from_settings(settings)
    emb.embed(["hello"])
    (req,) = loopback.requests
    h = headers_of(req)
    assert h["http-referer"] == "https://github.com/memman"
    assert h["x-title"] == "memman"
    assert h["authorization"] == "Bearer sk-or-test-abc"
    assert req.json["model"] == "baai/bge-m3" and req.json["encoding_format"] == "float"


def test_429_then_200_honours_retry_after(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", [
        Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0.05"}),
        Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "60"}),
        openai_reply(),
    ])
    out = oa(loopback, sleeps).embed(["x"])
    assert out.shape == (1, 4)
    assert len(loopback.requests) == 3
    assert sleeps == [0.05, 1.0]  # honoured; 60 s is over the cap -> normal back-off


def test_500_four_times_gives_up_with_status(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings",
                   Reply(500, {"error": {"message": "upstream exploded"}}))
    with pytest.raises(EmbedError) as info:
        oa(loopback, sleeps).embed(["x"])
    msg = str(info.value)
    assert "500" in msg and "upstream exploded" in msg and "\n" not in msg
    assert info.value.status == 500
    assert len(loopback.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_client_error_not_retried_and_message_truncated(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings",
                   Reply(400, {"error": {"message": "bad input " + "y" * 500}}))
    with pytest.raises(EmbedError) as info:
        oa(loopback, sleeps).embed(["x"])
    assert "HTTP 400: bad input" in str(info.value)
    assert len(str(info.value)) < 400
    assert len(loopback.requests) == 1 and sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_names_the_key(loopback, sleeps, status):
    loopback.route("POST", "/v1/embeddings",
                   Reply(status, {"error": {"message": "Incorrect API key provided"}}))
    emb = oa(loopback, sleeps, key_name="MEMMAN_OPENAI_EMBED_API_KEY")
    with pytest.raises(EmbedCredentialError) as info:
        emb.embed(["x"])
    assert info.value.key == "MEMMAN_OPENAI_EMBED_API_KEY"
    assert "MEMMAN_OPENAI_EMBED_API_KEY" in str(info.value)
    assert str(status) in str(info.value)
    assert "sk-test-key-123" not in str(info.value)
    assert len(loopback.requests) == 1


def test_malformed_json_body(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", Reply(200, body=b"<html>oops</html>",
                                                   headers={"Content-Type": "text/html"}))
    with pytest.raises(EmbedError, match="malformed embeddings response"):
        oa(loopback, sleeps).embed(["x"])


@pytest.mark.parametrize("data, why", [
    ([{"index": 0, "embedding": [1.0, 0.0]}], "expected 2 vectors, got 1"),
    ([{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": [1.0, 0.0, 0.5]}],
     "mixed"),
    ([{"index": 0, "embedding": [1.0, 0.0]}, {"index": 0, "embedding": [1.0, 0.0]}],
     "index"),
    ([{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1}], "embedding"),
])
def test_malformed_vectors(loopback, sleeps, data, why):
    loopback.route("POST", "/v1/embeddings", {"data": data})
    with pytest.raises(EmbedError, match="malformed embeddings response") as info:
        oa(loopback, sleeps).embed(["a", "b"])
    assert why in str(info.value)


def test_no_data_list(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", {"embeddings": [[1, 2]]})
    with pytest.raises(EmbedError, match="malformed embeddings response.*'data'"):
        oa(loopback, sleeps).embed(["a"])


def test_read_timeout_is_retried_then_fails(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", Reply(200, {"data": []}, delay=0.6))
    start = time.monotonic()
    with pytest.raises(EmbedError, match="timed out") as info:
        oa(loopback, sleeps, timeout=0.2, retries=1).embed(["x"])
    assert time.monotonic() - start < 3
    assert len(loopback.requests) == 2
    assert sleeps == [0.5]
    assert "2 attempts" in str(info.value)


def test_timeout_then_success(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", [Reply(200, {"data": []}, delay=0.6),
                                              openai_reply()])
    assert oa(loopback, sleeps, timeout=0.2).embed(["x"]).shape == (1, 4)
    assert sleeps == [0.5]


def test_unreachable_endpoint_fails_fast(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emb = OpenAICompatEmbedder(f"http://127.0.0.1:{port}", None, "m", sleep=sleeps)
    with pytest.raises(EmbedError, match="cannot reach"):
        emb.embed(["x"])
    assert sleeps == []


def test_preset_dim_mismatch(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", openai_reply(dim=4))
    with pytest.raises(EmbedDimensionError, match="returned 4-dim vectors, expected 8"):
        oa(loopback, sleeps, dim=8).embed(["x"])


def test_fingerprint_dim_mismatch(loopback, tmp_path):
    loopback.route("POST", "/v1/embeddings", openai_reply(dim=4))
    settings = Settings(tmp_path / "env", values={
        "MEMMAN_OPENAI_EMBED_ENDPOINT": loopback.url,
        "MEMMAN_OPENAI_EMBED_MODEL": "some-other-model",
    })
    emb = registry.for_fingerprint({"provider": "openai", "model": "m3", "dim": 1024}, settings)
    with pytest.raises(EmbedDimensionError):
        emb.embed(["x"])
    assert loopback.requests[0].json["model"] == "m3"  # the fingerprint's, not the env's
    ok = registry.for_fingerprint({"provider": "openai", "model": "m3", "dim": 4}, settings)
    assert ok.embed(["x"]).shape == (1, 4)


def test_dim_change_between_calls_is_refused(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", [openai_reply(dim=4), openai_reply(dim=6)])
    emb = oa(loopback, sleeps)
    emb.embed(["x"])
    with pytest.raises(EmbedDimensionError):
        emb.embed(["x"])


# -- Voyage --------------------------------------------------------------------------

def voyage_reply(dim):
    def handler(req):
        return {"object": "list",
                "data": [{"object": "embedding", "embedding": vec_for(t, dim), "index": i}
                         for i, t in enumerate(req.json["input"])],
                "model": req.json["model"], "usage": {"total_tokens": 7}}
    return handler


def test_voyage_wire_format(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", voyage_reply(512))
    emb = VoyageEmbedder("pa-test-key", endpoint=loopback.url + "/v1", input_type="document",
                         sleep=sleeps)
    assert emb.dim == 512  # known before any call
    out = emb.embed(["alpha", "beta"])
    assert out.shape == (2, 512)
    (req,) = loopback.requests
    assert req.json == {"input": ["alpha", "beta"], "model": "voyage-3-lite",
                        "input_type": "document"}
    assert headers_of(req)["authorization"] == "Bearer pa-test-key"


def test_voyage_query_type_batches_and_learned_dim(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", voyage_reply(16))
    emb = VoyageEmbedder("pa-k", model="voyage-future-9", endpoint=loopback.url + "/v1",
                         input_type="query", sleep=sleeps)
    assert emb.dim is None
    out = emb.embed([f"t{i}" for i in range(130)])
    assert out.shape == (130, 16) and emb.dim == 16
    assert [len(r.json["input"]) for r in loopback.requests] == [128, 2]
    assert all(r.json["input_type"] == "query" for r in loopback.requests)


def test_voyage_no_input_type_omits_field(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", voyage_reply(512))
    VoyageEmbedder("pa-k", endpoint=loopback.url + "/v1", sleep=sleeps).embed(["x"])
    assert "input_type" not in loopback.requests[0].json


def test_voyage_missing_key_makes_no_request(loopback):
    emb = VoyageEmbedder(None, endpoint=loopback.url + "/v1")
    assert emb.missing_key == "MEMMAN_VOYAGE_API_KEY" and not emb.credentials_available
    with pytest.raises(EmbedCredentialError, match="MEMMAN_VOYAGE_API_KEY is not set"):
        emb.embed(["x"])
    assert loopback.requests == []


def test_voyage_error_detail_and_bad_key(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", [
        Reply(400, {"detail": "Input cannot be an empty string."}),
        Reply(401, {"detail": "Provided API key is invalid."}),
    ])
    emb = VoyageEmbedder("pa-k", endpoint=loopback.url + "/v1", sleep=sleeps)
    with pytest.raises(EmbedError, match="HTTP 400: Input cannot be an empty string"):
        emb.embed([""])
    with pytest.raises(EmbedCredentialError, match="MEMMAN_VOYAGE_API_KEY was rejected"):
        emb.embed(["x"])


def test_voyage_preset_dim_mismatch(loopback, sleeps):
    loopback.route("POST", "/v1/embeddings", voyage_reply(1024))
    emb = VoyageEmbedder("pa-k", endpoint=loopback.url + "/v1", sleep=sleeps)
    with pytest.raises(EmbedDimensionError):
        emb.embed(["x"])


# -- Ollama --------------------------------------------------------------------------

def test_ollama_embed_endpoint(loopback, sleeps):
    loopback.route("POST", "/api/embed", lambda req: {
        "model": req.json["model"],
        "embeddings": [vec_for(t, 8) for t in req.json["input"]]})
    emb = OllamaEmbedder(loopback.url, "nomic-embed-text", max_chars=5, sleep=sleeps)
    out = emb.embed(["short", "a much longer text that gets cut"])
    assert out.shape == (2, 8) and emb.dim == 8
    (req,) = loopback.requests
    assert req.json == {"model": "nomic-embed-text", "input": ["short", "a muc"]}
    assert "authorization" not in headers_of(req)


def test_ollama_legacy_fallback_on_404(loopback, sleeps):
    # /api/embed is not routed: the loopback answers 404 like an Ollama < 0.3
    loopback.route("POST", "/api/embeddings",
                   lambda req: {"embedding": vec_for(req.json["prompt"], 8)})
    emb = OllamaEmbedder(loopback.url, "nomic-embed-text", max_chars=4, sleep=sleeps)
    out = emb.embed(["one", "three", "fifteen"])
    assert out.shape == (3, 8)
    assert [r.path for r in loopback.requests] == ["/api/embed"] + ["/api/embeddings"] * 3
    assert [r.json for r in loopback.requests[1:]] == [
        {"model": "nomic-embed-text", "prompt": p} for p in ("one", "thre", "fift")]
    emb.embed(["again"])  # remembers: straight to the legacy endpoint
    assert [r.path for r in loopback.requests[4:]] == ["/api/embeddings"]
    assert sleeps == []


def test_ollama_missing_model(loopback, sleeps):
    loopback.route("POST", "/api/embed", Reply(404, {
        "error": 'model "nomic-embed-text" not found, try pulling it first'}))
    with pytest.raises(EmbedError, match="ollama pull nomic-embed-text"):
        OllamaEmbedder(loopback.url, "nomic-embed-text", sleep=sleeps).embed(["x"])
    assert len(loopback.requests) == 1


def test_ollama_malformed(loopback, sleeps):
    loopback.route("POST", "/api/embed", {"embeddings": [[1.0, 2.0]]})
    with pytest.raises(EmbedError, match="malformed embeddings response"):
        OllamaEmbedder(loopback.url, "m", sleep=sleeps).embed(["a", "b"])


# -- tracing -------------------------------------------------------------------------

def test_trace_records_requests_but_never_the_key(loopback, tmp_path, sleeps):
    secret = "zzfake-Qw7u2-memman-trace-canary-81c4"
    loopback.route("POST", "/v1/embeddings", [
        Reply(503, {"error": {"message": "busy"}}), openai_reply()])
    log = tmp_path / "logs" / "debug.log"
    trace.configure(str(log))
    try:
        emb = OpenAICompatEmbedder(loopback.url, secret, "text-embedding-3-small", sleep=sleeps)
        emb.embed(["trace me", "and me"])
    finally:
        trace.configure(None)
    text = log.read_text()
    assert secret not in text and "Bearer" not in text
    events = [json.loads(line) for line in text.splitlines()]
    names = [e["event"] for e in events]
    assert names == ["embed_request", "embed_response", "embed_request", "embed_response"]
    req = events[0]
    assert req["url"] == loopback.url + "/v1/embeddings"
    assert req["model"] == "text-embedding-3-small" and req["n_texts"] == 2
    assert [e["status"] for e in events if e["event"] == "embed_response"] == [503, 200]
    assert all(isinstance(e["ms"], int) for e in events if e["event"] == "embed_response")
    # the provider's secret-bearing headers went out, all the same
    assert headers_of(loopback.requests[0])["authorization"] == f"Bearer {secret}"
