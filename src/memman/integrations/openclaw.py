"""OpenClaw: a plugin, an internal hook and a skill, plus three entries in openclaw.json.

What ``install`` puts under the OpenClaw state dir (``~/.openclaw`` unless
``OPENCLAW_STATE_DIR``, ``OPENCLAW_HOME`` or ``OPENCLAW_PROFILE`` say otherwise):

* ``extensions/memman/``: the plugin (``openclaw.plugin.json``, ``package.json``,
  ``index.js``); ``before_prompt_build`` prepends short recall/remember reminders;
* ``hooks/memman-prime/``: the internal hook (``HOOK.md``, ``handler.js``,
  ``package.json``); on ``agent:bootstrap`` it runs ``<memman> prime`` and injects the
  output as the bootstrap file ``MEMMAN.md``;
* ``skills/memman/SKILL.md``: the command reference, with memman's absolute path;
* ``memman-bin.json`` beside the plugin and the hook: the absolute memman path (the
  gateway runs with a minimal PATH) and the data dir;
* ``extensions/memman/memman-install.json``: what install changed in openclaw.json, so
  uninstall can undo exactly that.

Everything is copied, never symlinked: OpenClaw refuses plugin, hook and skill files
whose real path leaves their folder.

openclaw.json is JSON5 and may carry the user's comments. It is edited as text
(``json5edit``): memman inserts or removes only its own entries, in the file's own
style, and every other byte stays as it was. The entries are
``plugins.entries.memman`` (enabled, default options), ``hooks.internal.enabled: true``
(OpenClaw loads no internal hook without it) and ``hooks.internal.entries.memman-prime``;
``memman`` is appended to ``plugins.allow`` when the user keeps an allow-list. A file
that does not parse is refused with one line and left untouched. The old file is backed
up before each edit and the new one written atomically; a second install changes nothing.
"""
import json
import os
import shlex
import shutil
from pathlib import Path

from memman.errors import MemmanError
from memman.integrations import InstallContext, files
from memman.integrations.json5edit import MISSING, Document, EditError, JSON5Error, canonical

NAME = "openclaw"
PLUGIN_ID = "memman"
HOOK_NAME = "memman-prime"
SKILL_NAME = "memman"
BIN_FILE = "memman-bin.json"
RECORD_FILE = "memman-install.json"
PLACEHOLDER = "{{MEMMAN}}"

PLUGIN_ENTRY = ["plugins", "entries", PLUGIN_ID]
PLUGIN_DEFAULT = {"enabled": True, "config": {"remind": True, "nudge": True}}
INTERNAL_ENABLED = ["hooks", "internal", "enabled"]
HOOK_ENTRY = ["hooks", "internal", "entries", HOOK_NAME]
ALLOW = ["plugins", "allow"]

FILE_MODE = 0o644
DIR_MODE = 0o755


# ---------------------------------------------------------------- locations

def state_dir(ctx: InstallContext) -> Path:
    explicit = os.environ.get("OPENCLAW_STATE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("OPENCLAW_HOME", "").strip()
    profile = os.environ.get("OPENCLAW_PROFILE", "").strip()
    name = f".openclaw-{profile}" if profile and profile != "default" else ".openclaw"
    return (Path(home).expanduser() if home else Path(ctx.home)) / name


def config_path(ctx: InstallContext) -> Path:
    explicit = os.environ.get("OPENCLAW_CONFIG_PATH", "").strip()
    return Path(explicit).expanduser() if explicit else state_dir(ctx) / "openclaw.json"


def _dirs(ctx: InstallContext) -> dict[str, Path]:
    root = state_dir(ctx)
    return {
        "plugin": root / "extensions" / PLUGIN_ID,
        "hook": root / "hooks" / HOOK_NAME,
        "skill": root / "skills" / SKILL_NAME,
    }


def detect(ctx: InstallContext) -> bool:
    return state_dir(ctx).is_dir() or shutil.which("openclaw") is not None


# ---------------------------------------------------------------- shipped files

def _asset_files(node, rel: str = ""):
    """(relative path, bytes) of every file under a resources folder."""
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__" or child.name.startswith("."):
            continue
        path = f"{rel}{child.name}"
        if child.is_dir():
            yield from _asset_files(child, path + "/")
        else:
            yield path, child.read_bytes()


def _command(ctx: InstallContext) -> str:
    """The memman command line agents should type: the absolute path, plus --data-dir
    when the data dir is not the one memman would pick by itself."""
    words = [ctx.memman_bin]
    default = Path(ctx.home) / ".memman"
    if Path(ctx.data_dir).expanduser().resolve() != default.resolve():
        words += ["--data-dir", str(ctx.data_dir)]
    return shlex.join(words)


def planned_files(ctx: InstallContext) -> dict[Path, bytes]:
    """Every file install writes, with its content."""
    from memman import resources

    dirs = _dirs(ctx)
    command = _command(ctx)
    out: dict[Path, bytes] = {}
    for rel, data in _asset_files(resources.folder("assets").joinpath("openclaw")):
        if rel.startswith(f"hooks/{HOOK_NAME}/"):
            target = dirs["hook"] / rel.split("/", 2)[2]
        elif rel.startswith(f"skills/{SKILL_NAME}/"):
            target = dirs["skill"] / rel.split("/", 2)[2]
            if target.name == "SKILL.md":
                data = data.decode("utf-8").replace(PLACEHOLDER, command).encode("utf-8")
        elif "/" not in rel:
            target = dirs["plugin"] / rel
        else:
            continue
        out[target] = data
    runtime = json.dumps({"memman": ctx.memman_bin, "data_dir": str(ctx.data_dir),
                          "command": command}, indent=2, sort_keys=True) + "\n"
    out[dirs["plugin"] / BIN_FILE] = runtime.encode("utf-8")
    out[dirs["hook"] / BIN_FILE] = runtime.encode("utf-8")
    return out


def _same_bytes(path: Path, data: bytes) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    return path.read_bytes() == data and (path.stat().st_mode & 0o777) == FILE_MODE


def _real_dir(path: Path, ctx: InstallContext) -> None:
    """``path`` as a real directory of ours (memman 0.16 left symlinks behind)."""
    if path.is_symlink():
        path.unlink()
        ctx.note(f"replaced the symlink {path} with a real folder")
    path.mkdir(parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != DIR_MODE:
        os.chmod(path, DIR_MODE)


# ---------------------------------------------------------------- openclaw.json

def _load_config(path: Path) -> tuple[Document, str | None]:
    """The config as an editable document and its original text (None if missing).
    Raises MemmanError, touching nothing, when the file cannot be used."""
    try:
        original = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return Document(""), None
    except UnicodeDecodeError:
        raise MemmanError(f"cannot read {path} (not UTF-8); memman left it untouched") from None
    try:
        return Document(original), original
    except JSON5Error as exc:
        raise MemmanError(f"cannot parse {path} ({exc.msg} at line {exc.lineno}); fix or move "
                          "it aside and run the install again (memman left it untouched)") from None
    except EditError:
        raise MemmanError(f"{path} does not hold a JSON5 object; "
                          "memman left it untouched") from None


def _edit(path: Path, action):
    try:
        return action()
    except EditError as exc:
        raise MemmanError(f"cannot update {path}: {exc}; memman left it untouched") from None


def _final_text(doc: Document, original: str | None) -> str:
    if original is None or not original.strip():
        return doc.text if doc.text.endswith("\n") else doc.text + "\n"
    return doc.text


def _write_config(path: Path, text: str, original: str | None) -> tuple[bool, str | None]:
    """Write ``text`` if it differs from ``original``, backing up the old file first.
    Returns (changed, backup path or None)."""
    if text == original:
        return False, None
    saved = files.backup(path)
    files.write_atomic(path, text, None if original is not None else 0o600)
    return True, (str(saved) if saved else None)


def _merge(doc: Document, record: dict, warnings: list[str]) -> None:
    """Add memman's entries to ``doc``; note in ``record`` what was added or replaced."""
    added = record.setdefault("added", [])
    replaced = record.setdefault("replaced", [])

    def ensure(path, value):
        result = doc.set(path, value)
        if result["created"] is not None:
            if result["created"] not in added:
                added.append(result["created"])
        elif canonical(result["previous"]) != canonical(value):
            if not any(r["path"] == path for r in replaced):
                replaced.append({"path": path, "previous": result["previous"]})

    entry = doc.get(PLUGIN_ENTRY)
    if isinstance(entry, dict):
        ensure(PLUGIN_ENTRY + ["enabled"], True)
        config = entry.get("config")
        extra = set(config) - {"remind", "nudge"} if isinstance(config, dict) else set()
        if extra:
            warnings.append(f"plugins.entries.memman.config has keys memman does not know "
                            f"({', '.join(sorted(extra))}); OpenClaw will reject them")
    else:
        ensure(PLUGIN_ENTRY, PLUGIN_DEFAULT)

    ensure(INTERNAL_ENABLED, True)
    hook = doc.get(HOOK_ENTRY)
    if isinstance(hook, dict):
        ensure(HOOK_ENTRY + ["enabled"], True)
    else:
        ensure(HOOK_ENTRY, {"enabled": True})

    allow = doc.get(ALLOW)
    if isinstance(allow, list) and PLUGIN_ID not in allow:
        doc.append(ALLOW, PLUGIN_ID)
        record["allow_added"] = True
    if doc.get(["plugins", "enabled"]) is False:
        warnings.append("plugins.enabled is false in openclaw.json: no plugin loads, memman's "
                        "included (memman left it as it is)")
    deny = doc.get(["plugins", "deny"])
    if isinstance(deny, list) and PLUGIN_ID in deny:
        warnings.append("plugins.deny lists memman in openclaw.json: its plugin will not load "
                        "(memman left it as it is)")


def _has_leaves(value) -> bool:
    if isinstance(value, dict):
        return any(_has_leaves(v) for v in value.values())
    return True


def _unmerge(doc: Document, record: dict, notes: list[str]) -> None:
    """Remove memman's entries from ``doc``, restoring what ``record`` says was replaced."""
    doc.delete(PLUGIN_ENTRY)
    doc.delete(HOOK_ENTRY)

    internal = doc.get(["hooks", "internal"])
    others = isinstance(internal, dict) and (
        set(internal) - {"enabled", "entries"}
        or (isinstance(internal.get("entries"), dict) and internal["entries"]))
    ours = any(INTERNAL_ENABLED[:len(p)] == list(p) for p in record.get("added", []))
    previous = [r["previous"] for r in record.get("replaced", []) if r["path"] == INTERNAL_ENABLED]
    if (ours or previous) and others:
        notes.append("left hooks.internal.enabled on: other internal hooks are configured")
    elif ours:
        doc.delete(INTERNAL_ENABLED)
    elif previous and doc.get(INTERNAL_ENABLED) is not MISSING:
        doc.set(INTERNAL_ENABLED, previous[0])

    if record.get("allow_added"):
        doc.remove_item(ALLOW, PLUGIN_ID)

    # Objects install created go again once nothing but empty objects is left in them.
    for path in sorted((list(p) for p in record.get("added", [])), key=len, reverse=True):
        value = doc.get(path)
        if isinstance(value, dict) and not _has_leaves(value):
            doc.delete(path)


def _read_record(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _record_text(record: dict) -> str:
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------- install / uninstall

def _plan(ctx: InstallContext, record: dict, warnings: list[str]) -> tuple[Document, str | None]:
    """openclaw.json with memman's entries merged in (nothing written yet)."""
    for value in (ctx.memman_bin, str(ctx.data_dir)):
        if any(c in value for c in "\n\r\x00"):
            raise MemmanError(f"cannot install for a path with a line break: {value!r}")
    cfg = config_path(ctx)
    doc, original = _load_config(cfg)
    _edit(cfg, lambda: _merge(doc, record, warnings))
    return doc, original


def preflight(ctx: InstallContext) -> None:
    """Raise the one-line error install would stop on, before anything is changed."""
    _plan(ctx, {}, [])


def install(ctx: InstallContext) -> dict:
    dirs = _dirs(ctx)
    cfg = config_path(ctx)
    record_path = dirs["plugin"] / RECORD_FILE
    old_record = _read_record(record_path)
    record = json.loads(json.dumps(old_record))
    record["config"] = str(cfg)
    warnings: list[str] = []

    # Plan the config edit first: a file memman cannot parse stops everything.
    doc, original = _plan(ctx, record, warnings)

    created = set(record.get("created_dirs", []))
    root = state_dir(ctx)
    for folder in [root] + [root / name for name in ("extensions", "hooks", "skills")]:
        if not folder.exists():
            created.add(str(folder))
    if original is None:
        record["config_created"] = True
    elif "empty_original" not in record and not Document(original).data:
        record["empty_original"] = original     # "{}" comes back as written, not as "{\n}"
    record["created_dirs"] = sorted(created)

    written = []
    for target, data in planned_files(ctx).items():
        _real_dir(target.parent, ctx)
        if _same_bytes(target, data):
            continue
        files.write_atomic(target, data.decode("utf-8"), FILE_MODE)
        written.append(str(target))
        ctx.note(f"wrote {target}")

    config_changed, backup = _write_config(cfg, _final_text(doc, original), original)
    if config_changed:
        ctx.note(f"updated {cfg}" + (f" (backup: {backup})" if backup else ""))

    if _record_text(record) != _record_text(old_record) or not record_path.exists():
        files.write_atomic(record_path, _record_text(record), FILE_MODE)
    changed = bool(written) or config_changed
    if changed:
        ctx.note("restart the gateway to load memman: openclaw gateway restart")
    return {
        "target": NAME,
        "changed": changed,
        "state_dir": str(state_dir(ctx)),
        "files": written,
        "config": {"path": str(cfg), "changed": config_changed, "backup": backup},
        "warnings": warnings,
    }


def _installed_names(ctx: InstallContext) -> list[Path]:
    dirs = _dirs(ctx)
    return list(planned_files(ctx)) + [dirs["plugin"] / RECORD_FILE]


def uninstall(ctx: InstallContext) -> dict:
    dirs = _dirs(ctx)
    cfg = config_path(ctx)
    record = _read_record(dirs["plugin"] / RECORD_FILE)
    notes: list[str] = []

    config_changed, backup = False, None
    if cfg.exists():
        doc, original = _load_config(cfg)
        _edit(cfg, lambda: _unmerge(doc, record, notes))
        if record.get("config_created") and doc.data == {}:
            cfg.unlink()       # memman created it and nothing else is left in it
            config_changed = True
            ctx.note(f"removed {cfg} (memman created it)")
        elif doc.data == {} and isinstance(record.get("empty_original"), str):
            config_changed, backup = _write_config(cfg, record["empty_original"], original)
        else:
            config_changed, backup = _write_config(cfg, _final_text(doc, original), original)
            if config_changed:
                ctx.note(f"removed memman's entries from {cfg}"
                         + (f" (backup: {backup})" if backup else ""))

    removed = []
    for folder in dirs.values():
        if folder.is_symlink():     # memman 0.16-style link: drop the link, never its target
            folder.unlink()
            removed.append(str(folder))
            ctx.note(f"removed the symlink {folder}")
    for path in _installed_names(ctx):
        if os.path.lexists(path) and not path.parent.is_symlink():
            path.unlink()
            removed.append(str(path))
            ctx.note(f"removed {path}")
    kept = []
    for folder in dirs.values():
        files.remove_empty_dirs(folder, folder.parent)
        if folder.exists():
            kept.append(str(folder))
            notes.append(f"kept {folder}: it holds files memman did not install")
    # Folders install had to create (extensions/, hooks/, skills/, even the state dir)
    # go too when they are empty again.
    for folder in sorted(record.get("created_dirs", []), key=len, reverse=True):
        try:
            Path(folder).rmdir()
        except OSError:
            pass
    if removed or config_changed:
        ctx.note("restart the gateway to unload memman: openclaw gateway restart")
    return {
        "target": NAME,
        "changed": bool(removed) or config_changed,
        "files": removed,
        "kept": kept,
        "config": {"path": str(cfg), "changed": config_changed, "backup": backup},
        "notes": notes,
    }
