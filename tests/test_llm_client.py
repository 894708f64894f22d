"""LLMClient against a loopback OpenAI-compatible server: wire format, retries,
errors, the response cache, statistics, tracing; and the settings rules."""
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from memman import trace
from memman.config.settings import Settings
from memman.errors import MemmanError
from memman.llm import prompts
from memman.llm.cache import ResponseCache, cache_key
from memman.llm.client import (
    LLMClient, LLMError, build_headers, from_settings, is_loopback, is_openrouter, llm_mode,
)
from tests.fakes.chat import ChatScript, completion
from tests.fakes.loopback import Reply

MODELS = {"fast": "m-fast", "slow_canonical": "m-canon", "slow_metadata": "m-meta"}
SYSTEM = prompts.EXTRACTION
ANSWER = {"facts": [{"text": "The build uses make.", "category": "fact", "importance": 3,
                     "entities": ["make"]}], "skip_reason": None}


@pytest.fixture
def script(loopback):
    s = ChatScript()
    s.endpoint = s.install(loopback)
    return s


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(script, sleeps):
    made = []

    def make(**kwargs):
        kwargs.setdefault("sleep", sleeps.append)
        api_key = kwargs.pop("api_key", None)
        endpoint = kwargs.pop("endpoint", script.endpoint)
        client = LLMClient(endpoint, api_key, dict(MODELS), **kwargs)
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


def chat_requests(loopback):
    return [r for r in loopback.requests if r.path.endswith("/chat/completions")]


def lower(headers: dict) -> dict:
    return {k.lower(): v for k, v in headers.items()}


# -- wire format ---------------------------------------------------------------------


def test_request_body_and_headers_without_key(script, loopback, make_client):
    script.when(task="extraction").reply(ANSWER)
    client = make_client()
    out = client.complete("slow_canonical", SYSTEM, "<note>x</note>", max_tokens=321)
    assert json.loads(out) == ANSWER
    (req,) = chat_requests(loopback)
    assert req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.json == {
        "model": "m-canon",
        "messages": [{"role": "system", "content": SYSTEM},
                     {"role": "user", "content": "<note>x</note>"}],
        "max_tokens": 321,
        "temperature": 0,
        "response_format": {"type": "json_object"},
    }
    headers = lower(req.headers)
    assert "authorization" not in headers
    assert headers["content-type"] == "application/json"
    assert "http-referer" not in headers and "x-title" not in headers


def test_bearer_only_when_key_set(script, loopback, make_client):
    script.when().reply({"ok": 1})
    make_client(api_key="k-123").complete("fast", "s", "u", max_tokens=5)
    make_client(api_key="").complete("fast", "s", "u", max_tokens=5)
    first, second = chat_requests(loopback)
    assert lower(first.headers)["authorization"] == "Bearer k-123"
    assert "authorization" not in lower(second.headers)


def test_each_role_uses_its_model(script, make_client):
    script.when().reply({"ok": 1})
    client = make_client()
    for role in ("fast", "slow_canonical", "slow_metadata"):
        client.complete(role, "s", "u", max_tokens=5)
    assert [c.model for c in script.calls] == ["m-fast", "m-canon", "m-meta"]


def test_text_mode_omits_response_format(script, loopback, make_client):
    script.when().reply("plain words")
    assert make_client().complete("fast", "s", "u", max_tokens=5, json_mode=False) == "plain words"
    assert "response_format" not in chat_requests(loopback)[0].json


def test_endpoint_trailing_slash_and_full_path_are_normalised(script, loopback, make_client):
    script.when().reply({"ok": 1})
    make_client(endpoint=script.endpoint + "/").complete("fast", "s", "u", max_tokens=5)
    make_client(endpoint=script.endpoint + "/chat/completions").complete("fast", "s", "u",
                                                                          max_tokens=5)
    assert [r.path for r in chat_requests(loopback)] == ["/v1/chat/completions"] * 2


