"""The chat-model client: one OpenAI-compatible ``/chat/completions`` endpoint, three roles.

``LLMClient`` sends ``{"model", "messages": [system, user], "max_tokens",
"temperature": 0}`` (plus ``response_format: json_object`` in JSON mode) to
``<endpoint>/chat/completions`` and returns the answer text. It owns everything
about the wire: headers (bearer only when a key is set; OpenRouter attribution only
for OpenRouter hosts), retries with back-off on rate limits, 5xx, connection errors
and timeouts, the ``response_format`` fallback for servers that reject it, answer
checks (empty, truncated), the response cache, per-role statistics, usage accounting
(``memman.usage``: one record per answered or failed call, by the task its system
prompt names) and the debug trace. Every failure is an ``LLMError`` with a one-line
message.

Roles pick the model and the timeout: ``fast`` (query expansion; ``fast_timeout``),
``slow_canonical`` (extraction, reconciliation) and ``slow_metadata`` (enrichment,
causal links). One client is shared by the worker's threads: the httpx client, the
statistics and the fallback memory are all safe to use concurrently.

``from_settings`` / ``llm_mode`` decide whether memman runs with a model at all: no
endpoint ("none"), or a remote endpoint without a key, means heuristic mode.
"""
import copy
import email.utils
import ipaddress
import threading
import time
from urllib.parse import urlsplit

from memman import trace
from memman.errors import MemmanError
from memman.llm import prompts
from memman.llm.parse import parse_json
from memman.usage import record as record_usage
from memman.usage import token_count

__all__ = [
    "LLMError", "LLMClient", "ROLES", "ROLE_KEYS", "from_settings", "llm_mode",
    "is_loopback", "is_openrouter", "build_headers",
]

ROLES = ("fast", "slow_canonical", "slow_metadata")
ROLE_KEYS = {
    "fast": "MEMMAN_LLM_MODEL_FAST",
    "slow_canonical": "MEMMAN_LLM_MODEL_SLOW_CANONICAL",
    "slow_metadata": "MEMMAN_LLM_MODEL_SLOW_METADATA",
}
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 529})
BACKOFF_SECONDS = (1.0, 2.0, 4.0)
MAX_RETRY_AFTER = 10.0
MESSAGE_CHARS = 200
ATTRIBUTION = {"HTTP-Referer": "https://github.com/memman", "X-Title": "memman"}


class LLMError(MemmanError):
    """A model call that did not produce a usable answer.

    ``status`` is the HTTP status when there was one; ``transient`` is True when the
    same call may well succeed later (rate limits, 5xx, timeouts, connection
    errors), False for configuration problems (bad key, unknown model) and
    unusable answers.
    """

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient


# -- endpoint helpers ----------------------------------------------------------------


def _host(url: str) -> str:
    if "//" not in url:
        url = "//" + url
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def is_loopback(url: str) -> bool:
    """True for localhost, *.localhost, 127.0.0.0/8 and ::1 (scheme optional)."""
    host = _host(url or "")
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def is_openrouter(url: str) -> bool:
    host = _host(url or "")
    return host == "openrouter.ai" or host.endswith(".openrouter.ai")


def build_headers(endpoint: str, api_key: str | None) -> dict[str, str]:
    """Request headers: bearer only with a key, attribution only for OpenRouter."""
    from memman import __version__

    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": f"memman/{__version__}",
    }
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if is_openrouter(endpoint):
        headers.update(ATTRIBUTION)
    return headers


def _normalise_endpoint(endpoint: str) -> str:
    base = (endpoint or "").strip().rstrip("/")
    if base.endswith("/chat/completions"):
        base = base[: -len("/chat/completions")]
    return base


# -- settings ------------------------------------------------------------------------


def _resolve(settings) -> tuple[str, str | None, str] | None:
    """(endpoint, key, key name) when memman should use a model, else None."""
    endpoint = (settings.get("MEMMAN_LLM_ENDPOINT") or "").strip()
    if not endpoint or endpoint.lower() == "none":
        return None
    endpoint = _normalise_endpoint(endpoint)
    key = (settings.get("MEMMAN_LLM_API_KEY") or "").strip() or None
    key_name = "MEMMAN_LLM_API_KEY"
    if key is None and is_openrouter(endpoint):
        key = (settings.get("MEMMAN_OPENROUTER_API_KEY") or "").strip() or None
        key_name = "MEMMAN_OPENROUTER_API_KEY"
    if key is None and not is_loopback(endpoint):
        return None
    return endpoint, key, key_name


