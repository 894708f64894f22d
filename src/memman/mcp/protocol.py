"""JSON-RPC 2.0 as MCP uses it over stdio: one JSON object per line, no batches."""
import json

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

# Newest first; an unknown client version is answered with the first.
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")


class RpcError(Exception):
    """A JSON-RPC error answer: ``code`` and a one-line ``message``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse(line: bytes) -> object:
    """The JSON value on one line; RpcError(PARSE_ERROR) when it is not JSON."""
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RpcError(PARSE_ERROR, f"parse error: {exc}") from None


def valid_id(value) -> bool:
    return value is None or (isinstance(value, (str, int)) and not isinstance(value, bool))


def result(msg_id, value: dict) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "result": value}


def error(msg_id, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def encode(message: dict) -> bytes:
    """One line of UTF-8 JSON (json.dumps escapes every newline inside strings)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8") + b"\n"
