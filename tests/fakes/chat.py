"""A scripted OpenAI-compatible chat model, served by the ``loopback`` fixture.

    script = ChatScript()
    endpoint = script.install(loopback)          # -> "http://127.0.0.1:PORT/v1"
    script.when(task="extraction").reply({"facts": [...], "skip_reason": None})
    script.when(task="expansion", user_contains="celery").reply(
        status=429, headers={"Retry-After": "1"}).reply({"expanded_query": "..."})
    client = LLMClient(endpoint, None, models, sleep=lambda s: None)

Routing: ``when(task=..., system_contains=..., user_contains=..., model=...)``; every
given condition must hold (``task`` is a name from ``memman.llm.prompts.TASK_MARKERS``:
extraction, reconciliation, enrichment, causal, expansion). The most recently
registered matching rule wins, so a test can install ``defaults()`` and override one
task. A rule's replies are used in turn and the last one repeats.

A reply is one of:
- ``reply(obj)``: a 200 answer whose message content is ``json.dumps(obj)`` (a str
  is sent as the content verbatim: code fences, prose, cut JSON...);
- ``reply(status=500, error="boom", headers={...})``: an error with an OpenAI-style
  ``{"error": {"message": ...}}`` body;
- ``reply(raw={...})`` the whole response JSON; ``reply(body=b"...")`` raw bytes;
- ``reply(fn)`` where ``fn(call) -> dict | list | str | Reply`` computes it;
- modifiers ``finish_reason=``, ``usage=``, ``delay=`` (seconds), ``drop=True``.

``script.calls`` records every request as a ``ChatCall`` (model, system, user, body,
headers with lower-case names, task). Unmatched requests get HTTP 400 naming the task
(not retried by the client, so a missing rule fails fast).
"""
import json
import re
import threading
from dataclasses import dataclass, field

from memman.llm.prompts import TASK_MARKERS
from tests.fakes.loopback import Reply, Request

__all__ = ["ChatScript", "ChatCall", "Rule", "completion", "task_of"]


def task_of(system: str) -> str | None:
    for name, marker in TASK_MARKERS.items():
        if marker in (system or ""):
            return name
    return None


@dataclass
class ChatCall:
    model: str
    system: str
    user: str
    body: dict
    headers: dict
    task: str | None


def completion(content, *, model: str = "scripted", finish_reason: str | None = "stop",
               usage: dict | None = None, n: int = 0) -> dict:
    """An OpenAI ``chat.completion`` body around ``content`` (None = no content)."""
    if usage is None:
        size = len(content or "")
        usage = {"prompt_tokens": 10, "completion_tokens": max(1, size // 4),
                 "total_tokens": 10 + max(1, size // 4)}
    return {
        "id": f"chatcmpl-scripted-{n}",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0,
                     "message": {"role": "assistant", "content": content},
                     "finish_reason": finish_reason}],
        "usage": usage,
    }


@dataclass
class _Step:
    payload: object = None
    status: int = 200
    error: str | None = None
    raw: dict | None = None
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    finish_reason: str | None = "stop"
    usage: dict | None = None
    delay: float = 0.0
    drop: bool = False


class Rule:
    def __init__(self, task=None, system_contains=None, user_contains=None, model=None):
        if task is not None and task not in TASK_MARKERS:
            raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASK_MARKERS)}")
        self.task = task
        self.system_contains = system_contains
        self.user_contains = user_contains
        self.model = model
        self.steps: list[_Step] = []
        self.hits = 0

    def matches(self, call: ChatCall) -> bool:
        return ((self.task is None or call.task == self.task)
                and (self.system_contains is None or self.system_contains in call.system)
                and (self.user_contains is None or self.user_contains in call.user)
                and (self.model is None or self.model == call.model))

    def reply(self, payload=None, *, status: int = 200, error: str | None = None,
              raw: dict | None = None, body: bytes | None = None, headers: dict | None = None,
              finish_reason: str | None = "stop", usage: dict | None = None,
              delay: float = 0.0, drop: bool = False) -> "Rule":
        self.steps.append(_Step(payload, status, error, raw, body, dict(headers or {}),
                                finish_reason, usage, delay, drop))
        return self

    def _next_step(self) -> _Step:
        step = self.steps[min(self.hits, len(self.steps) - 1)]
        self.hits += 1
        return step


class ChatScript:
    def __init__(self):
        self.rules: list[Rule] = []
        self.calls: list[ChatCall] = []
        self._lock = threading.Lock()

    def when(self, *, task: str | None = None, system_contains: str | None = None,
             user_contains: str | None = None, model: str | None = None) -> Rule:
        rule = Rule(task, system_contains, user_contains, model)
        with self._lock:
            self.rules.append(rule)
        return rule

    def install(self, server, prefix: str = "/v1") -> str:
        """Route ``POST <prefix>/chat/completions`` on a LoopbackServer; the endpoint."""
        server.route("POST", f"{prefix}/chat/completions", self.handler)
        return server.url + prefix

    def calls_for(self, task: str) -> list[ChatCall]:
        return [c for c in self.calls if c.task == task]

    # -- serving ---------------------------------------------------------------------

    def handler(self, req: Request) -> Reply:
        try:
            body = req.json
            messages = body.get("messages") or []
            system = next((m.get("content", "") for m in messages if m.get("role") == "system"),
                          "")
            user = next((m.get("content", "") for m in messages if m.get("role") == "user"), "")
            model = body.get("model", "")
        except (ValueError, AttributeError):
            return Reply(400, {"error": {"message": "chat script: request is not chat JSON"}})
        call = ChatCall(model, system, user, body, {k.lower(): v for k, v in req.headers.items()},
                        task_of(system))
        with self._lock:
            self.calls.append(call)
            n = len(self.calls)
            rule = next((r for r in reversed(self.rules) if r.matches(call) and r.steps), None)
            step = rule._next_step() if rule is not None else None
        if step is None:
            return Reply(400, {"error": {"message": f"chat script: no rule for task={call.task} "
                                                    f"user={user[:60]!r}"}})
        return self._render(step, call, n)

    def _render(self, step: _Step, call: ChatCall, n: int) -> Reply:
        headers = dict(step.headers)
        if step.drop:
            return Reply(drop=True, delay=step.delay)
        if step.body is not None:
            return Reply(step.status, body=step.body, headers=headers, delay=step.delay)
        if step.raw is not None:
            return Reply(step.status, step.raw, headers=headers, delay=step.delay)
        if step.status != 200:
            message = step.error or f"scripted HTTP {step.status}"
            return Reply(step.status, {"error": {"message": message, "code": step.status}},
                         headers=headers, delay=step.delay)
        payload = step.payload
        if callable(payload):
            payload = payload(call)
            if isinstance(payload, Reply):
                return payload
        content = payload if isinstance(payload, str) or payload is None else json.dumps(payload)
        return Reply(200, completion(content, model=call.model, finish_reason=step.finish_reason,
                                     usage=step.usage, n=n),
                     headers=headers, delay=step.delay)

    # -- generic answers -------------------------------------------------------------

    def defaults(self) -> "ChatScript":
        """Plausible answers for every task (register before overrides):
        extraction echoes the note as one fact (entities = capitalised words),
        reconciliation adds every fact, enrichment keys on the first words, causal
        finds nothing, expansion echoes the query with intent GENERAL."""
        self.when(task="extraction").reply(_echo_extraction)
        self.when(task="reconciliation").reply(_add_all)
        self.when(task="enrichment").reply(_first_words)
        self.when(task="causal").reply({"links": []})
        self.when(task="expansion").reply(_echo_query)
        return self


def _between(text: str, tag: str) -> str:
    m = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return m.group(1) if m else text


def _capitalised(text: str) -> list[str]:
    words = re.findall(r"\b[A-Z][A-Za-z0-9_-]+\b", text)
    return list(dict.fromkeys(words))[:10]


def _echo_extraction(call: ChatCall) -> dict:
    note = _between(call.user, "note").strip()
    return {"facts": [{"text": note, "category": "fact", "importance": 3,
                       "entities": _capitalised(note)}], "skip_reason": None}


def _add_all(call: ChatCall) -> dict:
    count = len(re.findall(r"^F\d+:", call.user, re.MULTILINE))
    return {"decisions": [{"fact": i, "action": "ADD", "target": None, "merged_text": None,
                           "reason": "scripted"} for i in range(count)]}


def _first_words(call: ChatCall) -> dict:
    content = _between(call.user, "memory")
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", content)]
    return {"keywords": list(dict.fromkeys(words))[:5], "summary": "",
            "semantic_facts": [], "entities": _capitalised(content)}


def _echo_query(call: ChatCall) -> dict:
    query = call.user.removeprefix("Query: ")
    return {"expanded_query": query, "keywords": query.lower().split()[:5],
            "entities": _capitalised(query), "intent": "GENERAL"}
