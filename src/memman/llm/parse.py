"""Getting one JSON object out of whatever a chat model answered.

Models asked for "JSON only" still wrap it in code fences, put a sentence before
or after it, think aloud in ``<think>`` blocks (local reasoning models) or leave a
trailing comma. ``parse_json`` copes with all of that and returns a dict, or raises
``ValueError`` when there is no JSON object to be found.

Rules, in order:

1. ``<think>...</think>`` blocks are removed (an unclosed one hides nothing: the
   text is then scanned as is).
2. The content of each fenced block labelled ``json`` or unlabelled is tried
   first (an example object in the prose before the fence must not win), then
   the whole text.
3. Scanning decodes a complete JSON value at each ``{`` or ``[`` with a real JSON
   decoder (so braces inside strings never confuse it). The first value that is an
   object is the answer. An array is skipped as a whole (objects nested in it are
   never picked), but an array whose items are all objects is remembered.
4. If no object is found but such an array of objects was (a model that answered
   ``[{"text": ...}, ...]`` instead of ``{"facts": [...]}``), the result is
   ``{"items": [...]}``: callers look for their list under ``items`` as a fallback.
   Arrays of scalars (``[2]`` in prose) are never an answer.
5. Each candidate that fails to decode is retried once with trailing commas
   before ``}``/``]`` removed (outside strings).

At most 500 start positions are tried per candidate, so prose full of braces costs
bounded time (and yields ValueError).
"""
import json
import re

__all__ = ["parse_json"]

_THINK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
# Bound the work on pathological text (thousands of braces in prose).
_MAX_STARTS = 500
_TRAILING_COMMA = re.compile(r",\s*[}\]]")


def parse_json(text: str) -> dict:
    """The model's JSON object; ``ValueError`` if there is none (see module doc)."""
    if not isinstance(text, str):
        raise ValueError("no JSON object: answer is not text")
    cleaned = _THINK.sub(" ", text).strip().lstrip("\ufeff")
    if not cleaned:
        raise ValueError("no JSON object: empty answer")

    candidates = [m.group(2) for m in _FENCE.finditer(cleaned)
                  if m.group(1).lower() in ("", "json", "jsonc", "json5")]
    candidates.append(cleaned)
    array_fallback = None
    for candidate in candidates:
        found, array = _scan(candidate)
        if found is not None:
            return found
        if array_fallback is None and array is not None:
            array_fallback = array
    if array_fallback is not None:
        return {"items": array_fallback}
    raise ValueError("no JSON object in the answer")


def _scan(text: str) -> tuple[dict | None, list | None]:
    """First top-level object in ``text``, else (None, first array of objects)."""
    array = None
    repairable = _TRAILING_COMMA.search(text) is not None
    pos = 0
    starts = 0
    n = len(text)
    while pos < n and starts < _MAX_STARTS:
        brace = text.find("{", pos)
        bracket = text.find("[", pos)
        if brace < 0 and bracket < 0:
            break
        start = min(i for i in (brace, bracket) if i >= 0)
        starts += 1
        value, end = _decode_at(text, start, repairable)
        if value is None:
            pos = start + 1
            continue
        if isinstance(value, dict):
            return value, array
        if isinstance(value, list):
            if array is None and value and all(isinstance(v, dict) for v in value):
                array = value
            pos = end  # skip the whole array: its inner objects are not answers
            continue
        pos = start + 1
    return None, array


def _decode_at(text: str, start: int, repairable: bool):
    try:
        value, end = _DECODER.raw_decode(text, start)
        return value, end
    except ValueError:
        if not repairable:
            return None, start
    # Retry with trailing commas removed, on the balanced span only.
    span_end = _balanced_end(text, start)
    if span_end is None:
        return None, start
    fixed = _strip_trailing_commas(text[start:span_end])
    try:
        value = json.loads(fixed)
    except ValueError:
        return None, start
    return value, span_end


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the bracket matching ``text[start]``, string-aware."""
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _strip_trailing_commas(span: str) -> str:
    out = []
    in_string = False
    escaped = False
    i = 0
    while i < len(span):
        c = span[i]
        if in_string:
            out.append(c)
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c == ",":
            j = i + 1
            while j < len(span) and span[j] in " \t\r\n":
                j += 1
            if j < len(span) and span[j] in "}]":
                i += 1
                continue
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)
