"""Edit a JSON5 document as text, so everything memman does not touch stays byte for byte.

Host configs such as OpenClaw's ``openclaw.json`` are JSON5: comments, unquoted keys,
single-quoted strings, trailing commas, hex numbers. Re-serialising such a file would
throw the user's comments away, so memman never does. Instead:

* ``parse`` reads full JSON5 and remembers where every object member and array item
  sits in the text;
* ``Document`` makes one small edit at a time (insert a member before the closing
  brace, replace one value, remove one member or item) in the file's own style (key
  quoting, indentation, trailing commas, line endings), re-parses the result and checks
  that the parsed tree is exactly the old tree with that one change. Any mismatch is an
  error, so a bug here can never silently damage a user's config.

Only what a host installer needs is here; it is not a general JSON5 library.
"""
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MISSING = object()

_LINE_TERMINATORS = "\n\r\u2028\u2029"
_EXTRA_SPACE = "\t\n\v\f\r \u00a0\u2028\u2029\ufeff"
_NUMBER = re.compile(
    r"[+-]?(?:Infinity|NaN|0[xX][0-9a-fA-F]+|"
    r"(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


class JSON5Error(ValueError):
    def __init__(self, message: str, text: str, pos: int):
        self.msg = message
        self.lineno = text.count("\n", 0, pos) + 1
        self.colno = pos - (text.rfind("\n", 0, pos) + 1) + 1
        super().__init__(f"{message} at line {self.lineno} column {self.colno}")


@dataclass
class Entry:
    """One object member (``key`` set) or array item, with where it sits."""
    start: int                 # key start for a member, value start for an item
    node: "Node"
    comma: int | None = None   # offset of the comma after it, if any
    key: str | None = None
    quoted: bool = True        # was the key written as a string


@dataclass
class Node:
    kind: str                  # "object" | "array" | "scalar"
    start: int
    end: int                   # exclusive
    value: Any = None          # for scalars
    entries: list[Entry] = field(default_factory=list)

    def to_python(self):
        if self.kind == "object":
            return {e.key: e.node.to_python() for e in self.entries}
        if self.kind == "array":
            return [e.node.to_python() for e in self.entries]
        return self.value

    def member(self, key: str) -> Entry | None:
        """The last member named ``key`` (JSON5, like JavaScript, lets the last one win)."""
        found = None
        for e in self.entries:
            if e.key == key:
                found = e
        return found


def _is_space(ch: str) -> bool:
    return ch in _EXTRA_SPACE or unicodedata.category(ch) == "Zs"


def _id_start(ch: str) -> bool:
    return ch in "$_" or unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nl")


def _id_part(ch: str) -> bool:
    return (_id_start(ch) or ch in "\u200c\u200d"
            or unicodedata.category(ch) in ("Mn", "Mc", "Nd", "Pc"))


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, message: str, pos: int | None = None):
        raise JSON5Error(message, self.text, self.pos if pos is None else pos)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if _is_space(ch):
                self.pos += 1
            elif text.startswith("//", self.pos):
                while self.pos < n and text[self.pos] not in _LINE_TERMINATORS:
                    self.pos += 1
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    self.fail("Unterminated comment")
                self.pos = close + 2
            else:
                return

    def document(self) -> Node:
        self.skip()
        if self.pos >= len(self.text):
            self.fail("Expecting value")
        node = self.value()
        self.skip()
        if self.pos < len(self.text):
            self.fail("Extra data")
        return node

    def value(self) -> Node:
        ch = self.peek()
        start = self.pos
        if not ch:
            self.fail("Unexpected end of input")
        if ch == "{":
            return self.container("object", "}")
        if ch == "[":
            return self.container("array", "]")
        if ch in "\"'":
            text = self.string()
            return Node("scalar", start, self.pos, text)
        for word, val in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, start) and not self._id_continues(start + len(word)):
                self.pos = start + len(word)
                return Node("scalar", start, self.pos, val)
        match = _NUMBER.match(self.text, start)
        if match and not self._id_continues(match.end()):
            self.pos = match.end()
            return Node("scalar", start, self.pos, _number(match.group(0)))
        self.fail("Expecting value")

    def _id_continues(self, pos: int) -> bool:
        return pos < len(self.text) and (_id_part(self.text[pos]) or self.text[pos] == "\\")

    def container(self, kind: str, close: str) -> Node:
        node = Node(kind, self.pos, -1)
        self.pos += 1
        while True:
            self.skip()
            if not self.peek():
                self.fail("Unexpected end of input")
            if self.peek() == close:
                self.pos += 1
                node.end = self.pos
                return node
            if node.entries and node.entries[-1].comma is None:
                self.fail(f"Expecting ',' or '{close}'")
            start = self.pos
            if kind == "object":
                quoted = self.peek() in "\"'"
                key = self.string() if quoted else self.identifier()
                self.skip()
                if self.peek() != ":":
                    self.fail("Expecting ':' delimiter")
                self.pos += 1
                self.skip()
                entry = Entry(start, self.value(), key=key, quoted=quoted)
            else:
                entry = Entry(start, self.value())
            node.entries.append(entry)
            self.skip()
            if self.peek() == ",":
                entry.comma = self.pos
                self.pos += 1
            elif self.peek() != close:
                self.fail(f"Expecting ',' or '{close}'")

    def identifier(self) -> str:
        out = []
        first = True
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            escaped = ch == "\\"
            if escaped:
                if not self.text.startswith("\\u", self.pos):
                    self.fail("Bad identifier escape")
                ch = self._hex(self.pos + 2, 4)
            if not (_id_start(ch) if first else _id_part(ch)):
                if escaped:
                    self.fail("Bad identifier character")
                break
            self.pos += 6 if escaped else 1
            out.append(ch)
            first = False
        if not out:
            self.fail("Expecting property name")
        return "".join(out)

    def _hex(self, pos: int, n: int) -> str:
        digits = self.text[pos:pos + n]
        if len(digits) != n or not all(c in "0123456789abcdefABCDEF" for c in digits):
            self.fail("Bad escape", pos)
        return chr(int(digits, 16))

    def string(self) -> str:
        quote = self.text[self.pos]
        start = self.pos
        self.pos += 1
        out = []
        text, n = self.text, len(self.text)
        while True:
            if self.pos >= n:
                self.fail("Unterminated string", start)
            ch = text[self.pos]
            if ch == quote:
                self.pos += 1
                return _join_surrogates("".join(out))
            if ch in "\n\r":
                self.fail("Unterminated string", start)
            if ch != "\\":
                out.append(ch)
                self.pos += 1
                continue
            self.pos += 1
            if self.pos >= n:
                self.fail("Unterminated string", start)
            esc = text[self.pos]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                self.pos += 1
            elif esc == "0" and not (self.pos + 1 < n and text[self.pos + 1].isdigit()):
                out.append("\0")
                self.pos += 1
            elif esc == "x":
                out.append(self._hex(self.pos + 1, 2))
                self.pos += 3
            elif esc == "u":
                out.append(self._hex(self.pos + 1, 4))
                self.pos += 5
            elif esc in _LINE_TERMINATORS:        # line continuation
                self.pos += 2 if text.startswith("\r\n", self.pos) else 1
            elif esc.isdigit():
                self.fail("Bad escape")
            else:
                out.append(esc)
                self.pos += 1