def test_unknown_role_is_a_programming_error(make_client):
    with pytest.raises(ValueError):
        make_client().complete("medium", "s", "u", max_tokens=5)


def test_llm_error_is_a_memman_error():
    assert issubclass(LLMError, MemmanError)


@pytest.mark.parametrize("url,expected", [
    ("https://openrouter.ai/api/v1", True),
    ("https://api.openrouter.ai/v1", True),
    ("https://OpenRouter.AI/api/v1", True),
    ("https://openrouter.ai.evil.com/v1", False),
    ("https://notopenrouter.ai/v1", False),
    ("http://127.0.0.1:8000/v1", False),
    ("https://api.openai.com/v1", False),
])
def test_openrouter_attribution_headers(url, expected):
    headers = build_headers(url, "key")
    assert is_openrouter(url) is expected
    assert (headers.get("HTTP-Referer") == "https://github.com/memman") is expected
    assert (headers.get("X-Title") == "memman") is expected
    assert headers["Authorization"] == "Bearer key"
    assert "Authorization" not in build_headers(url, None)


@pytest.mark.parametrize("url,expected", [
    ("http://localhost:8000/v1", True),
    ("http://LOCALHOST/v1", True),
    ("http://llm.localhost:1234/v1", True),
    ("http://127.0.0.1:8000/v1", True),
    ("http://127.4.5.6/v1", True),
    ("http://[::1]:8080/v1", True),
    ("http://[::ffff:127.0.0.1]/v1", True),
    ("localhost:11434", True),
    ("http://10.0.0.5:8000/v1", False),
    ("http://0.0.0.0:8000/v1", False),
    ("https://openrouter.ai/api/v1", False),
    ("http://localhost.evil.com/v1", False),
    ("http://128.0.0.1/v1", False),
    ("", False),
])
def test_is_loopback(url, expected):
    assert is_loopback(url) is expected


# -- retries and errors --------------------------------------------------------------


def test_429_then_200_honours_retry_after(script, loopback, make_client, sleeps):
    script.when().reply(status=429, error="slow down", headers={"Retry-After": "3"}).reply(ANSWER)
    client = make_client()
    assert client.complete_json("slow_canonical", SYSTEM, "u", max_tokens=10) == ANSWER
    assert len(chat_requests(loopback)) == 2
    assert sleeps == [3.0]
    stats = client.stats["slow_canonical"]
    assert stats["requests"] == 2 and stats["calls"] == 1 and stats["errors"] == 0


def test_retry_after_beyond_ten_seconds_fails_fast(script, loopback, make_client, sleeps):
    script.when().reply(status=429, error="quota", headers={"Retry-After": "30"})
    with pytest.raises(LLMError) as err:
        make_client().complete("fast", "s", "u", max_tokens=5)
    assert err.value.transient and err.value.status == 429
    assert "retry after 30 s" in str(err.value)
    assert len(chat_requests(loopback)) == 1 and sleeps == []


def test_5xx_retried_with_backoff_then_one_line_error(script, loopback, make_client, sleeps):
    script.when().reply(status=500, error="upstream exploded\n" + "x" * 2000)
    client = make_client()
    with pytest.raises(LLMError) as err:
        client.complete("slow_metadata", "s", "u", max_tokens=5)
    message = str(err.value)
    assert len(chat_requests(loopback)) == 4
    assert sleeps == [1.0, 2.0, 4.0]
    assert "\n" not in message and len(message) < 400
    assert "HTTP 500" in message and "upstream exploded" in message and "m-meta" in message
    assert err.value.transient and err.value.status == 500
    assert client.stats["slow_metadata"]["errors"] == 1


@pytest.mark.parametrize("status", [502, 503, 504, 529])
def test_other_retryable_statuses(script, loopback, make_client, status):
    script.when().reply(status=status).reply({"ok": True})
    assert make_client().complete_json("fast", "s", "u", max_tokens=5) == {"ok": True}
    assert len(chat_requests(loopback)) == 2


