"""Claude Code: hook scripts, the memman skill, and settings.json registrations.

What ``install`` puts where (``<claude>`` is ``$CLAUDE_CONFIG_DIR`` when set, else
``~/.claude``):

- ``<claude>/hooks/memman/{prime,user_prompt,stop,task_recall,exit_plan,compact}.sh`` and
  their shared runner ``memman-hook.sh``:
  copies (not symlinks) of the shipped scripts, mode 0755;
- ``<claude>/hooks/memman/memman.env``: ``MEMMAN_BIN=`` and ``MEMMAN_DATA_DIR=`` lines
  the scripts read, so hooks run the memman that installed them even with a bare PATH;
- ``<claude>/skills/memman/SKILL.md``: the command reference for agents;
- ``<claude>/settings.json``: six hook registrations (current matcher syntax:
  ``Agent|Task`` and ``ExitPlanMode`` for PreToolUse) and ``permissions.allow`` rules
  for the agent-facing commands; ``env.MEMMAN_DATA_DIR`` when the data dir is not the
  default one, so the agent's own ``memman`` calls reach the same memories.

settings.json is read as plain JSON. A file that does not parse, or whose ``hooks`` /
``permissions`` / ``env`` have an unexpected shape, is refused with a one-line error
before anything is written. Every other key, hook and permission is kept; the old file
is backed up (``settings.json.memman-backup-<stamp>``) before each change, and the new
one written atomically. A second install changes nothing. ``uninstall`` removes exactly
the entries and files above (plus hook entries left by memman 0.16, which pointed at
the same script names) and the hooks' state in the data dir; memories, the queue, logs
and the env file stay.
"""
import copy
import os
import re
import shlex
import shutil
from pathlib import Path

from memman.errors import MemmanError
from memman.integrations import InstallContext, files

NAME = "claude-code"

SCRIPTS = ("prime.sh", "user_prompt.sh", "stop.sh", "task_recall.sh", "exit_plan.sh",
           "compact.sh")
RUNNER = "memman-hook.sh"  # the body the six scripts share
CONF_NAME = "memman.env"
SKILL_NAME = "memman"

# (event, matcher or None, script, timeout in seconds)
REGISTRATIONS = (
    ("SessionStart", None, "prime.sh", 30),
    ("UserPromptSubmit", None, "user_prompt.sh", 10),
    ("PreToolUse", "Agent|Task", "task_recall.sh", 10),
    ("PreToolUse", "ExitPlanMode", "exit_plan.sh", 10),
    ("Stop", None, "stop.sh", 10),
    ("PreCompact", None, "compact.sh", 10),
)

# Current rule form (``Bash(prefix *)``; the legacy ``:*`` suffix is deprecated). The
# ``--store *`` variants cover the root option agents use to reach another store.
_VERBS = ("recall", "remember", "replace", "insights show", "graph related", "status")
PERMISSIONS = tuple(
    [f"Bash(memman {v} *)" for v in _VERBS]
    + ["Bash(memman forget *)", "Bash(memman guide *)"]
    + [f"Bash(memman --store * {v} *)" for v in _VERBS]
)

# A handler is ours when its command runs one of our scripts from a hooks/memman/
# folder: the absolute paths we write, and the ~/.claude/... paths memman 0.16 wrote.
_OURS = re.compile(r"(?:^|[/\\'\"\s])hooks/memman/(?:%s)(?=$|['\"\s])"
                   % "|".join(re.escape(s) for s in SCRIPTS))


# -- locations --------------------------------------------------------------------------


def claude_dir(ctx: InstallContext) -> Path:
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(ctx.home) / ".claude"


def settings_path(ctx: InstallContext) -> Path:
    """settings.json; a symlinked one (dotfile managers) is edited at its target, so the
    link survives."""
    path = claude_dir(ctx) / "settings.json"
    return path.resolve() if path.is_symlink() else path


def hooks_dir(ctx: InstallContext) -> Path:
    return claude_dir(ctx) / "hooks" / "memman"


def skill_path(ctx: InstallContext) -> Path:
    return claude_dir(ctx) / "skills" / SKILL_NAME / "SKILL.md"


def command_for(ctx: InstallContext, script: str) -> str:
    """The settings.json command string for ``script`` (run by ``sh -c``)."""
    return shlex.quote(str(hooks_dir(ctx) / script))


def is_ours(handler) -> bool:
    return (isinstance(handler, dict) and isinstance(handler.get("command"), str)
            and bool(_OURS.search(handler["command"].replace("\\ ", " "))))


def _default_data_dir(ctx: InstallContext) -> Path:
    return (Path(ctx.home) / ".memman").absolute()


def _env_value(ctx: InstallContext) -> str | None:
    """The MEMMAN_DATA_DIR we put in settings.json's env (None for the default dir)."""
    data_dir = Path(ctx.data_dir).absolute()
    return None if data_dir == _default_data_dir(ctx) else str(data_dir)


# -- the interface -------------------------------------------------------------------------


def detect(ctx: InstallContext) -> bool:
    return claude_dir(ctx).is_dir() or shutil.which("claude") is not None


def preflight(ctx: InstallContext) -> None:
    """Raise the one-line error install would stop on, before anything is changed."""
    _check_shapes(files.read_json(settings_path(ctx)), settings_path(ctx))
    for value in (ctx.memman_bin, str(ctx.data_dir)):
        if any(c in value for c in "\n\r\x00"):
            raise MemmanError(f"cannot install hooks for a path with a line break: {value!r}")


def install(ctx: InstallContext) -> dict:
    preflight(ctx)
    path = settings_path(ctx)
    current = files.read_json(path)
    _install_files(ctx)
    merged = merge_settings(current, ctx)
    if merged != current:
        had_file = path.exists()
        files.write_json(path, merged)
        ctx.note(f"updated {path}" + (" (backup beside it)" if had_file else " (created)"))
    return _report(ctx)


def uninstall(ctx: InstallContext) -> dict:
    path = settings_path(ctx)
    current = files.read_json(path)
    _check_shapes(current, path)
    stripped = strip_settings(current, ctx)
    if stripped != current:
        files.write_json(path, stripped)
        ctx.note(f"removed memman's hooks and permissions from {path} (backup beside it)")
    _remove_files(ctx)
    return _report(ctx)


def _report(ctx: InstallContext) -> dict:
    return {"changes": list(ctx.changes), "settings": str(settings_path(ctx)),
            "hooks_dir": str(hooks_dir(ctx)), "skill": str(skill_path(ctx))}


# -- files ---------------------------------------------------------------------------------


def conf_text(ctx: InstallContext) -> str:
    return ("# Written by 'memman install'; read (not sourced) by the hook scripts beside it.\n"
            f"MEMMAN_BIN={ctx.memman_bin}\n"
            f"MEMMAN_DATA_DIR={Path(ctx.data_dir).absolute()}\n")


def _put(ctx: InstallContext, dest: Path, text: str, mode: int) -> None:
    if files.put_file(dest, text, mode):
        ctx.note(f"wrote {dest}")


def _install_files(ctx: InstallContext) -> None:
    from memman import resources

    folder = hooks_dir(ctx)
    for script in (*SCRIPTS, RUNNER):
        _put(ctx, folder / script, resources.read_text("hooks", script), 0o755)
    _put(ctx, folder / CONF_NAME, conf_text(ctx), 0o644)
    if not ctx.hooks_only:
        _put(ctx, skill_path(ctx), resources.read_text("assets", "SKILL.md"), 0o644)


def _remove_files(ctx: InstallContext) -> None:
    base = claude_dir(ctx)
    folder = hooks_dir(ctx)
    # A skills/memman folder that is a link belongs to the host (NanoClaw links its
    # container skills there); only a file we wrote is ours to remove.
    ours = [] if ctx.hooks_only or skill_path(ctx).parent.is_symlink() else [skill_path(ctx)]
    for path in [*(folder / s for s in (*SCRIPTS, RUNNER)), folder / CONF_NAME, *ours]:
        if path.is_symlink() or path.exists():
            path.unlink()
            ctx.note(f"removed {path}")
    for path in (folder, skill_path(ctx).parent):
        files.remove_empty_dirs(path, base)
    state = Path(ctx.data_dir) / "hook_state"
    if state.is_dir():
        shutil.rmtree(state, ignore_errors=True)
        ctx.note(f"removed {state}")


# -- settings.json -------------------------------------------------------------------------


def _check_shapes(data: dict, path: Path) -> None:
    """Refuse settings whose parts we would edit have a shape we do not understand."""
    def bad(what):
        raise MemmanError(f"{path}: {what}; memman left it untouched (fix it and run again)")

    hooks = data.get("hooks")
    if hooks is not None:
        if not isinstance(hooks, dict):
            bad("'hooks' is not an object")
        for event in {e for e, *_ in REGISTRATIONS}:
            groups = hooks.get(event)
            if groups is not None and not isinstance(groups, list):
                bad(f"'hooks.{event}' is not a list")
    perms = data.get("permissions")
    if perms is not None:
        if not isinstance(perms, dict):
            bad("'permissions' is not an object")
        if perms.get("allow") is not None and not isinstance(perms["allow"], list):
            bad("'permissions.allow' is not a list")
    env = data.get("env")
    if env is not None and not isinstance(env, dict):
        bad("'env' is not an object")