def _join_surrogates(s: str) -> str:
    if not any("\ud800" <= c <= "\udfff" for c in s):
        return s
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _number(raw: str):
    sign = -1 if raw[0] == "-" else 1
    body = raw.lstrip("+-")
    if body == "Infinity":
        return sign * math.inf
    if body == "NaN":
        return math.nan
    if body[:2] in ("0x", "0X"):
        return sign * int(body, 16)
    if any(c in body for c in ".eE"):
        return sign * float(body)
    return sign * int(body)


def parse(text: str) -> Node:
    """The span tree of a JSON5 document; raises JSON5Error."""
    return _Parser(text).document()


def loads(text: str):
    return parse(text).to_python()


def canonical(value) -> str:
    """A comparison key that tells true from 1 and treats NaN as equal to itself."""
    return json.dumps(value, sort_keys=True, allow_nan=True)


# ---------------------------------------------------------------- editing

@dataclass
class Style:
    quote_keys: bool = True
    trailing_commas: bool = False
    indent: str = "  "
    newline: str = "\n"


def detect_style(text: str, root: Node) -> Style:
    style = Style(newline="\r\n" if "\r\n" in text else "\n")
    keys, trailing, indents = [], False, []

    def walk(node: Node):
        nonlocal trailing
        if node.entries and node.entries[-1].comma is not None:
            trailing = True
        for e in node.entries:
            if e.key is not None:
                keys.append(e.quoted)
            line_start = _line_start(text, e.start)
            lead = text[line_start:e.start]
            if lead and not lead.strip(" \t"):
                indents.append(lead)
            walk(e.node)

    walk(root)
    style.quote_keys = all(keys) if keys else True
    style.trailing_commas = trailing
    if indents:
        shortest = min(indents, key=len)
        style.indent = "\t" if shortest.startswith("\t") else " " * len(shortest)
    return style


