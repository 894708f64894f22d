"""``memman import FILE``: queue memories from JSON Lines.

Reads a ``memman export`` file or plain JSON Lines, one memory per line::

    {"content": "...", "category": "decision", "importance": 4,
     "entities": ["Alice"], "source": "user", "created_at": "2024-05-01T10:00:00Z"}

Every line is checked with the rules of ``remember`` (and secrets are redacted)
before anything of it is written; a bad line is reported with its number and
skipped, never half-imported. Good memories are queued with reconciliation off, so
the worker stores each as it is (keeping ``created_at``, and for an export also the
original id when the target store does not have it) and builds vectors and automatic
edges itself. Manual edges of an export are queued as pending edges that the worker
writes once both of their memories are stored. Forgotten memories and automatic edges
of an export are skipped. Import rows queue behind ordinary ``remember`` rows.

Edges must come after the memories they join (as an export writes them); an endpoint
that is not a memory of the file must be an active memory of the target store.
"""
import json
import re
import sys

import click

from memman.cli.context import emit, pass_app

PLAIN_FIELDS = ("content", "category", "importance", "entities", "source", "created_at")
IMPORT_PRIORITY = -1  # interactive ``remember`` rows are claimed first
CHUNK_LINES = 200  # lines checked, then written in one queue transaction
MAX_LINE_BYTES = 1 << 20
MAX_REPORTED_ERRORS = 1000
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
_CANONICAL_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")


class LineError(Exception):
    """What is wrong with one line (reported, and the line skipped)."""


# -- checks -------------------------------------------------------------------------------
def _checked(fn, *args):
    from memman.errors import MemmanError

    try:
        return fn(*args)
    except MemmanError as exc:
        raise LineError(str(exc).replace("--entities", "entities")) from None


def _content(value) -> tuple[str, list[str]]:
    from memman.cli.remember import _has_words_outside_markers
    from memman.intake import validate
    from memman.intake.redact import redact

    if value is None:
        raise LineError("missing content")
    if not isinstance(value, str):
        raise LineError("content must be a string")
    text = _checked(validate.content, value)
    redacted, kinds = redact(text)
    if not _has_words_outside_markers(redacted):
        raise LineError("content is empty once private and secret parts are redacted")
    return redacted, kinds


def _entities(value) -> list[str] | None:
    from memman.intake import validate

    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise LineError("invalid entities: the list must contain only strings")
        return _checked(validate.entities, json.dumps(value)) if value else []
    if isinstance(value, str):
        return _checked(validate.entities, value)
    raise LineError("entities must be a list of strings or a comma-separated string")


