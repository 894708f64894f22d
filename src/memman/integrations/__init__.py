"""Installing memman into the agent hosts that use it.

One module per host (``claude_code``, ``openclaw``, ``nanoclaw``), each exposing:

    NAME: str                                   # the --target value
    detect(ctx: InstallContext) -> bool         # is this host on the machine?
    install(ctx: InstallContext) -> dict        # idempotent; returns what it did
    uninstall(ctx: InstallContext) -> dict      # removes exactly what install added

``files`` holds what every host needs: atomic writes, backups of edited files, and
tolerant reading of JSON/JSON5 settings that refuses (never overwrites) a file it
cannot parse.
"""
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = {
    "claude-code": "memman.integrations.claude_code",
    "openclaw": "memman.integrations.openclaw",
    "nanoclaw": "memman.integrations.nanoclaw",
    "mcp-json": "memman.integrations.mcp_json",
}


@dataclass
class InstallContext:
    home: Path                 # the user's home (tests point it at a temp dir)
    data_dir: Path             # memman's data dir
    memman_bin: str            # absolute path of the memman executable hooks should run
    changes: list = field(default_factory=list)  # human-readable log of what was done
    hooks_only: bool = False   # hooks and settings, no skill (hosts that manage skills)
    write_path: Path | None = None  # mcp-json: the client config file to merge into
    store: str | None = None   # mcp-json: the --store the server should be started with

    def note(self, what: str) -> None:
        self.changes.append(what)


def module_for(target: str):
    import importlib

    from memman.errors import MemmanError

    if target not in TARGETS:
        raise MemmanError(f"unknown target '{target}'; valid: {', '.join(TARGETS)}")
    try:
        return importlib.import_module(TARGETS[target])
    except ModuleNotFoundError:
        raise MemmanError(f"target '{target}' is not available in this build") from None


def memman_executable() -> str:
    """The absolute path of the running memman (the console script beside this
    interpreter, else the one on PATH), for hooks run by daemons with a bare PATH."""
    import shutil
    import sys

    beside = Path(sys.executable).with_name("memman")
    if beside.exists():
        return str(beside)
    found = shutil.which("memman")
    return str(Path(found).resolve()) if found else str(beside)
