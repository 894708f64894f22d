"""Store names: validation, resolution, and the Postgres schema each maps to.

Resolution: ``--store`` > ``$MEMMAN_STORE`` > the ``active`` file > ``default``.
Names match ``^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$`` on every backend. Postgres
identifiers are case-folded and must not contain ``-``, so a name made only of
lowercase letters, digits and ``_`` maps to ``store_<name>`` (as memman 0.16 did) and
any other name maps to ``store__<sanitised>_<hash>``: deterministic, at most 63 bytes,
and never equal to a plain mapping (a plain name cannot start with ``_``, so a plain
schema never starts with ``store__``).
"""
import os
import re

from memman.errors import MemmanError

STORE_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}\Z")

DEFAULT_STORE = "default"
PG_IDENT_MAX = 63
_PLAIN = re.compile(r"^[a-z0-9][a-z0-9_]*\Z")


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not STORE_NAME_RE.match(name):
        raise MemmanError(
            f"invalid store name {name!r}: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def active_file_store(active_file) -> str | None:
    """The store named in the active file, if any (unvalidated)."""
    try:
        return active_file.read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def resolve(option: str | None, active_file) -> tuple[str, str]:
    """(store name, where it came from)."""
    if option:
        return validate_name(option), "--store"
    env = os.environ.get("MEMMAN_STORE")
    if env:
        return validate_name(env), "MEMMAN_STORE"
    text = active_file_store(active_file)
    if text:
        try:
            return validate_name(text), "active file"
        except MemmanError:
            raise MemmanError(
                f"the active file {active_file} names an invalid store {text!r}; "
                "fix it with 'memman store use <name>'"
            ) from None
    return DEFAULT_STORE, "default"


def pg_schema_name(name: str) -> str:
    validate_name(name)
    plain = "store_" + name
    if _PLAIN.match(name) and len(plain) <= PG_IDENT_MAX:
        return plain
    import hashlib

    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    safe = re.sub(r"[^a-z0-9_]", "_", name.lower())
    room = PG_IDENT_MAX - len("store__") - len(digest) - 1
    return f"store__{safe[:room]}_{digest}"