def test_client_retries_setting_and_per_call_override(script, loopback, make_client, sleeps):
    script.when().reply(status=503)
    with pytest.raises(LLMError):
        make_client(retries=0).complete("fast", "s", "u", max_tokens=5)
    assert len(chat_requests(loopback)) == 1
    with pytest.raises(LLMError):
        make_client().complete("fast", "s", "u", max_tokens=5, retries=1)
    assert len(chat_requests(loopback)) == 3
    assert sleeps == [1.0]


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_the_key_and_is_not_retried(script, loopback, make_client, status):
    script.when().reply(status=status, error="invalid api key")
    with pytest.raises(LLMError) as err:
        make_client(api_key="k-abc").complete("fast", "s", "u", max_tokens=5)
    assert "MEMMAN_LLM_API_KEY" in str(err.value) and f"HTTP {status}" in str(err.value)
    assert not err.value.transient
    assert len(chat_requests(loopback)) == 1


def test_auth_failure_without_key_says_to_set_it(script, make_client):
    script.when().reply(status=401, error="auth required")
    with pytest.raises(LLMError, match="set MEMMAN_LLM_API_KEY"):
        make_client().complete("fast", "s", "u", max_tokens=5)


def test_auth_failure_with_openrouter_fallback_key_names_both(script, make_client):
    script.when().reply(status=401)
    with pytest.raises(LLMError) as err:
        make_client(api_key="k", key_name="MEMMAN_OPENROUTER_API_KEY").complete(
            "fast", "s", "u", max_tokens=5)
    assert "MEMMAN_LLM_API_KEY" in str(err.value)
    assert "MEMMAN_OPENROUTER_API_KEY" in str(err.value)


def test_other_4xx_is_not_retried_and_404_hints_at_config(script, loopback, make_client):
    script.when().reply(status=404, error="model not found")
    with pytest.raises(LLMError) as err:
        make_client().complete("slow_canonical", "s", "u", max_tokens=5)
    assert len(chat_requests(loopback)) == 1
    assert "MEMMAN_LLM_MODEL_SLOW_CANONICAL" in str(err.value)
    assert "model not found" in str(err.value)


def test_timeout_is_retried_then_fails(script, loopback, make_client, sleeps):
    script.when().reply({"ok": 1}, delay=0.6)
    client = make_client(fast_timeout=0.15, timeout=30, retries=1)
    with pytest.raises(LLMError, match="timed out") as err:
        client.complete("fast", "s", "u", max_tokens=5)
    assert err.value.transient
    assert len(chat_requests(loopback)) == 2
    assert sleeps == [1.0]


def test_slow_roles_use_the_long_timeout(script, make_client):
    script.when().reply({"ok": 1}, delay=0.3)
    client = make_client(fast_timeout=0.1, timeout=5)
    assert client.complete_json("slow_canonical", "s", "u", max_tokens=5) == {"ok": 1}


def test_dropped_connection_is_retried(script, loopback, make_client, sleeps):
    script.when().reply(drop=True).reply({"ok": 1})
    assert make_client().complete_json("fast", "s", "u", max_tokens=5) == {"ok": 1}
    assert len(chat_requests(loopback)) == 2 and sleeps == [1.0]


