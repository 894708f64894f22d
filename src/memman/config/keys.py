"""Every configuration key memman knows: default, validation, secrecy.

Global keys live in ``KEYS``. Per-store keys are families
``MEMMAN_<FAMILY>_<store>`` (``FAMILIES``). Keys read from the process environment
only (never from the env file) are in ``PROCESS_ONLY``. A missing key takes its
default here, which is what makes a fresh install work with no configuration at
all: no keys means the built-in embedder and the heuristic worker.
"""
import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from memman.config.stores import STORE_NAME_RE
from memman.errors import MemmanError
TRUTHY = {"1", "true", "yes", "on"}
FALSY = {"0", "false", "no", "off"}


def _choice(*options: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"valid: {', '.join(options)}")
        return value

    return check


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def _llm_endpoint(value: str) -> str:
    if value.lower() == "none":
        return "none"
    return _url(value)


def _bool(value: str) -> str:
    if value.lower() not in TRUTHY | FALSY:
        raise ValueError("must be one of true, false, 1, 0, yes, no, on, off")
    return value.lower()


def _int_range(low: int, high: int | None = None) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            number = int(value)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if number < low or (high is not None and number > high):
            bound = f"{low}..{high}" if high is not None else f">= {low}"
            raise ValueError(f"must be {bound}")
        return str(number)

    return check


