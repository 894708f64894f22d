"""The OS timers that run ``memman scheduler drain``: systemd user units on Linux, a
launchd agent on macOS, or nothing at all (``serve``: the user runs
``memman scheduler serve`` as a long-lived process).

Kind: ``MEMMAN_SCHEDULER_KIND`` (process env: ``systemd``, ``launchd``, ``serve``) >
macOS => launchd > Linux with systemd as init (``systemctl`` on PATH and
``/run/systemd/system``) => systemd > error.

systemd: ``memman-enrich.service`` (oneshot drain) and ``memman-enrich.timer`` in
``$XDG_CONFIG_HOME/systemd/user`` (default ``~/.config/systemd/user``), rendered from
the templates in the shipped ``systemd/`` folder. launchd: ``com.memman.enrich.plist``
in ``~/Library/LaunchAgents``, built with plistlib. Units carry no secrets: the drain
reads the data dir's env file itself.

Every ``systemctl --user`` and ``launchctl`` call goes through :func:`systemctl` /
:func:`launchctl`; ``MEMMAN_SYSTEMCTL`` / ``MEMMAN_LAUNCHCTL`` (process env) replace
the binaries, which is how tests record the calls.

Installed units belong to one data dir (their ``MEMMAN_DATA_DIR``). Commands run
against another data dir leave them alone (start/stop) or refuse (trigger, interval,
uninstall), so ``memman --data-dir /tmp/x scheduler stop`` never stops the timer that
drains ``~/.memman``.
"""
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from memman.config.datadir import DataDir
from memman.errors import MemmanError

KINDS = ("systemd", "launchd", "serve")
SERVICE = "memman-enrich.service"
TIMER = "memman-enrich.timer"
LABEL = "com.memman.enrich"
PLIST = f"{LABEL}.plist"

MIN_TIMER_INTERVAL = 60      # systemd / launchd
MAX_INTERVAL = 86400
DEFAULT_INTERVAL = 60
CTL_TIMEOUT_SECONDS = 30

# Probed to decide whether systemd is the init system / whether lingering is on
# (module attributes so tests can point them elsewhere).
SYSTEMD_RUNTIME_DIR = Path("/run/systemd/system")
LINGER_DIR = Path("/var/lib/systemd/linger")

_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


# -- kind ---------------------------------------------------------------------------


def detect_kind(*, strict: bool = True) -> str | None:
    """The scheduler kind for this machine; ``None`` (strict=False) or a MemmanError
    (strict=True) when there is none."""
    import platform
    import shutil

    forced = os.environ.get("MEMMAN_SCHEDULER_KIND", "").strip().lower()
    if forced:
        if forced not in KINDS:
            raise MemmanError(f"MEMMAN_SCHEDULER_KIND must be one of {', '.join(KINDS)} "
                              f"(got '{forced}')")
        return forced
    system = platform.system()
    if system == "Darwin":
        return "launchd"
    if system == "Linux" and (os.environ.get("MEMMAN_SYSTEMCTL") or shutil.which("systemctl")) \
            and SYSTEMD_RUNTIME_DIR.is_dir():
        return "systemd"
    if not strict:
        return None
    raise MemmanError(
        "no supported scheduler here (systemd is not the init system and this is not macOS); "
        "run 'memman scheduler serve' as a long-lived process instead "
        "(MEMMAN_SCHEDULER_KIND=serve memman scheduler install records its interval)")


def platform_name() -> str:
    import platform

    return platform.system().lower() or sys.platform


# -- paths --------------------------------------------------------------------------


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def systemd_user_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else _home() / ".config"
    return base / "systemd" / "user"


def launch_agents_dir() -> Path:
    return _home() / "Library" / "LaunchAgents"


def unit_paths(kind: str) -> list[Path]:
    if kind == "systemd":
        return [systemd_user_dir() / SERVICE, systemd_user_dir() / TIMER]
    if kind == "launchd":
        return [launch_agents_dir() / PLIST]
    return []


def log_paths(datadir: DataDir) -> dict[str, Path]:
    """stdout/stderr of timer-started drains, and the worker's own per-pass log."""
    logs = datadir.logs_dir
    return {"stdout": logs / "enrich.log", "stderr": logs / "enrich.err",
            "worker": logs / "worker.log", "worker_errors": logs / "worker.err"}


def drain_timeout(interval: int) -> int:
    """The ``--timeout`` a timer-started drain gets: it stops claiming rows in time
    for the next pass."""
    return max(60, interval - 20)


# -- the service managers ----------------------------------------------------------


@dataclass
class Call:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        shown = " ".join(shlex.quote(a) for a in self.argv)
        detail = next((line.strip() for line in (self.stderr or self.stdout).splitlines()
                       if line.strip()), f"exit status {self.returncode}")
        return f"'{shown}' failed: {detail}"


def _run(command: list[str], name: str, args: tuple[str, ...]) -> Call:
    env = dict(os.environ)
    if name == "systemctl" and not env.get("XDG_RUNTIME_DIR"):
        runtime = Path(f"/run/user/{os.getuid()}")
        if runtime.is_dir():  # `systemctl --user` finds the user manager through it
            env["XDG_RUNTIME_DIR"] = str(runtime)
    argv = [*command, *args]
    shown = [name, *args]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env,
                              timeout=CTL_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return Call(shown, 127, "", f"{command[0]} not found")
    except subprocess.TimeoutExpired:
        return Call(shown, 124, "", f"no answer within {CTL_TIMEOUT_SECONDS} s")
    except OSError as exc:
        return Call(shown, 126, "", str(exc))
    return Call(shown, proc.returncode, proc.stdout, proc.stderr)


def systemctl(*args: str) -> Call:
    """``systemctl --user ARGS`` (``MEMMAN_SYSTEMCTL`` replaces ``systemctl``)."""
    command = shlex.split(os.environ.get("MEMMAN_SYSTEMCTL") or "systemctl")
    return _run(command, "systemctl", ("--user", *args))


def launchctl(*args: str) -> Call:
    """``launchctl ARGS`` (``MEMMAN_LAUNCHCTL`` replaces ``launchctl``)."""
    command = shlex.split(os.environ.get("MEMMAN_LAUNCHCTL") or "launchctl")
    return _run(command, "launchctl", args)


def _gui_domain() -> str:
    return f"gui/{os.getuid()}"


def _gui_target() -> str:
    return f"{_gui_domain()}/{LABEL}"


def _launchd_loaded() -> bool:
    return launchctl("print", _gui_target()).ok


# -- rendering ----------------------------------------------------------------------


def _refuse_control_chars(what: str, value: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise MemmanError(f"{what} contains a line break or control character, which a "
                          f"unit file cannot hold: {value!r}")


def _exec_path(path: str) -> str:
    """The executable as the first word of ``ExecStart=``. systemd refuses quotes and
    backslashes in it; spaces need double quotes; ``%`` is a specifier."""
    _refuse_control_chars("the memman path", path)
    if any(c in path for c in "\"'\\"):
        raise MemmanError(f"systemd cannot run an executable whose path contains quotes or "
                          f"backslashes: {path}; install memman elsewhere or use "
                          "'memman scheduler serve'")
    path = path.replace("%", "%%")
    return f'"{path}"' if any(c.isspace() for c in path) else path


def _env_assignment(key: str, value: str) -> str:
    """``"KEY=value"`` for ``Environment=`` (C-style escapes, ``%`` doubled)."""
    _refuse_control_chars(key, value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{key}={escaped}"'


def _plain_path(what: str, path: str) -> str:
    """A path taken verbatim by systemd (``append:``, ``Description=``)."""
    _refuse_control_chars(what, path)
    return path.replace("%", "%%")


def _substitute(template: str, values: dict[str, str]) -> str:
    def one(match):
        try:
            return values[match.group(1)]
        except KeyError:
            raise MemmanError(f"unit template placeholder @{match.group(1)}@ has no value "
                              "(a memman packaging bug)") from None

    return _PLACEHOLDER.sub(one, template)


def render_service(memman: str, datadir: DataDir, interval: int) -> str:
    from memman import resources

    timeout = drain_timeout(interval)
    logs = log_paths(datadir)
    root = str(datadir.root)
    return _substitute(resources.read_text("systemd", f"{SERVICE}.in"), {
        "DATA_DIR_TEXT": _plain_path("the data dir", root),
        "DATA_DIR_ENV": _env_assignment("MEMMAN_DATA_DIR", root),
        "MEMMAN": _exec_path(memman),
        "TIMEOUT": str(timeout),
        "HARD_TIMEOUT": str(timeout + 600),
        "LOG_OUT": _plain_path("the log path", str(logs["stdout"])),
        "LOG_ERR": _plain_path("the log path", str(logs["stderr"])),
    })


def render_timer(interval: int) -> str:
    from memman import resources

    return _substitute(resources.read_text("systemd", f"{TIMER}.in"),
                       {"INTERVAL": str(interval)})


def plist_dict(memman: str, datadir: DataDir, interval: int) -> dict:
    logs = log_paths(datadir)
    return {
        "Label": LABEL,
        "ProgramArguments": [memman, "scheduler", "drain", "--timeout",
                             str(drain_timeout(interval))],
        "EnvironmentVariables": {"MEMMAN_DATA_DIR": str(datadir.root), "MEMMAN_WORKER": "1"},
        "StartInterval": int(interval),
        "RunAtLoad": True,
        "ProcessType": "Background",
        "StandardOutPath": str(logs["stdout"]),
        "StandardErrorPath": str(logs["stderr"]),
    }


def render_plist(memman: str, datadir: DataDir, interval: int) -> str:
    import plistlib

    return plistlib.dumps(plist_dict(memman, datadir, interval), sort_keys=True).decode("utf-8")


# -- what is installed -------------------------------------------------------------


_UNESCAPE = re.compile(r"\\(.)|%%")


def _unit_data_dir(service_text: str) -> str | None:
    match = re.search(r'^Environment="MEMMAN_DATA_DIR=(.*)"\s*$', service_text, re.M)
    if not match:
        return None
    return _UNESCAPE.sub(lambda m: m.group(1) if m.group(1) is not None else "%",
                         match.group(1))


@dataclass
class Installed:
    kind: str
    paths: list[Path]         # the unit files of this kind
    present: list[Path]       # those that exist
    data_dir: str | None      # MEMMAN_DATA_DIR the units serve
    interval: int | None
    memman: str | None        # the executable they run

    @property
    def complete(self) -> bool:
        return bool(self.paths) and len(self.present) == len(self.paths)

    def serves(self, datadir: DataDir) -> bool:
        return self.data_dir is not None and \
            os.path.realpath(self.data_dir) == os.path.realpath(datadir.root)


def installed(kind: str) -> Installed:
    paths = unit_paths(kind)
    present = [p for p in paths if p.exists()]
    data_dir = interval = memman = None
    if kind == "systemd":
        service, timer = paths
        try:
            text = service.read_text(encoding="utf-8")
            data_dir = _unit_data_dir(text)
            exec_line = re.search(r"^ExecStart=(.*)$", text, re.M)
            if exec_line:
                words = shlex.split(exec_line.group(1))
                memman = words[0].replace("%%", "%") if words else None
        except (OSError, ValueError):
            pass
        try:
            found = re.search(r"^OnUnitActiveSec=(\d+)s?\s*$",
                              timer.read_text(encoding="utf-8"), re.M)
            interval = int(found.group(1)) if found else None
        except OSError:
            pass
    elif kind == "launchd":
        import plistlib

        try:
            with open(paths[0], "rb") as fh:
                data = plistlib.load(fh)
            data_dir = (data.get("EnvironmentVariables") or {}).get("MEMMAN_DATA_DIR")
            value = data.get("StartInterval")
            interval = value if isinstance(value, int) and not isinstance(value, bool) else None
            memman = (data.get("ProgramArguments") or [None])[0]
        except (OSError, ValueError, AttributeError, plistlib.InvalidFileException):
            pass
    return Installed(kind, paths, present, data_dir, interval, memman)


def _serve_interval(datadir: DataDir) -> int | None:
    from memman.config import envfile

    raw = envfile.read(datadir.env_file).get("MEMMAN_INTERVAL")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _running_serve_interval(datadir: DataDir) -> int | None:
    try:
        return int((datadir.root / "scheduler.serve_interval").read_text().strip())
    except (OSError, ValueError):
        return None


def _require_serves(unit: Installed, datadir: DataDir, doing: str) -> None:
    if not unit.complete:
        raise MemmanError(f"the {unit.kind} scheduler is not installed; run "
                          "'memman scheduler install' first")
    if not unit.serves(datadir):
        raise MemmanError(f"the installed {unit.kind} scheduler drains {unit.data_dir}, not "
                          f"{datadir.root}; cannot {doing} (run 'memman --data-dir "
                          f"{unit.data_dir} scheduler ...' or reinstall for this data dir)")


def _check_interval(kind: str, interval: int) -> int:
    low = 0 if kind == "serve" else MIN_TIMER_INTERVAL
    if not low <= interval <= MAX_INTERVAL:
        extra = (" (use 'memman scheduler serve --interval N' for shorter intervals)"
                 if kind != "serve" and interval < low else "")
        raise MemmanError(f"interval must be between {low} and {MAX_INTERVAL} seconds for "
                          f"the {kind} scheduler, got {interval}{extra}")
    return interval


def _resolve_memman() -> str:
    from memman.integrations import memman_executable

    path = memman_executable()
    if not os.path.isabs(path) or not os.access(path, os.X_OK):
        raise MemmanError(f"cannot find the memman executable (tried {path}); put memman on "
                          "PATH and run the install again")
    return path


def _linger_hint() -> str | None:
    import pwd

    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return None
    if (LINGER_DIR / user).exists():
        return None
    return (f"lingering is off for {user}: the timer runs only while you are logged in. "
            f"Run 'loginctl enable-linger {user}' to keep it running after logout and "
            "start it at boot.")


def _write(path: Path, text: str) -> bool:
    from memman.integrations.files import same_file_content, write_atomic

    if same_file_content(path, text):
        return False
    write_atomic(path, text, mode=0o644)
    return True


def _must(call: Call, after: str) -> None:
    if not call.ok:
        raise MemmanError(f"{call.describe()}. {after}")


_SYSTEMCTL_HELP = ("'systemctl --user' needs your login session's user manager "
                   "(XDG_RUNTIME_DIR and the user D-Bus); run this from a normal login "
                   "shell, or use 'memman scheduler serve'.")


# -- install / uninstall -----------------------------------------------------------


def install(datadir: DataDir, interval: int = DEFAULT_INTERVAL, *,
            kind: str | None = None) -> dict:
    """Write and enable the units (idempotent); the scheduler state ends ``started``."""
    from memman.scheduler import state

    kind = kind or detect_kind()
    interval = _check_interval(kind, interval)
    datadir.ensure()
    out: dict = {"action": "installed", "kind": kind, "interval_seconds": interval,
                 "data_dir": str(datadir.root), "hints": [], "warnings": []}
    if kind == "serve":
        from memman.config import envfile

        envfile.update(datadir.env_file, datadir.env_lock, {"MEMMAN_INTERVAL": str(interval)})
        state.write(datadir, state.STARTED)
        out.update(action="recorded", state=state.STARTED, unit_paths=[],
                   recorded_in=f"{datadir.env_file} (MEMMAN_INTERVAL)")
        out["hints"].append("serve mode: run 'memman scheduler serve' as a long-lived process "
                            "(a container's main process, or under your own supervisor); "
                            "it drains every MEMMAN_INTERVAL seconds")
        return _tidy(out)

    memman = _resolve_memman()
    before = installed(kind)
    if before.data_dir and not before.serves(datadir):
        out["hints"].append(f"the timer drained {before.data_dir} until now; it now drains "
                            f"{datadir.root}")
        out["replaced_data_dir"] = before.data_dir
    if kind == "systemd":
        service, timer = unit_paths(kind)
        changed = [str(p) for p, text in ((service, render_service(memman, datadir, interval)),
                                          (timer, render_timer(interval))) if _write(p, text)]
        state.write(datadir, state.STARTED)
        _must(systemctl("daemon-reload"), _SYSTEMCTL_HELP)
        _must(systemctl("enable", "--now", TIMER), _SYSTEMCTL_HELP)
        if changed and before.present:  # a running timer keeps its old interval otherwise
            _must(systemctl("restart", TIMER), _SYSTEMCTL_HELP)
        out["active"] = systemctl("is-active", TIMER).stdout.strip() == "active"
        hint = _linger_hint()
        if hint:
            out["hints"].append(hint)
    else:
        (plist,) = unit_paths(kind)
        changed = [str(plist)] if _write(plist, render_plist(memman, datadir, interval)) else []
        state.write(datadir, state.STARTED)
        if _launchd_loaded():  # bootstrap refuses a loaded label: reload it
            _must(launchctl("bootout", _gui_target()), "Unload it by hand and run the "
                  "install again.")
        launchctl("enable", _gui_target())
        _must(launchctl("bootstrap", _gui_domain(), str(plist)),
              "The agent file is written; check it with 'launchctl print "
              f"{_gui_target()}'.")
        out["active"] = launchctl("print", _gui_target()).ok
    out.update(state=state.STARTED, unit_paths=[str(p) for p in unit_paths(kind)],
               changed=changed, memman=memman, drain_timeout=drain_timeout(interval),
               logs={k: str(v) for k, v in log_paths(datadir).items()})
    return _tidy(out)


def uninstall(datadir: DataDir, *, kind: str | None = None) -> dict:
    """Disable and remove the units. The scheduler state, the env file (secrets
    included) and all memories stay."""
    kind = kind or detect_kind(strict=False)
    out: dict = {"action": "uninstalled", "kind": kind, "removed": [], "warnings": [],
                 "kept": [str(p) for p in (datadir.scheduler_state, datadir.env_file)
                          if p.exists()]}
    if kind == "serve":
        from memman.config import envfile

        if "MEMMAN_INTERVAL" in envfile.read(datadir.env_file):
            envfile.update(datadir.env_file, datadir.env_lock, {"MEMMAN_INTERVAL": None})
            out["removed"].append(f"{datadir.env_file} (MEMMAN_INTERVAL)")
        out["hints"] = ["stop a running 'memman scheduler serve' yourself (SIGTERM or "
                        "'memman scheduler stop')"]
        return _tidy(out)
    kinds = [kind] if kind else ["systemd", "launchd"]
    for each in kinds:
        unit = installed(each)
        if not unit.present:
            continue
        if unit.data_dir and not unit.serves(datadir):
            raise MemmanError(f"the installed {each} scheduler drains {unit.data_dir}, not "
                              f"{datadir.root}; run 'memman --data-dir {unit.data_dir} "
                              "scheduler uninstall' to remove it")
        if kind is None:
            out["warnings"].append(f"no service manager detected; removed the {each} files "
                                   "without disabling anything")
        elif each == "systemd":
            for args in (("stop", TIMER), ("disable", TIMER)):
                call = systemctl(*args)
                if not call.ok:
                    out["warnings"].append(call.describe())
            wants = systemd_user_dir() / "timers.target.wants" / TIMER
            if wants.is_symlink():  # disable failed; the link is ours
                wants.unlink()
        elif _launchd_loaded():
            call = launchctl("bootout", _gui_target())
            if not call.ok:
                out["warnings"].append(call.describe())
        for path in unit.present:
            path.unlink(missing_ok=True)
            out["removed"].append(str(path))
        if kind == "systemd":
            call = systemctl("daemon-reload")
            if not call.ok:
                out["warnings"].append(call.describe())
    out["installed"] = False
    return _tidy(out)


def _tidy(out: dict) -> dict:
    for key in ("hints", "warnings"):
        if key in out and not out[key]:
            del out[key]
    return out


# -- trigger / interval / start-stop ------------------------------------------------


def trigger(datadir: DataDir) -> dict:
    """Start one drain now through the service manager."""
    from memman.scheduler import state

    kind = detect_kind()
    if kind == "serve":
        raise MemmanError("serve mode drains on its own schedule; run 'memman scheduler "
                          "drain' for a pass now")
    state.require_started(datadir, "trigger drain")
    unit = installed(kind)
    _require_serves(unit, datadir, "trigger a drain")
    if kind == "systemd":
        _must(systemctl("start", "--no-block", SERVICE), _SYSTEMCTL_HELP)
        target = SERVICE
    else:
        _must(launchctl("kickstart", _gui_target()), "Is the agent loaded? Run "
              "'memman scheduler start'.")
        target = _gui_target()
    return {"action": "triggered", "kind": kind, "unit": target,
            "logs": {k: str(v) for k, v in log_paths(datadir).items()}}


def get_interval(datadir: DataDir) -> dict:
    from memman.scheduler import state

    kind = detect_kind()
    out = {"kind": kind, "state": state.read(datadir)}
    if kind == "serve":
        recorded = _serve_interval(datadir)
        out.update(interval_seconds=recorded if recorded is not None else DEFAULT_INTERVAL,
                   source="MEMMAN_INTERVAL" if recorded is not None else "default",
                   running_interval_seconds=_running_serve_interval(datadir))
        return out
    unit = installed(kind)
    out.update(installed=unit.complete, interval_seconds=unit.interval,
               unit_paths=[str(p) for p in unit.paths])
    if unit.complete and not unit.serves(datadir):
        out["unit_data_dir"] = unit.data_dir
    return out


def set_interval(datadir: DataDir, seconds: int) -> dict:
    """Rewrite the units with a new interval. A stopped scheduler stays stopped; a
    started one picks the interval up at once."""
    from memman.scheduler import state

    kind = detect_kind()
    seconds = _check_interval(kind, seconds)
    current = state.read(datadir)
    out: dict = {"action": "interval_set", "kind": kind, "interval_seconds": seconds,
                 "state": current, "hints": []}
    if kind == "serve":
        from memman.config import envfile

        out["previous_interval_seconds"] = _serve_interval(datadir)
        datadir.ensure()
        envfile.update(datadir.env_file, datadir.env_lock, {"MEMMAN_INTERVAL": str(seconds)})
        if _running_serve_interval(datadir) is not None:
            out["hints"].append("a running 'memman scheduler serve' keeps its interval until "
                                "it is restarted")
        return _tidy(out)
    unit = installed(kind)
    _require_serves(unit, datadir, "change the interval")
    memman = _resolve_memman()
    out["previous_interval_seconds"] = unit.interval
    out["drain_timeout"] = drain_timeout(seconds)
    started = current == state.STARTED
    if kind == "systemd":
        service, timer = unit.paths
        _write(service, render_service(memman, datadir, seconds))
        _write(timer, render_timer(seconds))
        _must(systemctl("daemon-reload"), _SYSTEMCTL_HELP)
        if started:
            _must(systemctl("restart", TIMER), _SYSTEMCTL_HELP)
    else:
        (plist,) = unit.paths
        _write(plist, render_plist(memman, datadir, seconds))
        if started:
            if _launchd_loaded():
                _must(launchctl("bootout", _gui_target()), "Unload it by hand and run "
                      "'memman scheduler start'.")
            _must(launchctl("bootstrap", _gui_domain(), str(plist)),
                  "The agent file is rewritten; run 'memman scheduler start' to load it.")
    out["applied"] = started
    if not started:
        out["hints"].append("the scheduler is stopped and stays stopped; the new interval "
                            "applies after 'memman scheduler start'")
    return _tidy(out)


def apply_state(datadir: DataDir, new_state: str) -> dict | None:
    """Enable (started) or disable (stopped) the installed timer of this data dir.
    Returns None when there is nothing to do; failures come back as warnings, never
    as exceptions (the state file has already changed)."""
    from memman.scheduler import state

    try:
        kind = detect_kind(strict=False)
    except MemmanError as exc:
        return {"warnings": [str(exc)]}
    if kind not in ("systemd", "launchd"):
        return None
    unit = installed(kind)
    if not unit.complete or not unit.serves(datadir):
        return None
    calls: list[Call] = []
    if kind == "systemd":
        if new_state == state.STARTED:
            calls.append(systemctl("enable", "--now", TIMER))
        else:
            calls += [systemctl("stop", TIMER), systemctl("disable", TIMER)]
    elif new_state == state.STARTED:
        calls.append(launchctl("enable", _gui_target()))
        if not _launchd_loaded():  # bootstrap errors when loaded
            calls.append(launchctl("bootstrap", _gui_domain(), str(unit.paths[0])))
    else:
        if _launchd_loaded():
            calls.append(launchctl("bootout", _gui_target()))
        calls.append(launchctl("disable", _gui_target()))
    failed = [c.describe() for c in calls if not c.ok]
    action = "enabled" if new_state == state.STARTED else "disabled"
    out: dict = {"kind": kind, "action": action, "ok": not failed}
    if failed:
        out["warnings"] = [f"the scheduler state is {new_state}, but the {kind} timer was not "
                           f"{action}: " + "; ".join(failed)]
    return out


# -- status ---------------------------------------------------------------------------


_SPAN_UNITS = {"y": 31557600, "month": 2629800, "w": 604800, "d": 86400, "h": 3600,
               "min": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "μs": 1e-6}
_SPAN_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(month|min|ms|us|μs|y|w|d|h|s)")


def parse_timespan(text: str) -> float | None:
    """Seconds in a systemd timespan (``2d 5h 51min 14.136440s``); None for ``0``,
    ``infinity``, empty or anything unparseable."""
    text = text.strip()
    if not text or text in ("0", "infinity", "n/a"):
        return None
    total, pos = 0.0, 0
    for match in _SPAN_PART.finditer(text):
        if text[pos:match.start()].strip():
            return None
        total += float(match.group(1)) * _SPAN_UNITS[match.group(2)]
        pos = match.end()
    if text[pos:].strip() or pos == 0:
        return None
    return total


def _systemd_timer_info() -> dict:
    """ActiveState, enablement and the next elapse (wall clock) of the timer."""
    import time

    from memman import clock

    call = systemctl("show", TIMER, "-p", "ActiveState", "-p", "UnitFileState",
                     "-p", "NextElapseUSecMonotonic")
    if not call.ok:
        return {"active": None, "enabled": None, "next_run": None,
                "systemctl_error": call.describe()}
    props = dict(line.split("=", 1) for line in call.stdout.splitlines() if "=" in line)
    next_run = None
    mono = parse_timespan(props.get("NextElapseUSecMonotonic", ""))
    if mono is not None:  # CLOCK_MONOTONIC, as Python's time.monotonic() on Linux
        next_run = clock.iso(time.time() + (mono - time.monotonic()))[:19] + "Z"
    enabled = props.get("UnitFileState")
    return {"active": props.get("ActiveState") == "active",
            "enabled": None if enabled is None else enabled == "enabled",
            "next_run": next_run}


def _mtime(path: Path) -> str | None:
    from memman import clock

    try:
        return clock.iso(path.stat().st_mtime)[:19] + "Z"
    except OSError:
        return None


def status(datadir: DataDir) -> dict:
    """The units part of ``scheduler status`` (never writes, never raises)."""
    out: dict = {"platform": platform_name(), "log_paths": {}, "log_mtimes": {}}
    for name, path in log_paths(datadir).items():
        out["log_paths"][name] = str(path)
        out["log_mtimes"][name] = _mtime(path)
    try:
        kind = detect_kind()
    except MemmanError as exc:
        out.update(kind=None, kind_error=str(exc), installed=False, unit_paths=[],
                   interval_seconds=None, next_run=None, active=None)
        return out
    out["kind"] = kind
    if kind == "serve":
        recorded = _serve_interval(datadir)
        running = _running_serve_interval(datadir)
        out.update(installed=recorded is not None, unit_paths=[],
                   interval_seconds=running if running is not None else
                   (recorded if recorded is not None else DEFAULT_INTERVAL),
                   serve_running=running is not None, active=running is not None,
                   next_run=None)
        return out
    unit = installed(kind)
    out.update(installed=unit.complete, unit_paths=[str(p) for p in unit.paths],
               interval_seconds=unit.interval, memman=unit.memman, unit_data_dir=unit.data_dir,
               active=None, next_run=None)
    if unit.complete and not unit.serves(datadir):
        out["warning"] = (f"the installed timer drains {unit.data_dir}, not this data dir")
    if not unit.present:
        return out
    if kind == "systemd":
        out.update(_systemd_timer_info())
    else:
        call = launchctl("print", _gui_target())
        out["active"] = call.ok
        found = re.search(r"^\s*state = (.+)$", call.stdout, re.M) if call.ok else None
        out["agent_state"] = found.group(1).strip() if found else None
        code = re.search(r"last exit code = (.+)$", call.stdout, re.M) if call.ok else None
        out["last_exit"] = code.group(1).strip() if code else None
    return out