def _wanted(ctx: InstallContext) -> list[tuple[str, str, str, int]]:
    return [(event, matcher or "", command_for(ctx, script), timeout)
            for event, matcher, script, timeout in REGISTRATIONS]


def _groups(hooks: dict, event: str):
    groups = hooks.get(event)
    return groups if isinstance(groups, list) else []


def _drop_handlers(hooks: dict, keep) -> None:
    """Remove our handlers for which ``keep(event, matcher, handler)`` is false; prune the
    groups and event lists that this leaves empty (containers that were already empty
    are left alone)."""
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        new_groups = []
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list):
                new_groups.append(group)
                continue
            matcher = group.get("matcher") or ""
            kept = [h for h in handlers if not is_ours(h) or keep(event, matcher, h)]
            if len(kept) == len(handlers):
                new_groups.append(group)
            elif kept:
                new_groups.append({**group, "hooks": kept})
        if len(new_groups) != len(groups) or new_groups != groups:
            if new_groups:
                hooks[event] = new_groups
            elif groups:
                del hooks[event]


def merge_settings(current: dict, ctx: InstallContext) -> dict:
    """``current`` with our registrations, permissions and env added (a new dict)."""
    data = copy.deepcopy(current)
    hooks = data.get("hooks")
    hooks = {} if hooks is None else hooks
    wanted = _wanted(ctx)
    wanted_keys = {(e, m, c) for e, m, c, _ in wanted}
    seen: set = set()

    def keep(event, matcher, handler):
        key = (event, matcher, handler.get("command"))
        if key in wanted_keys and key not in seen:
            seen.add(key)
            return True
        return False  # stale (old path, old "Task" matcher) or a duplicate

    _drop_handlers(hooks, keep)
    for event, matcher, command, timeout in wanted:
        groups = hooks.setdefault(event, [])
        for group in _groups(hooks, event):
            if not isinstance(group, dict) or (group.get("matcher") or "") != matcher:
                continue
            handler = next((h for h in group.get("hooks") or []
                            if isinstance(h, dict) and h.get("command") == command), None)
            if handler is not None:
                if handler.get("type") != "command" or handler.get("timeout") != timeout:
                    handler.update({"type": "command", "timeout": timeout})
                break
        else:
            group = {"matcher": matcher} if matcher else {}
            group["hooks"] = [{"type": "command", "command": command, "timeout": timeout}]
            groups.append(group)
    data["hooks"] = hooks

    perms = data.get("permissions")
    perms = {} if perms is None else perms
    allow = perms.get("allow")
    allow = [] if allow is None else allow
    for rule in PERMISSIONS:
        if rule not in allow:
            allow.append(rule)
    perms["allow"] = allow
    data["permissions"] = perms

    value = _env_value(ctx)
    if value is not None:
        env = data.get("env")
        env = {} if env is None else env
        if env.get("MEMMAN_DATA_DIR") in (None, value):
            env["MEMMAN_DATA_DIR"] = value
            data["env"] = env
        else:
            ctx.note(f"kept env.MEMMAN_DATA_DIR={env['MEMMAN_DATA_DIR']!r} in settings.json "
                     f"(memman was installed for {value}); agents' memman calls use the former")
    return data


def strip_settings(current: dict, ctx: InstallContext) -> dict:
    """``current`` without anything ``merge_settings`` adds (a new dict)."""
    data = copy.deepcopy(current)
    hooks = data.get("hooks")
    if isinstance(hooks, dict):
        before = bool(hooks)
        _drop_handlers(hooks, lambda *_: False)
        if before and not hooks:
            del data["hooks"]
    perms = data.get("permissions")
    if isinstance(perms, dict) and isinstance(perms.get("allow"), list):
        allow = perms["allow"]
        kept = [r for r in allow if r not in PERMISSIONS]
        if len(kept) != len(allow):
            if kept:
                perms["allow"] = kept
            else:
                del perms["allow"]
                if not perms:
                    del data["permissions"]
    env = data.get("env")
    value = _env_value(ctx)
    if isinstance(env, dict) and value is not None and env.get("MEMMAN_DATA_DIR") == value:
        del env["MEMMAN_DATA_DIR"]
        if not env:
            del data["env"]
    return data
