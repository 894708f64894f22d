"""A programmable HTTP server on 127.0.0.1 for provider wire-format tests.

    server = LoopbackServer()
    server.route("POST", "/v1/chat/completions", handler)   # handler(req) -> Reply | dict
    server.start(); ...; server.stop()

``req`` is a ``Request`` (method, path, headers, json, body). A handler returns a
``Reply`` (status, json or raw body, headers, delay seconds) or a plain dict (a 200
JSON reply). ``server.requests`` records every request. A route may also be a list
of handlers, used in turn (the last one repeats): handy for "429, then 200".
"""
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    json: object = None
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


class LoopbackServer:
    def __init__(self):
        self.routes: dict = {}
        self.calls: dict = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                req = Request(self.command, path, dict(self.headers), body)
                reply = server._dispatch(req)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                payload = reply.body if reply.body is not None else json.dumps(reply.json).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.headers.get("Content-Type",
                                                                   "application/json"))
                for k, v in reply.headers.items():
                    if k != "Content-Type":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, method: str, path: str, handler) -> None:
        self.routes[(method, path)] = handler
        self.calls[(method, path)] = 0

    def _dispatch(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            key = (req.method, req.path)
            handler = self.routes.get(key)
            if handler is None:
                return Reply(404, {"error": {"message": f"no route {req.method} {req.path}"}})
            n = self.calls[key]
            self.calls[key] = n + 1
        if isinstance(handler, list):
            handler = handler[min(n, len(handler) - 1)]
        out = handler(req) if callable(handler) else handler
        return out if isinstance(out, Reply) else Reply(200, out)

    def start(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