def test_connection_refused_is_retried_then_fails(make_client, sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(endpoint=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(LLMError, match="cannot reach") as err:
        client.complete("fast", "s", "u", max_tokens=5)
    assert err.value.transient and sleeps == [1.0, 2.0, 4.0]


def test_malformed_response_body(script, loopback, make_client):
    script.when().reply(body=b"<html>gateway says hi</html>")
    with pytest.raises(LLMError, match="not valid JSON"):
        make_client().complete("fast", "s", "u", max_tokens=5)
    assert len(chat_requests(loopback)) == 1


def test_response_without_choices(script, make_client):
    script.when().reply(raw={"error": {"message": "provider overloaded"}})
    with pytest.raises(LLMError, match="no choices.*provider overloaded"):
        make_client().complete("fast", "s", "u", max_tokens=5)


def test_truncated_json_answer(script, make_client):
    script.when().reply('{"facts": [{"text": "The build uses', finish_reason="length")
    with pytest.raises(LLMError, match="truncated"):
        make_client().complete("slow_canonical", SYSTEM, "u", max_tokens=5)


def test_length_finish_with_complete_json_is_accepted(script, make_client):
    script.when().reply({"facts": []}, finish_reason="length")
    assert make_client().complete_json("fast", "s", "u", max_tokens=5) == {"facts": []}


@pytest.mark.parametrize("content", [None, "", "   "])
def test_missing_or_empty_content(script, make_client, content):
    script.when().reply(content)
    with pytest.raises(LLMError, match="truncated or empty"):
        make_client().complete("fast", "s", "u", max_tokens=5)


def test_content_as_list_of_parts(script, make_client):
    script.when().reply(raw=completion(None) | {"choices": [{
        "index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": [{"type": "text", "text": '{"a": '},
                                                     {"type": "text", "text": "1}"}]}}]})
    assert make_client().complete_json("fast", "s", "u", max_tokens=5) == {"a": 1}


def test_response_format_rejected_falls_back_once_and_remembers(script, loopback, make_client,
                                                                 sleeps):
    def answer(call):
        if "response_format" in call.body:
            return Reply(400, {"error": {"message": "response_format is not supported by "
                                                    "this model"}})
        return {"ok": True}

    script.when().reply(answer)
    client = make_client()
    assert client.complete_json("slow_canonical", "s", "u", max_tokens=5) == {"ok": True}
    assert client.complete_json("slow_canonical", "s", "u2", max_tokens=5) == {"ok": True}
    bodies = [r.json for r in chat_requests(loopback)]
    assert ["response_format" in b for b in bodies] == [True, False, False]
    assert sleeps == []


def test_plain_400_is_not_mistaken_for_json_mode(script, loopback, make_client):
    script.when().reply(status=400, error="context length exceeded")
    with pytest.raises(LLMError, match="HTTP 400: context length exceeded"):
        make_client().complete("fast", "s", "u", max_tokens=5)
    assert len(chat_requests(loopback)) == 1


def test_code_fenced_json_is_parsed(script, make_client):
    script.when().reply('Here it is:\n```json\n{"keywords": ["a", "b"]}\n```\nDone.')
    assert make_client().complete_json("slow_metadata", "s", "u", max_tokens=5) == {
        "keywords": ["a", "b"]}


def test_complete_json_without_json_is_an_llm_error(script, make_client):
    script.when().reply("I cannot help with that.")
    client = make_client()
    with pytest.raises(LLMError, match="not JSON"):
        client.complete_json("fast", "s", "u", max_tokens=5)
    assert client.stats["fast"]["errors"] == 1


# -- cache ---------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path):
    c = ResponseCache(tmp_path / "cache" / "llm.db")
    yield c
    c.close()


def test_cache_hit_avoids_a_second_request(script, loopback, make_client, cache, tmp_path):
    trace.configure(str(tmp_path / "trace.log"))
    try:
        script.when().reply(ANSWER)
        client = make_client(cache=cache)
        first = client.complete_json("slow_canonical", SYSTEM, "u", max_tokens=50)
        second = client.complete_json("slow_canonical", SYSTEM, "u", max_tokens=50)
        assert first == second == ANSWER
        assert len(chat_requests(loopback)) == 1
        assert client.stats["slow_canonical"]["cache_hits"] == 1
        assert client.stats["slow_canonical"]["calls"] == 1
        # A different question is a different entry.
        client.complete_json("slow_canonical", SYSTEM, "other", max_tokens=50)
        client.complete_json("slow_canonical", SYSTEM, "u", max_tokens=51)
        assert len(chat_requests(loopback)) == 3
        # Persisted: a new client (new process) reuses it.
        make_client(cache=ResponseCache(cache.path)).complete_json(
            "slow_canonical", SYSTEM, "u", max_tokens=50)
        assert len(chat_requests(loopback)) == 3
    finally:
        trace.configure(None)
    events = [json.loads(line)["event"] for line in open(tmp_path / "trace.log")]
    assert events.count("llm_cache_hit") == 2


def test_cache_key_changes_with_model_and_prompt_version(script, loopback, make_client, cache):
    script.when().reply({"ok": 1})
    make_client(cache=cache).complete_json("fast", "s", "u", max_tokens=5)
    other_models = dict(MODELS, fast="m-fast-2")
    client = make_client(cache=cache)
    client.models = other_models
    client.complete_json("fast", "s", "u", max_tokens=5)
    assert len(chat_requests(loopback)) == 2
    make_client(cache=cache, prompt_version="0" * 16).complete_json("fast", "s", "u",
                                                                    max_tokens=5)
    assert len(chat_requests(loopback)) == 3
    make_client(cache=cache).complete_json("fast", "s", "u", max_tokens=5)
    assert len(chat_requests(loopback)) == 3

    base = cache_key(prompts.PROMPT_VERSION, "m", "s", "u", 5)
    assert base != cache_key("x" * 16, "m", "s", "u", 5)
    assert base != cache_key(prompts.PROMPT_VERSION, "m2", "s", "u", 5)
    assert base != cache_key(prompts.PROMPT_VERSION, "m", "s2", "u", 5)
    assert base != cache_key(prompts.PROMPT_VERSION, "m", "s", "u", 6)
    assert base != cache_key(prompts.PROMPT_VERSION, "m", "s", "u", 5, json_mode=False)
    # NUL separation: moving text between fields changes the key.
    assert cache_key("p", "m", "ab", "c", 5) != cache_key("p", "m", "a", "bc", 5)


def test_unparseable_answers_are_not_cached(script, loopback, make_client, cache):
    script.when().reply("no json").reply({"ok": 1})
    client = make_client(cache=cache)
    with pytest.raises(LLMError):
        client.complete_json("fast", "s", "u", max_tokens=5)
    assert client.complete_json("fast", "s", "u", max_tokens=5) == {"ok": 1}
    assert client.complete_json("fast", "s", "u", max_tokens=5) == {"ok": 1}
    assert len(chat_requests(loopback)) == 2
    assert cache.count() == 1


def test_failed_requests_are_not_cached(script, make_client, cache):
    script.when().reply(status=400, error="bad")
    with pytest.raises(LLMError):
        make_client(cache=cache).complete("fast", "s", "u", max_tokens=5)
    assert cache.count() == 0


def test_cache_file_is_private_wal(cache):
    cache.put("k", "v")
    assert cache.get("k") == "v" and cache.get("missing") is None
    assert oct(os.stat(cache.path).st_mode & 0o777) == "0o600"
    import sqlite3

    conn = sqlite3.connect(cache.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_cache_keeps_the_newest_rows(tmp_path):
    from memman import clock

    cache = ResponseCache(tmp_path / "c.db", max_rows=5, trim_every=3)
    for i in range(12):
        clock.shift(1)
        cache.put(f"k{i}", f"v{i}")
    assert cache.count() <= 5 + 3
    cache.trim()
    assert cache.count() == 5
    assert [cache.get(f"k{i}") for i in range(7, 12)] == [f"v{i}" for i in range(7, 12)]
    assert cache.get("k0") is None
    cache.close()


def test_unusable_cache_never_fails(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    cache = ResponseCache(blocker / "llm.db")
    cache.put("k", "v")
    assert cache.get("k") is None and cache.count() == 0

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    cache = ResponseCache(corrupt)
    cache.put("k", "v")
    assert cache.get("k") is None


def test_cache_is_thread_safe(tmp_path):
    cache = ResponseCache(tmp_path / "t.db")

    def work(n):
        for i in range(50):
            cache.put(f"{n}-{i}", str(i))
            assert cache.get(f"{n}-{i}") == str(i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.count() == 400
    cache.close()


# -- statistics, threads, trace ------------------------------------------------------


def test_stats_count_calls_and_tokens_per_role(script, make_client):
    script.when(model="m-fast").reply({"a": 1}, usage={"prompt_tokens": 11,
                                                        "completion_tokens": 7})
    script.when(model="m-meta").reply({"a": 1}, usage=None)
    script.when(model="m-canon").reply(raw=completion('{"a": 1}') | {"usage": None})
    client = make_client()
    client.complete("fast", "s", "u", max_tokens=5)
    client.complete("fast", "s", "u", max_tokens=5)
    client.complete("slow_canonical", "s", "u", max_tokens=5)
    stats = client.stats
    assert stats["fast"] == {"calls": 2, "cache_hits": 0, "requests": 2, "errors": 0,
                             "prompt_tokens": 22, "completion_tokens": 14}
    assert stats["slow_canonical"]["calls"] == 1
    assert stats["slow_canonical"]["prompt_tokens"] == 0
    assert stats["slow_metadata"]["calls"] == 0
    stats["fast"]["calls"] = 99  # a copy: the client's counters are untouched
    assert client.stats["fast"]["calls"] == 2
    assert client.total_calls() == 3


def test_one_client_many_threads(script, loopback, make_client):
    script.when().reply(lambda call: {"echo": call.user}, delay=0.05)
    client = make_client()
    results, errors = {}, []

    def work(i):
        try:
            results[i] = client.complete_json("slow_metadata", "s", f"q{i}", max_tokens=5)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == {i: {"echo": f"q{i}"} for i in range(12)}
    assert client.stats["slow_metadata"]["calls"] == 12
    assert len(chat_requests(loopback)) == 12


def test_trace_records_requests_and_never_the_key(script, make_client, tmp_path, sleeps):
    key = "plainSecretValue7x9q2LmNopQ"
    log = tmp_path / "logs" / "debug.log"
    trace.configure(str(log))
    try:
        script.when(task="extraction").reply(status=500, error="boom").reply(ANSWER)
        script.when(task="expansion").reply(
            status=401, error=f"Incorrect API key provided: {key}")
        client = make_client(api_key=key)
        client.complete_json("slow_canonical", SYSTEM, "remember me", max_tokens=5)
        with pytest.raises(LLMError) as err:
            client.complete("fast", prompts.EXPANSION, "Query: x", max_tokens=5)
    finally:
        trace.configure(None)
    assert key not in str(err.value)
    text = log.read_text()
    assert key not in text
    events = [json.loads(line) for line in text.splitlines()]
    names = [e["event"] for e in events]
    assert names.count("llm_request") == 3
    assert "llm_retry" in names and "llm_response" in names and "llm_error" in names
    request = next(e for e in events if e["event"] == "llm_request")
    assert request["headers"]["Authorization"] == "[REDACTED]"
    assert request["model"] == "m-canon" and request["user"] == "remember me"
    assert request["system_head"] == prompts.TASK_MARKERS["extraction"]
    response = next(e for e in events if e["event"] == "llm_response" and e["status"] == 200)
    assert json.loads(response["content"]) == ANSWER


# -- settings ------------------------------------------------------------------------


def settings(tmp_path, **values):
    return Settings(tmp_path / "env", values={k: v for k, v in values.items() if v is not None})


def test_endpoint_none_is_heuristic(tmp_path):
    s = settings(tmp_path, MEMMAN_LLM_ENDPOINT="none", MEMMAN_LLM_API_KEY="k")
    assert from_settings(s) is None and llm_mode(s) == "heuristic"


def test_default_openrouter_without_any_key_is_heuristic(tmp_path):
    s = settings(tmp_path)
    assert from_settings(s) is None and llm_mode(s) == "heuristic"


def test_openrouter_with_only_the_openrouter_key(tmp_path):
    s = settings(tmp_path, MEMMAN_OPENROUTER_API_KEY="or-key")
    client = from_settings(s)
    assert llm_mode(s) == "llm"
    assert client.api_key == "or-key" and client.key_name == "MEMMAN_OPENROUTER_API_KEY"
    assert client.endpoint == "https://openrouter.ai/api/v1"
    assert client.headers["X-Title"] == "memman"
    assert client.models == {"fast": "anthropic/claude-haiku-4.5",
                             "slow_canonical": "anthropic/claude-sonnet-4.6",
                             "slow_metadata": "anthropic/claude-sonnet-4.6"}


def test_llm_key_wins_over_openrouter_key(tmp_path):
    s = settings(tmp_path, MEMMAN_LLM_API_KEY="llm-key", MEMMAN_OPENROUTER_API_KEY="or-key")
    client = from_settings(s)
    assert client.api_key == "llm-key" and client.key_name == "MEMMAN_LLM_API_KEY"


def test_openrouter_key_is_not_sent_to_other_hosts(tmp_path):
    s = settings(tmp_path, MEMMAN_LLM_ENDPOINT="https://api.example.com/v1",
                 MEMMAN_OPENROUTER_API_KEY="or-key")
    assert from_settings(s) is None and llm_mode(s) == "heuristic"


def test_loopback_endpoint_without_key(tmp_path, script, loopback):
    s = settings(tmp_path, MEMMAN_LLM_ENDPOINT=script.endpoint,
                 MEMMAN_LLM_MODEL_FAST="local-small", MEMMAN_LLM_MODEL_SLOW_CANONICAL="local-big",
                 MEMMAN_LLM_MODEL_SLOW_METADATA="local-mid")
    assert llm_mode(s) == "llm"
    client = from_settings(s, cache=None)
    try:
        assert client.api_key is None
        assert client.models == {"fast": "local-small", "slow_canonical": "local-big",
                                 "slow_metadata": "local-mid"}
        script.when().reply({"ok": 1})
        client.complete("slow_metadata", "s", "u", max_tokens=5)
        assert script.calls[0].model == "local-mid"
        assert "authorization" not in script.calls[0].headers
    finally:
        client.close()


def test_remote_endpoint_with_key(tmp_path, cache):
    s = settings(tmp_path, MEMMAN_LLM_ENDPOINT="https://llm.example.com/v1/",
                 MEMMAN_LLM_API_KEY="k-remote")
    client = from_settings(s, cache=cache)
    assert llm_mode(s) == "llm"
    assert client.endpoint == "https://llm.example.com/v1"
    assert client.url == "https://llm.example.com/v1/chat/completions"
    assert client.cache is cache
    assert client.headers["Authorization"] == "Bearer k-remote"
    assert "X-Title" not in client.headers


def test_remote_endpoint_without_key_and_blank_key(tmp_path):
    for key in (None, "", "   "):
        s = settings(tmp_path, MEMMAN_LLM_ENDPOINT="https://llm.example.com/v1",
                     MEMMAN_LLM_API_KEY=key)
        assert from_settings(s) is None and llm_mode(s) == "heuristic"


def test_settings_read_from_the_env_file(tmp_path):
    env = tmp_path / "env"
    env.write_text("MEMMAN_LLM_ENDPOINT=http://localhost:11434/v1\n")
    s = Settings(env)
    assert llm_mode(s) == "llm"


def test_importing_the_package_does_not_import_httpx():
    code = ("import sys, memman.llm, memman.llm.client, memman.llm.tasks, memman.llm.cache, "
            "memman.llm.prompts, memman.llm.parse; print('httpx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"