def llm_mode(settings) -> str:
    """"llm" when the worker will call a model, "heuristic" otherwise (no network)."""
    return "llm" if _resolve(settings) is not None else "heuristic"


def from_settings(settings, *, cache=None, **kwargs) -> "LLMClient | None":
    """A client for the configured endpoint, or None for zero-config/heuristic mode.

    None when MEMMAN_LLM_ENDPOINT is "none", or when no MEMMAN_LLM_API_KEY is set and
    the endpoint is not on this machine; an OpenRouter endpoint without
    MEMMAN_LLM_API_KEY uses MEMMAN_OPENROUTER_API_KEY. ``kwargs`` go to LLMClient.
    """
    resolved = _resolve(settings)
    if resolved is None:
        return None
    endpoint, key, key_name = resolved
    models = {role: settings.get(name) for role, name in ROLE_KEYS.items()}
    timeout = settings.get("MEMMAN_LLM_TIMEOUT")
    if timeout and "timeout" not in kwargs:
        kwargs["timeout"] = float(timeout)
    client = LLMClient(endpoint, key, models, cache=cache, key_name=key_name, **kwargs)
    client.usage_root = settings.env_file.parent  # the data dir its calls are charged to
    return client


# -- client --------------------------------------------------------------------------


def _one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _provider_message(response) -> str:
    """The provider's error message from a response body (JSON or text)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("error")
            if msg:
                return _one_line(msg)
        elif isinstance(err, str) and err:
            return _one_line(err)
        if body.get("message") or body.get("detail"):
            return _one_line(body.get("message") or body.get("detail"))
    try:
        return _one_line(response.text or "")
    except Exception:  # noqa: BLE001 - undecodable body: no message
        return ""


def _retry_after(response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _content_of(message) -> str | None:
    """``message.content`` as text (some servers send a list of text parts)."""
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        content = "".join(p for p in parts if isinstance(p, str))
    return content if isinstance(content, str) else None


class LLMClient:
    def __init__(self, endpoint: str, api_key: str | None, models: dict[str, str], *,
                 timeout: float = 60.0, fast_timeout: float = 10.0, retries: int = 3,
                 cache=None, sleep=time.sleep, key_name: str = "MEMMAN_LLM_API_KEY",
                 prompt_version: str | None = None):
        from memman.config.keys import KEYS

        self.endpoint = _normalise_endpoint(endpoint)
        self.url = self.endpoint + "/chat/completions"
        self.api_key = api_key or None
        self.key_name = key_name
        self.models = {
            role: (models or {}).get(role) or KEYS[ROLE_KEYS[role]].default for role in ROLES
        }
        self.timeout = float(timeout)
        self.fast_timeout = float(fast_timeout)
        self.retries = max(0, int(retries))
        self.cache = cache
        self.sleep = sleep
        self.prompt_version = prompt_version or prompts.PROMPT_VERSION
        self.headers = build_headers(self.endpoint, self.api_key)
        self._lock = threading.Lock()
        self._http = None
        self._no_response_format: set[str] = set()
        self._stats = {role: _empty_stats() for role in ROLES}
        self.usage_root = None
        self.provider = _host(self.endpoint) or self.endpoint
        # The task of the call this thread is making (set per call; the client is shared).
        self._task = threading.local()

    # -- public ------------------------------------------------------------------------

    def model_for(self, role: str) -> str:
        self._check_role(role)
        return self.models[role]

    @property
    def stats(self) -> dict:
        """Per role: calls (answers from the network), cache_hits, requests (HTTP
        attempts, retries included), errors, prompt_tokens, completion_tokens. A copy."""
        with self._lock:
            return copy.deepcopy(self._stats)

    def total_calls(self) -> int:
        with self._lock:
            return sum(s["calls"] for s in self._stats.values())

    def complete(self, role: str, system: str, user: str, *, max_tokens: int,
                 json_mode: bool = True, retries: int | None = None) -> str:
        """The model's answer text. ``retries`` overrides the client's for this call."""
        return self._complete(role, system, user, max_tokens, json_mode, retries, None)

    def complete_json(self, role: str, system: str, user: str, *, max_tokens: int,
                      json_mode: bool = True, retries: int | None = None) -> dict:
        """The model's answer parsed by ``parse_json``; LLMError if there is no object.

        Only answers that parse are cached."""
        parsed: list[dict] = []

        def check(text: str) -> None:
            try:
                parsed.append(parse_json(text))
            except ValueError as exc:
                raise LLMError(
                    f"LLM answer is not JSON ({role}, {self.models[role]}): {exc}: "
                    f"{_one_line(text, 120)!r}"
                ) from None

        self._complete(role, system, user, max_tokens, json_mode, retries, check)
        return parsed[-1]

    def close(self) -> None:
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    def __enter__(self) -> "LLMClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------

    def _check_role(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown LLM role {role!r}; valid: {', '.join(ROLES)}")

    def _count(self, role: str, **deltas) -> None:
        with self._lock:
            stats = self._stats[role]
            for name, value in deltas.items():
                stats[name] += value

    def _client(self):
        with self._lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client(
                    headers=self.headers,
                    limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                )
            return self._http

    def _scrub(self, value):
        """``value`` with the API key masked wherever it appears (providers echo it)."""
        if not self.api_key:
            return value
        if isinstance(value, str):
            return value.replace(self.api_key, "****")
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        return value

    def _trace(self, name: str, **fields) -> None:
        if trace.enabled():
            trace.event(name, **self._scrub(fields))

    def _record_usage(self, role: str, usage_body: dict | None = None, *,
                      error: bool = False) -> None:
        body = usage_body or {}
        record_usage("llm", getattr(self._task, "name", None) or role, self.provider,
                     self.models[role], prompt_tokens=body.get("prompt_tokens"),
                     completion_tokens=body.get("completion_tokens"),
                     total_tokens=body.get("total_tokens"), error=error,
                     root=self.usage_root)

    def _error(self, role: str, message: str, **kwargs) -> LLMError:
        self._count(role, errors=1)
        self._record_usage(role, error=True)
        err = LLMError(self._scrub(message), **kwargs)
        self._trace("llm_error", role=role, model=self.models[role], error=str(err),
                    status=kwargs.get("status"))
        return err

    def _complete(self, role, system, user, max_tokens, json_mode, retries, check) -> str:
        self._check_role(role)
        model = self.models[role]
        self._task.name = _task_of(system)
        key = None
        if self.cache is not None:
            from memman.llm.cache import cache_key

            key = cache_key(self.prompt_version, model, system, user, max_tokens, json_mode)
            cached = self.cache.get(key)
            if cached is not None:
                try:
                    if check is not None:
                        check(cached)
                except LLMError:
                    cached = None  # an entry that no longer passes: ask again
                if cached is not None:
                    self._count(role, cache_hits=1)
                    self._trace("llm_cache_hit", role=role, model=model, key=key[:16],
                                system_head=system.split("\n", 1)[0][:80], content=cached)
                    return cached

        text = self._request(role, model, system, user, max_tokens, json_mode, retries)
        if check is not None:
            try:
                check(text)
            except LLMError as exc:
                self._count(role, errors=1)
                self._record_usage(role, error=True)
                self._trace("llm_error", role=role, model=model, error=str(exc))
                raise
        if key is not None:
            self.cache.put(key, text)
        return text

    def _request(self, role, model, system, user, max_tokens, json_mode, retries) -> str:
        import httpx

        timeout = self.fast_timeout if role == "fast" else self.timeout
        retries = self.retries if retries is None else max(0, int(retries))
        http = self._client()
        attempt = 0
        fell_back = False
        while True:
            attempt += 1
            with self._lock:
                use_format = json_mode and model not in self._no_response_format
            body = {
                "model": model,
                "messages": [{"role": "system", "content": system},
                             {"role": "user", "content": user}],
                "max_tokens": int(max_tokens),
                "temperature": 0,
            }
            if use_format:
                body["response_format"] = {"type": "json_object"}
            self._trace("llm_request", role=role, model=model, url=self.url, attempt=attempt,
                        headers=trace.clean_headers(self.headers), max_tokens=body["max_tokens"],
                        json_mode=use_format, system_head=system.split("\n", 1)[0][:80],
                        system_chars=len(system), user=user)
            self._count(role, requests=1)
            started = time.monotonic()
            wait: float | None = None
            try:
                response = http.post(self.url, json=body, timeout=timeout)
            except httpx.TimeoutException as exc:
                failure = f"timed out after {timeout:g} s ({type(exc).__name__})"
                status = None
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                failure = f"cannot reach {self.endpoint}: {type(exc).__name__}: {_one_line(exc)}"
                status = None
            except httpx.HTTPError as exc:
                raise self._error(role, f"LLM request failed ({role}, {model}): "
                                        f"{type(exc).__name__}: {_one_line(exc)}") from None
            else:
                status = response.status_code
                elapsed_ms = round((time.monotonic() - started) * 1000)
                if status == 200:
                    return self._answer(role, model, response, json_mode, elapsed_ms)
                message = _provider_message(response)
                self._trace("llm_response", role=role, model=model, status=status,
                            elapsed_ms=elapsed_ms, error=message)
                if (status == 400 and use_format and not fell_back
                        and "response_format" in (response.text or "").lower()):
                    # The server does not do JSON mode: ask again without it, and
                    # never send it to this model again.
                    with self._lock:
                        self._no_response_format.add(model)
                    fell_back = True
                    attempt -= 1
                    self._trace("llm_response_format_fallback", role=role, model=model)
                    continue
                if status in (401, 403):
                    raise self._error(role, self._auth_message(status, message), status=status)
                if status not in RETRYABLE_STATUS:
                    hint = ""
                    if status == 404:
                        hint = (f"; check MEMMAN_LLM_ENDPOINT ({self.endpoint}) and "
                                f"{ROLE_KEYS[role]} ({model})")
                    raise self._error(
                        role, f"LLM request failed ({role}, {model}): HTTP {status}"
                              f"{': ' + message if message else ''}{hint}", status=status)
                failure = f"HTTP {status}{': ' + message if message else ''}"
                wait = _retry_after(response)
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise self._error(
                        role, f"LLM request failed ({role}, {model}): {failure}; the provider "
                              f"asks to retry after {wait:.0f} s", status=status, transient=True)

            if attempt > retries:
                raise self._error(
                    role, f"LLM request failed after {attempt} attempts ({role}, {model}): "
                          f"{failure}", status=status, transient=True)
            if wait is None:
                wait = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
            self._trace("llm_retry", role=role, model=model, attempt=attempt, wait=wait,
                        reason=failure)
            self.sleep(wait)

    def _auth_message(self, status: int, message: str) -> str:
        detail = f": {message}" if message else ""
        if not self.api_key:
            fix = f"set MEMMAN_LLM_API_KEY for {self.endpoint}"
        elif self.key_name != "MEMMAN_LLM_API_KEY":
            fix = f"check MEMMAN_LLM_API_KEY (unset, so {self.key_name} was used)"
        else:
            fix = "check MEMMAN_LLM_API_KEY"
        return f"LLM endpoint refused the credentials (HTTP {status}{detail}); {fix}"

    def _answer(self, role, model, response, json_mode, elapsed_ms) -> str:
        try:
            data = response.json()
        except ValueError:
            self._trace("llm_response", role=role, model=model, status=200,
                        elapsed_ms=elapsed_ms, body=response.text[:2000])
            raise self._error(role, f"LLM answer is not valid JSON ({role}, {model}): "
                                    f"{_one_line(response.text, 120)!r}") from None
        choices = data.get("choices") if isinstance(data, dict) else None
        choice = choices[0] if isinstance(choices, list) and choices else None
        if not isinstance(choice, dict):
            self._trace("llm_response", role=role, model=model, status=200,
                        elapsed_ms=elapsed_ms, body=data)
            err = data.get("error") if isinstance(data, dict) else None
            detail = _one_line(err.get("message", err) if isinstance(err, dict) else err or data)
            raise self._error(role, f"LLM answer has no choices ({role}, {model}): {detail}")
        content = _content_of(choice.get("message"))
        finish = choice.get("finish_reason")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt_tokens = token_count(usage.get("prompt_tokens"))
        completion_tokens = token_count(usage.get("completion_tokens"))
        self._count(role, calls=1, prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens)
        self._record_usage(role, usage)
        self._trace("llm_response", role=role, model=model, status=200, elapsed_ms=elapsed_ms,
                    finish_reason=finish, usage=usage, content=content)
        if not content or not content.strip():
            raise self._error(role, f"truncated or empty LLM answer ({role}, {model}, "
                                    f"finish_reason={finish})")
        if finish == "length" and json_mode:
            try:
                parse_json(content)
            except ValueError:
                raise self._error(
                    role, f"truncated LLM answer ({role}, {model}): the JSON was cut at "
                          f"max_tokens; {_one_line(content, 80)!r}") from None
        return content


def _task_of(system: str) -> str | None:
    """The task a system prompt opens with (``prompts.TASK_MARKERS``), if any."""
    head = system[:80] if isinstance(system, str) else ""
    return next((name for name, marker in prompts.TASK_MARKERS.items()
                 if head.startswith(marker)), None)


def _empty_stats() -> dict:
    return {"calls": 0, "cache_hits": 0, "requests": 0, "errors": 0,
            "prompt_tokens": 0, "completion_tokens": 0}