def _positive_float(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("must be a number") from None
    if not number > 0:
        raise ValueError("must be > 0")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _dsn(value: str) -> str:
    if not (value.startswith("postgresql://") or value.startswith("postgres://") or "=" in value):
        raise ValueError("must be a postgresql:// URL or a libpq key=value string")
    return value


def _threshold(value: str) -> str:
    if value.lower() in ("skip", "none"):
        return value.lower()
    try:
        number = float(value)
    except ValueError:
        raise ValueError("must be a number between 0 and 1, or skip/none") from None
    if not 0 < number < 1:
        raise ValueError("must be between 0 and 1 (exclusive), or skip/none")
    return value


EMBED_PROVIDERS = ("builtin", "voyage", "openai", "openrouter", "ollama")
BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Key:
    name: str
    default: str | None
    check: Callable[[str], str] = _text
    secret: bool = False
    doc: str = ""


KEYS: dict[str, Key] = {
    k.name: k
    for k in [
        Key("MEMMAN_LLM_ENDPOINT", "https://openrouter.ai/api/v1", _llm_endpoint,
            doc="OpenAI-compatible base URL for the worker's LLM, or 'none' for heuristic mode"),
        Key("MEMMAN_LLM_API_KEY", None, secret=True, doc="bearer key for MEMMAN_LLM_ENDPOINT"),
        Key("MEMMAN_LLM_TIMEOUT", "60", _positive_float,
            doc="seconds the worker waits for one LLM answer (each of up to 4 attempts)"),
        Key("MEMMAN_LLM_MODEL_FAST", "anthropic/claude-haiku-4.5", doc="model for query expansion"),
        Key("MEMMAN_LLM_MODEL_SLOW_CANONICAL", "anthropic/claude-sonnet-4.6",
            doc="model for extraction and reconciliation"),
        Key("MEMMAN_LLM_MODEL_SLOW_METADATA", "anthropic/claude-sonnet-4.6",
            doc="model for enrichment and causal links"),
        Key("MEMMAN_EMBED_PROVIDER", "builtin", _choice(*EMBED_PROVIDERS),
            doc="embedder that seeds new stores"),
        Key("MEMMAN_RERANK_PROVIDER", "voyage", _choice("voyage", "http"), doc="cross-encoder"),
        Key("MEMMAN_RERANK_ENABLED", "false", _bool, doc="cross-encoder rerank (opt-in)"),
        Key("MEMMAN_RERANK_ENDPOINT", None, _url,
            doc="full URL of a rerank endpoint (TEI, Infinity, Jina, Cohere-compatible)"),
        Key("MEMMAN_RERANK_API_KEY", None, secret=True, doc="bearer key for the http reranker"),
        Key("MEMMAN_RERANK_MODEL", None, doc="model name sent to the http reranker"),
        Key("MEMMAN_RERANK_TIMEOUT", "3", _positive_float,
            doc="seconds recall waits for the reranker before keeping its own order"),
        Key("MEMMAN_OPENROUTER_ENDPOINT", "https://openrouter.ai/api/v1", _url),
        Key("MEMMAN_OPENROUTER_API_KEY", None, secret=True),
        Key("MEMMAN_OPENROUTER_EMBED_MODEL", "baai/bge-m3"),
        Key("MEMMAN_VOYAGE_API_KEY", None, secret=True),
        Key("MEMMAN_VOYAGE_EMBED_MODEL", "voyage-3-lite"),
        Key("MEMMAN_VOYAGE_RERANK_MODEL", "rerank-2.5-lite"),
        Key("MEMMAN_OPENAI_EMBED_API_KEY", None, secret=True),
        Key("MEMMAN_OPENAI_EMBED_ENDPOINT", "https://api.openai.com", _url),
        Key("MEMMAN_OPENAI_EMBED_MODEL", "text-embedding-3-small"),
        Key("MEMMAN_OLLAMA_HOST", "http://localhost:11434", _url),
        Key("MEMMAN_OLLAMA_EMBED_MODEL", "nomic-embed-text"),
        Key("MEMMAN_OLLAMA_MAX_INPUT_CHARS", "1500", _int_range(1)),
        Key("MEMMAN_DEFAULT_BACKEND", "sqlite", _choice(*BACKENDS)),
        Key("MEMMAN_DEFAULT_POSTGRES_DSN", None, _dsn, secret=True),
        Key("MEMMAN_LOG_LEVEL", "WARNING",
            lambda v: _choice("DEBUG", "INFO", "WARNING", "ERROR")(v.upper())),
        Key("MEMMAN_INTERVAL", "60", _int_range(0), doc="serve/timer interval in seconds"),
        Key("MEMMAN_MAX_INSIGHTS", "1000", _int_range(1), doc="auto-prune cap per store"),
        Key("MEMMAN_RECALL_EMBED_TIMEOUT", "2", _positive_float,
            doc="seconds recall waits for a remote query embedding"),
    ]
}

# MEMMAN_<FAMILY>_<store>: per-store overrides.
FAMILIES: dict[str, Key] = {
    k.name: k
    for k in [
        Key("MEMMAN_BACKEND", None, _choice(*BACKENDS)),
        Key("MEMMAN_POSTGRES_DSN", None, _dsn, secret=True),
        Key("MEMMAN_RERANK_ENABLED", None, _bool),
        Key("MEMMAN_SURFACE", "code", _choice("code", "claw")),
        Key("MEMMAN_AUTO_SEMANTIC_THRESHOLD", None, _threshold),
    ]
}

PROCESS_ONLY = (
    "MEMMAN_DATA_DIR", "MEMMAN_STORE", "MEMMAN_WORKER", "MEMMAN_DEBUG",
    "MEMMAN_SCHEDULER_KIND", "MEMMAN_BUSY_TIMEOUT_MS", "MEMMAN_DRAIN_SEQUENTIAL",
    "MEMMAN_NO_PROGRESS",
)

SECRET_HINTS = ("_API_KEY", "_DSN", "PASSWORD", "SECRET", "TOKEN")


def split_family(name: str) -> tuple[Key, str] | None:
    """``MEMMAN_BACKEND_my-store`` -> (the BACKEND family key, 'my-store')."""
    for family, key in FAMILIES.items():
        prefix = family + "_"
        if name.startswith(prefix) and name not in KEYS:
            store = name[len(prefix):]
            if STORE_NAME_RE.match(store):
                return key, store
    return None


def lookup(name: str) -> Key:
    """The Key for ``name`` (global or per-store), or a one-line error."""
    if name in KEYS:
        return KEYS[name]
    family = split_family(name)
    if family:
        return family[0]
    if name in FAMILIES:
        hint = {
            "MEMMAN_BACKEND": "MEMMAN_DEFAULT_BACKEND or MEMMAN_BACKEND_<store>",
            "MEMMAN_POSTGRES_DSN": "MEMMAN_DEFAULT_POSTGRES_DSN or MEMMAN_POSTGRES_DSN_<store>",
        }.get(name, f"{name}_<store>")
        raise MemmanError(f"{name} needs a store suffix; did you mean {hint}?")
    if name in PROCESS_ONLY:
        raise MemmanError(f"{name} is read from the process environment, not the env file")
    close = _closest(name)
    hint = f"; did you mean {close}?" if close else "; see 'memman config show'"
    raise MemmanError(f"unknown config key '{name}'{hint}")


def _closest(name: str) -> str | None:
    import difflib

    options = list(KEYS) + [f + "_<store>" for f in FAMILIES]
    found = difflib.get_close_matches(name.upper(), options, n=1, cutoff=0.75)
    return found[0] if found else None


def validate(name: str, value: str) -> str:
    """The normalised value, or a one-line error naming the key."""
    key = lookup(name)
    shown = repr(mask(name, value)) if is_secret(name) else repr(value)
    if any(c in value for c in "\n\r\x00"):
        raise MemmanError(f"invalid value for {name}: line breaks and NUL are not allowed")
    try:
        return key.check(value)
    except ValueError as exc:
        raise MemmanError(f"invalid value for {name}: {shown}; {exc}") from None


def is_secret(name: str) -> bool:
    if name in KEYS:
        return KEYS[name].secret
    family = split_family(name)
    if family:
        return family[0].secret
    return any(h in name for h in SECRET_HINTS)


def mask(name: str, value: str | None) -> str | None:
    """What may be shown of a value: secrets keep only their last four characters;
    a DSN keeps everything but its password."""
    if value is None or not is_secret(name):
        return value
    if "DSN" in name:
        return mask_dsn(value)
    return "****" + value[-4:] if len(value) > 8 else "****"


def mask_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.scheme and parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":****@", 1)
        return parts._replace(netloc=netloc).geturl()
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1****", dsn)


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUTHY
