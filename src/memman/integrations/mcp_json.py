"""MCP clients (Claude Desktop, Cursor, Claude Code's .mcp.json, Codex): the server entry.

``install`` without ``--write`` changes nothing and returns the entry to paste: the
``mcpServers`` map the JSON clients read and the ``[mcp_servers.memman]`` table
Codex reads. With ``--write PATH`` it merges the entry into that file: a ``.toml``
path gets the Codex table, any other path the JSON map. Every other key is kept,
the old file is backed up first and the new one written atomically; a file that
does not parse, or that defines memman in a form this merge cannot replace, is
refused with a one-line error and left untouched. GUI clients start servers with
a bare environment, so the entry names memman by absolute path and carries
``MEMMAN_DATA_DIR``. Never chosen by detection: only ``--target mcp-json`` runs it.
"""
import json
import re
from pathlib import Path

from memman.errors import MemmanError
from memman.integrations import InstallContext, files

NAME = "mcp-json"
SERVER_NAME = "memman"
_TOML_HEADER = re.compile(r'^\s*\[\s*mcp_servers\s*\.\s*("memman"|memman)\s*(\.[^\]]*)?\]\s*'
                          r'(#.*)?$')
_ANY_HEADER = re.compile(r"^\s*\[")


def detect(ctx: InstallContext) -> bool:
    return False  # a config for another program: written only when asked for


def server_entry(ctx: InstallContext) -> dict:
    args = ["--store", ctx.store, "mcp"] if ctx.store else ["mcp"]
    return {"command": ctx.memman_bin, "args": args,
            "env": {"MEMMAN_DATA_DIR": str(ctx.data_dir)}}


def codex_toml(entry: dict) -> str:
    def quoted(text: str) -> str:  # a JSON string is a valid TOML basic string
        return json.dumps(text, ensure_ascii=False)

    lines = [f"[mcp_servers.{SERVER_NAME}]",
             f"command = {quoted(entry['command'])}",
             f"args = [{', '.join(quoted(a) for a in entry['args'])}]",
             "",
             f"[mcp_servers.{SERVER_NAME}.env]"]
    lines += [f"{key} = {quoted(value)}" for key, value in sorted(entry["env"].items())]
    return "\n".join(lines) + "\n"


def install(ctx: InstallContext) -> dict:
    entry = server_entry(ctx)
    if ctx.write_path is None:
        return {"written": None, "mcpServers": {SERVER_NAME: entry},
                "codex_toml": codex_toml(entry),
                "hint": "paste mcpServers into claude_desktop_config.json, ~/.cursor/mcp.json "
                        "or .mcp.json, codex_toml into ~/.codex/config.toml; or run again "
                        "with --write PATH"}
    path = Path(ctx.write_path).expanduser()
    changed = _write_toml(path, entry) if path.suffix == ".toml" else _write_json(path, entry)
    ctx.note(f"{'updated' if changed else 'unchanged'}: {path} ({SERVER_NAME} server entry)")
    return {"written": str(path), "changed": changed, "entry": entry}


def uninstall(ctx: InstallContext) -> dict:
    if ctx.write_path is None:
        return {"removed": [], "hint": f"remove the '{SERVER_NAME}' server entry from your MCP "
                                       "client's config file"}
    path = Path(ctx.write_path).expanduser()
    removed = _remove_toml(path) if path.suffix == ".toml" else _remove_json(path)
    if removed:
        ctx.note(f"removed the {SERVER_NAME} server entry from {path}")
    return {"removed": [str(path)] if removed else []}


# -- JSON clients -----------------------------------------------------------------------
def _servers(path: Path, data: dict) -> dict:
    servers = data.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise MemmanError(f"{path}: 'mcpServers' is not an object; memman left the file "
                          "untouched")
    return servers


def _write_json(path: Path, entry: dict) -> bool:
    data = files.read_json(path)
    _servers(path, data)[SERVER_NAME] = entry
    return files.write_json(path, data, mode=0o600 if not path.exists() else None)


def _remove_json(path: Path) -> bool:
    if not path.exists():
        return False
    data = files.read_json(path)
    servers = _servers(path, data)
    if SERVER_NAME not in servers:
        return False
    del servers[SERVER_NAME]
    return files.write_json(path, data)


# -- Codex (TOML) ---------------------------------------------------------------------------
def _parse_toml(path: Path, text: str, what: str) -> dict:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MemmanError(f"cannot {what} {path} ({exc}); fix it or edit it by hand (memman "
                          "left it untouched)") from None


def _without_memman(text: str) -> str:
    """``text`` minus every ``[mcp_servers.memman...]`` table, line by line."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if _TOML_HEADER.match(line):
            skipping = True
            continue
        if skipping and _ANY_HEADER.match(line):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def _write_toml(path: Path, entry: dict) -> bool:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    _parse_toml(path, old, "parse")
    kept = _without_memman(old).rstrip("\n")
    new = (kept + "\n\n" if kept else "") + codex_toml(entry)
    merged = _parse_toml(path, new, "merge the memman entry into")
    if merged.get("mcp_servers", {}).get(SERVER_NAME) != entry:
        raise MemmanError(f"{path} defines the memman server in a form memman cannot "
                          "replace; edit it by hand (memman left it untouched)")
    if new == old:
        return False
    files.backup(path)
    files.write_atomic(path, new, mode=None if path.exists() else 0o600)
    return True


def _remove_toml(path: Path) -> bool:
    if not path.exists():
        return False
    old = path.read_text(encoding="utf-8")
    _parse_toml(path, old, "parse")
    new = _without_memman(old)
    if new == old:
        return False
    _parse_toml(path, new, "remove the memman entry from")
    files.backup(path)
    files.write_atomic(path, new)
    return True
