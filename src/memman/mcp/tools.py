"""The five MCP tools. Each runs the same code as its CLI command, so it honours the
same store resolution (``--store`` given to ``memman mcp`` > ``MEMMAN_STORE`` >
the ``active`` file > ``default``, read again on every call), the same write gate,
hot-path imports and secret redaction, and returns the same JSON document."""
import json

from memman.constants import CATEGORIES, INTENTS
from memman.mcp.protocol import INVALID_PARAMS, RpcError

MAX_RECALL_LIMIT = 1000

TOOLS = [
    {
        "name": "memory_recall",
        "title": "Recall memories",
        "description": "Search the memories stored for this project and user. Use before "
                       "answering anything that earlier work, decisions or preferences may "
                       "inform. Returns ranked results with scores (memman recall).",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for."},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RECALL_LIMIT,
                          "default": 10, "description": "Most results to return."},
                "intent": {"type": "string", "enum": list(INTENTS),
                           "description": "WHY, WHEN, ENTITY or GENERAL (default: "
                                          "detected from the query)."},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
    },
    {
        "name": "memory_remember",
        "title": "Remember",
        "description": "Queue one durable fact, decision, preference or insight worth keeping "
                       "across sessions; memman's worker stores it shortly after. Secrets "
                       "are redacted before anything is written (memman remember).",
        "inputSchema": {
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "The memory, in plain words."},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "importance": {"type": "integer", "minimum": 1, "maximum": 5,
                               "description": "1 (trivia) to 5 (critical); default 3."},
                "entities": {"type": "array", "items": {"type": "string"},
                             "description": "People, services, tools the memory is about."},
            },
            "required": ["text"],
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": False, "destructiveHint": False,
                        "idempotentHint": False, "openWorldHint": False},
    },
    {
        "name": "memory_forget",
        "title": "Forget a memory",
        "description": "Forget the memory with this id at once: no recall returns it again "
                       "(memman forget; 'memman insights restore' can undo it).",
        "inputSchema": {
            "type": "object",
            "properties": {"id": {"type": "string", "description": "The memory's id."}},
            "required": ["id"],
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": False, "destructiveHint": True,
                        "idempotentHint": True, "openWorldHint": False},
    },
    {
        "name": "memory_show",
        "title": "Show a memory",
        "description": "One memory by id, with its earlier versions (memman insights show).",
        "inputSchema": {
            "type": "object",
            "properties": {"id": {"type": "string", "description": "The memory's id."}},
            "required": ["id"],
            "additionalProperties": False,
        },
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
    },
    {
        "name": "memory_status",
        "title": "Memory status",
        "description": "Counts for the current store, the queue's depth and a health summary "
                       "(memman status).",
        "inputSchema": {"type": "object", "properties": {}, "additionalProperties": False},
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
    },
]
BY_NAME = {tool["name"]: tool for tool in TOOLS}


def check_arguments(name: str, arguments) -> dict:
    """The arguments of a call, checked against the tool's input schema (types and
    required keys only: values are checked by memman itself, with its messages)."""
    tool = BY_NAME.get(name)
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"unknown tool '{name}'; valid: {', '.join(BY_NAME)}")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, f"{name}: arguments must be an object")
    schema = tool["inputSchema"]
    for key in schema.get("required", []):
        if key not in arguments:
            raise RpcError(INVALID_PARAMS, f"{name}: missing required argument '{key}'")
    for key, value in arguments.items():
        spec = schema["properties"].get(key)
        if spec is None:
            raise RpcError(INVALID_PARAMS, f"{name}: unknown argument '{key}'; valid: "
                           f"{', '.join(schema['properties']) or 'none'}")
        if value is not None and not _has_type(value, spec):
            raise RpcError(INVALID_PARAMS, f"{name}: argument '{key}' must be "
                           f"{_type_name(spec)}")
    return {k: int(v) if isinstance(v, float) else v  # 5.0 is the integer 5
            for k, v in arguments.items() if v is not None}


def _has_type(value, spec: dict) -> bool:
    kind = spec["type"]
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if kind == "array":
        return isinstance(value, list) and all(_has_type(v, spec["items"]) for v in value)
    return True


def _type_name(spec: dict) -> str:
    if spec["type"] == "array":
        return f"an array of {spec['items']['type']}s"
    return f"a{'n' if spec['type'][0] in 'aeiou' else ''} {spec['type']}"


def call(name: str, arguments: dict, make_app) -> dict:
    """Run tool ``name``; returns the command's JSON document or raises MemmanError."""
    return HANDLERS[name](make_app(), arguments)


def _recall(app, args) -> dict:
    from memman.cli.recall import smart_recall
    from memman.errors import MemmanError

    text = args["query"]
    if not text.strip():
        raise MemmanError("query is empty")
    limit = int(args.get("limit", 10))
    if not 1 <= limit <= MAX_RECALL_LIMIT:
        raise MemmanError(f"limit must be 1-{MAX_RECALL_LIMIT}, got {limit}")
    intent = args.get("intent")
    if intent is not None and intent.upper() not in INTENTS:
        raise MemmanError(f"unknown intent '{intent}'; valid: {', '.join(INTENTS)}")
    return smart_recall(app, text, limit=limit, category=None, source=None,
                        intent=intent.upper() if intent else None, expand=False)


def _remember(app, args) -> dict:
    from memman.cli.remember import queue_memory

    entities = args.get("entities")
    return queue_memory(app, args["text"], category=args.get("category"),
                        importance=args.get("importance"),
                        entities=json.dumps(entities) if entities is not None else None)


def _forget(app, args) -> dict:
    from memman.cli.forget import forget_insight

    return forget_insight(app, args["id"])


def _show(app, args) -> dict:
    from memman.cli.insights import show_insight

    return show_insight(app, args["id"])


def _status(app, args) -> dict:
    from memman.cli.status import status_report

    return status_report(app)


HANDLERS = {"memory_recall": _recall, "memory_remember": _remember, "memory_forget": _forget,
            "memory_show": _show, "memory_status": _status}
