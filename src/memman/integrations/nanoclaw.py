"""NanoClaw (v2): the ``/add-memman`` skill that wires memman into a NanoClaw checkout.

NanoClaw is customised by Claude Code skills run inside the user's checkout, so
``install`` only puts the skill where Claude Code finds it,
``<claude>/skills/add-memman/`` (``<claude>`` as for the Claude Code target):

- ``SKILL.md``: the recipe Claude follows (``/add-memman``);
- ``apply.sh``: the idempotent patcher the recipe runs (``--remove`` undoes it);
- ``container/Dockerfile.memman``: the image block (python3, a venv with memman pinned
  to this memman's version, the data dir on the per-agent-group ``.claude`` mount);
- ``container/memman-start.sh``: the container's start wrapper (hooks, the read-only
  ``global`` store link, ``memman scheduler serve`` beside the agent);
- ``container/skills/memman/SKILL.md``: the skill agents read inside the container.

Files are copies, never links. ``uninstall`` removes exactly these files (and the
folders they leave empty); it does not touch a NanoClaw checkout the skill was applied
to: ``apply.sh --remove`` does that.
"""
import os
from pathlib import Path

from memman.integrations import InstallContext, files
from memman.integrations.claude_code import claude_dir

NAME = "nanoclaw"
SKILL_NAME = "add-memman"
SPEC_PLACEHOLDER = "@MEMMAN_SPEC@"

# path inside the skill folder -> mode
SKILL_FILES = {
    "SKILL.md": 0o644,
    "apply.sh": 0o755,
    "container/Dockerfile.memman": 0o644,
    "container/memman-start.sh": 0o755,
    "container/skills/memman/SKILL.md": 0o644,
}


def skill_dir(ctx: InstallContext) -> Path:
    return claude_dir(ctx) / "skills" / SKILL_NAME


def checkouts(ctx: InstallContext) -> list[Path]:
    """NanoClaw checkouts in the usual places: ``$NANOCLAW_DIR``, the current folder
    and ``~/nanoclaw``."""
    candidates = [os.environ.get("NANOCLAW_DIR", ""), os.getcwd(), str(Path(ctx.home) / "nanoclaw")]
    found = []
    for raw in candidates:
        if not raw:
            continue
        path = Path(raw).expanduser()
        if (path / "container" / "Dockerfile").is_file() and (path / "src").is_dir() \
                and path not in found:
            found.append(path)
    return found


def detect(ctx: InstallContext) -> bool:
    return (Path(ctx.home) / ".config" / "nanoclaw").is_dir() or bool(checkouts(ctx))


def memman_spec() -> str:
    from memman import __version__

    return f"memman=={__version__}"


def rendered(name: str) -> str:
    from memman import resources

    text = resources.read_text("assets", f"nanoclaw/{SKILL_NAME}/{name}")
    if name.endswith("Dockerfile.memman"):
        text = text.replace(SPEC_PLACEHOLDER, memman_spec())
    return text


def install(ctx: InstallContext) -> dict:
    base = skill_dir(ctx)
    if base.is_symlink():  # memman 0.16 linked files; a linked folder we replace whole
        base.unlink()
        ctx.note(f"removed the link {base}")
    for name, mode in SKILL_FILES.items():
        if files.put_file(base / name, rendered(name), mode):
            ctx.note(f"wrote {base / name}")
    legacy = base / "container-skill.md"  # memman 0.16's name for the container skill
    if legacy.is_symlink() or legacy.is_file():
        legacy.unlink()
        ctx.note(f"removed {legacy} (memman 0.16)")
    return _report(ctx)


def uninstall(ctx: InstallContext) -> dict:
    base = skill_dir(ctx)
    if base.is_symlink():
        base.unlink()
        ctx.note(f"removed the link {base}")
        return _report(ctx)
    for name in (*SKILL_FILES, "container-skill.md"):
        path = base / name
        if path.is_symlink() or path.is_file():
            path.unlink()
            ctx.note(f"removed {path}")
    for name in SKILL_FILES:
        files.remove_empty_dirs((base / name).parent, claude_dir(ctx))
    return _report(ctx)


def _report(ctx: InstallContext) -> dict:
    found = checkouts(ctx)
    out = {"changes": list(ctx.changes), "skill": str(skill_dir(ctx) / "SKILL.md"),
           "checkouts": [str(p) for p in found]}
    if skill_dir(ctx).is_dir():
        where = str(found[0]) if found else "your NanoClaw checkout"
        out["next"] = (f"run Claude Code in {where} and ask it to /add-memman (or run "
                       f"sh {skill_dir(ctx) / 'apply.sh'} --root <checkout>), then rebuild "
                       "the container image")
    return out
