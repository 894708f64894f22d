"""Stand-in model servers on 127.0.0.1 for the benchmarks (standard library + numpy).

* :class:`ChatServer`: an OpenAI-compatible ``POST /v1/chat/completions`` that
  answers every request after a fixed delay. It routes on the system prompt's
  first line (``Task: ...``, see ``memman.llm.prompts.TASK_MARKERS``):
  extraction -> one fact echoing the note; reconciliation -> ADD every new fact;
  enrichment -> a few keywords; causal -> no links; expansion -> the query back.
* :class:`EmbedServer`: an OpenAI-compatible ``POST /v1/embeddings`` that answers
  after a fixed delay with deterministic unit vectors (a sum of per-word hashed
  random vectors, so texts sharing words are somewhat similar).

Both count the requests they answered (``counts``). Loopback endpoints need no key.
"""
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from memman.llm.prompts import TASK_MARKERS

__all__ = ["ChatServer", "EmbedServer"]

STOPWORDS = frozenset("""
a an and are as at be because before by for from has have in into is it its of on or
over so than that the their them then there they this to too under until was we were
when where which while with without
""".split())


class _Server:
    """A threaded HTTP server with one JSON POST route, answered after ``delay`` s."""

    path = "/"

    def __init__(self, delay: float):
        self.delay = float(delay)
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path.split("?", 1)[0] != server.path:
                    status, payload = 404, {"error": {"message": f"no route {self.path}"}}
                else:
                    try:
                        status, payload = 200, server.answer(json.loads(raw or b"null"))
                    except Exception as exc:  # noqa: BLE001 - report, do not hang the client
                        status = 400
                        payload = {"error": {"message": f"{type(exc).__name__}: {exc}"}}
                        with server._lock:
                            server.errors.append(payload["error"]["message"])
                time.sleep(server.delay)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def answer(self, body):
        raise NotImplementedError

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# -- chat ---------------------------------------------------------------------------------

def _between(text: str, tag: str) -> str:
    m = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return (m.group(1) if m else text).strip()


def _capitalised(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\b[A-Z][A-Za-z0-9_-]+\b", text)))[:8]


def _keywords(text: str, n: int = 5) -> list[str]:
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_-]+", text)]
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 2))[:n]


def task_of(system: str) -> str | None:
    first = (system or "").split("\n", 1)[0].strip()
    for name, marker in TASK_MARKERS.items():
        if first == marker:
            return name
    return None


class ChatServer(_Server):
    path = "/v1/chat/completions"

    def answer(self, body) -> dict:
        messages = body.get("messages") or []
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        task = task_of(system)
        if task == "extraction":
            note = _between(user, "note")
            out = {"facts": [{"text": note, "category": "fact", "importance": 3,
                              "entities": _capitalised(note)}], "skip_reason": None}
        elif task == "reconciliation":
            count = len(re.findall(r"^F\d+:", user, re.MULTILINE))
            out = {"decisions": [{"fact": i, "action": "ADD", "target": None,
                                  "merged_text": None, "reason": "new information"}
                                 for i in range(count)]}
        elif task == "enrichment":
            memory = _between(user, "memory")
            out = {"keywords": _keywords(memory), "summary": "", "semantic_facts": [],
                   "entities": _capitalised(memory)}
        elif task == "causal":
            out = {"links": []}
        elif task == "expansion":
            query = user.removeprefix("Query: ")
            out = {"expanded_query": query, "keywords": _keywords(query),
                   "entities": _capitalised(query), "intent": "GENERAL"}
        else:
            raise ValueError(f"unknown task in system prompt {system[:60]!r}")
        self.count(task)
        content = json.dumps(out)
        return {
            "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000,
            "model": body.get("model") or "bench",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(system + user) // 4,
                      "completion_tokens": len(content) // 4,
                      "total_tokens": (len(system + user) + len(content)) // 4},
        }


# -- embeddings ---------------------------------------------------------------------------

class EmbedServer(_Server):
    path = "/v1/embeddings"

    def __init__(self, delay: float, dim: int = 384):
        super().__init__(delay)
        self.dim = dim
        self._words: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vec = self._words.get(word)
        if vec is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
            vec = np.random.default_rng(seed).standard_normal(self.dim)
            with self._lock:
                self._words[word] = vec
        return vec

    def vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z0-9]+", text.lower()) or ["<empty>"]
        total = np.sum([self._word(w) for w in words], axis=0)
        return (total / (np.linalg.norm(total) or 1.0)).round(6).tolist()

    def answer(self, body) -> dict:
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
            raise ValueError("'input' must be a string or a list of strings")
        self.count("embeddings")
        self.count("texts", len(inputs))
        return {"object": "list", "model": body.get("model") or "bench",
                "data": [{"object": "embedding", "index": i, "embedding": self.vector(t)}
                         for i, t in enumerate(inputs)],
                "usage": {"prompt_tokens": sum(len(t) // 4 for t in inputs),
                          "total_tokens": sum(len(t) // 4 for t in inputs)}}
