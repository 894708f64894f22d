"""The one HTTP helper every remote embedding provider uses: POST JSON, retry, trace.

``post_json`` retries 429/500/502/503/504/529, timeouts and dropped connections with
back-off 0.5 s, 1 s, 2 s (a ``Retry-After`` of at most 10 seconds is honoured
instead), turns every failure into a one-line :class:`EmbedError`, maps 401/403 to
:class:`EmbedCredentialError` naming the env-file key, and traces ``embed_request``
/ ``embed_response`` without ever recording headers. Every call is counted in
``memman.usage`` (with the token counts the reply carries: ``usage.prompt_tokens`` /
``usage.total_tokens``, or Ollama's ``prompt_eval_count``; none for legacy Ollama),
and every call that fails for good as an error. httpx is imported on first use.
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from memman import trace
from memman.embed.base import EmbedCredentialError, EmbedError
from memman.usage import record as record_usage

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
BACKOFF = (0.5, 1.0, 2.0)
MAX_RETRY_AFTER = 10.0
MESSAGE_LIMIT = 200


def post_json(url: str, payload: dict, headers: dict | None, timeout: float,
              retries: int = 3, *, sleep=None, key_name: str | None = None,
              provider: str = "", client=None, handled_statuses=()):
    """POST ``payload`` as JSON and return the decoded JSON reply of a 2xx answer.

    ``retries`` is the number of retries after the first attempt. ``sleep`` (default
    ``time.sleep``) is injectable for tests. ``key_name`` is the env-file key named in
    credential errors. ``client`` is an optional open ``httpx.Client`` to reuse.
    ``handled_statuses``: HTTP statuses the caller expects and handles (a probe), so
    they are not counted as failed calls."""
    model = str(payload.get("model") or "")
    try:
        data = _post_json(url, payload, headers, timeout, retries, sleep=sleep,
                          key_name=key_name, provider=provider, client=client)
    except EmbedError as exc:
        if exc.status not in handled_statuses:
            record_usage("embed", "embed", provider, model, error=True)
        raise
    record_usage("embed", "embed", provider, model, **reply_tokens(data))
    return data


def reply_tokens(data) -> dict:
    """The token counts an embeddings reply carries (absent ones left out)."""
    if not isinstance(data, dict):
        return {}
    usage = data.get("usage")
    if isinstance(usage, dict):
        return {k: usage[k] for k in ("prompt_tokens", "total_tokens") if k in usage}
    if "prompt_eval_count" in data:  # Ollama /api/embed
        return {"prompt_tokens": data["prompt_eval_count"]}
    return {}


def _post_json(url, payload, headers, timeout, retries, *, sleep, key_name, provider,
               client):
    import httpx

    if sleep is None:
        sleep = time.sleep
    headers = dict(headers or {})
    inputs = payload.get("input", payload.get("prompt"))
    n_texts = len(inputs) if isinstance(inputs, list) else (0 if inputs is None else 1)
    own_client = client is None
    if own_client:
        client = httpx.Client(timeout=httpx.Timeout(timeout))
    try:
        attempt = 0
        while True:
            trace.event("embed_request", provider=provider, url=url,
                        model=payload.get("model"), n_texts=n_texts, attempt=attempt + 1)
            started = time.monotonic()
            try:
                resp = client.post(url, json=payload, headers=headers,
                                   timeout=httpx.Timeout(timeout))
            except (httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
                ms = round((time.monotonic() - started) * 1000)
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else \
                    "connection dropped"
                trace.event("embed_response", provider=provider, url=url, status=None, ms=ms,
                            error=f"{type(exc).__name__}: {kind}")
                if attempt < retries:
                    sleep(_backoff(attempt))
                    attempt += 1
                    continue
                detail = f"after {timeout:g} s" if kind == "timed out" else ""
                raise EmbedError(_one_line(
                    f"embedding request to {url} {kind} {detail} "
                    f"({attempt + 1} attempt{'s' if attempt else ''})")) from None
            except httpx.HTTPError as exc:
                ms = round((time.monotonic() - started) * 1000)
                trace.event("embed_response", provider=provider, url=url, status=None, ms=ms,
                            error=type(exc).__name__)
                raise EmbedError(_one_line(
                    f"cannot reach {provider or 'embedding'} endpoint {url}: "
                    f"{exc or type(exc).__name__}")) from None
            ms = round((time.monotonic() - started) * 1000)
            trace.event("embed_response", provider=provider, url=url,
                        status=resp.status_code, ms=ms)
            status = resp.status_code
            if 200 <= status < 300:
                try:
                    return resp.json()
                except (ValueError, UnicodeDecodeError):
                    raise EmbedError(_one_line(
                        f"malformed embeddings response from {url}: body is not JSON "
                        f"({_snippet(resp.text)!r})"), status=status) from None
            message = _error_message(resp)
            if status in (401, 403):
                raise _credential_error(status, message, url, key_name, headers)
            if status in RETRY_STATUSES and attempt < retries:
                sleep(_retry_after(resp) or _backoff(attempt))
                attempt += 1
                continue
            tries = f" after {attempt + 1} attempts" if attempt else ""
            raise EmbedError(_one_line(
                f"embedding request to {url} failed{tries}: HTTP {status}"
                + (f": {message}" if message else "")), status=status)
    finally:
        if own_client:
            client.close()


def _backoff(attempt: int) -> float:
    return BACKOFF[min(attempt, len(BACKOFF) - 1)]


def _retry_after(resp) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: use the normal back-off
    if 0 <= seconds <= MAX_RETRY_AFTER:
        return seconds
    return None


def _error_message(resp) -> str:
    """The provider's own error text: JSON error.message / error / detail / message."""
    try:
        data = resp.json()
    except (ValueError, UnicodeDecodeError):
        return _snippet(resp.text)
    msg = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail")
        elif isinstance(err, str):
            msg = err
        if msg is None:
            msg = data.get("detail") or data.get("message")
        if msg is not None and not isinstance(msg, str):
            msg = json.dumps(msg, ensure_ascii=False)
    if msg is None:
        msg = json.dumps(data, ensure_ascii=False)
    return _snippet(msg)


def _snippet(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _credential_error(status, message, url, key_name, headers) -> EmbedError:
    host = urlsplit(url).netloc or url
    sent = any(k.lower() in ("authorization", "x-api-key", "api-key") for k in headers)
    detail = f"HTTP {status}" + (f": {message}" if message else "")
    if key_name is None:
        return EmbedError(_one_line(f"{host} refused the embedding request ({detail})"),
                          status=status)
    if sent:
        text = f"{key_name} was rejected by {host} ({detail}); run 'memman config set " \
               f"{key_name} ...' with a valid key"
    else:
        text = f"{key_name} is not set and {host} requires a key ({detail}); run " \
               f"'memman config set {key_name} ...'"
    err = EmbedCredentialError(key_name, _one_line(text))
    err.status = status
    return err