def _line_start(text: str, pos: int) -> int:
    return max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1


def _line_end(text: str, pos: int) -> int:
    """Offset of the line terminator at or after ``pos`` (len(text) if none)."""
    for i in range(pos, len(text)):
        if text[i] in "\r\n":
            return i
    return len(text)


def _indent_of(text: str, pos: int) -> str:
    start = _line_start(text, pos)
    lead = text[start:pos]
    return lead[:len(lead) - len(lead.lstrip(" \t"))]


def render(value, style: Style, indent: str = "", inline: bool = False) -> str:
    """``value`` written in the document's style; multi-line objects open at ``indent``."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [f"{render_key(k, style)}: {render(v, style, indent + style.indent, inline)}"
                 for k, v in value.items()]
        if inline:
            return "{ " + ", ".join(parts) + " }"
        inner = indent + style.indent
        tail = "," if style.trailing_commas else ""
        body = ("," + style.newline).join(inner + p for p in parts)
        return "{" + style.newline + body + tail + style.newline + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + ", ".join(render(v, style, indent, True) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def render_key(key: str, style: Style) -> str:
    if not style.quote_keys and _IDENTIFIER.match(key):
        return key
    return json.dumps(key, ensure_ascii=False)


class EditError(ValueError):
    """An edit memman cannot make safely (for example a path through a non-object)."""


class Document:
    """A JSON5 text plus the operations a host installer needs. Every operation is
    checked by re-parsing; ``text`` is the edited document."""

    def __init__(self, text: str):
        blank = not text.strip()
        self.text = "{}" if blank else text
        self.root = parse(self.text)
        if self.root.kind != "object":
            raise EditError("the document is not a JSON5 object")
        self.fresh = blank
        self.style = Style() if blank else detect_style(text, self.root)

    @property
    def data(self):
        return self.root.to_python()

    # -- lookups
    def node(self, path) -> Node | None:
        node = self.root
        for key in path:
            if node.kind != "object":
                return None
            entry = node.member(key)
            if entry is None:
                return None
            node = entry.node
        return node

    def get(self, path, default=MISSING):
        node = self.node(path)
        return default if node is None else node.to_python()

    # -- edits
    def set(self, path, value) -> dict:
        """Make ``path`` hold ``value``, creating missing objects on the way. Returns
        ``{"created": <path prefix inserted> | None, "previous": <old value> | MISSING}``."""
        path = list(path)
        if not path:
            raise EditError("empty path")
        expected = self.data
        node = self.root
        for i, key in enumerate(path):
            entry = node.member(key)
            if entry is None:
                nested = value
                for k in reversed(path[i + 1:]):
                    nested = {k: nested}
                _nested_set(expected, path, value)
                self._commit(self._insert(node, f"{render_key(key, self.style)}: ", nested),
                             expected)
                return {"created": path[:i + 1], "previous": MISSING}
            if i == len(path) - 1:
                old = entry.node.to_python()
                if canonical(old) != canonical(value):
                    _nested_set(expected, path, value)
                    self._commit(self._replace(entry.node, value), expected)
                return {"created": None, "previous": old}
            if entry.node.kind != "object":
                raise EditError(f"'{'.'.join(path[:i + 1])}' is not an object")
            node = entry.node

    def delete(self, path) -> bool:
        """Remove the member at ``path`` (every duplicate of it). True if it was there."""
        path = list(path)
        parent = self.node(path[:-1])
        if parent is None or parent.kind != "object" or parent.member(path[-1]) is None:
            return False
        expected = self.data
        _nested_delete(expected, path)
        saved = self.text, self.root
        try:
            while True:
                parent = self.node(path[:-1])
                entry = parent.member(path[-1])
                if entry is None:
                    break
                self.text = self._remove(parent, parent.entries.index(entry))
                self.root = parse(self.text)
            self._commit(self.text, expected)
        except Exception:
            self.text, self.root = saved
            raise
        return True

    def append(self, path, value) -> None:
        node = self.node(path)
        if node is None or node.kind != "array":
            raise EditError(f"'{'.'.join(path)}' is not a list")
        expected = self.data
        _nested_get(expected, path).append(value)
        self._commit(self._insert(node, "", value), expected)

    def remove_item(self, path, value) -> bool:
        """Remove the last item equal to ``value`` from the list at ``path``."""
        node = self.node(path)
        if node is None or node.kind != "array":
            return False
        idx = [i for i, e in enumerate(node.entries)
               if canonical(e.node.to_python()) == canonical(value)]
        if not idx:
            return False
        expected = self.data
        del _nested_get(expected, path)[idx[-1]]
        self._commit(self._remove(node, idx[-1]), expected)
        return True

    # -- text surgery
    def _commit(self, text: str, expected) -> None:
        root = parse(text)
        if canonical(root.to_python()) != canonical(expected):
            raise EditError("the edited text does not parse to the intended value")
        self.text, self.root = text, root

    def _apply(self, edits) -> str:
        """The text with ``(start, end, replacement)`` edits applied (non-overlapping)."""
        text = self.text
        for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def _remove(self, container: Node, index: int) -> str:
        text = self.text
        entry = container.entries[index]
        prev = container.entries[index - 1] if index > 0 else None
        end = entry.comma + 1 if entry.comma is not None else entry.node.end
        line_start = _line_start(text, entry.start)
        own_line = not text[line_start:entry.start].strip(" \t")
        rest_end = _line_end(text, end)
        inner_start, inner_end = container.start + 1, container.end - 1
        if (len(container.entries) == 1 and not own_line
                and not text[inner_start:entry.start].strip()
                and not text[end:inner_end].strip()):
            return self._apply([(inner_start, inner_end, "")])     # "{ a: 1 }" -> "{}"
        if own_line and not text[end:rest_end].strip(" \t"):
            after = rest_end + (2 if text.startswith("\r\n", rest_end) else 1)
            edits = [(line_start, min(after, len(text)), "")]
        elif own_line:
            stop = end          # a comment follows on the line: it stays where it is
            while stop < len(text) and text[stop] in " \t":
                stop += 1
            edits = [(entry.start, stop, "")]
        else:
            start = entry.start     # "a: 1, x: 2, b: 3": the blank before x goes with it
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            edits = [(start, end, "")]
        if entry.comma is None and prev is not None and prev.comma is not None:
            # The last entry goes: the comma written to separate it from its predecessor
            # goes too (keeps a strict-JSON file strict).
            if own_line:
                edits.append((prev.comma, prev.comma + 1, ""))
            else:
                edits = [(prev.comma, entry.node.end, "")]
        return self._apply(edits)

    def _insert(self, node: Node, prefix: str, value) -> str:
        """Text with a new last entry ``prefix + value`` in ``node``, in the file's style."""
        text, style, nl = self.text, self.style, self.style.newline
        close = node.end - 1
        close_line = _line_start(text, close)
        multiline = close_line > node.start and not text[close_line:close].strip(" \t")
        last = node.entries[-1] if node.entries else None
        inner = text[node.start + 1:close]
        if node is self.root and not node.entries and not multiline:
            # an empty top-level object: lay it out over several lines
            item = style.indent + prefix + render(value, style, style.indent)
            item += ("," if style.trailing_commas else "") + nl
            if inner.strip():
                return self._apply([(close, close, nl + item)])
            return self._apply([(node.start + 1, close, nl + item)])
        if multiline:
            indent = None
            for e in node.entries:
                lead = text[_line_start(text, e.start):e.start]
                if not lead.strip(" \t"):
                    indent = lead
                    break
            if indent is None:
                indent = _indent_of(text, close) + style.indent
            comma_after = (last.comma is not None) if last else style.trailing_commas
            line = (indent + prefix + render(value, style, indent)
                    + ("," if comma_after else "") + nl)
            edits = [(close_line, close_line, line)]
            if last is not None and last.comma is None:
                edits.append((last.node.end, last.node.end, ","))
            return self._apply(edits)
        item = prefix + render(value, style, inline=True)
        pad = " " if node.kind == "object" else ""
        if last is None:
            if inner.strip():
                return self._apply([(close, close, pad + item + pad)])
            return self._apply([(node.start + 1, close, pad + item + pad)])
        if last.comma is None:
            return self._apply([(last.node.end, last.node.end, ", " + item)])
        return self._apply([(last.comma + 1, last.comma + 1, " " + item + ",")])

    def _replace(self, node: Node, value) -> str:
        inline = node.kind == "scalar" or not _spans_lines(self.text, node)
        return self._apply([(node.start, node.end,
                             render(value, self.style, _indent_of(self.text, node.start), inline))])


def _spans_lines(text: str, node: Node) -> bool:
    return any(c in text[node.start:node.end] for c in "\r\n")


def _nested_get(d, path):
    for k in path:
        d = d[k]
    return d


def _nested_set(d, path, value):
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value


def _nested_delete(d, path):
    del _nested_get(d, path[:-1])[path[-1]]
