"""The MCP server: dispatch one JSON-RPC message, and the stdio loop around it.

Requests get exactly one answer line; notifications (no ``id``) and answers sent by
the client get none. A line that is not JSON gets a -32700 answer and the server
keeps reading; EOF on stdin ends it with exit status 0. A tool that fails (a
missing memory, a stopped scheduler, bad text) answers with ``isError: true`` and
the same one-line message the CLI prints, so the model can react to it.
"""
import json
import sys

from memman import __version__
from memman.mcp import protocol
from memman.mcp.protocol import (
    INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcError,
)

MAX_LINE_BYTES = 4 * 1024 * 1024
INSTRUCTIONS = (
    "memman is persistent memory for this user and project. Call memory_recall before "
    "answering questions that earlier decisions, preferences or facts may inform; call "
    "memory_remember for durable facts worth keeping (never secrets). Stored memories "
    "appear after memman's worker drains its queue."
)


class Server:
    def __init__(self, make_app, *, debug: bool = False):
        self.make_app = make_app  # () -> a fresh memman.cli.context.App per tool call
        self.debug = debug
        self.client_version = None

    def handle_line(self, line: bytes) -> dict | None:
        try:
            message = protocol.parse(line)
        except RpcError as exc:
            return protocol.error(None, exc.code, exc.message)
        return self.handle(message)

    def handle(self, message) -> dict | None:
        if isinstance(message, list):
            return protocol.error(None, INVALID_REQUEST, "batch requests are not supported")
        if not isinstance(message, dict):
            return protocol.error(None, INVALID_REQUEST, "a message must be a JSON object")
        is_request = "id" in message
        msg_id = message.get("id")
        if not protocol.valid_id(msg_id):
            return protocol.error(None, INVALID_REQUEST, "id must be a string or an integer")
        method = message.get("method")
        if method is None and is_request and ("result" in message or "error" in message):
            return None  # an answer to a request we never send
        if message.get("jsonrpc") != "2.0" or not isinstance(method, str):
            if not is_request and isinstance(method, str):
                return None  # a malformed notification: nothing may be answered
            return protocol.error(msg_id, INVALID_REQUEST,
                                  "invalid request: needs jsonrpc \"2.0\" and a method")
        if not is_request:
            return None  # notifications/initialized, notifications/cancelled...
        params = message.get("params")
        if params is None:
            params = {}
        try:
            if not isinstance(params, dict):
                raise RpcError(INVALID_PARAMS, "params must be an object")
            return protocol.result(msg_id, self.dispatch(method, params))
        except RpcError as exc:
            return protocol.error(msg_id, exc.code, exc.message)

    def dispatch(self, method: str, params: dict) -> dict:
        if method == "initialize":
            return self.initialize(params)
        if method == "ping":
            return {}
        if method == "tools/list":
            from memman.mcp.tools import TOOLS

            return {"tools": TOOLS}
        if method == "tools/call":
            return self.call_tool(params)
        raise RpcError(METHOD_NOT_FOUND, f"method not found: {method}")

    def initialize(self, params: dict) -> dict:
        asked = params.get("protocolVersion")
        self.client_version = asked
        version = asked if asked in protocol.PROTOCOL_VERSIONS else protocol.PROTOCOL_VERSIONS[0]
        return {"protocolVersion": version,
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": "memman", "title": "memman memory",
                               "version": __version__},
                "instructions": INSTRUCTIONS}

    def call_tool(self, params: dict) -> dict:
        from memman.mcp import tools

        name = params.get("name")
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "tools/call needs a tool name")
        arguments = tools.check_arguments(name, params.get("arguments"))
        try:
            document = tools.call(name, arguments, self.make_app)
        except Exception as exc:  # every failure is the tool's answer, never a crash
            return tool_error(self._message(exc))
        return tool_result(document)

    def _message(self, exc: Exception) -> str:
        from memman.errors import MemmanError

        if isinstance(exc, MemmanError):
            return " ".join(str(exc).split())
        if self.debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        return f"internal error: {type(exc).__name__}: {exc}"


def tool_result(document: dict) -> dict:
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return {"content": [{"type": "text", "text": text}],
            "structuredContent": json.loads(text), "isError": False}


def tool_error(message: str) -> dict:
    return {"content": [{"type": "text", "text": f"Error: {message}"}],
            "structuredContent": {"error": message}, "isError": True}


def serve(server: Server, infile, outfile) -> int:
    """Answer newline-delimited JSON-RPC from ``infile`` (binary) on ``outfile``
    (binary) until EOF."""
    while True:
        line = infile.readline(MAX_LINE_BYTES + 1)
        if not line:
            return 0
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the line
                line = infile.readline(MAX_LINE_BYTES)
            answer = protocol.error(None, PARSE_ERROR,
                                    f"message longer than {MAX_LINE_BYTES} bytes")
        elif not line.strip():
            continue
        else:
            answer = server.handle_line(line)
        if answer is not None:
            outfile.write(protocol.encode(answer))
            outfile.flush()
