"""Checks of everything ``remember`` and ``replace`` accept, with the contract's messages."""
import json

from memman.errors import MemmanError
from memman.constants import (
    CATEGORIES, MAX_CONTENT_BYTES, MAX_ENTITIES, MAX_ENTITY_CHARS, SOURCES,
)


def content(text: str) -> str:
    if text is None or not text.strip():
        raise MemmanError("content is empty; pass the text to remember")
    if "\x00" in text:
        raise MemmanError("content contains a NUL byte")
    text = text.strip()
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_CONTENT_BYTES:
        raise MemmanError(
            f"content too long ({size} bytes, max {MAX_CONTENT_BYTES}); "
            "consider chunking it into several smaller memories"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MemmanError("content is not valid UTF-8 text") from None
    return text.strip()


def category(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in CATEGORIES:
        raise MemmanError(f"invalid category '{value}'; valid: {', '.join(CATEGORIES)}")
    return value


def importance(value) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MemmanError(f"importance must be 1-5, got {value}") from None
    if not 1 <= number <= 5:
        raise MemmanError(f"importance must be 1-5, got {number}")
    return number


def source(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in SOURCES:
        raise MemmanError(f"invalid source '{value}'; valid: {', '.join(SOURCES)}")
    return value


def entities(raw: str | None) -> list[str] | None:
    """``--entities`` as a JSON array of strings or a comma-separated list."""
    if raw is None:
        return None
    text = raw.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MemmanError(f"invalid --entities: not a valid JSON array ({exc.msg})") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise MemmanError("invalid --entities: the JSON array must contain only strings")
    else:
        items = text.split(",")
    out: list[str] = []
    seen = set()
    for item in items:
        name = item.strip()
        if not name:
            raise MemmanError("invalid --entities: empty entity name")
        if len(name) > MAX_ENTITY_CHARS:
            raise MemmanError(
                f"invalid --entities: entity longer than {MAX_ENTITY_CHARS} characters"
            )
        if any(ord(c) < 32 for c in name):
            raise MemmanError("invalid --entities: control characters in an entity name")
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    if len(out) > MAX_ENTITIES:
        raise MemmanError(f"invalid --entities: at most {MAX_ENTITIES} entities, got {len(out)}")
    return out