def timestamp(value, name: str = "created_at") -> str | None:
    """RFC 3339 text -> the store's form (UTC, microseconds, ``Z``); kept verbatim
    when it already is in that form. A date alone means midnight UTC."""
    from datetime import datetime, timezone

    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise LineError(f"{name} must be an RFC 3339 timestamp string")
    if _CANONICAL_TS.match(value):
        return value
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise LineError(f"invalid {name} '{value}': expected an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def memory_fields(obj: dict, *, typed: bool) -> dict:
    """The queue arguments of a memory line; raises LineError."""
    from memman.intake import validate

    if not typed:
        unknown = sorted(set(obj) - set(PLAIN_FIELDS))
        if unknown:
            raise LineError(f"unknown field '{unknown[0]}'; valid: {', '.join(PLAIN_FIELDS)}")
    content, kinds = _content(obj.get("content"))
    insight_id = obj.get("id") if typed else None
    if insight_id is not None and (not isinstance(insight_id, str)
                                   or not _ID_RE.match(insight_id)):
        raise LineError(f"invalid id {insight_id!r}")
    return {
        "content": content,
        "redactions": kinds,
        "category": _checked(validate.category, obj.get("category")),
        "importance": _checked(validate.importance, obj.get("importance")),
        "source": _checked(validate.source, obj.get("source")),
        "entities": _entities(obj.get("entities")),
        "created_at": timestamp(obj.get("created_at")),
        "insight_id": insight_id,
    }


def _edge_metadata(value) -> dict:
    from memman.intake import edge as check

    return check.metadata(value, option="metadata")


def edge_fields(obj: dict) -> dict:
    from memman.intake import edge as check

    source_id, target_id = _checked(check.endpoints, obj.get("source_id"), obj.get("target_id"))
    return {
        "source_id": source_id,
        "target_id": target_id,
        "edge_type": _checked(check.edge_type, obj.get("edge_type")),
        "weight": _checked(check.weight, obj.get("weight", 0.5)),
        "metadata": _checked(_edge_metadata, obj.get("metadata")),
        "created_at": timestamp(obj.get("created_at")),
    }


# -- reading ------------------------------------------------------------------------------
def read_lines(fh):
    """(line number, text or LineError, bytes read) for every line of a binary stream."""
    number = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        size = len(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:  # skip the rest of an overlong line without holding it
                more = fh.readline(MAX_LINE_BYTES)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield number, LineError(f"line longer than {MAX_LINE_BYTES} bytes"), size
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, LineError("not valid UTF-8"), size
            continue
        if number == 1:
            text = text.lstrip("\ufeff")
        yield number, text.strip(), size


class Importer:
    def __init__(self, app, store: str, queue, name: str):
        self.app, self.store, self.queue, self.name = app, store, queue, name
        self.queued = self.edges_pending = self.skipped_deleted = self.skipped_auto = 0
        self.valid = 0
        self.errors: list[dict] = []
        self.error_count = 0
        self.seen_content_line = False
        self.ids: dict[str, tuple[int, int]] = {}  # file id -> (line, queue row id)
        self.not_imported: dict[str, int] = {}  # file id -> line that failed or was skipped
        self._backend = None
        self._backend_opened = False

    # -- per line -------------------------------------------------------------------
    def check(self, number: int, text) -> tuple | None:
        """A checked line ready to write: ("memory"|"edge", number, fields), or None."""
        if not text:
            return None
        first = not self.seen_content_line
        self.seen_content_line = True
        if isinstance(text, LineError):
            return self._error(number, text)
        try:
            obj = json.loads(text)
        except ValueError as exc:
            return self._error(number, LineError(f"not valid JSON ({getattr(exc, 'msg', exc)})"))
        if not isinstance(obj, dict):
            return self._error(number, LineError("not a JSON object"))
        kind = obj.get("type")
        try:
            if kind == "header":
                self._header(obj, first)
                self.valid += 1
                return None
            if kind in (None, "memory"):
                if kind == "memory" and obj.get("deleted_at"):
                    self._skip_id(obj, number)
                    self.skipped_deleted += 1
                    self.valid += 1
                    return None
                return ("memory", number, memory_fields(obj, typed=kind == "memory"))
            if kind == "edge":
                fields = edge_fields(obj)
                from memman.intake.edge import is_manual

                if not is_manual(fields["metadata"]):
                    self.skipped_auto += 1
                    self.valid += 1
                    return None
                return ("edge", number, fields)
            raise LineError(f"unknown line type {kind!r}; valid: header, memory, edge")
        except LineError as exc:
            if kind == "memory":
                self._skip_id(obj, number)
            return self._error(number, exc)

    def _header(self, obj: dict, first: bool) -> None:
        from memman.cli.export import FORMAT, VERSION
        from memman.errors import MemmanError

        if not first:
            raise LineError("a header is allowed only on the first line")
        if obj.get("format") != FORMAT:
            raise MemmanError(f"{self.name} is not a memman export "
                              f"(header format {obj.get('format')!r})")
        if obj.get("version") != VERSION:
            raise MemmanError(f"{self.name} is a memman export of version "
                              f"{obj.get('version')!r}; this memman reads version {VERSION}")

    def _skip_id(self, obj: dict, number: int) -> None:
        if isinstance(obj.get("id"), str):
            self.not_imported.setdefault(obj["id"], number)

    def _error(self, number: int, exc: LineError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": number, "error": str(exc)})
        return None

    # -- writing (inside the queue transaction) -------------------------------------------
    def write(self, item) -> None:
        kind, number, fields = item
        try:
            if kind == "memory":
                self._write_memory(number, fields)
            else:
                self._write_edge(fields)
        except LineError as exc:
            if kind == "memory" and fields.get("insight_id"):
                self.not_imported.setdefault(fields["insight_id"], number)
            self._error(number, exc)
            return
        self.valid += 1

    def _write_memory(self, number: int, fields: dict) -> None:
        insight_id = fields["insight_id"]
        if insight_id is not None and insight_id in self.ids:
            raise LineError(f"duplicate id '{insight_id}' (first on line "
                            f"{self.ids[insight_id][0]})")
        queue_id = self.queue.enqueue(
            self.store, fields["content"], category=fields["category"],
            importance=fields["importance"], source=fields["source"],
            entities=fields["entities"], no_reconcile=True, priority=IMPORT_PRIORITY,
            redactions=fields["redactions"], created_at=fields["created_at"],
            insight_id=insight_id)
        if insight_id is not None:
            self.ids[insight_id] = (number, queue_id)
        self.queued += 1

    def _write_edge(self, fields: dict) -> None:
        ends = [self._endpoint(fields["source_id"]), self._endpoint(fields["target_id"])]
        self.queue.add_pending_edge(
            self.store, fields["source_id"], fields["target_id"],
            source_queue_id=ends[0], target_queue_id=ends[1], edge_type=fields["edge_type"],
            weight=fields["weight"], metadata=fields["metadata"],
            created_at=fields["created_at"])
        self.edges_pending += 1

    def _endpoint(self, insight_id: str) -> int | None:
        """The queue row that stores this memory, or None for a memory of the store."""
        if insight_id in self.ids:
            return self.ids[insight_id][1]
        if insight_id in self.not_imported:
            raise LineError(f"edge endpoint '{insight_id}' was not imported "
                            f"(line {self.not_imported[insight_id]})")
        backend = self._store_backend()
        if backend is None or backend.get_insight(insight_id) is None:
            raise LineError(f"edge endpoint '{insight_id}' is neither a memory earlier in "
                            f"this file nor an active memory of store '{self.store}'")
        return None

    def _store_backend(self):
        if not self._backend_opened:
            from memman.store.open import open_store, store_exists

            self._backend_opened = True
            if store_exists(self.app.datadir, self.app.settings, self.store):
                self._backend = open_store(self.app.datadir, self.app.settings, self.store)
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()

    def result(self) -> dict:
        return {"action": "queued", "store": self.store, "queued": self.queued,
                "edges_pending": self.edges_pending, "errors": self.errors,
                "error_count": self.error_count, "skipped_deleted": self.skipped_deleted,
                "skipped_auto_edges": self.skipped_auto}


def _progress_enabled() -> bool:
    from memman import progress

    return progress.enabled()


def _open_input(file: str):
    from memman.errors import MemmanError

    if file == "-":
        return sys.stdin.buffer, None
    import os

    try:
        fh = open(os.path.expanduser(file), "rb")  # noqa: SIM115 (closed by the caller)
        size = os.fstat(fh.fileno()).st_size
    except IsADirectoryError:
        raise MemmanError(f"cannot read {file}: it is a directory") from None
    except OSError as exc:
        raise MemmanError(f"cannot read {file}: {exc.strerror or exc}") from None
    return fh, size


@click.command("import")
@click.argument("file")
@click.option("--store", "store_option", metavar="NAME",
              help="Store to import into (default: the global --store, else the active one).")
@pass_app
def import_(app, file, store_option):
    """Queue the memories of FILE (JSON Lines, or a 'memman export'; '-' for stdin)."""
    from memman import progress
    from memman.config import stores
    from memman.errors import MemmanError
    from memman.queue.db import open_queue
    from memman.scheduler.state import require_started

    store = stores.validate_name(store_option) if store_option else app.store
    require_started(app.datadir, "write")
    fh, size = _open_input(file)
    queue = open_queue(app.datadir)
    importer = Importer(app, store, queue, file)
    bar = progress.bar(size, desc="import", unit="B", unit_scale=True,
                       show=_progress_enabled())
    try:
        chunk: list = []
        for number, text, nbytes in read_lines(fh):
            item = importer.check(number, text)
            if item is not None:
                chunk.append(item)
            if len(chunk) >= CHUNK_LINES:
                _flush(importer, queue, chunk)
            bar.update(nbytes)
        _flush(importer, queue, chunk)
    finally:
        bar.close()
        importer.close()
        queue.close()
        if file != "-":
            fh.close()
    if importer.valid == 0:
        first = importer.errors[0] if importer.errors else None
        raise MemmanError(f"no valid lines in {file}"
                          + (f" (line {first['line']}: {first['error']})" if first else ""))
    emit(importer.result())


def _flush(importer, queue, chunk: list) -> None:
    """Write checked lines in one queue transaction (a line is written whole or not)."""
    from memman.errors import MemmanError

    if not chunk:
        return
    before = importer.queued
    try:
        with queue.batch():
            for item in chunk:
                importer.write(item)
    except MemmanError as exc:
        raise MemmanError(f"{exc} (lines {chunk[0][1]}-{chunk[-1][1]} not queued; "
                          f"{before} memories queued before them)") from None
    chunk.clear()
