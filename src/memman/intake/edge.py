"""Checks of a manual edge (``graph link`` and edge lines of ``import``), with the
contract's messages. Imports nothing heavy."""
import json
import math

from memman.constants import EDGE_TYPES
from memman.errors import MemmanError

# Edges written by these authors are manual: the worker never replaces or deletes them,
# and an export/import round trip re-creates them (automatic edges are recomputed).
MANUAL_EDGE_AUTHORS = ("claude", "manual")
DEFAULT_EDGE_AUTHOR = "claude"


def edge_type(value) -> str:
    if value not in EDGE_TYPES:
        raise MemmanError(f"invalid edge type '{value}'; valid: {', '.join(EDGE_TYPES)}")
    return value


def weight(value) -> float:
    """A number in [0, 1]; strings are parsed (the CLI passes text)."""
    if isinstance(value, bool):
        raise MemmanError(f"weight must be between 0 and 1, got {value}")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise MemmanError(f"weight must be between 0 and 1, got {value}") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise MemmanError(f"weight must be between 0 and 1, got {value}")
    return number


def metadata(value, *, option: str = "--meta") -> dict:
    """A JSON object, given as text (CLI) or already parsed (import); None -> {}."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise MemmanError(f"{option} must be a JSON object (not valid JSON)") from None
    if not isinstance(value, dict):
        raise MemmanError(f"{option} must be a JSON object")
    return value


def with_author(meta: dict) -> dict:
    """``created_by`` defaults to ``claude``; a caller's own value is kept."""
    out = dict(meta)
    out.setdefault("created_by", DEFAULT_EDGE_AUTHOR)
    return out


def is_manual(meta: dict | None) -> bool:
    return isinstance(meta, dict) and meta.get("created_by") in MANUAL_EDGE_AUTHORS


def endpoints(source_id, target_id) -> tuple[str, str]:
    for value in (source_id, target_id):
        if not isinstance(value, str) or not value.strip():
            raise MemmanError("edge endpoints must be non-empty memory ids")
    if source_id == target_id:
        raise MemmanError("cannot link an insight to itself")
    return source_id, target_id
